/*
 * throttle - the login throttle (throttle.h).
 *
 * Open addressing with a bounded probe: an entry lives in one of PROBE
 * slots after its hash, so a lookup costs at most PROBE comparisons and
 * the table never grows.  Choosing the victim among those few slots
 * instead of the whole table is what keeps it O(1).  The victim is the
 * lowest count, not the oldest entry: an attacker who sprays new
 * addresses or names makes entries of count 1, which evict each other
 * before a count that matters; and with a secret hash key he cannot aim
 * them at a victim's slots.  Refused attempts make no entry at all.
 */
#include "throttle.h"
#include "buf.h"
#include "log.h"
#include "str.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

#define PROBE 8
#define KNOWN_SHARE 32		/* one known pair per 32 count slots */
#define HMAC_KEY_LEN 32

struct slot {
	uint8_t key[THROTTLE_KEY_LEN];
	uint32_t count;
	uint32_t used;
	uint64_t first;		/* start of the window; for a known pair, the
				 * time of its last good login */
};

struct table {
	struct slot *slots;
	size_t mask;
};

struct throttle {
	struct table counts;
	struct table known;	/* (network, account) pairs with a good login */
	uint8_t hkey[HMAC_KEY_LEN];
};

static void
table_init(struct table *tab, size_t nslots)
{
	tab->slots = xcalloc(nslots, sizeof(*tab->slots));
	tab->mask = nslots - 1;
}

struct throttle *
throttle_new(size_t nslots)
{
	struct throttle *t = xcalloc(1, sizeof(*t));

	if (nslots == 0)
		nslots = THROTTLE_DEFAULT_SLOTS;
	if (nslots < PROBE || (nslots & (nslots - 1)) != 0)
		log_panic("throttle_new: %zu slots is not a power of two >= %d", nslots, PROBE);
	table_init(&t->counts, nslots);
	table_init(&t->known, nslots / KNOWN_SHARE < PROBE ? PROBE : nslots / KNOWN_SHARE);
	if (getrandom(t->hkey, sizeof(t->hkey), 0) != (ssize_t)sizeof(t->hkey))
		log_panic("throttle_new: getrandom failed");
	return t;
}

void
throttle_free(struct throttle **t)
{
	if (*t == NULL)
		return;
	free((*t)->counts.slots);
	free((*t)->known.slots);
	explicit_bzero((*t)->hkey, sizeof((*t)->hkey));
	free(*t);
	*t = NULL;
}

void
throttle_addr_key(const char *ip, char *out, size_t outsz)
{
	unsigned char a[16];
	char txt[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			inet_ntop(AF_INET, a + 12, out, (socklen_t)outsz);
			return;
		}
		memset(a + 8, 0, 8);
		inet_ntop(AF_INET6, a, txt, sizeof(txt));
		snprintf(out, outsz, "%s/64", txt);
		return;
	}
	if (inet_pton(AF_INET, ip, a) == 1) {
		inet_ntop(AF_INET, a, out, (socklen_t)outsz);
		return;
	}
	str_lcpy(out, ip, outsz);
}

/* digest - the table key of (kind, data). */
static void
digest(const struct throttle *t, char kind, const void *data, size_t n, uint8_t out[THROTTLE_KEY_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *msg = xmalloc(n + 2);

	msg[0] = kind;
	msg[1] = '\0';
	memcpy(msg + 2, data, n);
	if (HMAC(EVP_sha256(), t->hkey, sizeof(t->hkey), (unsigned char *)msg, n + 2, md, &mdlen) == NULL)
		log_panic("throttle: HMAC failed");
	memcpy(out, md, THROTTLE_KEY_LEN);
	free(msg);
}

static void
net_key(const struct throttle *t, const char *ip, uint8_t out[THROTTLE_KEY_LEN])
{
	char net[INET6_ADDRSTRLEN + 8];

	throttle_addr_key(ip, net, sizeof(net));
	digest(t, 'a', net, strlen(net), out);
}

/* login_key - a Unix login's count (case matters in Unix names). */
static void
login_key(const struct throttle *t, const char *login, uint8_t out[THROTTLE_KEY_LEN])
{
	digest(t, 'l', login, strlen(login), out);
}

/* user_key - an account's count: the address lower-cased; a bare name
 * is a Unix login, counted with the addresses that lead to it. */
static void
user_key(const struct throttle *t, const char *user, uint8_t out[THROTTLE_KEY_LEN])
{
	char *low;

	if (strchr(user, '@') == NULL) {
		login_key(t, user, out);
		return;
	}
	low = str_lower(xstrdup(user));
	digest(t, 'u', low, strlen(low), out);
	free(low);
}

static size_t
home(const struct table *tab, const uint8_t *key)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & tab->mask;
}

static struct slot *
lookup(struct table *tab, const uint8_t *key)
{
	size_t h = home(tab, key);

	for (size_t i = 0; i < PROBE; i++) {
		struct slot *s = &tab->slots[(h + i) & tab->mask];
		if (s->used && memcmp(s->key, key, THROTTLE_KEY_LEN) == 0)
			return s;
	}
	return NULL;
}

/* victim - the slot a new key takes: a free or expired one, else the
 * lowest count, the oldest of equal ones; never keep. */
static struct slot *
victim(struct table *tab, const uint8_t *key, uint64_t now, uint64_t window, const struct slot *keep)
{
	size_t h = home(tab, key);
	struct slot *v = NULL;

	for (size_t i = 0; i < PROBE; i++) {
		struct slot *c = &tab->slots[(h + i) & tab->mask];
		if (c == keep)
			continue;
		if (!c->used || now - c->first >= window)
			return c;
		if (v == NULL || c->count < v->count || (c->count == v->count && c->first < v->first))
			v = c;
	}
	return v;
}

/* get - key's entry, made if missing (never evicting keep), with its
 * window restarted if it has passed. */
static struct slot *
get(struct table *tab, const uint8_t *key, uint64_t now, uint64_t window, const struct slot *keep)
{
	struct slot *s = lookup(tab, key);

	if (s == NULL) {
		s = victim(tab, key, now, window, keep);
		memcpy(s->key, key, THROTTLE_KEY_LEN);
		s->used = 1;
		s->count = 0;
		s->first = now;
	}
	if (now - s->first >= window) {
		s->count = 0;
		s->first = now;
	}
	return s;
}

/* current - key's count now (0 past its window). */
static uint32_t
current(struct throttle *t, const uint8_t *key, uint64_t now, uint64_t window)
{
	struct slot *s = lookup(&t->counts, key);

	return s && now - s->first < window ? s->count : 0;
}

/* pair_key - the known-table key of (network, account). */
static void
pair_key(const struct throttle *t, const uint8_t *net, const uint8_t *acct, uint8_t out[THROTTLE_KEY_LEN])
{
	uint8_t both[2 * THROTTLE_KEY_LEN];

	memcpy(both, net, THROTTLE_KEY_LEN);
	memcpy(both + THROTTLE_KEY_LEN, acct, THROTTLE_KEY_LEN);
	digest(t, 'k', both, sizeof(both), out);
}

static int
known(struct throttle *t, const uint8_t *net, const uint8_t *acct, const struct throttle_limits *lim,
    uint64_t now)
{
	uint8_t k[THROTTLE_KEY_LEN];
	struct slot *s;

	pair_key(t, net, acct, k);
	s = lookup(&t->known, k);
	return s && now - s->first < lim->known_ms;
}

/* over - the verdict for the network net and the account acct. */
static enum throttle_verdict
over(struct throttle *t, const uint8_t *net, const uint8_t *acct, const struct throttle_limits *lim,
    uint64_t now)
{
	if (current(t, net, now, lim->window_ms) >= (uint32_t)lim->max_addr)
		return THROTTLE_ADDR;
	if (current(t, acct, now, lim->window_ms) >= (uint32_t)lim->max_user && !known(t, net, acct, lim, now))
		return THROTTLE_USER;
	return THROTTLE_OK;
}

/* count - one attempt more on the ticket's network and account. */
static void
count(struct throttle *t, struct throttle_ticket *tk, const struct throttle_limits *lim, uint64_t now)
{
	struct slot *a, *u;

	a = get(&t->counts, tk->key[0], now, lim->window_ms, lookup(&t->counts, tk->key[1]));
	u = get(&t->counts, tk->key[1], now, lim->window_ms, a);
	a->count++;
	u->count++;
	tk->first[0] = a->first;
	tk->first[1] = u->first;
}

/* take_back - one attempt less on key, if its window is still first. */
static void
take_back(struct throttle *t, const uint8_t *key, uint64_t first)
{
	struct slot *s = lookup(&t->counts, key);

	if (s && s->first == first && s->count > 0)
		s->count--;
}

enum throttle_verdict
throttle_begin(struct throttle *t, const char *ip, const char *user,
    const struct throttle_limits *lim, uint64_t now_ms, struct throttle_ticket *tk_r)
{
	enum throttle_verdict v;

	net_key(t, ip, tk_r->key[0]);
	user_key(t, user, tk_r->key[1]);
	if ((v = over(t, tk_r->key[0], tk_r->key[1], lim, now_ms)) != THROTTLE_OK)
		return v;
	tk_r->deferred = known(t, tk_r->key[0], tk_r->key[1], lim, now_ms);
	if (!tk_r->deferred)
		count(t, tk_r, lim, now_ms);
	return THROTTLE_OK;
}

enum throttle_verdict
throttle_login(struct throttle *t, struct throttle_ticket *tk, const char *login,
    const struct throttle_limits *lim, uint64_t now_ms)
{
	uint8_t key[THROTTLE_KEY_LEN];
	struct slot *u;

	login_key(t, login, key);
	if (tk->deferred) {
		memcpy(tk->key[1], key, THROTTLE_KEY_LEN);
		if ((tk->deferred = known(t, tk->key[0], key, lim, now_ms)))
			return THROTTLE_OK;
		if (current(t, key, now_ms, lim->window_ms) >= (uint32_t)lim->max_user)
			return THROTTLE_USER;
		count(t, tk, lim, now_ms);
		return THROTTLE_OK;
	}
	take_back(t, tk->key[1], tk->first[1]);
	if (current(t, key, now_ms, lim->window_ms) >= (uint32_t)lim->max_user &&
	    !known(t, tk->key[0], key, lim, now_ms)) {
		take_back(t, tk->key[0], tk->first[0]);
		return THROTTLE_USER;
	}
	u = get(&t->counts, key, now_ms, lim->window_ms, lookup(&t->counts, tk->key[0]));
	u->count++;
	memcpy(tk->key[1], key, THROTTLE_KEY_LEN);
	tk->first[1] = u->first;
	return THROTTLE_OK;
}

/* remember - the account logged in from the network: a known pair, its
 * time refreshed.  No window applies (UINT64_MAX): the oldest pair goes
 * when its slots are full. */
static void
remember(struct throttle *t, const struct throttle_ticket *tk, uint64_t now)
{
	uint8_t k[THROTTLE_KEY_LEN];
	struct slot *s;

	pair_key(t, tk->key[0], tk->key[1], k);
	s = get(&t->known, k, now, UINT64_MAX, NULL);
	s->first = now;
}

void
throttle_end(struct throttle *t, struct throttle_ticket *tk, enum throttle_outcome how,
    const struct throttle_limits *lim, uint64_t now_ms)
{
	if (tk->deferred) {
		if (how == THROTTLE_FAILED)
			count(t, tk, lim, now_ms);
		else if (how == THROTTLE_SUCCEEDED)
			remember(t, tk, now_ms);
		return;
	}
	if (how == THROTTLE_FAILED)
		return;
	/* the same window, not a new entry or a restarted count */
	take_back(t, tk->key[0], tk->first[0]);
	take_back(t, tk->key[1], tk->first[1]);
	if (how == THROTTLE_SUCCEEDED)
		remember(t, tk, now_ms);
}

void
throttle_count(struct throttle *t, const char *ip, const char *user, uint64_t now_ms,
    uint64_t window_ms, int *addr_r, int *user_r)
{
	uint8_t key[THROTTLE_KEY_LEN];

	net_key(t, ip, key);
	*addr_r = (int)current(t, key, now_ms, window_ms);
	user_key(t, user, key);
	*user_r = (int)current(t, key, now_ms, window_ms);
}
