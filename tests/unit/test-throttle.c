/*
 * test-throttle - authd's login throttle (server/auth/throttle.c): the
 * network an address is counted under, counting at the start of an
 * attempt, taking back what did not fail, the per-account limit, the
 * window, the bounded table (refused attempts make no entry, the lowest
 * count is evicted), one count per Unix login, and known networks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "throttle.h"

struct key_case {
	const char *name;
	const char *ip;
	const char *want;
};

static const struct key_case key_cases[] = {
	{ "IPv4 alone", "192.0.2.17", "192.0.2.17" },
	{ "IPv6 /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64" },
	{ "IPv6 same /64", "2001:db8:1:2::1", "2001:db8:1:2::/64" },
	{ "IPv6 other /64", "2001:db8:1:3::1", "2001:db8:1:3::/64" },
	{ "IPv6 loopback", "::1", "::/64" },
	{ "IPv4-mapped", "::ffff:198.51.100.7", "198.51.100.7" },
	{ "not an address", "unix", "unix" },
	{ "empty", "", "" },
	{ NULL, NULL, NULL }
};

static void
test_addr_key(void **state)
{
	char out[64];

	for (const struct key_case *c = key_cases; c->name; c++) {
		throttle_addr_key(c->ip, out, sizeof(out));
		if (strcmp(out, c->want) != 0)
			fail_msg("%s: %s -> %s, want %s", c->name, c->ip, out, c->want);
	}
}

#define DAY_MS (24 * 3600 * 1000ull)

static const struct throttle_limits lim = { 3, 5, 60000, 30 * DAY_MS };

/* attempt_with - one attempt under l that ends failed or not (a good
 * login); returns the verdict */
static enum throttle_verdict
attempt_with(struct throttle *t, const struct throttle_limits *l, const char *ip, const char *user,
    uint64_t now, int failed)
{
	struct throttle_ticket tk;
	enum throttle_verdict v = throttle_begin(t, ip, user, l, now, &tk);

	if (v == THROTTLE_OK)
		throttle_end(t, &tk, failed ? THROTTLE_FAILED : THROTTLE_SUCCEEDED, l, now);
	return v;
}

static enum throttle_verdict
attempt(struct throttle *t, const char *ip, const char *user, uint64_t now, int failed)
{
	return attempt_with(t, &lim, ip, user, now, failed);
}

static void
test_per_network(void **state)
{
	struct throttle *t = throttle_new(1024);
	char ip[64], user[16];

	/* rotating through one /64 is one count */
	for (int i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:0:1::%x", i + 1);
		snprintf(user, sizeof(user), "u%d", i);
		assert_int_equal(attempt(t, ip, user, 1000, 1), THROTTLE_OK);
	}
	assert_int_equal(attempt(t, "2001:db8:0:1:ffff::9", "new", 1000, 0), THROTTLE_ADDR);
	assert_int_equal(attempt(t, "2001:db8:0:2::1", "new", 1000, 0), THROTTLE_OK);
	/* the window passes */
	assert_int_equal(attempt(t, "2001:db8:0:1::1", "new", 1000 + 60000, 0), THROTTLE_OK);
	throttle_free(&t);
	assert_null(t);
}

static void
test_success_not_counted_and_no_wipe(void **state)
{
	struct throttle *t = throttle_new(1024);
	int a, u;

	assert_int_equal(attempt(t, "192.0.2.1", "x@y", 10, 1), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.1", "x@y", 10, 0), THROTTLE_OK);
	throttle_count(t, "192.0.2.1", "x@y", 10, 60000, &a, &u);
	assert_int_equal(a, 1);		/* the good login is taken back, */
	assert_int_equal(u, 1);		/* the failure is not wiped */
	throttle_free(&t);
}

static void
test_parallel_reservations(void **state)
{
	struct throttle *t = throttle_new(1024);
	struct throttle_ticket tk[4];

	/* three attempts in flight use the whole budget: the fourth waits */
	for (int i = 0; i < 3; i++)
		assert_int_equal(throttle_begin(t, "192.0.2.2", "v", &lim, 5, &tk[i]), THROTTLE_OK);
	assert_int_equal(throttle_begin(t, "192.0.2.2", "v", &lim, 5, &tk[3]), THROTTLE_ADDR);
	throttle_end(t, &tk[0], THROTTLE_UNDECIDED, &lim, 5);	/* a tempfail: room again */
	assert_int_equal(throttle_begin(t, "192.0.2.2", "v", &lim, 5, &tk[3]), THROTTLE_OK);
	throttle_free(&t);
}

/* An office behind one address: its people log in many at once (every
 * mail program opens several connections).  A pair that logged in before
 * is counted only when an attempt fails, so parallel logins pass; their
 * failures still count, and the limit still holds afterwards. */
static void
test_parallel_known_pair(void **state)
{
	struct throttle *t = throttle_new(1024);
	struct throttle_ticket tk[8];
	int a, u;

	assert_int_equal(attempt(t, "192.0.2.7", "v", 5, 0), THROTTLE_OK);	/* known from now */
	for (int i = 0; i < 8; i++)
		assert_int_equal(throttle_begin(t, "192.0.2.7", "v", &lim, 6, &tk[i]), THROTTLE_OK);
	/* an unknown account from the same network is still counted at once */
	for (int i = 0; i < 8; i++)
		throttle_end(t, &tk[i], THROTTLE_SUCCEEDED, &lim, 7);
	throttle_count(t, "192.0.2.7", "v", 7, lim.window_ms, &a, &u);
	assert_int_equal(a, 0);
	assert_int_equal(u, 0);
	/* failures of a known pair are counted when they end */
	for (int i = 0; i < 3; i++)
		assert_int_equal(throttle_begin(t, "192.0.2.7", "v", &lim, 8, &tk[i]), THROTTLE_OK);
	for (int i = 0; i < 3; i++)
		throttle_end(t, &tk[i], THROTTLE_FAILED, &lim, 9);
	throttle_count(t, "192.0.2.7", "v", 9, lim.window_ms, &a, &u);
	assert_int_equal(a, 3);
	assert_int_equal(u, 3);
	assert_int_equal(throttle_begin(t, "192.0.2.7", "v", &lim, 10, &tk[0]), THROTTLE_ADDR);
	throttle_free(&t);
}

static void
test_per_account(void **state)
{
	struct throttle *t = throttle_new(1024);
	char ip[32];

	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		assert_int_equal(attempt(t, ip, i % 2 ? "Alice@X.test" : "alice@x.test", 7, 1), THROTTLE_OK);
	}
	assert_int_equal(attempt(t, "203.0.113.9", "ALICE@x.test", 7, 0), THROTTLE_USER);
	assert_int_equal(attempt(t, "203.0.113.9", "bob@x.test", 7, 0), THROTTLE_OK);
	throttle_free(&t);
}

static void
test_bounded_eviction(void **state)
{
	struct throttle *t = throttle_new(16);
	char ip[32];
	int a, u;

	/* far more keys than slots: no growth, the oldest go */
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		assert_int_equal(attempt(t, ip, ip, (uint64_t)i, 1), THROTTLE_OK);
	}
	throttle_count(t, "10.0.0.0", "10.0.0.0", 1000, 60000, &a, &u);
	assert_int_equal(a, 0);
	assert_int_equal(u, 0);
	throttle_count(t, "10.0.3.231", "10.0.3.231", 1000, 60000, &a, &u);
	assert_int_equal(a, 1);
	assert_int_equal(u, 1);
	throttle_free(&t);
}

static void
test_refused_makes_no_entry(void **state)
{
	struct throttle *t = throttle_new(8);	/* every key shares the 8 slots */
	char ip[32], user[32];
	int a, u;

	for (int i = 0; i < 3; i++)
		assert_int_equal(attempt(t, "192.0.2.66", "x@y", 1, 1), THROTTLE_OK);
	for (int i = 0; i < 3; i++) {	/* the table is full now */
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		snprintf(user, sizeof(user), "v%d@y", i);
		assert_int_equal(attempt(t, ip, user, 2 + (uint64_t)i, 1), THROTTLE_OK);
	}
	/* refused attempts with ever new names must not push the others out */
	for (int i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "spray%d@y", i);
		assert_int_equal(attempt(t, "192.0.2.66", user, 10, 1), THROTTLE_ADDR);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		snprintf(user, sizeof(user), "v%d@y", i);
		throttle_count(t, ip, user, 10, 60000, &a, &u);
		if (a != 1 || u != 1)
			fail_msg("%s / %s: counts %d / %d after refused attempts, want 1 / 1", ip, user, a, u);
	}
	throttle_free(&t);
}

static void
test_evicts_lowest_count(void **state)
{
	static const struct throttle_limits wide = { 1000, 5, 60000, 0 };
	struct throttle *t = throttle_new(8);
	char ip[32], user[32];
	int a, u;

	for (int i = 0; i < 4; i++)	/* the oldest entries, near the limit */
		assert_int_equal(attempt_with(t, &wide, "10.1.0.1", "alice@x", 1, 1), THROTTLE_OK);
	for (int i = 0; i < 100; i++) {	/* a spray of new addresses and names */
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		snprintf(user, sizeof(user), "s%d@x", i);
		assert_int_equal(attempt_with(t, &wide, ip, user, 2 + (uint64_t)i, 1), THROTTLE_OK);
	}
	throttle_count(t, "10.1.0.1", "alice@x", 200, 60000, &a, &u);
	assert_int_equal(a, 4);
	assert_int_equal(u, 4);
	assert_int_equal(attempt_with(t, &wide, "198.51.100.1", "alice@x", 200, 1), THROTTLE_OK);
	assert_int_equal(attempt_with(t, &wide, "198.51.100.2", "alice@x", 200, 1), THROTTLE_USER);
	throttle_free(&t);
}

/* login_attempt - an attempt for user that authd finds is the Unix login
 * login; returns the first refusal or THROTTLE_OK. */
static enum throttle_verdict
login_attempt(struct throttle *t, const char *ip, const char *user, const char *login, int failed)
{
	struct throttle_ticket tk;
	enum throttle_verdict v = throttle_begin(t, ip, user, &lim, 9, &tk);

	if (v != THROTTLE_OK)
		return v;
	if ((v = throttle_login(t, &tk, login, &lim, 9)) == THROTTLE_OK)
		throttle_end(t, &tk, failed ? THROTTLE_FAILED : THROTTLE_SUCCEEDED, &lim, 9);
	return v;
}

static void
test_unix_login_shared(void **state)
{
	struct throttle *t = throttle_new(1024);
	char ip[32];
	int a, u;

	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		assert_int_equal(login_attempt(t, ip, i % 2 ? "alice@one.test" : "alice@two.test", "alice", 1),
		    THROTTLE_OK);
	}
	/* a third address of the same Unix account: refused, nothing kept */
	assert_int_equal(login_attempt(t, "203.0.113.9", "alice@three.test", "alice", 0), THROTTLE_USER);
	throttle_count(t, "203.0.113.9", "alice@three.test", 9, 60000, &a, &u);
	assert_int_equal(a, 0);
	assert_int_equal(u, 0);
	/* the bare login is the same count */
	assert_int_equal(attempt(t, "203.0.113.9", "alice", 9, 0), THROTTLE_USER);
	throttle_count(t, "203.0.113.9", "alice", 9, 60000, &a, &u);
	assert_int_equal(u, 5);
	assert_int_equal(login_attempt(t, "203.0.113.9", "bob@one.test", "bob", 0), THROTTLE_OK);
	throttle_free(&t);
}

static void
test_known_network_exempt(void **state)
{
	static const struct throttle_limits l = { 3, 3, 10000, 5000 };
	struct throttle *t = throttle_new(1024);
	char ip[32];

	assert_int_equal(attempt_with(t, &l, "192.0.2.10", "carol@x", 1, 0), THROTTLE_OK);
	assert_int_equal(attempt_with(t, &l, "192.0.2.20", "carol@x", 1, 0), THROTTLE_OK);
	for (int i = 0; i < 3; i++) {	/* somebody elsewhere guesses */
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		assert_int_equal(attempt_with(t, &l, ip, "carol@x", 2, 1), THROTTLE_OK);
	}
	assert_int_equal(attempt_with(t, &l, "198.51.100.9", "carol@x", 3, 0), THROTTLE_USER);
	/* the owner's network is still let in, ... */
	assert_int_equal(attempt_with(t, &l, "192.0.2.10", "carol@x", 3, 0), THROTTLE_OK);
	/* ... under its own network's limit */
	for (int i = 0; i < 3; i++)
		assert_int_equal(attempt_with(t, &l, "192.0.2.10", "carol@x", 4, 1), THROTTLE_OK);
	assert_int_equal(attempt_with(t, &l, "192.0.2.10", "carol@x", 4, 0), THROTTLE_ADDR);
	/* known for known_ms after the last good login from it only */
	assert_int_equal(attempt_with(t, &l, "192.0.2.20", "carol@x", 5001, 0), THROTTLE_USER);
	throttle_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_key),
		cmocka_unit_test(test_per_network),
		cmocka_unit_test(test_success_not_counted_and_no_wipe),
		cmocka_unit_test(test_parallel_reservations),
		cmocka_unit_test(test_parallel_known_pair),
		cmocka_unit_test(test_per_account),
		cmocka_unit_test(test_bounded_eviction),
		cmocka_unit_test(test_refused_makes_no_entry),
		cmocka_unit_test(test_evicts_lowest_count),
		cmocka_unit_test(test_unix_login_shared),
		cmocka_unit_test(test_known_network_exempt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
