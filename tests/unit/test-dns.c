/*
 * test-dns - the pure parts of server/lib/dns.c: MX rdata (a remote
 * server's bytes) and the dns_servers setting.  The lookups themselves run
 * against the tests' loopback DNS server (tests/proto/test_outbound*.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dns.h"

struct mx_case {
	const char *name;
	const char *rdata;
	size_t len;
	int rc;
	unsigned pref;
	const char *host;
};

static const struct mx_case mx_cases[] = {
	{ "normal", "\x00\x0a\x02mx\x07" "example\x00", 14, 0, 10, "mx.example" },
	{ "null-mx", "\x00\x00\x00", 3, 0, 0, "" },
	{ "high-pref", "\xff\xff\x01" "a\x00", 5, 0, 65535, "a" },
	{ "truncated-label", "\x00\x0a\x05mx\x00", 6, -1, 0, NULL },
	{ "no-root", "\x00\x0a\x02mx", 5, -1, 0, NULL },
	{ "trailing-bytes", "\x00\x0a\x02mx\x00\x00", 7, -1, 0, NULL },
	{ "label-too-long", "\x00\x0a\x40xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x00", 68, -1, 0, NULL },
	{ "compression-pointer", "\x00\x0a\xc0\x0c", 4, -1, 0, NULL },
	{ "blank-in-name", "\x00\x0a\x03m x\x00", 7, -1, 0, NULL },
	{ "too-short", "\x00\x0a", 2, -1, 0, NULL },
};

static void
test_mx(void **state)
{
	const struct mx_case *c = *state;
	struct dns_mx mx;

	assert_int_equal(dns_parse_mx((const unsigned char *)c->rdata, c->len, &mx), c->rc);
	if (c->rc == 0) {
		assert_int_equal(mx.pref, c->pref);
		assert_string_equal(mx.host, c->host);
	}
}

static void
test_servers(void **state)
{
	static const char *good[] = { "", "127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1", "2001:db8::1",
	    "192.0.2.1 [2001:db8::2]:5353, 127.0.0.1:9" };
	static const char *bad[] = { "dns.example", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "[::1",
	    "[::1]x", "1.2.3.4:53x", "300.1.1.1" };
	char *why;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(dns_servers_check(good[i], &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(dns_servers_check(bad[i], &why), -1);
		assert_non_null(why);
		free(why);
	}
}

#define NMX (sizeof(mx_cases) / sizeof(mx_cases[0]))

int
main(void)
{
	static struct CMUnitTest t[NMX + 1];
	size_t n = 0;

	for (size_t i = 0; i < NMX; i++) {
		t[n].name = mx_cases[i].name;
		t[n].test_func = test_mx;
		t[n++].initial_state = (void *)&mx_cases[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_servers);
	return _cmocka_run_group_tests("dns", t, n, NULL, NULL);
}
