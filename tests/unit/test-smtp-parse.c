/*
 * test-smtp-parse - SMTP command-line parser (server/smtp/smtp-parse.c).
 *
 * Table-driven: every row is one named cmocka test.  Then every prefix of
 * every line in the table is fed again from an exactly-sized heap buffer
 * (so AddressSanitizer sees any read past the end) to show that truncated
 * input never crashes the parser and always yields a well-formed result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp/smtp-parse.h"

struct cmd_case {
	const char *name;
	const char *line;
	size_t len;		/* 0: strlen(line) */
	int utf8_allowed;
	enum smtp_cmd cmd;
	int code;		/* 0: success expected */
	const char *enhanced;
	const char *text;	/* substring of the error text */
	const char *arg;	/* checked if not NULL */
	const char *local, *domain;	/* checked if local not NULL */
	uint64_t size;
	int has_size;
	enum smtp_body body;
	int smtputf8;
	int bdat_last;
	const char *auth;	/* NULL: "" */
};

#define U8 "j\xc3\xb6ran"

static const struct cmd_case cases[] = {
	/* HELO / EHLO */
	{ .name = "HELO domain", .line = "HELO mail.example.com",
	  .cmd = SMTP_CMD_HELO, .arg = "mail.example.com" },
	{ .name = "ehlo lower case", .line = "ehlo client.example",
	  .cmd = SMTP_CMD_EHLO, .arg = "client.example" },
	{ .name = "EHLO address literal", .line = "EHLO [192.0.2.1]",
	  .cmd = SMTP_CMD_EHLO, .arg = "[192.0.2.1]" },
	{ .name = "EHLO odd name accepted", .line = "EHLO my_host!",
	  .cmd = SMTP_CMD_EHLO, .arg = "my_host!" },
	{ .name = "EHLO extra words ignored", .line = "EHLO a.example b c",
	  .cmd = SMTP_CMD_EHLO, .arg = "a.example" },
	{ .name = "EHLO trailing spaces", .line = "EHLO a.example   ",
	  .cmd = SMTP_CMD_EHLO, .arg = "a.example" },
	{ .name = "EHLO two spaces after verb", .line = "EHLO  a.example",
	  .cmd = SMTP_CMD_EHLO, .arg = "a.example" },
	{ .name = "HELO without domain", .line = "HELO", .cmd = SMTP_CMD_HELO,
	  .code = 501, .enhanced = "5.5.2", .text = "HELO requires domain" },
	{ .name = "EHLO only spaces", .line = "EHLO   ", .cmd = SMTP_CMD_EHLO,
	  .code = 501, .enhanced = "5.5.2", .text = "EHLO requires domain" },
	{ .name = "EHLO non-ASCII", .line = "EHLO h\xc3\xa9.example",
	  .cmd = SMTP_CMD_EHLO, .code = 501, .enhanced = "5.5.4",
	  .text = "bad character" },

	/* MAIL */
	{ .name = "MAIL simple", .line = "MAIL FROM:<a@b.example>",
	  .cmd = SMTP_CMD_MAIL, .local = "a", .domain = "b.example",
	  .arg = "FROM:<a@b.example>" },
	{ .name = "MAIL space after colon", .line = "MAIL FROM: <a@b.example>",
	  .cmd = SMTP_CMD_MAIL, .local = "a", .domain = "b.example" },
	{ .name = "mail lower case, domain lowered",
	  .line = "mail from:<A@B.EXAMPLE>", .cmd = SMTP_CMD_MAIL,
	  .local = "A", .domain = "b.example" },
	{ .name = "MAIL null path", .line = "MAIL FROM:<>",
	  .cmd = SMTP_CMD_MAIL, .local = "", .domain = "" },
	{ .name = "MAIL source route ignored",
	  .line = "MAIL FROM:<@x.org,@y.org:a@b.example>",
	  .cmd = SMTP_CMD_MAIL, .local = "a", .domain = "b.example" },
	{ .name = "MAIL SIZE", .line = "MAIL FROM:<a@b.example> SIZE=12345",
	  .cmd = SMTP_CMD_MAIL, .local = "a", .domain = "b.example",
	  .size = 12345, .has_size = 1,
	  .arg = "FROM:<a@b.example> SIZE=12345" },
	{ .name = "MAIL SIZE lower case keyword",
	  .line = "MAIL FROM:<a@b.example> size=7", .cmd = SMTP_CMD_MAIL,
	  .size = 7, .has_size = 1 },
	{ .name = "MAIL SIZE max uint64",
	  .line = "MAIL FROM:<> SIZE=18446744073709551615",
	  .cmd = SMTP_CMD_MAIL, .size = UINT64_MAX, .has_size = 1 },
	{ .name = "MAIL SIZE overflow",
	  .line = "MAIL FROM:<> SIZE=18446744073709551616",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.5.4",
	  .text = "bad SIZE value" },
	{ .name = "MAIL SIZE 21 digits", .line = "MAIL FROM:<> SIZE=000000000000000000001",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.5.4",
	  .text = "bad SIZE value" },
	{ .name = "MAIL SIZE with suffix", .line = "MAIL FROM:<> SIZE=12k",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.5.4",
	  .text = "bad SIZE value" },
	{ .name = "MAIL SIZE negative", .line = "MAIL FROM:<> SIZE=-1",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad SIZE value" },
	{ .name = "MAIL SIZE without value", .line = "MAIL FROM:<> SIZE",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad SIZE value" },
	{ .name = "MAIL SIZE empty value", .line = "MAIL FROM:<> SIZE=",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad parameter syntax" },
	{ .name = "MAIL duplicate SIZE", .line = "MAIL FROM:<> SIZE=1 SIZE=2",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.5.4",
	  .text = "duplicate SIZE" },
	{ .name = "MAIL BODY=8BITMIME", .line = "MAIL FROM:<> BODY=8BITMIME",
	  .cmd = SMTP_CMD_MAIL, .body = SMTP_BODY_8BITMIME },
	{ .name = "MAIL body=7bit lower case", .line = "MAIL FROM:<> body=7bit",
	  .cmd = SMTP_CMD_MAIL, .body = SMTP_BODY_7BIT },
	{ .name = "MAIL BODY=BINARYMIME not implemented",
	  .line = "MAIL FROM:<> BODY=BINARYMIME", .cmd = SMTP_CMD_MAIL,
	  .code = 555, .enhanced = "5.5.4", .text = "BINARYMIME" },
	{ .name = "MAIL BODY bad value", .line = "MAIL FROM:<> BODY=9BIT",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad BODY value" },
	{ .name = "MAIL duplicate BODY",
	  .line = "MAIL FROM:<> BODY=7BIT BODY=8BITMIME", .cmd = SMTP_CMD_MAIL,
	  .code = 501, .text = "duplicate BODY" },
	{ .name = "MAIL SMTPUTF8 with UTF-8 path",
	  .line = "MAIL FROM:<" U8 "@b.example> SMTPUTF8",
	  .cmd = SMTP_CMD_MAIL, .local = U8, .domain = "b.example",
	  .smtputf8 = 1 },
	{ .name = "MAIL SMTPUTF8 with ASCII path",
	  .line = "MAIL FROM:<a@b.example> smtputf8", .cmd = SMTP_CMD_MAIL,
	  .local = "a", .domain = "b.example", .smtputf8 = 1 },
	{ .name = "MAIL UTF-8 path without SMTPUTF8",
	  .line = "MAIL FROM:<" U8 "@b.example>", .cmd = SMTP_CMD_MAIL,
	  .code = 553, .enhanced = "5.6.7", .text = "requires SMTPUTF8" },
	{ .name = "MAIL UTF-8 path, utf8_allowed does not replace SMTPUTF8",
	  .line = "MAIL FROM:<" U8 "@b.example>", .utf8_allowed = 1,
	  .cmd = SMTP_CMD_MAIL, .code = 553, .enhanced = "5.6.7",
	  .text = "requires SMTPUTF8" },
	{ .name = "MAIL invalid UTF-8 path",
	  .line = "MAIL FROM:<j\xc3\x28@b.example> SMTPUTF8",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.1.7",
	  .text = "invalid UTF-8" },
	{ .name = "MAIL non-ASCII in parameter",
	  .line = "MAIL FROM:<> SIZE=1\xc3\xa9", .cmd = SMTP_CMD_MAIL,
	  .code = 501, .text = "bad parameter syntax" },
	{ .name = "MAIL SMTPUTF8 with value",
	  .line = "MAIL FROM:<> SMTPUTF8=yes", .cmd = SMTP_CMD_MAIL,
	  .code = 501, .text = "SMTPUTF8 takes no value" },
	{ .name = "MAIL AUTH=<>", .line = "MAIL FROM:<a@b.example> AUTH=<>",
	  .cmd = SMTP_CMD_MAIL, .auth = "<>" },
	{ .name = "MAIL AUTH xtext decoded",
	  .line = "MAIL FROM:<a@b.example> AUTH=a+2Bb@c.example",
	  .cmd = SMTP_CMD_MAIL, .auth = "a+b@c.example" },
	{ .name = "MAIL AUTH truncated xtext",
	  .line = "MAIL FROM:<> AUTH=a+2", .cmd = SMTP_CMD_MAIL,
	  .code = 501, .text = "bad AUTH value" },
	{ .name = "MAIL AUTH xtext NUL", .line = "MAIL FROM:<> AUTH=a+00b",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad AUTH value" },
	{ .name = "MAIL AUTH xtext space", .line = "MAIL FROM:<> AUTH=a+20b",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad AUTH value" },
	{ .name = "MAIL all parameters",
	  .line = "MAIL FROM:<a@b.example>  SIZE=10 BODY=8BITMIME  SMTPUTF8 AUTH=<>  ",
	  .cmd = SMTP_CMD_MAIL, .local = "a", .domain = "b.example",
	  .size = 10, .has_size = 1, .body = SMTP_BODY_8BITMIME,
	  .smtputf8 = 1, .auth = "<>" },
	{ .name = "MAIL unknown parameter", .line = "MAIL FROM:<> FOO=bar",
	  .cmd = SMTP_CMD_MAIL, .code = 555, .enhanced = "5.5.4",
	  .text = "not recognized or not implemented: FOO" },
	{ .name = "MAIL DSN RET not advertised", .line = "MAIL FROM:<> RET=HDRS",
	  .cmd = SMTP_CMD_MAIL, .code = 555, .text = "RET" },
	{ .name = "MAIL bad keyword", .line = "MAIL FROM:<> -X=1",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad parameter syntax" },
	{ .name = "MAIL value with '='", .line = "MAIL FROM:<> X=a=b",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .text = "bad parameter syntax" },
	{ .name = "MAIL without brackets", .line = "MAIL FROM:a@b.example",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.1.7",
	  .text = "Bad sender address syntax: missing '<'" },
	{ .name = "MAIL missing '>'", .line = "MAIL FROM:<a@b.example",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.1.7",
	  .text = "Bad sender address syntax: missing '>'" },
	{ .name = "MAIL garbage after '>'", .line = "MAIL FROM:<a@b.example>x",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.1.7",
	  .text = "garbage" },
	{ .name = "MAIL trailing dot", .line = "MAIL FROM:<a@b.example.>",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.1.7",
	  .text = "trailing dot" },
	{ .name = "MAIL TO: instead of FROM:", .line = "MAIL TO:<a@b.example>",
	  .cmd = SMTP_CMD_MAIL, .code = 501, .enhanced = "5.5.4",
	  .text = "FROM:" },
	{ .name = "MAIL without argument", .line = "MAIL", .cmd = SMTP_CMD_MAIL,
	  .code = 501, .enhanced = "5.5.4" },
	{ .name = "MAIL FROM with space before colon",
	  .line = "MAIL FROM :<a@b.example>", .cmd = SMTP_CMD_MAIL,
	  .code = 501, .enhanced = "5.5.4" },

	/* RCPT */
	{ .name = "RCPT simple", .line = "RCPT TO:<u@ours.example>",
	  .cmd = SMTP_CMD_RCPT, .local = "u", .domain = "ours.example" },
	{ .name = "RCPT space after colon", .line = "rcpt to: <u@ours.example>",
	  .cmd = SMTP_CMD_RCPT, .local = "u", .domain = "ours.example" },
	{ .name = "RCPT <Postmaster> without domain",
	  .line = "RCPT TO:<Postmaster>", .cmd = SMTP_CMD_RCPT,
	  .local = "postmaster", .domain = "" },
	{ .name = "RCPT postmaster with domain",
	  .line = "RCPT TO:<postmaster@ours.example>", .cmd = SMTP_CMD_RCPT,
	  .local = "postmaster", .domain = "ours.example" },
	{ .name = "RCPT <postmaster> garbage", .line = "RCPT TO:<postmaster>x",
	  .cmd = SMTP_CMD_RCPT, .code = 501, .enhanced = "5.1.3",
	  .text = "garbage" },
	{ .name = "RCPT other local part without domain",
	  .line = "RCPT TO:<root>", .cmd = SMTP_CMD_RCPT, .code = 501,
	  .enhanced = "5.1.3", .text = "missing '@'" },
	{ .name = "RCPT null path refused", .line = "RCPT TO:<>",
	  .cmd = SMTP_CMD_RCPT, .code = 501, .enhanced = "5.1.3",
	  .text = "Bad recipient address syntax: empty address" },
	{ .name = "RCPT percent hack is a local part",
	  .line = "RCPT TO:<u%other.example@ours.example>",
	  .cmd = SMTP_CMD_RCPT, .local = "u%other.example",
	  .domain = "ours.example" },
	{ .name = "RCPT bang path is a local part",
	  .line = "RCPT TO:<other.example!u@ours.example>",
	  .cmd = SMTP_CMD_RCPT, .local = "other.example!u",
	  .domain = "ours.example" },
	{ .name = "RCPT source route ignored",
	  .line = "RCPT TO:<@other.example:u@ours.example>",
	  .cmd = SMTP_CMD_RCPT, .local = "u", .domain = "ours.example" },
	{ .name = "RCPT quoted local part with @",
	  .line = "RCPT TO:<\"u@other.example\"@ours.example>",
	  .cmd = SMTP_CMD_RCPT, .local = "u@other.example",
	  .domain = "ours.example" },
	{ .name = "RCPT IP literal", .line = "RCPT TO:<u@[192.0.2.1]>",
	  .cmd = SMTP_CMD_RCPT, .local = "u", .domain = "[192.0.2.1]" },
	{ .name = "RCPT trailing dot", .line = "RCPT TO:<u@ours.example.>",
	  .cmd = SMTP_CMD_RCPT, .code = 501, .enhanced = "5.1.3",
	  .text = "trailing dot" },
	{ .name = "RCPT UTF-8 allowed", .line = "RCPT TO:<" U8 "@ours.example>",
	  .utf8_allowed = 1, .cmd = SMTP_CMD_RCPT, .local = U8,
	  .domain = "ours.example" },
	{ .name = "RCPT UTF-8 not allowed",
	  .line = "RCPT TO:<" U8 "@ours.example>", .cmd = SMTP_CMD_RCPT,
	  .code = 553, .enhanced = "5.6.7", .text = "requires SMTPUTF8" },
	{ .name = "RCPT NOTIFY (DSN) not implemented",
	  .line = "RCPT TO:<u@ours.example> NOTIFY=NEVER",
	  .cmd = SMTP_CMD_RCPT, .code = 555, .enhanced = "5.5.4",
	  .text = "NOTIFY" },
	{ .name = "RCPT SIZE not a RCPT parameter",
	  .line = "RCPT TO:<u@ours.example> SIZE=1", .cmd = SMTP_CMD_RCPT,
	  .code = 555, .text = "SIZE" },
	{ .name = "RCPT bad parameter syntax",
	  .line = "RCPT TO:<u@ours.example> =x", .cmd = SMTP_CMD_RCPT,
	  .code = 501, .enhanced = "5.5.4", .text = "bad parameter syntax" },
	{ .name = "RCPT FROM: instead of TO:", .line = "RCPT FROM:<u@ours.example>",
	  .cmd = SMTP_CMD_RCPT, .code = 501, .enhanced = "5.5.4",
	  .text = "TO:" },

	/* commands without argument */
	{ .name = "DATA", .line = "DATA", .cmd = SMTP_CMD_DATA, .arg = "" },
	{ .name = "DATA trailing space", .line = "DATA ", .cmd = SMTP_CMD_DATA },
	{ .name = "DATA with argument", .line = "DATA now", .cmd = SMTP_CMD_DATA,
	  .code = 501, .enhanced = "5.5.4", .text = "DATA takes no argument" },
	{ .name = "RSET", .line = "rset", .cmd = SMTP_CMD_RSET },
	{ .name = "RSET with argument", .line = "RSET x", .cmd = SMTP_CMD_RSET,
	  .code = 501, .enhanced = "5.5.4" },
	{ .name = "QUIT", .line = "QUIT", .cmd = SMTP_CMD_QUIT },
	{ .name = "QUIT with argument", .line = "QUIT bye", .cmd = SMTP_CMD_QUIT,
	  .code = 501, .enhanced = "5.5.4" },
	{ .name = "STARTTLS mixed case", .line = "StartTLS",
	  .cmd = SMTP_CMD_STARTTLS },
	{ .name = "STARTTLS with argument", .line = "STARTTLS x",
	  .cmd = SMTP_CMD_STARTTLS, .code = 501, .enhanced = "5.5.4" },

	/* commands with any argument */
	{ .name = "NOOP", .line = "NOOP", .cmd = SMTP_CMD_NOOP, .arg = "" },
	{ .name = "NOOP with argument", .line = "NOOP anything at all",
	  .cmd = SMTP_CMD_NOOP, .arg = "anything at all" },
	{ .name = "HELP topic", .line = "HELP MAIL", .cmd = SMTP_CMD_HELP,
	  .arg = "MAIL" },
	{ .name = "VRFY user", .line = "VRFY user", .cmd = SMTP_CMD_VRFY,
	  .arg = "user" },
	{ .name = "VRFY UTF-8", .line = "VRFY " U8, .cmd = SMTP_CMD_VRFY,
	  .arg = U8 },
	{ .name = "VRFY invalid UTF-8", .line = "VRFY \xff", .cmd = SMTP_CMD_VRFY,
	  .code = 501, .enhanced = "5.5.4", .text = "invalid UTF-8" },
	{ .name = "EXPN list", .line = "EXPN staff", .cmd = SMTP_CMD_EXPN,
	  .arg = "staff" },

	/* AUTH */
	{ .name = "AUTH mechanism", .line = "AUTH PLAIN", .cmd = SMTP_CMD_AUTH,
	  .arg = "PLAIN" },
	{ .name = "AUTH initial response", .line = "AUTH PLAIN AHVzZXIAcGFzcw==",
	  .cmd = SMTP_CMD_AUTH, .arg = "PLAIN AHVzZXIAcGFzcw==" },
	{ .name = "AUTH empty initial response", .line = "AUTH PLAIN =",
	  .cmd = SMTP_CMD_AUTH, .arg = "PLAIN =" },
	{ .name = "AUTH lower-case mechanism", .line = "auth login",
	  .cmd = SMTP_CMD_AUTH, .arg = "login" },
	{ .name = "AUTH without mechanism", .line = "AUTH", .cmd = SMTP_CMD_AUTH,
	  .code = 501, .enhanced = "5.5.2", .text = "requires a mechanism" },
	{ .name = "AUTH bad mechanism", .line = "AUTH PL@IN",
	  .cmd = SMTP_CMD_AUTH, .code = 501, .text = "bad AUTH mechanism" },
	{ .name = "AUTH mechanism too long",
	  .line = "AUTH ABCDEFGHIJKLMNOPQRSTU", .cmd = SMTP_CMD_AUTH,
	  .code = 501, .text = "bad AUTH mechanism" },
	{ .name = "AUTH two responses", .line = "AUTH PLAIN abc def",
	  .cmd = SMTP_CMD_AUTH, .code = 501, .text = "initial response" },
	{ .name = "AUTH padding inside", .line = "AUTH PLAIN ab=c",
	  .cmd = SMTP_CMD_AUTH, .code = 501, .text = "initial response" },

	/* BDAT */
	{ .name = "BDAT size", .line = "BDAT 100", .cmd = SMTP_CMD_BDAT,
	  .size = 100, .has_size = 1 },
	{ .name = "BDAT zero LAST", .line = "BDAT 0 LAST", .cmd = SMTP_CMD_BDAT,
	  .size = 0, .has_size = 1, .bdat_last = 1 },
	{ .name = "bdat lower case last", .line = "bdat 5 last",
	  .cmd = SMTP_CMD_BDAT, .size = 5, .has_size = 1, .bdat_last = 1 },
	{ .name = "BDAT without size", .line = "BDAT", .cmd = SMTP_CMD_BDAT,
	  .code = 501, .enhanced = "5.5.4", .text = "chunk size" },
	{ .name = "BDAT non-numeric size", .line = "BDAT x", .cmd = SMTP_CMD_BDAT,
	  .code = 501, .text = "chunk size" },
	{ .name = "BDAT size then garbage", .line = "BDAT 5x", .cmd = SMTP_CMD_BDAT,
	  .code = 501, .text = "LAST" },
	{ .name = "BDAT unknown flag", .line = "BDAT 5 FIRST",
	  .cmd = SMTP_CMD_BDAT, .code = 501, .text = "LAST" },
	{ .name = "BDAT LAST twice", .line = "BDAT 5 LAST LAST",
	  .cmd = SMTP_CMD_BDAT, .code = 501, .text = "LAST" },
	{ .name = "BDAT size overflow", .line = "BDAT 99999999999999999999999",
	  .cmd = SMTP_CMD_BDAT, .code = 501, .text = "chunk size" },

	/* unknown and malformed lines */
	{ .name = "unknown verb", .line = "FOO bar", .cmd = SMTP_CMD_UNKNOWN,
	  .code = 500, .enhanced = "5.5.2", .text = "command unrecognized" },
	{ .name = "empty line", .line = "", .cmd = SMTP_CMD_UNKNOWN,
	  .code = 500, .enhanced = "5.5.2" },
	{ .name = "verb glued to argument", .line = "MAILFROM:<a@b.example>",
	  .cmd = SMTP_CMD_UNKNOWN, .code = 500, .enhanced = "5.5.2" },
	{ .name = "verb prefix", .line = "MAI FROM:<a@b.example>",
	  .cmd = SMTP_CMD_UNKNOWN, .code = 500 },
	{ .name = "leading space", .line = " NOOP", .cmd = SMTP_CMD_UNKNOWN,
	  .code = 500 },
	{ .name = "non-ASCII verb", .line = "N\xc3\x96OP", .cmd = SMTP_CMD_UNKNOWN,
	  .code = 500 },
	{ .name = "NUL in line", .line = "NOOP\0x", .len = 6,
	  .cmd = SMTP_CMD_UNKNOWN, .code = 500, .enhanced = "5.5.2",
	  .text = "NUL" },
	{ .name = "NUL in MAIL path", .line = "MAIL FROM:<a\0@b.example>",
	  .len = 24, .cmd = SMTP_CMD_UNKNOWN, .code = 500, .text = "NUL" },
	{ .name = "tab after verb", .line = "MAIL\tFROM:<a@b.example>",
	  .cmd = SMTP_CMD_UNKNOWN, .code = 500, .text = "control character" },
	{ .name = "bare CR at end", .line = "QUIT\r", .cmd = SMTP_CMD_UNKNOWN,
	  .code = 500, .text = "control character" },
	{ .name = "DEL in argument", .line = "NOOP \x7f", .cmd = SMTP_CMD_UNKNOWN,
	  .code = 500, .text = "control character" },
};

/* parse - copy the case's line into an exactly-sized buffer and parse. */
static int
parse(const char *line, size_t len, int utf8_allowed, char **buf_r,
    struct smtp_command *cmd, struct smtp_parse_error *err)
{
	*buf_r = malloc(len + 1);
	assert_non_null(*buf_r);
	memcpy(*buf_r, line, len);
	(*buf_r)[len] = 'Z';	/* the parser must terminate the line itself */
	return smtp_parse_command(*buf_r, len, utf8_allowed, cmd, err);
}

static void
check_ok(const struct cmd_case *c, const struct smtp_command *cmd)
{
	if (c->arg != NULL)
		assert_string_equal(cmd->arg, c->arg);
	if (c->local != NULL) {
		assert_string_equal(cmd->addr.local, c->local);
		assert_string_equal(cmd->addr.domain, c->domain);
	}
	assert_int_equal(cmd->has_size, c->has_size);
	assert_true(cmd->size == c->size);
	assert_int_equal(cmd->body, c->body);
	assert_int_equal(cmd->smtputf8, c->smtputf8);
	assert_int_equal(cmd->bdat_last, c->bdat_last);
	assert_string_equal(cmd->auth_param, c->auth != NULL ? c->auth : "");
}

static void
test_case(void **state)
{
	const struct cmd_case *c = *state;
	struct smtp_command cmd;
	struct smtp_parse_error err;
	size_t len = c->len != 0 ? c->len : strlen(c->line);
	char *buf;
	int r;

	memset(&err, 0, sizeof(err));
	r = parse(c->line, len, c->utf8_allowed, &buf, &cmd, &err);
	assert_int_equal(cmd.cmd, c->cmd);
	assert_string_equal(cmd.verb_name, smtp_cmd_name(c->cmd));
	if (c->code == 0) {
		if (r != 0)
			fail_msg("unexpected error %d %s %s", err.code,
			    err.enhanced, err.text);
		check_ok(c, &cmd);
	} else {
		if (r != -1)
			fail_msg("parsed, expected error %d", c->code);
		assert_int_equal(err.code, c->code);
		if (c->enhanced != NULL)
			assert_string_equal(err.enhanced, c->enhanced);
		if (c->text != NULL && strstr(err.text, c->text) == NULL)
			fail_msg("error text '%s', expected '%s'", err.text,
			    c->text);
	}
	free(buf);
}

/* Every prefix of every line: no crash, and a coherent result. */
static void
test_prefixes(void **state)
{
	struct smtp_command cmd;
	struct smtp_parse_error err;
	size_t i, k, len;
	char *buf;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].line);
		for (k = 0; k <= len; k++) {
			memset(&err, 0, sizeof(err));
			r = parse(cases[i].line, k, 1, &buf, &cmd, &err);
			assert_true(r == 0 || r == -1);
			assert_non_null(cmd.verb_name);
			assert_non_null(cmd.arg);
			if (r == -1) {
				assert_true(err.code == 500 || err.code == 501 ||
				    err.code == 553 || err.code == 555);
				assert_non_null(err.enhanced);
				assert_non_null(err.text);
				assert_true(strlen(err.text) <
				    SMTP_PARSE_TEXT_MAX);
			}
			free(buf);
		}
	}
}

static void
test_cmd_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_cmd_name(SMTP_CMD_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_cmd_name(SMTP_CMD_UNKNOWN), "UNKNOWN");
	assert_string_equal(smtp_cmd_name(SMTP_CMD_HELO), "HELO");
}

#define NCASES (sizeof(cases) / sizeof(cases[0]))

int
main(void)
{
	static struct CMUnitTest t[NCASES + 2];
	size_t i, n = 0;

	for (i = 0; i < NCASES; i++) {
		t[n].name = cases[i].name;
		t[n].test_func = test_case;
		t[n++].initial_state = (void *)&cases[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_prefixes);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_cmd_names);
	return _cmocka_run_group_tests("smtp-parse", t, n, NULL, NULL);
}
