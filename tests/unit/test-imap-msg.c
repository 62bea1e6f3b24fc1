/*
 * test-imap-msg - ENVELOPE, BODY, BODYSTRUCTURE and BODY[section]
 * (imap/imap-msg.c), byte for byte.
 *
 * The first message and its two strings are Dovecot's own test
 * (src/lib-imap/test-imap-bodystructure.c), so our output is Dovecot's; the
 * envelope of the RFC 3501 §8 example comes from the RFC.  The others were
 * written by hand from RFC 3501 §7.4.2.  Every message is also run
 * stored with CR LF: the output must not change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "imap/imap-msg.h"

static const char dovecot_msg[] =
"From: user@domain.org\n"
"Date: Sat, 24 Mar 2007 23:00:00 +0200\n"
"Mime-Version: 1.0\n"
"Content-Type: multipart/mixed; boundary=\"foo\n"
" bar\"\n"
"\n"
"Root MIME prologue\n"
"\n"
"--foo bar\n"
"Content-Type: text/x-myown; charset=us-ascii; foo=\"quoted\\\"string\"\n"
"Content-ID: <foo@example.com>\n"
"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
"Content-Disposition: inline; foo=bar\n"
"Content-Description: hellodescription\n"
"Content-Language: en, fi, se\n"
"Content-Location: http://example.com/test.txt\n"
"\n"
"hello\n"
"\n"
"--foo bar\n"
"Content-Type: message/rfc822\n"
"\n"
"From: sub@domain.org\n"
"To: sub-to1@domain.org, sub-to2@domain.org\n"
"Date: Sun, 12 Aug 2012 12:34:56 +0300\n"
"Subject: submsg\n"
"Content-Type: multipart/alternative; boundary=\"sub1\"\n"
"\n"
"Sub MIME prologue\n"
"--sub1\n"
"Content-Type: text/html\n"
"Content-Transfer-Encoding: 8bit\n"
"\n"
"<p>Hello world</p>\n"
"\n"
"--sub1\n"
"Content-Type: text/plain\n"
"Content-Transfer-Encoding: ?invalid\n"
"\n"
"Hello another world\n"
"\n"
"--sub1--\n"
"Sub MIME epilogue\n"
"\n"
"--foo bar--\n"
"Root MIME epilogue\n";

static const char dovecot_bodystructure[] =
"((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") \"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"inline\" (\"foo\" \"bar\")) (\"en\" \"fi\" \"se\") \"http://example.com/test.txt\")(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 (\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL NIL) ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 1 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"sub1\") NIL NIL NIL) 21 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"foo bar\") NIL NIL NIL)";

static const char dovecot_body[] =
"((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") \"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 (\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL NIL) ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 1)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 1) \"alternative\") 21) \"mixed\")";

static char *
to_crlf(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '\n')
			buf_addc(&b, '\r');
		buf_addc(&b, *s);
	}
	buf_addc(&b, '\0');
	return b.data;
}

enum what { BODYSTRUCTURE, BODY, ENVELOPE };

static void
write_one(const char *msg, enum what w, struct buf *out)
{
	struct mime_tree t;

	mime_parse(msg, strlen(msg), &t);
	if (w == BODYSTRUCTURE)
		imap_msg_bodystructure(&t, out);
	else if (w == BODY)
		imap_msg_body(&t, out);
	else
		imap_msg_envelope(t.data, t.parts[0].hdr_len, out);
	mime_tree_free(&t);
}

/* The same output from the message stored with LF and with CR LF. */
static void
assert_writes(const char *msg, enum what w, const char *want)
{
	char *crlf = to_crlf(msg);
	struct buf a = BUF_INIT, b = BUF_INIT;

	write_one(msg, w, &a);
	write_one(crlf, w, &b);
	buf_addc(&a, '\0');
	buf_addc(&b, '\0');
	assert_string_equal(a.data, want);
	assert_string_equal(b.data, want);
	buf_free(&a);
	buf_free(&b);
	free(crlf);
}

struct write_case {
	const char *name;
	const char *msg;
	enum what what;
	const char *want;
};

#define TEXT_PLAIN "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\""

static const struct write_case write_cases[] = {
	{ "dovecot bodystructure", dovecot_msg, BODYSTRUCTURE,
	  dovecot_bodystructure },
	{ "dovecot body", dovecot_msg, BODY, dovecot_body },
	{ "dovecot envelope", dovecot_msg, ENVELOPE,
	  "(\"Sat, 24 Mar 2007 23:00:00 +0200\" NIL ((NIL NIL \"user\" \"domain.org\")) "
	  "((NIL NIL \"user\" \"domain.org\")) ((NIL NIL \"user\" \"domain.org\")) "
	  "NIL NIL NIL NIL NIL)" },
	{ "simple text", "Subject: hi\n\nhello\nworld\n", BODYSTRUCTURE,
	  "(" TEXT_PLAIN " 14 2 NIL NIL NIL NIL)" },
	{ "simple text body", "Subject: hi\n\nhello\nworld\n", BODY,
	  "(" TEXT_PLAIN " 14 2)" },
	{ "empty message", "", BODYSTRUCTURE,
	  "(" TEXT_PLAIN " 0 0 NIL NIL NIL NIL)" },
	{ "empty message envelope", "", ENVELOPE,
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)" },
	{ "header without body", "Subject: x", BODYSTRUCTURE,
	  "(" TEXT_PLAIN " 0 0 NIL NIL NIL NIL)" },
	{ "header without body envelope", "Subject: x", ENVELOPE,
	  "(NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL)" },
	{ "RFC 3501 example envelope",
	  "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
	  "From: Terry Gray <gray@cac.washington.edu>\n"
	  "Subject: IMAP4rev1 WG mtg summary and minutes\n"
	  "To: imap@cac.washington.edu\n"
	  "cc: minutes@CNRI.Reston.VA.US,\n"
	  "        John Klensin <KLENSIN@MIT.EDU>\n"
	  "Message-Id: <B27397-0100000@cac.washington.edu>\n"
	  "MIME-Version: 1.0\n"
	  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\nx\n", ENVELOPE,
	  "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
	  "\"IMAP4rev1 WG mtg summary and minutes\" "
	  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	  "((NIL NIL \"imap\" \"cac.washington.edu\")) "
	  "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
	  "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
	  "\"<B27397-0100000@cac.washington.edu>\")" },
	{ "RFC 3501 example body",
	  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\nx\n", BODY,
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7bit\" 3 1)" },
	{ "envelope: every field, group, escapes, raw encoded words",
	  "From: \"A \\\"B\\\" C\" <a@x>\n"
	  "Sender: s@x\n"
	  "Reply-To: team: r1@x, r2@x;\n"
	  "To: undisclosed-recipients:;\n"
	  "Cc: <@relay:c@y>\n"
	  "Bcc: b\n"
	  "Subject: =?utf-8?q?caf=C3=A9?= \\ \"q\"\n"
	  "In-Reply-To: <p@x>\n"
	  "Message-ID: <m@x>\n"
	  "Date: bad date\n\n", ENVELOPE,
	  "(\"bad date\" \"=?utf-8?q?caf=C3=A9?= \\\\ \\\"q\\\"\" "
	  "((\"A \\\"B\\\" C\" NIL \"a\" \"x\")) ((NIL NIL \"s\" \"x\")) "
	  "((NIL NIL \"team\" NIL)(NIL NIL \"r1\" \"x\")(NIL NIL \"r2\" \"x\")"
	  "(NIL NIL NIL NIL)) "
	  "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	  "((NIL \"@relay\" \"c\" \"y\")) ((NIL NIL \"b\" \"MISSING_DOMAIN\")) "
	  "\"<p@x>\" \"<m@x>\")" },
	{ "envelope: empty sender and reply-to are from's, empty subject",
	  "From: a@x\nSender:\nReply-To: ,\nSubject:\nTo:\n\n", ENVELOPE,
	  "(NIL \"\" ((NIL NIL \"a\" \"x\")) ((NIL NIL \"a\" \"x\")) "
	  "((NIL NIL \"a\" \"x\")) NIL NIL NIL NIL NIL)" },
	{ "envelope: 8-bit header as literal, folded subject",
	  "Subject: caf\xc3\xa9\n\tau lait\nFrom: J\xc3\xb6rg <j@x>\n\n", ENVELOPE,
	  "(NIL {13}\r\ncaf\xc3\xa9\tau lait (({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x\")) "
	  "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x\")) (({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x\")) "
	  "NIL NIL NIL NIL NIL)" },
	{ "envelope: TAB and DEL",
	  "Subject: a\tb\nIn-Reply-To: x\177\n\n", ENVELOPE,
	  "(NIL \"a\tb\" NIL NIL NIL NIL NIL NIL {2}\r\nx\177 NIL)" },
	{ "multipart/alternative",
	  "From: a@b\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n"
	  "pre\n--b1\nContent-Type: text/plain\n\nplain\n--b1\n"
	  "Content-Type: text/html\n\n<p>html</p>\n--b1--\nepi\n", BODYSTRUCTURE,
	  "((" TEXT_PLAIN " 5 0 NIL NIL NIL NIL)"
	  "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0 NIL NIL NIL NIL)"
	  " \"alternative\" (\"boundary\" \"b1\") NIL NIL NIL)" },
	{ "mixed with attachment, missing final boundary, RFC 2231 name",
	  "Content-Type: multipart/mixed; boundary=XY\n\n--XY\n\ntext\n\n--XY\n"
	  "Content-Type: application/pdf; name*=UTF-8''%E2%82%AC.pdf\n"
	  "Content-Disposition: attachment;\n filename*0=\"a\"; filename*1=\".pdf\"\n"
	  "Content-Transfer-Encoding: base64\n\nJVBERi0x\nAAAA\n", BODYSTRUCTURE,
	  "((" TEXT_PLAIN " 6 1 NIL NIL NIL NIL)"
	  "(\"application\" \"pdf\" (\"name*\" \"UTF-8''%E2%82%AC.pdf\") NIL NIL "
	  "\"base64\" 16 NIL (\"attachment\" (\"filename\" \"a.pdf\")) NIL NIL)"
	  " \"mixed\" (\"boundary\" \"XY\") NIL NIL NIL)" },
	{ "bad charset kept, format param after the charset",
	  "Content-Type: text/plain; format=flowed; charset=x-bogus\n\nx\n",
	  BODYSTRUCTURE,
	  "(\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"x-bogus\") "
	  "NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)" },
	{ "text without charset gets us-ascii last, as Dovecot",
	  "Content-Type: text/plain; format=flowed\n\nx\n", BODY,
	  "(\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") "
	  "NIL NIL \"7bit\" 3 1)" },
	{ "multipart without boundary is application/octet-stream",
	  "Content-Type: multipart/mixed\n\n--x\n\nfoo\n", BODYSTRUCTURE,
	  "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" 12 NIL NIL NIL NIL)" },
	{ "base64 message/rfc822 is application/octet-stream",
	  "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	  "U3ViamVjdDogeAoK\n", BODY,
	  "(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 18)" },
	{ "digest child without Content-Type is a message",
	  "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	  "Subject: m1\n\nbody1\n--d--\n", BODY,
	  "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 20 "
	  "(NIL \"m1\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	  "(" TEXT_PLAIN " 5 0) 2) \"digest\")" },
	{ "message/global is a basic body (RFC 3501 grammar, as Dovecot)",
	  "Content-Type: message/global\n\nSubject: s\n\nb\n", BODY,
	  "(\"message\" \"global\" NIL NIL NIL \"7bit\" 17)" },
	{ "long and control-character values as literals",
	  "Content-Type: text/plain; name=\"a\001b\"\n\nx\n", BODY,
	  "(\"text\" \"plain\" (\"name\" {3}\r\na\001b \"charset\" \"us-ascii\") "
	  "NIL NIL \"7bit\" 3 1)" },
};

static void
test_write(void **state)
{
	const struct write_case *c = *state;

	assert_writes(c->msg, c->what, c->want);
}

/* ---- sections ---- */

struct section_case {
	const char *name;
	const char *msg;
	const char *section;
	const char *want;	/* NULL: no such section (-1) */
};

static const char single_msg[] = "Subject: s\nX-A: 1\n  2\n\nbody\n";
static const char fwd_msg[] = "Content-Type: message/rfc822\n\nSubject: in\n\nhi\n";

static const struct section_case section_cases[] = {
	{ "whole message", single_msg, "",
	  "Subject: s\r\nX-A: 1\r\n  2\r\n\r\nbody\r\n" },
	{ "HEADER", single_msg, "HEADER", "Subject: s\r\nX-A: 1\r\n  2\r\n\r\n" },
	{ "TEXT", single_msg, "text", "body\r\n" },
	{ "part 1 of a single part is the body", single_msg, "1", "body\r\n" },
	{ "1.MIME of a single part is the header", single_msg, "1.MIME",
	  "Subject: s\r\nX-A: 1\r\n  2\r\n\r\n" },
	{ "no part 2", single_msg, "2", NULL },
	{ "1.HEADER of a text part", single_msg, "1.HEADER", NULL },
	{ "HEADER.FIELDS keeps folding", single_msg,
	  "HEADER.FIELDS (x-a \"Nope\")", "X-A: 1\r\n  2\r\n\r\n" },
	{ "HEADER.FIELDS.NOT", single_msg, "HEADER.FIELDS.NOT (X-A)",
	  "Subject: s\r\n\r\n" },
	{ "HEADER.FIELDS none match", single_msg, "HEADER.FIELDS (To)", "\r\n" },
	{ "HEADER.FIELDS of a header without line end", "Subject: x",
	  "HEADER.FIELDS (SUBJECT)", "Subject: x\r\n\r\n" },
	{ "top-level message/rfc822: 1 is the whole embedded message", fwd_msg,
	  "1", "Subject: in\r\n\r\nhi\r\n" },
	{ "top-level message/rfc822: 1.1 is its body", fwd_msg, "1.1", "hi\r\n" },
	{ "top-level message/rfc822: 1.HEADER", fwd_msg, "1.HEADER",
	  "Subject: in\r\n\r\n" },
	{ "top-level message/rfc822: HEADER is the outer one", fwd_msg, "HEADER",
	  "Content-Type: message/rfc822\r\n\r\n" },
	{ "top-level message/rfc822: 1.2", fwd_msg, "1.2", NULL },
	{ "dovecot 1", dovecot_msg, "1", "hello\r\n" },
	{ "dovecot 1.MIME", dovecot_msg, "1.MIME",
	  "Content-Type: text/x-myown; charset=us-ascii; foo=\"quoted\\\"string\"\r\n"
	  "Content-ID: <foo@example.com>\r\n"
	  "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
	  "Content-Disposition: inline; foo=bar\r\n"
	  "Content-Description: hellodescription\r\n"
	  "Content-Language: en, fi, se\r\n"
	  "Content-Location: http://example.com/test.txt\r\n\r\n" },
	{ "dovecot 2: the whole embedded message", dovecot_msg, "2.HEADER.FIELDS (subject)",
	  "Subject: submsg\r\n\r\n" },
	{ "dovecot 2.1: first part of the embedded multipart", dovecot_msg, "2.1",
	  "<p>Hello world</p>\r\n" },
	{ "dovecot 2.2.MIME", dovecot_msg, "2.2.MIME",
	  "Content-Type: text/plain\r\nContent-Transfer-Encoding: ?invalid\r\n\r\n" },
	{ "dovecot 2.TEXT", dovecot_msg, "2.TEXT",
	  "Sub MIME prologue\r\n--sub1\r\nContent-Type: text/html\r\n"
	  "Content-Transfer-Encoding: 8bit\r\n\r\n<p>Hello world</p>\r\n\r\n"
	  "--sub1\r\nContent-Type: text/plain\r\n"
	  "Content-Transfer-Encoding: ?invalid\r\n\r\nHello another world\r\n\r\n"
	  "--sub1--\r\nSub MIME epilogue\r\n" },
	{ "dovecot 2.1.HEADER: not a message", dovecot_msg, "2.1.HEADER", NULL },
	{ "dovecot 3", dovecot_msg, "3", NULL },
	{ "dovecot HEADER.FIELDS of the root", dovecot_msg,
	  "HEADER.FIELDS (Content-Type From)",
	  "From: user@domain.org\r\nContent-Type: multipart/mixed; "
	  "boundary=\"foo\r\n bar\"\r\n\r\n" },
};

static void
section_bytes(const char *msg, const char *section, int *r, struct buf *out)
{
	struct mime_tree t;
	struct imap_section sec;
	struct mime_ranges rs = { 0 };
	struct mime_reader rd;

	mime_parse(msg, strlen(msg), &t);
	assert_int_equal(imap_section_parse(section, strlen(section), &sec), 0);
	*r = imap_msg_section(&t, &sec, &rs);
	mime_reader_init(&rd, &t, &rs, 0);
	while (mime_reader_read(&rd, 7, out) > 0)
		;
	assert_int_equal(out->len, rs.vsize);
	buf_addc(out, '\0');
	imap_section_clear(&sec);
	mime_ranges_free(&rs);
	mime_tree_free(&t);
}

static void
test_section(void **state)
{
	const struct section_case *c = *state;
	char *crlf = to_crlf(c->msg);
	const char *inputs[2] = { c->msg, crlf };

	for (int k = 0; k < 2; k++) {
		struct buf out = BUF_INIT;
		int r;

		section_bytes(inputs[k], c->section, &r, &out);
		if (c->want == NULL) {
			assert_int_equal(r, -1);
			assert_int_equal(out.len, 1);
		} else {
			assert_int_equal(r, 0);
			assert_string_equal(out.data, c->want);
		}
		buf_free(&out);
	}
	free(crlf);
}

static void
test_section_parse(void **state)
{
	static const char *const bad[] = {
		"0", "1.0", "1.", ".1", "MIME", "HEADER.FIELDS", "HEADER.FIELDS ()",
		"HEADER.FIELDS (a", "HEADER.FIELDS (a) x", "TEXTX", "1.2.BODY",
		"HEADER.FIELDS(a)", "4294967296", "HEADER.FIELDS (\"a)",
	};
	struct imap_section sec;
	const char *ok = "1.22.3.header.fields.not (A \"b c\")";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (imap_section_parse(bad[i], strlen(bad[i]), &sec) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(imap_section_parse(ok, strlen(ok), &sec), 0);
	assert_int_equal(sec.depth, 3);
	assert_int_equal(sec.path[1], 22);
	assert_int_equal(sec.text, IMAP_SECTION_HEADER_FIELDS_NOT);
	assert_int_equal(sec.nfields, 2);
	assert_string_equal(sec.fields[1], "b c");
	imap_section_clear(&sec);
	assert_int_equal(imap_section_parse("4294967295", 10, &sec), 0);
	imap_section_clear(&sec);
}

/* A partial fetch from every origin of a section gives the tail. */
static void
test_partial(void **state)
{
	struct mime_tree t;
	struct imap_section sec;
	struct mime_ranges rs = { 0 };
	const char *want = "From: user@domain.org\r\nContent-Type: multipart/mixed; "
	    "boundary=\"foo\r\n bar\"\r\n\r\n";

	mime_parse(dovecot_msg, strlen(dovecot_msg), &t);
	assert_int_equal(imap_section_parse("HEADER.FIELDS (From Content-Type)",
	    33, &sec), 0);
	assert_int_equal(imap_msg_section(&t, &sec, &rs), 0);
	for (size_t o = 0; o <= strlen(want); o++) {
		struct mime_reader rd;
		struct buf out = BUF_INIT;

		mime_reader_init(&rd, &t, &rs, o);
		while (mime_reader_read(&rd, 3, &out) > 0)
			;
		assert_int_equal(out.len, strlen(want) - o);
		assert_memory_equal(out.data, want + o, out.len);
		buf_free(&out);
	}
	imap_section_clear(&sec);
	mime_ranges_free(&rs);
	mime_tree_free(&t);
}

/* Parse + BODYSTRUCTURE + ENVELOPE of a 50 KB message: the time is
 * printed; the bound is loose enough for sanitizer builds. */
static void
test_speed(void **state)
{
	struct buf msg = BUF_INIT, out = BUF_INIT;
	struct timespec a, b;
	const int rounds = 200;
	double us;

	buf_adds(&msg, "From: A <a@x.example>\nTo: b@y.example, c@z.example\n"
	    "Subject: =?utf-8?q?report?=\nDate: Mon, 7 Dec 2026 10:00:00 +0100\n"
	    "Message-ID: <1@x>\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"=_outer\"\n\n"
	    "--=_outer\nContent-Type: multipart/alternative; boundary=\"=_alt\"\n\n"
	    "--=_alt\nContent-Type: text/plain; charset=utf-8\n\n");
	for (int i = 0; i < 40; i++)
		buf_adds(&msg, "Some text of a usual mail, with a line of 60 bytes.\n");
	buf_adds(&msg, "--=_alt\nContent-Type: text/html; charset=utf-8\n\n");
	for (int i = 0; i < 40; i++)
		buf_adds(&msg, "<p>Some text of a usual mail, as html, 60 bytes</p>\n");
	buf_adds(&msg, "--=_alt--\n--=_outer\nContent-Type: application/pdf; "
	    "name=\"a.pdf\"\nContent-Transfer-Encoding: base64\n\n");
	while (msg.len < 50000)
		buf_adds(&msg, "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBS"
		    "L0ZpbHRlci9GbGF0ZUR\n");
	buf_adds(&msg, "--=_outer--\n");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < rounds; i++) {
		struct mime_tree t;

		buf_reset(&out);
		mime_parse(msg.data, msg.len, &t);
		imap_msg_bodystructure(&t, &out);
		imap_msg_envelope(t.data, t.parts[0].hdr_len, &out);
		mime_tree_free(&t);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((double)(b.tv_sec - a.tv_sec) * 1e6 +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e3) / rounds;
	print_message("parse + BODYSTRUCTURE + ENVELOPE of %zu bytes: %.1f us\n",
	    msg.len, us);
	assert_true(us < 2000);
	buf_free(&msg);
	buf_free(&out);
}

int
main(void)
{
	struct CMUnitTest tests[96];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(write_cases) / sizeof(write_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ write_cases[i].name,
		    test_write, NULL, NULL, (void *)&write_cases[i] };
	for (size_t i = 0; i < sizeof(section_cases) / sizeof(section_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ section_cases[i].name,
		    test_section, NULL, NULL, (void *)&section_cases[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_section_parse);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_partial);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_speed);
	return _cmocka_run_group_tests("imap-msg", tests, n, NULL, NULL);
}
