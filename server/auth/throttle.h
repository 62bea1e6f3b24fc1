/*
 * throttle - the login throttle: attempts counted per client network and
 * per account, in authd's memory (so one count for SMTP, POP3 and IMAP,
 * kept across reloads).
 *
 * An attempt is counted when it starts (throttle_begin), before the
 * password is checked, so N parallel connections cannot each get a free
 * guess; when it ends (throttle_end) a failure stays counted and anything
 * else (success, tempfail) is taken back.  An attempt of a known pair
 * (below) is counted only if it fails: the phones and mail programs of an
 * office behind one address log in many at once (each program opens
 * several connections), and counting them all at the start refused the
 * eleventh.  A good login never wipes
 * earlier failures: else an attacker holding one account could guess
 * others' passwords without limit.  A count lives for window_ms from its
 * first attempt, then starts again from zero.
 *
 * An attempt refused (throttled) makes no entry and changes no count, so
 * a flood of refused attempts cannot push real counts out of the table.
 *
 * Client addresses are counted by network: an IPv4 address alone (/32),
 * an IPv6 address by its /64 (one customer's LAN, which an attacker can
 * rotate through freely); an IPv4-mapped IPv6 address as the IPv4 one.
 * Accounts are counted by the name as given, lower-cased, until authd
 * finds that the name belongs to a Unix account (a `system` domain's
 * user): then throttle_login moves the attempt to the Unix login, so
 * "alice@one.test" and "alice@two.test" share alice's count.
 *
 * Known networks: a network from which an account logged in within
 * known_ms is exempt from that account's limit (not from the network's),
 * so somebody guessing an account's password from elsewhere cannot lock
 * its owner out of the office.  A good login records the pair.
 *
 * Memory is fixed at creation: a table of nslots entries (32 bytes each)
 * and one of nslots / 32 known pairs, keyed by a keyed hash (HMAC-SHA-256
 * with a random key, so nobody can aim names at one entry).  When the few
 * slots a count may use are full, the lowest count goes (the oldest of
 * those): spraying new addresses or names evicts other sprayed entries,
 * not a count near its limit.  A known pair evicts the pair whose good
 * login is the oldest; only a good login makes one.  Not thread-safe:
 * authd uses it from its loop.
 */
#ifndef ONEBOX_THROTTLE_H
#define ONEBOX_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_DEFAULT_SLOTS (1u << 17)	/* 131072 entries, 4 MB */
#define THROTTLE_KEY_LEN 16

enum throttle_verdict {
	THROTTLE_OK,		/* go ahead: the attempt is counted */
	THROTTLE_ADDR,		/* too many failures from this network */
	THROTTLE_USER,		/* too many failures for this account */
};

struct throttle_limits {
	int max_addr;		/* failures per network within the window */
	int max_user;		/* failures per account within the window */
	uint64_t window_ms;
	uint64_t known_ms;	/* a network stays known for an account this
				 * long after a good login from it (0: never) */
};

/* how an attempt ended (throttle_end) */
enum throttle_outcome {
	THROTTLE_FAILED,	/* wrong password, unknown account: stays counted */
	THROTTLE_SUCCEEDED,	/* taken back; the network becomes known */
	THROTTLE_UNDECIDED,	/* tempfail: taken back */
};

/* what throttle_end needs to find the two counts again */
struct throttle_ticket {
	uint8_t key[2][THROTTLE_KEY_LEN];
	uint64_t first[2];
	int deferred;		/* a known pair: counted at the end, if it failed */
};

struct throttle;

/* throttle_new - nslots: a power of two (0: THROTTLE_DEFAULT_SLOTS). */
struct throttle *throttle_new(size_t nslots);
void throttle_free(struct throttle **t);

/* throttle_addr_key - the network ip is counted under ("192.0.2.1",
 * "2001:db8:1:2::/64"); an unparsable ip is copied as it is. */
void throttle_addr_key(const char *ip, char *out, size_t outsz);

/* throttle_begin - THROTTLE_OK and the attempt counted (*tk_r to end it
 * with), or the reason it must be refused (nothing counted, no entry
 * made). */
enum throttle_verdict throttle_begin(struct throttle *t, const char *ip, const char *user,
    const struct throttle_limits *lim, uint64_t now_ms, struct throttle_ticket *tk_r);
/* throttle_login - the account of a begun attempt is the Unix login
 * login: its count moves there from the name as given.  THROTTLE_OK, or
 * THROTTLE_USER if the login is over its limit: then the whole attempt is
 * taken back (as if refused by throttle_begin) and must not be ended. */
enum throttle_verdict throttle_login(struct throttle *t, struct throttle_ticket *tk, const char *login,
    const struct throttle_limits *lim, uint64_t now_ms);
/* throttle_end - the attempt ended (enum throttle_outcome). */
void throttle_end(struct throttle *t, struct throttle_ticket *tk, enum throttle_outcome how,
    const struct throttle_limits *lim, uint64_t now_ms);
/* throttle_count - the current counts of ip's network and of user (for
 * tests and logs); an entry past its window counts 0. */
void throttle_count(struct throttle *t, const char *ip, const char *user, uint64_t now_ms,
    uint64_t window_ms, int *addr_r, int *user_r);

#endif
