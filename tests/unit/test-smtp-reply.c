/*
 * test-smtp-reply - the SMTP client's reply parser (server/mail/smtp-reply.c):
 * single and multi-line replies, enhanced codes, EHLO extensions, and the
 * lines that are not SMTP (refused, never guessed at).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp-reply.h"

struct reply_case {
	const char *name;
	const char *lines[6];	/* fed in order, NULL-terminated */
	int last;		/* smtp_reply_feed's result for the last line */
	int code;
	const char *enhanced;
};

static const struct reply_case cases[] = {
	{ "one-line", { "250 ok", NULL }, 1, 250, "" },
	{ "bare-code", { "354", NULL }, 1, 354, "" },
	{ "enhanced", { "550 5.1.1 no such user", NULL }, 1, 550, "5.1.1" },
	{ "enhanced-3-digits", { "451 4.7.123 later", NULL }, 1, 451, "4.7.123" },
	{ "not-enhanced", { "550 5.1 short", NULL }, 1, 550, "" },
	{ "multi", { "250-a", "250-b", "250 c", NULL }, 1, 250, "" },
	{ "multi-open", { "250-a", "250-b", NULL }, 0, 250, "" },
	{ "code-changes", { "250-a", "550 b", NULL }, -1, 250, "" },
	{ "bad-separator", { "250_ok", NULL }, -1, 0, "" },
	{ "short", { "25", NULL }, -1, 0, "" },
	{ "letters", { "2x0 ok", NULL }, -1, 0, "" },
	{ "class-1", { "150 ok", NULL }, -1, 0, "" },
	{ "class-6", { "650 ok", NULL }, -1, 0, "" },
	{ "http", { "HTTP/1.1 400 Bad Request", NULL }, -1, 0, "" },
};

static void
test_case(void **state)
{
	const struct reply_case *c = *state;
	struct smtp_reply r;
	int rc = 0;

	smtp_reply_init(&r);
	for (int i = 0; c->lines[i]; i++)
		rc = smtp_reply_feed(&r, c->lines[i], strlen(c->lines[i]));
	assert_int_equal(rc, c->last);
	assert_int_equal(r.code, c->code);
	assert_string_equal(r.enhanced, c->enhanced);
	smtp_reply_free(&r);
}

static void
test_ehlo(void **state)
{
	static const char *lines[] = { "250-mx.example greets you", "250-pipelining", "250-SIZE 1000000",
	    "250-8BITMIME", "250-STARTTLS", "250-AUTH PLAIN", "250 SMTPUTF8" };
	struct smtp_reply r;
	uint64_t size;
	unsigned ext;

	smtp_reply_init(&r);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		smtp_reply_feed(&r, lines[i], strlen(lines[i]));
	ext = smtp_reply_ehlo(&r, &size);
	assert_int_equal(ext, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_STARTTLS |
	    SMTP_EXT_SMTPUTF8);
	assert_int_equal(size, 1000000);
	smtp_reply_reset(&r);
	/* the greeting line is not an extension, a prefix is not a keyword */
	smtp_reply_feed(&r, "250-PIPELINING", 14);
	smtp_reply_feed(&r, "250 STARTTLSX", 13);
	assert_int_equal(smtp_reply_ehlo(&r, &size), 0);
	smtp_reply_free(&r);
}

static void
test_line1_and_limits(void **state)
{
	struct smtp_reply r;
	char out[64];
	int rc = 0;

	smtp_reply_init(&r);
	smtp_reply_feed(&r, "550-5.7.1 bad\tthing\x01", 20);
	smtp_reply_feed(&r, "550 second", 10);
	smtp_reply_line1(&r, out, sizeof(out));
	assert_string_equal(out, "550 5.7.1 bad thing ");
	smtp_reply_reset(&r);
	for (int i = 0; i < SMTP_REPLY_LINES_MAX + 5 && rc == 0; i++)
		rc = smtp_reply_feed(&r, "250-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 64);
	assert_int_equal(rc, -1);	/* too many lines */
	assert_true(r.text.len <= SMTP_REPLY_TEXT_MAX);
	smtp_reply_free(&r);
}

#define NCASES (sizeof(cases) / sizeof(cases[0]))

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
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_ehlo);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_line1_and_limits);
	return _cmocka_run_group_tests("smtp-reply", t, n, NULL, NULL);
}
