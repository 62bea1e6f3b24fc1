/*
 * test-conf - onebox's config (server/master/config.c): defaults,
 * listeners, and that every error names the file, the line and the key;
 * and the generic key table parser under it (server/lib/conf.c) with a
 * table of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conf.h"

struct bad_case {
	const char *name;
	const char *text;
	const char *want;	/* substring of the error */
};

static const struct bad_case bad_cases[] = {
	{ "unknown key", "hostname = a.b\nfoo = 1\n", "t.conf:2: foo: unknown key" },
	{ "no equals", "\n\nsmtp_listen 1.2.3.4:25\n", "t.conf:3: expected 'key = value'" },
	{ "listen without port", "smtp_listen = 1.2.3.4\n", "t.conf:1: smtp_listen: '1.2.3.4' is not address:port" },
	{ "listen port zero", "pop3_listen = 127.0.0.1:0\n", "t.conf:1: pop3_listen:" },
	{ "listen port too big", "imap_listen = 127.0.0.1:70000\n", "t.conf:1: imap_listen:" },
	{ "listen bad host", "smtp_listen = example.com:25\n", "t.conf:1: smtp_listen:" },
	{ "ipv6 without brackets", "smtp_listen = ::1:25\n", "t.conf:1: smtp_listen:" },
	{ "twice", "user = a\n# c\nuser = b\n", "t.conf:3: user: set twice" },
	{ "bad bool", "log_syslog = maybe\n", "t.conf:1: log_syslog: 'maybe' is not yes or no" },
	{ "relative data_dir", "\ndata_dir = var/x\n", "t.conf:2: data_dir: 'var/x' must be an absolute path" },
	{ "bad log level", "log_level = loud\n", "t.conf:1: log_level: 'loud'" },
	{ "cert without key", "tls_cert = /x.pem\n", "tls_cert and tls_key must be set together" },
	{ "bad hostname", "hostname = a b\n", "t.conf:1: hostname: 'a b' is not a host name" },
	{ "bad plaintext host", "plaintext_auth_listen = lan\n", "t.conf:1: plaintext_auth_listen:" },
	{ "dns server name", "dns_servers = dns.example\n", "t.conf:1: dns_servers: 'dns.example' is not" },
	{ "dns server port", "dns_servers = 127.0.0.1:99999\n", "t.conf:1: dns_servers: '127.0.0.1:99999'" },
	{ "dns server v6 no brackets port", "dns_servers = [::1\n", "t.conf:1: dns_servers: '[::1'" },
	{ NULL, NULL, NULL }
};

static void
test_bad(void **state)
{
	for (const struct bad_case *c = bad_cases; c->name; c++) {
		struct conf cf;
		char *err = NULL;
		int r = conf_parse_string("t.conf", c->text, &cf, &err);
		if (r != -1 || err == NULL || strstr(err, c->want) == NULL)
			fail_msg("case '%s': got %d, error '%s', want '%s'", c->name, r, err ? err : "(none)", c->want);
		free(err);
	}
}

static void
test_defaults(void **state)
{
	struct conf c;
	char *err = NULL;

	assert_int_equal(conf_parse_string("t.conf", "# only a comment\n\n", &c, &err), 0);
	assert_string_equal(c.user, "onebox");
	assert_int_equal(c.listen[SVC_SMTP].n, 1);
	assert_int_equal(c.listen[SVC_SMTP].v[0].port, 25);
	assert_string_equal(c.listen[SVC_SMTP].v[0].host, "");
	assert_int_equal(c.listen[SVC_IMAP].n, 1);
	assert_int_equal(c.listen[SVC_IMAP].v[0].port, 143);
	assert_int_equal(c.listen[SVC_IMAPS].v[0].port, 993);
	assert_int_equal(c.listen[SVC_HTTP].v[0].port, 80);
	assert_int_equal(c.listen[SVC_HTTPS].v[0].port, 443);
	assert_true(c.hostname[0] != '\0');
	conf_free(&c);
}

static void
test_listeners(void **state)
{
	struct conf c;
	char *err = NULL;
	const char *text =
	    "hostname = mail.example.com   # trailing comment\r\n"
	    "smtp_listen = 203.0.113.10:25 192.168.1.10:25,[2001:db8::1]:25\n"
	    "submission_listen =\n"
	    "pop3s_listen = *:995\n"
	    "plaintext_auth_listen = 192.168.1.10 10.0.0.1:110 [2001:DB8::0:7]:587\n";

	assert_int_equal(conf_parse_string("t.conf", text, &c, &err), 0);
	assert_string_equal(c.hostname, "mail.example.com");
	assert_int_equal(c.listen[SVC_SMTP].n, 3);
	assert_string_equal(c.listen[SVC_SMTP].v[1].host, "192.168.1.10");
	assert_string_equal(c.listen[SVC_SMTP].v[2].host, "2001:db8::1");
	assert_int_equal(c.listen[SVC_SUBMISSION].n, 0);
	assert_string_equal(c.listen[SVC_POP3S].v[0].host, "");
	assert_int_equal(conf_plaintext_ok(&c, "192.168.1.10", 110), 1);
	assert_int_equal(conf_plaintext_ok(&c, "192.168.1.10", 995), 1);
	assert_int_equal(conf_plaintext_ok(&c, "10.0.0.1", 110), 1);
	assert_int_equal(conf_plaintext_ok(&c, "10.0.0.1", 995), 0);
	assert_int_equal(conf_plaintext_ok(&c, "203.0.113.10", 110), 0);
	/* addresses, not text: zero compression, case, IPv4-mapped */
	assert_int_equal(conf_plaintext_ok(&c, "2001:db8::7", 587), 1);
	assert_int_equal(conf_plaintext_ok(&c, "2001:db8::7", 25), 0);
	assert_int_equal(conf_plaintext_ok(&c, "::ffff:192.168.1.10", 587), 1);
	assert_int_equal(conf_plaintext_ok(&c, "::ffff:10.0.0.1", 110), 1);
	assert_int_equal(conf_plaintext_ok(&c, "::ffff:203.0.113.10", 110), 0);
	assert_string_equal(conf_service_key(SVC_POP3S), "pop3s_listen");
	conf_free(&c);
}

static void
test_load_missing(void **state)
{
	struct conf c;
	char *err = NULL;
	assert_int_equal(conf_load("/nonexistent/onebox.conf", &c, &err), -1);
	assert_non_null(strstr(err, "/nonexistent/onebox.conf: cannot open"));
	free(err);
}

/* a table that has nothing to do with mail: the parser is generic */
struct toy_conf {
	char *name;
	int loud;
	struct conf_list peers;
};

static int
check_short(const char *v, char **why_r)
{
	if (strlen(v) <= 3)
		return 0;
	*why_r = strdup("too long");
	return -1;
}

static const struct conf_key toy_keys[] = {
	{ "name", CT_STRING, offsetof(struct toy_conf, name), "abc", "A name.", check_short },
	{ "loud", CT_BOOL, offsetof(struct toy_conf, loud), "no", "Shout.", NULL },
	{ "peers", CT_LISTEN, offsetof(struct toy_conf, peers), "", "Peers.", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct conf_table toy_table = { toy_keys, sizeof(struct toy_conf) };

static void
test_generic_table(void **state)
{
	struct toy_conf c;
	char *err = NULL;

	assert_int_equal(conf_table_parse(&toy_table, "toy", "loud = on\npeers = [::1]:7\n", &c, &err), 0);
	assert_string_equal(c.name, "abc");
	assert_int_equal(c.loud, 1);
	assert_int_equal(c.peers.n, 1);
	assert_int_equal(c.peers.v[0].port, 7);
	conf_table_free(&toy_table, &c);
	assert_int_equal(conf_table_parse(&toy_table, "toy", "\nname = abcd\n", &c, &err), -1);
	assert_string_equal(err, "toy:2: name: too long");
	free(err);
	assert_int_equal(conf_table_parse(&toy_table, "toy", "smtp_listen = *:25\n", &c, &err), -1);
	assert_string_equal(err, "toy:1: smtp_listen: unknown key");
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_generic_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
