/*
 * test-addr - RFC 5321 address and path parser (server/mail/addr.c), and
 * the IDN conversion of domains to A-labels.
 *
 * Table-driven: every row is one named cmocka test.  Long inputs (limits
 * on local part, label and domain length) are built at start-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

#define F_STD	(ADDR_ALLOW_EMPTY | ADDR_ALLOW_LITERAL)
#define F_U	(F_STD | ADDR_ALLOW_UTF8)

struct path_case {
	const char *name;
	const char *in;
	int flags;
	int ok;
	const char *local;	/* expected, or error substring when !ok */
	const char *domain;
	int quoted, literal, utf8;
	const char *rest;	/* NULL: "" */
};

#define OK(n, in, fl, l, d, q, lit, u) { n, in, fl, 1, l, d, q, lit, u, NULL }
#define OKR(n, in, fl, l, d, rest) { n, in, fl, 1, l, d, 0, 0, 0, rest }
#define BAD(n, in, fl, e) { n, in, fl, 0, e, NULL, 0, 0, 0, NULL }

/* Built in main(): limits. */
static char local64[80], local65[80], quoted64[160], quoted65[160];
static char label63[100], label64[100], domain255[300], domain256[300];

static struct path_case path_cases[] = {
	OK("simple", "<user@example.com>", F_STD, "user", "example.com", 0, 0, 0),
	OK("mixed case domain lowered, local kept",
	    "<User.Name@Example.COM>", F_STD, "User.Name", "example.com", 0, 0, 0),
	OK("atext specials", "<a!#$%&'*+-/=?^_`{|}~z@example.com>", F_STD,
	    "a!#$%&'*+-/=?^_`{|}~z", "example.com", 0, 0, 0),
	OK("null path", "<>", F_STD, "", "", 0, 0, 0),
	BAD("null path not allowed", "<>", ADDR_ALLOW_LITERAL, "empty address"),
	OKR("rest after '>'", "<a@b.example> SIZE=10", F_STD, "a", "b.example",
	    " SIZE=10"),
	OK("percent hack is a local part", "<user%other.org@example.com>",
	    F_STD, "user%other.org", "example.com", 0, 0, 0),
	OK("bang path is a local part", "<other.org!user@example.com>", F_STD,
	    "other.org!user", "example.com", 0, 0, 0),
	OK("source route ignored", "<@relay.org:user@example.com>", F_STD,
	    "user", "example.com", 0, 0, 0),
	OK("source route two hops ignored",
	    "<@a.org,@B.ORG:user@example.com>", F_STD, "user", "example.com",
	    0, 0, 0),
	OK("source route via literal ignored",
	    "<@[192.0.2.1]:u@example.com>", ADDR_ALLOW_EMPTY, "u",
	    "example.com", 0, 0, 0),
	BAD("source route without colon", "<@a.org user@example.com>", F_STD,
	    "bad source route"),
	BAD("source route only", "<@a.org>", F_STD, "bad source route"),
	BAD("source route with bad domain", "<@a..org:u@example.com>", F_STD,
	    "bad source route"),
	BAD("source route with null path", "<@a.org:>", F_STD,
	    "empty local part"),
	OK("quoted local part with @", "<\"a@b\"@example.com>", F_STD, "a@b",
	    "example.com", 1, 0, 0),
	OK("quoted local part escapes", "<\"a\\\"b\\\\c\"@example.com>", F_STD,
	    "a\"b\\c", "example.com", 1, 0, 0),
	OK("quoted local part with space", "<\"john doe\"@example.com>", F_STD,
	    "john doe", "example.com", 1, 0, 0),
	OK("quoted local part with '>'", "<\"a>b\"@example.com>", F_STD,
	    "a>b", "example.com", 1, 0, 0),
	BAD("quoted unterminated", "<\"abc@example.com>", F_STD,
	    "unterminated quoted string"),
	BAD("quoted empty", "<\"\"@example.com>", F_STD, "empty local part"),
	BAD("quoted control character", "<\"a\tb\"@example.com>", F_STD,
	    "bad character"),
	BAD("quoted escaped control character", "<\"a\\\x01\"@example.com>",
	    F_STD, "bad character"),
	BAD("trailing dot in domain", "<user@example.com.>", F_STD,
	    "trailing dot"),
	BAD("double dot in domain", "<user@example..com>", F_STD,
	    "bad domain syntax"),
	BAD("leading dot in domain", "<user@.example.com>", F_STD,
	    "bad domain syntax"),
	BAD("leading dot in local part", "<.user@example.com>", F_STD,
	    "bad dot"),
	BAD("trailing dot in local part", "<user.@example.com>", F_STD,
	    "bad dot"),
	BAD("double dot in local part", "<us..er@example.com>", F_STD,
	    "bad dot"),
	OK("IPv4 literal", "<u@[192.0.2.1]>", F_STD, "u", "[192.0.2.1]",
	    0, 1, 0),
	OK("IPv6 literal canonical", "<u@[ipv6:2001:DB8:0:0::1]>", F_STD, "u",
	    "[IPv6:2001:db8::1]", 0, 1, 0),
	BAD("literal without flag", "<u@[192.0.2.1]>", ADDR_ALLOW_EMPTY,
	    "not allowed"),
	BAD("IPv4 literal out of range", "<u@[300.1.1.1]>", F_STD,
	    "bad address literal"),
	BAD("IPv4 literal short", "<u@[1.2.3]>", F_STD, "bad address literal"),
	BAD("IPv6 literal without tag", "<u@[2001:db8::1]>", F_STD,
	    "bad address literal"),
	BAD("general literal refused", "<u@[x400:foo]>", F_STD,
	    "bad address literal"),
	BAD("empty literal", "<u@[]>", F_STD, "bad address literal"),
	BAD("unterminated literal", "<u@[1.2.3.4>", F_STD,
	    "bad address literal"),
	OK("single-label domain", "<root@localhost>", F_STD, "root",
	    "localhost", 0, 0, 0),
	BAD("dotted quad without brackets", "<u@1.2.3.4>", F_STD, "numeric"),
	BAD("numeric single label", "<u@123>", F_STD, "numeric"),
	OK("numeric inner label", "<u@123.example>", F_STD, "u", "123.example",
	    0, 0, 0),
	BAD("label starts with hyphen", "<u@-a.com>", F_STD,
	    "bad domain syntax"),
	BAD("label ends with hyphen", "<u@a-.com>", F_STD, "bad domain syntax"),
	OK("hyphen inside label", "<u@a-b.com>", F_STD, "u", "a-b.com", 0, 0, 0),
	BAD("underscore in domain", "<u@a_b.com>", F_STD, "missing '>'"),
	BAD("missing '>'", "<a@b.com", F_STD, "missing '>'"),
	BAD("missing '<'", "a@b.com", F_STD, "missing '<'"),
	BAD("no '@'", "<user>", F_STD, "missing '@'"),
	BAD("empty domain", "<user@>", F_STD, "missing domain"),
	BAD("empty local part", "<@>", F_STD, "bad source route"),
	BAD("empty local part before @", "<\x01@b.com>", F_STD,
	    "bad character in local part"),
	BAD("space inside", "<a b@c.com>", F_STD, "missing '@'"),
	BAD("space before '>'", "<a@c.com >", F_STD, "missing '>'"),
	BAD("two '@'", "<a@b@c.com>", F_STD, "missing '>'"),
	BAD("embedded NUL ends the string", "<a\0@b.com>", F_STD,
	    "missing '@'"),
	BAD("UTF-8 local part without flag", "<j\xc3\xb6ran@example.com>",
	    F_STD, "non-ASCII"),
	OK("UTF-8 local part with flag", "<j\xc3\xb6ran@example.com>", F_U,
	    "j\xc3\xb6ran", "example.com", 0, 0, 1),
	BAD("UTF-8 domain without flag", "<a@b\xc3\xbc" "cher.de>", F_STD,
	    "non-ASCII"),
	OK("UTF-8 domain, ASCII lowered only", "<a@B\xc3\x9c" "CHER.De>", F_U,
	    "a", "b\xc3\x9c" "cher.de", 0, 0, 1),
	OK("UTF-8 in quoted local part", "<\"\xc3\xa9 x\"@example.com>", F_U,
	    "\xc3\xa9 x", "example.com", 1, 0, 1),
	OK("UTF-8 4-byte sequence", "<\xf0\x9f\x98\x80@example.com>", F_U,
	    "\xf0\x9f\x98\x80", "example.com", 0, 0, 1),
	OK("UTF-8 after dot", "<a.\xc3\xa9@example.com>", F_U,
	    "a.\xc3\xa9", "example.com", 0, 0, 1),
	BAD("invalid UTF-8 byte", "<a\xff@example.com>", F_U, "invalid UTF-8"),
	BAD("overlong UTF-8", "<a\xc0\xaf@example.com>", F_U, "invalid UTF-8"),
	BAD("overlong 3-byte UTF-8", "<a\xe0\x80\xaf@example.com>", F_U,
	    "invalid UTF-8"),
	BAD("UTF-8 surrogate", "<a\xed\xa0\x80@example.com>", F_U,
	    "invalid UTF-8"),
	BAD("UTF-8 above U+10FFFF", "<a\xf4\x90\x80\x80@example.com>", F_U,
	    "invalid UTF-8"),
	BAD("truncated UTF-8", "<a\xc3@example.com>", F_U, "invalid UTF-8"),
	BAD("lone continuation byte", "<a\x80@example.com>", F_U,
	    "invalid UTF-8"),
	OK("local part of 64 octets", local64, F_STD, NULL, "example.com",
	    0, 0, 0),
	BAD("local part of 65 octets", local65, F_STD, "local part too long"),
	OK("quoted local part of 64 unescaped octets", quoted64, F_STD, NULL,
	    "example.com", 1, 0, 0),
	BAD("quoted local part of 65 unescaped octets", quoted65, F_STD,
	    "local part too long"),
	OK("label of 63 octets", label63, F_STD, "u", NULL, 0, 0, 0),
	BAD("label of 64 octets", label64, F_STD, "label too long"),
	OK("domain of 255 octets", domain255, F_STD, "u", NULL, 0, 0, 0),
	BAD("domain of 256 octets", domain256, F_STD, "domain too long"),
};

static void
check_fields(const struct path_case *c, const struct mailaddr *a)
{
	if (c->local != NULL)
		assert_string_equal(a->local, c->local);
	if (c->domain != NULL)
		assert_string_equal(a->domain, c->domain);
	assert_int_equal(a->quoted, c->quoted);
	assert_int_equal(a->literal, c->literal);
	assert_int_equal(a->utf8, c->utf8);
}

/* A parsed address formats to text that parses back to the same address. */
static void
check_roundtrip(const struct mailaddr *a, int flags)
{
	char text[ADDR_FORMAT_MAX];
	struct mailaddr b;
	const char *error = NULL;
	size_t n;

	n = addr_format(a, text, sizeof(text));
	assert_true(n < sizeof(text));
	assert_int_equal(n, strlen(text));
	if (addr_parse(text, flags, &b, &error) != 0)
		fail_msg("re-parse of '%s': %s", text, error);
	assert_string_equal(b.local, a->local);
	assert_string_equal(b.domain, a->domain);
	assert_int_equal(b.literal, a->literal);
}

static void
test_path(void **state)
{
	const struct path_case *c = *state;
	struct mailaddr a;
	const char *rest = NULL, *error = NULL;
	int r;

	r = addr_parse_path(c->in, c->flags, &a, &rest, &error);
	if (!c->ok) {
		assert_int_equal(r, -1);
		assert_non_null(error);
		if (strstr(error, c->local) == NULL)
			fail_msg("error '%s', expected '%s'", error, c->local);
		return;
	}
	if (r != 0)
		fail_msg("unexpected error: %s", error);
	check_fields(c, &a);
	assert_string_equal(rest, c->rest != NULL ? c->rest : "");
	check_roundtrip(&a, c->flags);
}

struct bare_case {
	const char *name;
	const char *in;
	int flags;
	int ok;
	const char *local, *domain;	/* error substring in local if !ok */
};

static const struct bare_case bare_cases[] = {
	{ "bare simple", "user@example.com", F_STD, 1, "user", "example.com" },
	{ "bare mixed case", "User@EXAMPLE.com", F_STD, 1, "User",
	    "example.com" },
	{ "bare empty allowed", "", F_STD, 1, "", "" },
	{ "bare empty refused", "", ADDR_ALLOW_LITERAL, 0, "empty address",
	    NULL },
	{ "bare with brackets refused", "<user@example.com>", F_STD, 0,
	    "bad character", NULL },
	{ "bare trailing space", "user@example.com ", F_STD, 0,
	    "bad domain syntax", NULL },
	{ "bare trailing dot", "user@example.com.", F_STD, 0, "trailing dot",
	    NULL },
	{ "bare two '@'", "a@b@c.com", F_STD, 0, "bad domain syntax", NULL },
	{ "bare quoted", "\"a b\"@example.com", F_STD, 1, "a b",
	    "example.com" },
	{ "bare literal", "u@[IPv6:::1]", F_STD, 1, "u", "[IPv6:::1]" },
	{ "bare no domain", "postmaster", F_STD, 0, "missing '@'", NULL },
};

static void
test_bare(void **state)
{
	const struct bare_case *c = *state;
	struct mailaddr a;
	const char *error = NULL;
	int r;

	r = addr_parse(c->in, c->flags, &a, &error);
	if (!c->ok) {
		assert_int_equal(r, -1);
		if (strstr(error, c->local) == NULL)
			fail_msg("error '%s', expected '%s'", error, c->local);
		return;
	}
	if (r != 0)
		fail_msg("unexpected error: %s", error);
	assert_string_equal(a.local, c->local);
	assert_string_equal(a.domain, c->domain);
}

struct format_case {
	const char *name;
	const char *local, *domain;
	const char *out;
};

static const struct format_case format_cases[] = {
	{ "format plain", "user", "example.com", "user@example.com" },
	{ "format null path", "", "", "" },
	{ "format postmaster", "postmaster", "", "postmaster" },
	{ "format needs quotes for @", "a@b", "example.com",
	    "\"a@b\"@example.com" },
	{ "format needs quotes for space", "john doe", "x.org",
	    "\"john doe\"@x.org" },
	{ "format escapes quote and backslash", "a\"b\\c", "x.org",
	    "\"a\\\"b\\\\c\"@x.org" },
	{ "format dot-string unquoted", "a.b", "x.org", "a.b@x.org" },
	{ "format leading dot quoted", ".a", "x.org", "\".a\"@x.org" },
	{ "format trailing dot quoted", "a.", "x.org", "\"a.\"@x.org" },
	{ "format double dot quoted", "a..b", "x.org", "\"a..b\"@x.org" },
	{ "format literal", "u", "[192.0.2.1]", "u@[192.0.2.1]" },
	{ "format UTF-8 unquoted", "j\xc3\xb6ran", "x.org",
	    "j\xc3\xb6ran@x.org" },
};

static void
test_format(void **state)
{
	const struct format_case *c = *state;
	struct mailaddr a;
	char out[ADDR_FORMAT_MAX];
	size_t n;

	memset(&a, 0, sizeof(a));
	snprintf(a.local, sizeof(a.local), "%s", c->local);
	snprintf(a.domain, sizeof(a.domain), "%s", c->domain);
	n = addr_format(&a, out, sizeof(out));
	assert_string_equal(out, c->out);
	assert_int_equal(n, strlen(c->out));
	assert_int_equal(addr_format(&a, NULL, 0), n);
}

static void
test_format_truncated(void **state)
{
	struct mailaddr a;
	char out[5];

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.local, sizeof(a.local), "user");
	snprintf(a.domain, sizeof(a.domain), "example.com");
	assert_int_equal(addr_format(&a, out, sizeof(out)), 16);
	assert_string_equal(out, "user");
	assert_int_equal(addr_format(&a, out, 1), 16);
	assert_string_equal(out, "");
}

struct domain_case {
	const char *name;
	const char *in;
	int flags;
	int valid;
};

static const struct domain_case domain_cases[] = {
	{ "domain plain", "example.com", 0, 1 },
	{ "domain upper case", "EXAMPLE.com", 0, 1 },
	{ "domain single label", "localhost", 0, 1 },
	{ "domain trailing dot", "example.com.", 0, 0 },
	{ "domain empty", "", 0, 0 },
	{ "domain double dot", "a..b", 0, 0 },
	{ "domain space", "exa mple.com", 0, 0 },
	{ "domain underscore", "a_b.com", 0, 0 },
	{ "domain literal with flag", "[192.0.2.1]", ADDR_ALLOW_LITERAL, 1 },
	{ "domain literal without flag", "[192.0.2.1]", 0, 0 },
	{ "domain UTF-8 with flag", "b\xc3\xbc" "cher.de", ADDR_ALLOW_UTF8, 1 },
	{ "domain UTF-8 without flag", "b\xc3\xbc" "cher.de", 0, 0 },
	{ "domain numeric tld", "10.0.0.1", 0, 0 },
};

static void
test_domain(void **state)
{
	const struct domain_case *c = *state;

	assert_int_equal(addr_domain_valid(c->in, c->flags), c->valid);
}

/* addr_domain_to_ascii: out is the A-label form, or NULL when refused */
struct idn_case {
	const char *name;
	const char *in;
	const char *out;
};

static const struct idn_case idn_cases[] = {
	{ "idn ascii untouched", "example.com", "example.com" },
	{ "idn ascii a-label untouched", "xn--xample-ova.com", "xn--xample-ova.com" },
	{ "idn u-label", "\xc3\xab" "xample.com", "xn--xample-ova.com" },
	{ "idn upper-case u-label folded", "\xc3\x8b" "XAMPLE.COM", "xn--xample-ova.com" },
	{ "idn decomposed e + diaeresis (NFC)", "e\xcc\x88" "xample.com", "xn--xample-ova.com" },
	{ "idn several labels", "m\xc3\xbc" "nchen.b\xc3\xbc" "cher.de", "xn--mnchen-3ya.xn--bcher-kva.de" },
	{ "idn literal untouched", "[192.0.2.1]", "[192.0.2.1]" },
	{ "idn disallowed symbol", "\xe2\x98\x83.com", NULL },
	{ "idn zero-width space leaves an empty label", "\xe2\x80\x8b.com", NULL },
	{ "idn label too long as a-label", "\xc3\xab" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL },
};

static void
test_idn(void **state)
{
	const struct idn_case *c = *state;
	char d[ADDR_DOMAIN_MAX + 1];
	const char *error = NULL;
	int r;

	snprintf(d, sizeof(d), "%s", c->in);
	r = addr_domain_to_ascii(d, &error);
	if (c->out == NULL) {
		assert_int_equal(r, -1);
		assert_non_null(error);
		return;
	}
	assert_int_equal(r, 0);
	assert_string_equal(d, c->out);
}

static void
build_limits(void)
{
	char l63[64], l64[65];

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'b', 64);
	l64[64] = '\0';
	snprintf(local64, sizeof(local64), "<%.64s@example.com>", l64);
	snprintf(local65, sizeof(local65), "<%.64sx@example.com>", l64);
	/* 32 escaped quotes + 32 letters = 64 unescaped octets */
	strcpy(quoted64, "<\"");
	for (int i = 0; i < 32; i++)
		strcat(quoted64, "\\\"a");
	strcat(quoted64, "\"@example.com>");
	strcpy(quoted65, "<\"x");
	strcat(quoted65, quoted64 + 2);
	snprintf(label63, sizeof(label63), "<u@%s.com>", l63);
	snprintf(label64, sizeof(label64), "<u@%s.com>", l64);
	/* 4 labels of 63 + 3 dots = 255 */
	snprintf(domain255, sizeof(domain255), "<u@%s.%s.%s.%s>", l63, l63,
	    l63, l63);
	/* 3 labels of 63 + 62 + 1 + 4 dots = 256 */
	snprintf(domain256, sizeof(domain256), "<u@%s.%s.%s.%s.b>", l63, l63,
	    l63, l63 + 1);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static size_t
add_cases(struct CMUnitTest *t, size_t n, CMUnitTestFunction f,
    void *cases, size_t ncases, size_t size)
{
	size_t i;

	for (i = 0; i < ncases; i++) {
		void *c = (char *)cases + i * size;
		t[n].name = *(const char **)c;
		t[n].test_func = f;
		t[n].setup_func = NULL;
		t[n].teardown_func = NULL;
		t[n++].initial_state = c;
	}
	return n;
}

int
main(void)
{
	static struct CMUnitTest t[NELEM(path_cases) + NELEM(bare_cases) +
	    NELEM(format_cases) + NELEM(domain_cases) + NELEM(idn_cases) + 1];
	size_t n = 0;

	build_limits();
	n = add_cases(t, n, test_path, path_cases, NELEM(path_cases),
	    sizeof(path_cases[0]));
	n = add_cases(t, n, test_bare, (void *)bare_cases, NELEM(bare_cases),
	    sizeof(bare_cases[0]));
	n = add_cases(t, n, test_format, (void *)format_cases,
	    NELEM(format_cases), sizeof(format_cases[0]));
	n = add_cases(t, n, test_domain, (void *)domain_cases,
	    NELEM(domain_cases), sizeof(domain_cases[0]));
	n = add_cases(t, n, test_idn, (void *)idn_cases, NELEM(idn_cases),
	    sizeof(idn_cases[0]));
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_format_truncated);
	return _cmocka_run_group_tests("addr", t, n, NULL, NULL);
}
