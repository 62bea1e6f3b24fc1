/*
 * test-net - CIDR lists (net_cidr_match, net_cidr_valid) and the address
 * text of net_addr_str, which is what callers hand to net_cidr_match
 * (IPv4-mapped IPv6 peers of a dual-stack listener appear as IPv4).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "net.h"

struct match_case {
	const char *name;
	const char *list;
	const char *ip;
	int want;
};

static const struct match_case match_cases[] = {
	{ "v4 inside /8", "10.0.0.0/8", "10.255.1.2", 1 },
	{ "v4 outside /8", "10.0.0.0/8", "11.0.0.1", 0 },
	{ "v4 /32 same", "192.0.2.7/32", "192.0.2.7", 1 },
	{ "v4 /32 next", "192.0.2.7/32", "192.0.2.8", 0 },
	{ "v4 bare address", "192.0.2.7", "192.0.2.7", 1 },
	{ "v4 bare address other", "192.0.2.7", "192.0.2.70", 0 },
	{ "v4 /0 all", "0.0.0.0/0", "203.0.113.9", 1 },
	{ "v4 /0 not v6", "0.0.0.0/0", "2001:db8::1", 0 },
	{ "v4 odd prefix in", "192.168.0.0/13", "192.175.255.255", 1 },
	{ "v4 odd prefix out", "192.168.0.0/13", "192.176.0.0", 0 },
	{ "v4 host bits set in network", "10.1.2.3/8", "10.9.9.9", 1 },
	{ "v6 inside /32", "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "v6 outside /32", "2001:db8::/32", "2001:db9::1", 0 },
	{ "v6 /128 same", "::1/128", "::1", 1 },
	{ "v6 /128 other", "::1/128", "::2", 0 },
	{ "v6 /0 all", "::/0", "fe80::1", 1 },
	{ "v6 /0 not v4", "::/0", "127.0.0.1", 0 },
	{ "v6 /127 pair", "2001:db8::/127", "2001:db8::1", 1 },
	{ "v6 /127 out", "2001:db8::/127", "2001:db8::2", 0 },
	{ "v6 uncompressed ip", "2001:db8::/48", "2001:0db8:0000:0001:0000:0000:0000:0001", 1 },
	{ "v4-mapped ip in ::ffff:0:0/96", "::ffff:0:0/96", "::ffff:10.1.2.3", 1 },
	{ "v4-mapped list entry, v6 ip", "::ffff:10.0.0.0/104", "::ffff:10.1.2.3", 1 },
	{ "list: second entry", "10.0.0.0/8 192.168.0.0/16", "192.168.4.4", 1 },
	{ "list: commas and tabs", "10.0.0.0/8,\t::1/128 ,127.0.0.0/8", "::1", 1 },
	{ "list: none matches", "10.0.0.0/8 ::1/128", "127.0.0.1", 0 },
	{ "list: bad entry skipped", "nonsense 10.0.0.0/33 127.0.0.0/8", "127.0.0.1", 1 },
	{ "list: only bad entries", "nonsense 10.0.0.0/33", "10.0.0.1", 0 },
	{ "empty list", "", "127.0.0.1", 0 },
	{ "NULL list", NULL, "127.0.0.1", 0 },
	{ "ip not an address", "0.0.0.0/0", "localhost", 0 },
	{ "ip empty", "0.0.0.0/0 ::/0", "", 0 },
	{ "ip with junk", "0.0.0.0/0", "10.0.0.1x", 0 },
	{ NULL, NULL, NULL, 0 }
};

static void
test_match(void **state)
{
	for (const struct match_case *c = match_cases; c->name; c++) {
		int got = net_cidr_match(c->list, c->ip);
		if (got != c->want)
			fail_msg("case '%s': net_cidr_match(\"%s\", \"%s\") = %d, want %d", c->name,
			    c->list ? c->list : "(null)", c->ip, got, c->want);
	}
}

struct valid_case {
	const char *cidr;
	int want;
};

static const struct valid_case valid_cases[] = {
	{ "10.0.0.0/8", 1 }, { "10.0.0.1", 1 }, { "0.0.0.0/0", 1 }, { "1.2.3.4/32", 1 },
	{ "::/0", 1 }, { "::1", 1 }, { "2001:db8::/128", 1 }, { "::ffff:10.0.0.0/104", 1 },
	{ "1.2.3.4/33", 0 }, { "::/129", 0 }, { "1.2.3.4/", 0 }, { "1.2.3.4/-1", 0 },
	{ "1.2.3.4/8x", 0 }, { "1.2.3.4/ 8", 0 }, { "/8", 0 }, { "", 0 }, { "1.2.3", 0 },
	{ "256.1.1.1", 0 }, { "example.org", 0 }, { "1.2.3.4/8/8", 0 }, { "::1 ", 0 },
	{ "1.2.3.4/99999999999999999999999", 0 },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/64", 0 },
	{ NULL, 0 }
};

static void
test_valid(void **state)
{
	for (const struct valid_case *c = valid_cases; c->cidr; c++)
		if (net_cidr_valid(c->cidr) != c->want)
			fail_msg("net_cidr_valid(\"%s\") = %d, want %d", c->cidr, !c->want, c->want);
}

/* An over-long entry is refused, not cut to something valid. */
static void
test_long_entry(void **state)
{
	char s[200];

	memset(s, '0', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	memcpy(s, "10.0.0.0/", 9);
	assert_int_equal(net_cidr_valid(s), 0);
	assert_int_equal(net_cidr_match(s, "10.0.0.1"), 0);
}

/* A v4-mapped peer is shown as IPv4, so IPv4 CIDRs apply to it. */
static void
test_mapped_peer(void **state)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(2525) };
	char text[64];
	int port;

	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.5", &s6.sin6_addr), 1);
	net_addr_str((struct sockaddr *)&s6, text, sizeof(text), &port);
	assert_string_equal(text, "127.0.0.5");
	assert_int_equal(port, 2525);
	assert_int_equal(net_cidr_match("127.0.0.0/8", text), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &s6.sin6_addr), 1);
	net_addr_str((struct sockaddr *)&s6, text, sizeof(text), &port);
	assert_string_equal(text, "2001:db8::5");
	assert_int_equal(net_cidr_match("127.0.0.0/8 2001:db8::/64", text), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_long_entry),
		cmocka_unit_test(test_mapped_peer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
