/*
 * test-sasl - the protocol-neutral SASL exchange (server/auth/sasl.c) and
 * the base64 codec under it (server/lib/base64.c).
 *
 * Table-driven: each case is a mechanism, an initial response (or none)
 * and the client's lines, with the result expected after each step and
 * the credentials expected at the end.  Client data is written as C
 * strings with \0 where the SASL message has a NUL, and base64-encoded by
 * the test (B(...)), or given raw when the case is about bad base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base64.h"
#include "sasl.h"

#define MAXSTEPS 4

/* one piece of client input: raw text, or bytes to base64-encode */
struct input {
	const char *text;	/* NULL: the end of the list */
	size_t len;		/* > 0: text is len bytes to encode; 0: send text as is */
};
#define B(lit) { lit, sizeof(lit) - 1 }
#define RAW(lit) { lit, 0 }

struct sasl_case {
	const char *name;
	const char *mech;
	struct input initial;		/* text NULL: no initial response */
	struct input lines[MAXSTEPS];
	enum sasl_result want[MAXSTEPS + 1];	/* after start, then each line */
	const char *user, *pass;		/* expected on SASL_DONE */
};

static const struct sasl_case cases[] = {
	{ "plain initial", "PLAIN", B("\0alice@x.test\0secret"), { { 0 } },
	  { SASL_DONE }, "alice@x.test", "secret" },
	{ "plain lower-case mech", "plain", B("\0a@b\0p"), { { 0 } }, { SASL_DONE }, "a@b", "p" },
	{ "plain continuation", "PLAIN", { 0 }, { B("\0a@b\0p w") },
	  { SASL_CHALLENGE, SASL_DONE }, "a@b", "p w" },
	{ "plain authzid = authcid", "PLAIN", B("A@B\0a@b\0pw"), { { 0 } }, { SASL_DONE }, "a@b", "pw" },
	{ "plain authzid other", "PLAIN", B("root@b\0a@b\0pw"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain empty password", "PLAIN", B("\0a@b\0"), { { 0 } }, { SASL_DONE }, "a@b", "" },
	{ "plain empty authcid", "PLAIN", B("\0\0pw"), { { 0 } }, { SASL_DONE }, "", "pw" },
	{ "plain all empty", "PLAIN", B("\0\0"), { { 0 } }, { SASL_DONE }, "", "" },
	{ "plain authzid, empty authcid", "PLAIN", B("a@b\0\0pw"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain one NUL", "PLAIN", B("\0a@bpw"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain no NUL", "PLAIN", B("a@b"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain NUL in password", "PLAIN", B("\0a@b\0p\0w"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain initial =", "PLAIN", RAW("="), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain bad base64", "PLAIN", RAW("!!!notbase64"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain bad length", "PLAIN", RAW("AGEA"  "Yg"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain padding inside", "PLAIN", RAW("AG=AYgBw"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain space", "PLAIN", RAW("AGEA YgBw"), { { 0 } }, { SASL_BAD_INPUT }, NULL, NULL },
	{ "plain cancel", "PLAIN", { 0 }, { RAW("*") }, { SASL_CHALLENGE, SASL_CANCELLED }, NULL, NULL },
	{ "plain empty line", "PLAIN", { 0 }, { RAW("") }, { SASL_CHALLENGE, SASL_BAD_INPUT }, NULL, NULL },
	{ "login", "LOGIN", { 0 }, { B("a@b"), B("pw") },
	  { SASL_CHALLENGE, SASL_CHALLENGE, SASL_DONE }, "a@b", "pw" },
	{ "login initial user", "LOGIN", B("a@b"), { B("pw") },
	  { SASL_CHALLENGE, SASL_DONE }, "a@b", "pw" },
	{ "login initial =", "LOGIN", RAW("="), { B("pw") }, { SASL_CHALLENGE, SASL_DONE }, "", "pw" },
	{ "login cancel at password", "LOGIN", { 0 }, { B("a@b"), RAW("*") },
	  { SASL_CHALLENGE, SASL_CHALLENGE, SASL_CANCELLED }, NULL, NULL },
	{ "login NUL in user", "LOGIN", { 0 }, { B("a\0b") }, { SASL_CHALLENGE, SASL_BAD_INPUT }, NULL, NULL },
	{ "login NUL in password", "LOGIN", { 0 }, { B("a@b"), B("p\0") },
	  { SASL_CHALLENGE, SASL_CHALLENGE, SASL_BAD_INPUT }, NULL, NULL },
	{ "login bad base64", "LOGIN", { 0 }, { RAW("YQ=") }, { SASL_CHALLENGE, SASL_BAD_INPUT }, NULL, NULL },
	{ "unknown mech", "CRAM-MD5", { 0 }, { { 0 } }, { SASL_BAD_MECH }, NULL, NULL },
	{ NULL, NULL, { 0 }, { { 0 } }, { 0 }, NULL, NULL }
};

/* render - the line a client would send for in (base64 when asked). */
static char *
render(const struct input *in)
{
	size_t sz;
	char *out;

	if (in->len == 0)
		return strdup(in->text);
	sz = BASE64_ENCODED_SIZE(in->len);
	out = malloc(sz);
	assert_non_null(out);
	assert_true(base64_encode(in->text, in->len, out, sz) >= 0);
	return out;
}

static void
run_case(const struct sasl_case *c)
{
	struct sasl s;
	enum sasl_result r;
	char *line = c->initial.text ? render(&c->initial) : NULL;
	int i = 0;

	memset(&s, 0xa5, sizeof(s));	/* sasl_start must not trust old contents */
	r = sasl_start(&s, c->mech, line);
	free(line);
	for (;;) {
		if (r != c->want[i])
			fail_msg("%s: step %d gave %d, want %d", c->name, i, r, c->want[i]);
		if (r != SASL_CHALLENGE)
			break;
		if (c->lines[i].text == NULL)
			fail_msg("%s: challenge %d without a line to answer", c->name, i);
		line = render(&c->lines[i++]);
		r = sasl_step(&s, line);
		free(line);
	}
	assert_int_equal(s.step, SASL_STEP_IDLE);
	if (r == SASL_DONE) {
		if (strcmp(s.user, c->user) != 0 || strcmp(s.pass, c->pass) != 0)
			fail_msg("%s: got <%s>/<%s>", c->name, s.user, s.pass);
	} else
		assert_true(s.pass[0] == '\0' && s.user[0] == '\0');
	sasl_wipe(&s);
	assert_true(s.pass[0] == '\0' && s.user[0] == '\0');
}

static void
test_cases(void **state)
{
	for (const struct sasl_case *c = cases; c->name; c++)
		run_case(c);
}

static void
test_challenges(void **state)
{
	struct sasl s;

	assert_int_equal(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	assert_string_equal(sasl_challenge(&s), "VXNlcm5hbWU6");
	assert_int_equal(sasl_step(&s, "YUBi"), SASL_CHALLENGE);
	assert_string_equal(sasl_challenge(&s), "UGFzc3dvcmQ6");
	assert_int_equal(sasl_start(&s, "PLAIN", NULL), SASL_CHALLENGE);
	assert_string_equal(sasl_challenge(&s), "");
	assert_int_equal(sasl_step(&s, "*"), SASL_CANCELLED);
	assert_int_equal(sasl_step(&s, "AGEAYg=="), SASL_BAD_INPUT);	/* no exchange */
	assert_string_equal(sasl_offered(), "PLAIN LOGIN");
}

static void
test_oversize(void **state)
{
	size_t ulen = AUTH_USER_MAX + 1, plen = AUTH_PASS_MAX + 1;
	char *msg = calloc(1, 2 + ulen + plen + 1), *b64;
	size_t sz = BASE64_ENCODED_SIZE(2 + ulen + plen);
	struct sasl s;

	assert_non_null(msg);
	b64 = malloc(sz);
	assert_non_null(b64);
	/* a user one byte too long */
	memset(msg + 1, 'u', ulen);
	memset(msg + 2 + ulen, 'p', 4);
	assert_true(base64_encode(msg, 2 + ulen + 4, b64, sz) > 0);
	assert_int_equal(sasl_start(&s, "PLAIN", b64), SASL_BAD_INPUT);
	/* the longest user and password fit */
	memset(msg + 1, 'u', ulen - 1);
	msg[ulen] = '\0';
	memset(msg + 1 + ulen, 'p', plen - 1);
	assert_true(base64_encode(msg, 1 + ulen + plen - 1, b64, sz) > 0);
	assert_int_equal(sasl_start(&s, "PLAIN", b64), SASL_DONE);
	assert_int_equal(strlen(s.user), AUTH_USER_MAX);
	assert_int_equal(strlen(s.pass), AUTH_PASS_MAX);
	/* a password one byte too long */
	msg[1 + ulen + plen - 1] = 'p';
	assert_true(base64_encode(msg, 1 + ulen + plen, b64, sz) > 0);
	assert_int_equal(sasl_start(&s, "PLAIN", b64), SASL_BAD_INPUT);
	/* LOGIN: the same limits */
	assert_int_equal(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	memset(msg, 'u', ulen);
	assert_true(base64_encode(msg, ulen, b64, sz) > 0);
	assert_int_equal(sasl_step(&s, b64), SASL_BAD_INPUT);
	free(msg);
	free(b64);
}

struct b64_case {
	const char *name;
	const char *in;
	ssize_t want_len;	/* -1: refused */
	const char *want;
};

static const struct b64_case b64_cases[] = {
	{ "empty", "", 0, "" },
	{ "one byte", "YQ==", 1, "a" },
	{ "two bytes", "YWI=", 2, "ab" },
	{ "three bytes", "YWJj", 3, "abc" },
	{ "NUL inside", "AGEAYg==", 4, "\0a\0b" },
	{ "no padding", "YQ", -1, NULL },
	{ "three pads", "Y===", -1, NULL },
	{ "pad then data", "YQ==YWJj", -1, NULL },
	{ "bad char", "YW-j", -1, NULL },
	{ "newline", "YWJj\n", -1, NULL },
	{ NULL, NULL, 0, NULL }
};

static void
test_base64(void **state)
{
	char out[64], enc[64];

	for (const struct b64_case *c = b64_cases; c->name; c++) {
		ssize_t n = base64_decode(c->in, strlen(c->in), out, sizeof(out));
		if (n != c->want_len)
			fail_msg("%s: length %zd, want %zd", c->name, n, c->want_len);
		if (n < 0)
			continue;
		assert_memory_equal(out, c->want, (size_t)n);
		assert_int_equal(base64_encode(out, (size_t)n, enc, sizeof(enc)), strlen(c->in));
		assert_string_equal(enc, c->in);
	}
	assert_int_equal(base64_decode("YWJj", 4, out, 2), -1);	/* does not fit */
	assert_int_equal(base64_encode("abc", 3, enc, 4), -1);	/* no room for the NUL */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_challenges),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
