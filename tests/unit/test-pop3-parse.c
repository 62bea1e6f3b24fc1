/*
 * test-pop3-parse - the pure parts of POP3 (pop3/pop3-parse.c): the
 * command-line parser and the UIDL text (the RETR/TOP converter is
 * tests/unit/test-dotstuff.c).
 *
 * Table-driven: every parser row is one named cmocka test.  Every prefix
 * of every line is parsed again from an exactly-sized heap buffer (so
 * AddressSanitizer sees a read past the end).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pop3/pop3-parse.h"

struct cmd_case {
	const char *name;
	const char *line;
	size_t len;		/* 0: strlen(line) */
	enum pop3_cmd cmd;
	const char *error;	/* substring of the error text; NULL: success */
	const char *arg;	/* checked if not NULL */
	const char *mech, *resp;	/* AUTH, checked if mech not NULL */
	int has_num;
	uint32_t num;
	uint64_t lines;
};

static const struct cmd_case cases[] = {
	{ .name = "USER", .line = "USER alice@local.test", .cmd = POP3_CMD_USER,
	  .arg = "alice@local.test" },
	{ .name = "user lower case, trailing spaces", .line = "user bob  ",
	  .cmd = POP3_CMD_USER, .arg = "bob" },
	{ .name = "USER extra spaces before", .line = "USER   bob", .cmd = POP3_CMD_USER,
	  .arg = "bob" },
	{ .name = "USER missing", .line = "USER", .cmd = POP3_CMD_USER,
	  .error = "Missing user name" },
	{ .name = "USER UTF-8", .line = "USER j\xc3\xb6ran@x.test", .cmd = POP3_CMD_USER,
	  .arg = "j\xc3\xb6ran@x.test" },
	{ .name = "PASS with spaces kept", .line = "PASS  a b c ", .cmd = POP3_CMD_PASS,
	  .arg = " a b c " },
	{ .name = "PASS missing", .line = "PASS", .cmd = POP3_CMD_PASS,
	  .error = "Missing password" },
	{ .name = "PASS control char", .line = "PASS a\tb", .cmd = POP3_CMD_PASS,
	  .error = "Invalid character" },
	{ .name = "AUTH alone", .line = "AUTH", .cmd = POP3_CMD_AUTH, .arg = "" },
	{ .name = "AUTH PLAIN", .line = "AUTH PLAIN", .cmd = POP3_CMD_AUTH,
	  .mech = "PLAIN" },
	{ .name = "AUTH PLAIN initial", .line = "auth plain AGEAYg==", .cmd = POP3_CMD_AUTH,
	  .mech = "plain", .resp = "AGEAYg==" },
	{ .name = "AUTH PLAIN empty initial", .line = "AUTH PLAIN =", .cmd = POP3_CMD_AUTH,
	  .mech = "PLAIN", .resp = "=" },
	{ .name = "AUTH bad base64", .line = "AUTH PLAIN a$b", .cmd = POP3_CMD_AUTH,
	  .error = "not base64" },
	{ .name = "AUTH bad padding", .line = "AUTH PLAIN a=b", .cmd = POP3_CMD_AUTH,
	  .error = "not base64" },
	{ .name = "AUTH bad mechanism", .line = "AUTH PL@IN", .cmd = POP3_CMD_AUTH,
	  .error = "Bad mechanism" },
	{ .name = "AUTH too many args", .line = "AUTH PLAIN AA== x", .cmd = POP3_CMD_AUTH,
	  .error = "Too many" },
	{ .name = "STAT", .line = "STAT", .cmd = POP3_CMD_STAT },
	{ .name = "stat trailing space", .line = "stat ", .cmd = POP3_CMD_STAT },
	{ .name = "STAT with argument", .line = "STAT 1", .cmd = POP3_CMD_STAT,
	  .error = "no argument" },
	{ .name = "LIST", .line = "LIST", .cmd = POP3_CMD_LIST },
	{ .name = "LIST 1", .line = "LIST 1", .cmd = POP3_CMD_LIST, .has_num = 1, .num = 1 },
	{ .name = "LIST two args", .line = "LIST 1 2", .cmd = POP3_CMD_LIST, .error = "Too many" },
	{ .name = "UIDL 12", .line = "UIDL  12 ", .cmd = POP3_CMD_UIDL, .has_num = 1, .num = 12 },
	{ .name = "RETR", .line = "RETR 7", .cmd = POP3_CMD_RETR, .has_num = 1, .num = 7 },
	{ .name = "RETR missing", .line = "RETR", .cmd = POP3_CMD_RETR, .error = "Missing" },
	{ .name = "RETR zero", .line = "RETR 0", .cmd = POP3_CMD_RETR, .error = "Invalid message" },
	{ .name = "RETR negative", .line = "RETR -1", .cmd = POP3_CMD_RETR, .error = "Invalid message" },
	{ .name = "RETR plus", .line = "RETR +1", .cmd = POP3_CMD_RETR, .error = "Invalid message" },
	{ .name = "RETR letters", .line = "RETR 1a", .cmd = POP3_CMD_RETR, .error = "Invalid message" },
	{ .name = "RETR huge", .line = "RETR 99999999999", .cmd = POP3_CMD_RETR,
	  .error = "Invalid message" },
	{ .name = "RETR max", .line = "RETR 2000000000", .cmd = POP3_CMD_RETR, .has_num = 1,
	  .num = 2000000000u },
	{ .name = "RETR over max", .line = "RETR 2000000001", .cmd = POP3_CMD_RETR,
	  .error = "Invalid message" },
	{ .name = "DELE", .line = "DELE 3", .cmd = POP3_CMD_DELE, .has_num = 1, .num = 3 },
	{ .name = "TOP", .line = "TOP 2 10", .cmd = POP3_CMD_TOP, .has_num = 1, .num = 2,
	  .lines = 10 },
	{ .name = "TOP zero lines", .line = "top 2 0", .cmd = POP3_CMD_TOP, .has_num = 1,
	  .num = 2 },
	{ .name = "TOP one arg", .line = "TOP 2", .cmd = POP3_CMD_TOP, .error = "Syntax" },
	{ .name = "TOP bad lines", .line = "TOP 2 x", .cmd = POP3_CMD_TOP,
	  .error = "Invalid line count" },
	{ .name = "TOP 20-digit lines", .line = "TOP 2 18446744073709551615", .cmd = POP3_CMD_TOP,
	  .error = "Invalid line count" },
	{ .name = "RSET NOOP QUIT CAPA STLS", .line = "RSET", .cmd = POP3_CMD_RSET },
	{ .name = "NOOP", .line = "NOOP", .cmd = POP3_CMD_NOOP },
	{ .name = "QUIT", .line = "quit", .cmd = POP3_CMD_QUIT },
	{ .name = "CAPA", .line = "CAPA", .cmd = POP3_CMD_CAPA },
	{ .name = "STLS", .line = "STLS", .cmd = POP3_CMD_STLS },
	{ .name = "STLS with arg", .line = "STLS now", .cmd = POP3_CMD_STLS,
	  .error = "no argument" },
	{ .name = "APOP recognised", .line = "APOP a b", .cmd = POP3_CMD_APOP },
	{ .name = "unknown verb", .line = "XYZZY", .cmd = POP3_CMD_UNKNOWN, .error = "Unknown" },
	{ .name = "verb prefix is not a verb", .line = "RETRX 1", .cmd = POP3_CMD_UNKNOWN,
	  .error = "Unknown" },
	{ .name = "empty line", .line = "", .cmd = POP3_CMD_UNKNOWN, .error = "Unknown" },
	{ .name = "leading space", .line = " STAT", .cmd = POP3_CMD_UNKNOWN, .error = "Unknown" },
	{ .name = "NUL in line", .line = "STAT\0x", .len = 6, .cmd = POP3_CMD_STAT,
	  .error = "Invalid character" },
	{ .name = "8-bit in RETR", .line = "RETR \xff", .cmd = POP3_CMD_RETR,
	  .error = "Invalid character" },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* parse - copy into an exactly-sized buffer (+1 as the contract says). */
static int
parse(const char *line, size_t len, char **buf_r, struct pop3_command *c, const char **err)
{
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	memcpy(buf, line, len);
	*buf_r = buf;
	return pop3_parse_command(buf, len, c, err);
}

static void
test_case(void **state)
{
	const struct cmd_case *t = *state;
	struct pop3_command c;
	const char *err = NULL;
	char *buf;
	int r = parse(t->line, t->len ? t->len : strlen(t->line), &buf, &c, &err);

	assert_int_equal(c.cmd, t->cmd);
	assert_string_equal(c.verb, pop3_cmd_name(t->cmd));
	if (t->error != NULL) {
		if (r != -1)
			fail_msg("parsed, expected error '%s'", t->error);
		if (strstr(err, t->error) == NULL)
			fail_msg("error '%s', expected '%s'", err, t->error);
	} else {
		if (r != 0)
			fail_msg("unexpected error '%s'", err);
		if (t->arg)
			assert_string_equal(c.arg, t->arg);
		if (t->mech) {
			assert_string_equal(c.mech, t->mech);
			if (t->resp)
				assert_string_equal(c.resp, t->resp);
			else
				assert_null(c.resp);
		}
		assert_int_equal(c.has_num, t->has_num);
		assert_int_equal(c.num, t->num);
		assert_true(c.lines == t->lines);
	}
	free(buf);
}

static void
test_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);
		for (size_t k = 0; k <= len; k++) {
			struct pop3_command c;
			const char *err = NULL;
			char *buf;
			int r = parse(cases[i].line, k, &buf, &c, &err);
			assert_true(r == 0 || (r == -1 && err != NULL));
			assert_non_null(c.arg);
			assert_true(c.arg >= buf && c.arg <= buf + k);
			free(buf);
		}
	}
}

static void
test_uidl(void **state)
{
	char out[POP3_UIDL_MAX + 1], again[POP3_UIDL_MAX + 1], other[POP3_UIDL_MAX + 1];
	char long_base[200];

	(void)state;
	pop3_uidl("1700000000.M12P3Q4R5.host", out);
	assert_string_equal(out, "1700000000.M12P3Q4R5.host");
	memset(long_base, 'a', sizeof(long_base) - 1);
	long_base[sizeof(long_base) - 1] = '\0';
	pop3_uidl(long_base, out);
	assert_int_equal(strlen(out), 17);
	assert_true(out[0] == 'X');
	pop3_uidl(long_base, again);
	assert_string_equal(out, again);
	long_base[100] = 'b';
	pop3_uidl(long_base, other);
	assert_string_not_equal(out, other);
	pop3_uidl("has space", out);
	assert_true(out[0] == 'X' && strlen(out) == 17);
	pop3_uidl("", out);
	assert_true(out[0] == 'X');
}

int
main(void)
{
	static struct CMUnitTest t[NCASES + 2];
	size_t n = 0;

	for (size_t i = 0; i < NCASES; i++) {
		t[n].name = cases[i].name;
		t[n].test_func = test_case;
		t[n++].initial_state = (void *)&cases[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_prefixes);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_uidl);
	return _cmocka_run_group_tests("pop3-parse", t, n, NULL, NULL);
}
