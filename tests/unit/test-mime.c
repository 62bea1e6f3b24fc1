/*
 * test-mime - the mail layer's message structure: server/mail/mime.c
 * (part tree, Content-* fields, ranges and the CR LF reader, serialised
 * trees), mime-decode.c (transfer encodings, a part's text), rfc5322.c (fields, addresses, dates) and rfc2047.c (encoded
 * words, charsets).
 *
 * Trees are checked as a compact description: per part its kind (L leaf,
 * M multipart, E message/rfc822), CR LF header size, CR LF body size and
 * body lines, children in brackets.  The expected strings were worked out
 * by hand: which bytes belong to which header and body, then counted.
 * Every message is parsed as stored (LF) and converted to CR LF, which
 * must give the same description; and every part of every tree is checked
 * against a recount of its bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mime.h"
#include "mime-decode.h"
#include "rfc2047.h"
#include "rfc5322.h"

/* ---- helpers ---- */

static void
describe(const struct mime_tree *t, uint32_t idx, struct buf *out)
{
	const struct mime_part *m = &t->parts[idx];

	buf_printf(out, "%c(%llu,%llu,%llu)", "LME"[m->kind],
	    (unsigned long long)m->hdr_vlen, (unsigned long long)m->body_vlen,
	    (unsigned long long)m->body_lines);
	if (m->first_child == MIME_NONE)
		return;
	buf_addc(out, '[');
	for (uint32_t c = m->first_child; c != MIME_NONE; c = t->parts[c].next) {
		describe(t, c, out);
		if (t->parts[c].next != MIME_NONE)
			buf_addc(out, ' ');
	}
	buf_addc(out, ']');
}

static uint64_t
count_lf(const char *p, size_t n)
{
	uint64_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* Every part's sizes against its bytes; children inside their parent. */
static void
check_invariants(const struct mime_tree *t)
{
	assert_true(t->nparts >= 1 && t->nparts <= MIME_MAX_PARTS);
	for (size_t i = 0; i < t->nparts; i++) {
		const struct mime_part *m = &t->parts[i];

		assert_int_equal(m->hdr_off + m->hdr_len, m->body_off);
		assert_true(m->body_off + m->body_len <= t->len);
		assert_int_equal(m->hdr_vlen,
		    mime_crlf_size(t->data + m->hdr_off, m->hdr_len));
		assert_int_equal(m->body_vlen,
		    mime_crlf_size(t->data + m->body_off, m->body_len));
		assert_int_equal(m->body_lines,
		    count_lf(t->data + m->body_off, m->body_len));
		assert_true(m->depth < MIME_MAX_DEPTH);
		if (i > 0) {
			const struct mime_part *p = &t->parts[m->parent];

			assert_true(m->hdr_off >= p->body_off);
			assert_true(m->body_off + m->body_len <=
			    p->body_off + p->body_len);
			assert_int_equal(m->depth, p->depth + 1);
		}
		if (m->kind == MIME_MESSAGE)
			assert_int_equal(t->parts[m->first_child].hdr_off,
			    m->body_off);
	}
}

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

static void
assert_tree(const char *msg, const char *expected)
{
	char *crlf = to_crlf(msg);
	const char *inputs[2] = { msg, crlf };

	for (int k = 0; k < 2; k++) {
		struct mime_tree t;
		struct buf d = BUF_INIT;

		mime_parse(inputs[k], strlen(inputs[k]), &t);
		check_invariants(&t);
		describe(&t, 0, &d);
		if (strcmp(d.data, expected) != 0)
			fail_msg("%s input: got %s, want %s", k ? "CRLF" : "LF",
			    d.data, expected);
		buf_free(&d);
		mime_tree_free(&t);
	}
	free(crlf);
}

/* ---- part trees ---- */

struct tree_case {
	const char *name;
	const char *msg;
	const char *tree;
};

static const struct tree_case tree_cases[] = {
	{ "simple text", "Subject: hi\n\nhello\nworld\n", "L(15,14,2)" },
	{ "empty message", "", "L(0,0,0)" },
	{ "header without body", "Subject: x\n", "L(12,0,0)" },
	{ "header without line end", "Subject: x", "L(10,0,0)" },
	{ "no final line end", "Subject: x\n\nabc", "L(14,3,0)" },
	{ "no header", "\nbody\n", "L(2,6,1)" },
	{ "no Content-Type", "Subject: x\n\nbody\n", "L(14,6,1)" },
	{ "multipart/alternative",
	  "From: a@b\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n"
	  "pre\n--b1\nContent-Type: text/plain\n\nplain\n--b1\n"
	  "Content-Type: text/html\n\n<p>html</p>\n--b1--\nepi\n",
	  "M(65,105,11)[L(28,5,0) L(27,11,0)]" },
	{ "mixed with attachment, missing final boundary",
	  "Content-Type: multipart/mixed; boundary=XY\n\n--XY\n\ntext\n\n--XY\n"
	  "Content-Type: application/pdf; name=\"a.pdf\"\n"
	  "Content-Transfer-Encoding: base64\n\nJVBERi0x\nAAAA\n",
	  "M(46,120,10)[L(2,6,1) L(82,16,2)]" },
	{ "message/rfc822 with a multipart inside",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: message/rfc822\n\nSubject: inner\n"
	  "Content-Type: multipart/alternative; boundary=i\n\n"
	  "--i\n\nA\n--i\n\nB\n--i--\n--o--\n",
	  "M(45,138,14)[E(32,94,10)[M(67,27,7)[L(2,1,0) L(2,1,0)]]]" },
	{ "inner multipart ended by the outer boundary",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: multipart/alternative; boundary=i\n\n"
	  "--i\n\nA\n--o\n\nB\n--o--\n",
	  "M(45,83,10)[M(51,8,2)[L(2,1,0)] L(2,1,0)]" },
	{ "part header without empty line",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	  "Content-Type: text/plain\n--b\n\nx\n--b--\n",
	  "M(45,48,6)[L(26,0,0) L(2,1,0)]" },
	{ "inner boundary extends the outer one",
	  "Content-Type: multipart/mixed; boundary=ab\n\n--ab\n"
	  "Content-Type: multipart/mixed; boundary=abc\n\n"
	  "--abc\n\nX\n--abc--\n--ab--\n",
	  "M(46,82,8)[M(47,21,4)[L(2,1,0)]]" },
	{ "outer boundary extends the inner one",
	  "Content-Type: multipart/mixed; boundary=abc\n\n--abc\n"
	  "Content-Type: multipart/mixed; boundary=ab\n\n--ab\n\nX\n--abc--\n",
	  "M(47,73,7)[M(46,9,2)[L(2,1,0)]]" },
	{ "inner multipart reuses the outer boundary",
	  "Content-Type: multipart/mixed; boundary=d\n\n--d\n"
	  "Content-Type: multipart/mixed; boundary=d\n\n--d\n\nX\n--d--\n"
	  "--d\n\nY\n--d--\n",
	  "M(45,84,11)[M(45,17,4)[L(2,1,0)] L(2,1,0)]" },
	{ "delimiter cut by the end of the file starts no part",
	  "Content-Type: multipart/mixed; boundary=c\n\n--c\n\nA\n--c",
	  "M(45,13,3)[L(2,1,0)]" },
	{ "multipart/digest children are messages",
	  "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	  "Subject: m1\n\nbody1\n--d--\n",
	  "M(46,36,6)[E(2,20,2)[L(15,5,0)]]" },
	{ "multipart without boundary is a leaf",
	  "Content-Type: multipart/mixed\n\n--x\n\nfoo\n", "L(33,12,3)" },
	{ "multipart whose boundary never comes is a leaf",
	  "Content-Type: multipart/mixed; boundary=q\n\nfoo\n", "L(45,5,1)" },
	{ "base64 message/rfc822 is a leaf",
	  "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	  "U3ViamVjdDogeAoK\n", "L(67,18,1)" },
	{ "boundary with transport padding and CR",
	  "Content-Type: multipart/mixed; boundary=p\n\n--p \t\n\nA\n--p--  \n",
	  "M(45,21,4)[L(2,1,0)]" },
	{ "boundary followed by text is a delimiter (a prefix, as Dovecot)",
	  "Content-Type: multipart/mixed; boundary=p\n\n--p\n\n--px\n--p--\n",
	  "M(45,20,4)[L(2,0,0) L(0,0,0)]" },
	{ "header's empty line before an outer boundary stays in the parent",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: multipart/mixed; boundary=i\n\n--i\n"
	  "Content-Type: text/plain\n\n--o--\n",
	  "M(45,90,7)[M(45,33,3)[L(28,0,0)]]" },
};

static void
test_tree(void **state)
{
	const struct tree_case *c = *state;

	assert_tree(c->msg, c->tree);
}

static void
test_flags(void **state)
{
	struct mime_tree t;
	const char *m1 = "Content-Type: multipart/mixed\n\nx\n";
	const char *m2 = "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	    "Subject: m\n\nb\n--d--\n";

	mime_parse(m1, strlen(m1), &t);
	assert_true(t.parts[0].flags & MIME_F_DEGRADED);
	mime_tree_free(&t);
	mime_parse(m2, strlen(m2), &t);
	assert_true(t.parts[1].flags & MIME_F_DIGEST_CHILD);
	assert_false(t.parts[1].flags & MIME_F_DEGRADED);
	mime_tree_free(&t);
	mime_parse("Subject: x\n", 11, &t);
	assert_true(t.parts[0].flags & MIME_F_NO_BLANK);
	mime_tree_free(&t);
}

/* ---- limits ---- */

static void
test_deep_multipart(void **state)
{
	struct buf b = BUF_INIT;
	struct mime_tree t;
	int degraded = 0;

	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=x%dx\n\n"
		    "--x%dx\n", i, i);
	mime_parse(b.data, b.len, &t);
	check_invariants(&t);
	assert_true(t.nparts <= MIME_MAX_DEPTH);
	for (size_t i = 0; i < t.nparts; i++)
		degraded |= t.parts[i].flags & MIME_F_DEGRADED;
	assert_true(degraded);
	mime_tree_free(&t);
	buf_free(&b);
}

static void
test_deep_message(void **state)
{
	struct buf b = BUF_INIT;
	struct mime_tree t;

	for (int i = 0; i < 300000; i++)
		buf_adds(&b, "Content-Type: message/rfc822\n\n");
	mime_parse(b.data, b.len, &t);
	check_invariants(&t);
	assert_true(t.nparts <= MIME_MAX_DEPTH);
	assert_int_equal(t.parts[t.nparts - 1].kind, MIME_LEAF);
	mime_tree_free(&t);
	buf_free(&b);
}

static void
test_many_parts(void **state)
{
	struct buf b = BUF_INIT;
	struct mime_tree t;

	buf_adds(&b, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (int i = 0; i < 3 * MIME_MAX_PARTS; i++)
		buf_adds(&b, "--b\n\nx\n");
	buf_adds(&b, "--b--\n");
	mime_parse(b.data, b.len, &t);
	check_invariants(&t);
	assert_int_equal(t.nparts, MIME_MAX_PARTS);
	assert_int_equal(t.parts[0].nchildren, MIME_MAX_PARTS - 1);
	mime_tree_free(&t);
	buf_free(&b);
}

/*
 * A 50 MB attachment: parsed from a map in one pass, with heap use that
 * does not grow with the message, and streamed back in 64 KB steps.
 */
static void
test_big_file(void **state)
{
	static const char head[] = "Subject: big\nContent-Type: multipart/mixed; "
	    "boundary=z\n\n--z\n\nsee attachment\n--z\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: base64\n\n";
	static const char tail[] = "--z\n\nend\n--z--\n";
	char line[77];
	FILE *f = tmpfile();
	uint32_t two = 2;
	struct mime_tree t;
	struct mime_ranges rs = { 0 };
	struct mime_reader rd;
	struct buf out = BUF_INIT;
	struct timespec a, b;
	size_t heap, total = 0, total_a = 0, lines = 50 * 1000 * 1000 / 77;

	assert_non_null(f);
	memset(line, 'A', 76);
	line[76] = '\n';
	fwrite(head, 1, sizeof(head) - 1, f);
	for (size_t i = 0; i < lines; i++)
		fwrite(line, 1, sizeof(line), f);
	fwrite(tail, 1, sizeof(tail) - 1, f);
	fflush(f);
	heap = mallinfo2().uordblks;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(mime_parse_fd(fileno(f), &t), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fclose(f);
	assert_true(mallinfo2().uordblks < heap + 64 * 1024);
	print_message("parse of %zu bytes: %.1f ms\n", t.len,
	    (double)(b.tv_sec - a.tv_sec) * 1e3 +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e6);
	assert_int_equal(t.nparts, 4);
	assert_int_equal(t.parts[2].body_lines, lines - 1);
	assert_int_equal(t.parts[2].body_vlen, lines * 78 - 2);
	mime_ranges_add(&rs, &t, t.parts[2].body_off, t.parts[2].body_len,
	    t.parts[2].body_vlen);
	assert_int_equal(mime_part_number(&t, &two, 1), 2);
	mime_reader_init(&rd, &t, &rs, 0);
	for (size_t n; (n = mime_reader_read(&rd, 65536, &out)) > 0; ) {
		assert_true(n <= 65536);
		for (size_t i = 0; i < n; i++)
			total_a += out.data[i] == 'A';
		total += n;
		buf_reset(&out);
	}
	assert_int_equal(total, rs.vsize);
	assert_int_equal(total_a, 76 * lines);
	buf_free(&out);
	mime_ranges_free(&rs);
	mime_tree_free(&t);
}

/* ---- fields and parameters ---- */

static void
test_fields(void **state)
{
	const char *hdr =
	    "Content-Type: Text/Plain (comment); charset=\"ISO-8859-1\";\n"
	    "\tformat=flowed; charset=utf-8; bogus; =x\n"
	    "Content-Transfer-Encoding: QUOTED-PRINTABLE\n"
	    "Content-ID: <id@x>\n"
	    "content-disposition: attachment; filename=\"a b.txt\"\n"
	    "Content-Language: en (English), de\n"
	    "Content-Description: =?utf-8?q?d=C3=A9?=\n"
	    "\n";
	struct mime_fields f;

	mime_fields_parse(hdr, strlen(hdr), &f);
	assert_string_equal(f.type, "Text");
	assert_string_equal(f.subtype, "Plain");
	assert_int_equal(f.nparams, 2);
	assert_string_equal(f.params[0].name, "charset");
	assert_string_equal(f.params[0].value, "ISO-8859-1");
	assert_string_equal(f.params[1].name, "format");
	assert_string_equal(f.encoding, "QUOTED-PRINTABLE");
	assert_string_equal(f.id, "<id@x>");
	assert_string_equal(f.disposition, "attachment");
	assert_int_equal(f.ndparams, 1);
	assert_string_equal(f.dparams[0].value, "a b.txt");
	assert_int_equal(f.nlanguages, 2);
	assert_string_equal(f.languages[0], "en");
	assert_string_equal(f.languages[1], "de");
	assert_string_equal(f.description, "=?utf-8?q?d=C3=A9?=");
	assert_null(f.md5);
	mime_fields_clear(&f);

	mime_fields_parse("Content-Type: text\n"
	    "Content-Transfer-Encoding: ?invalid\n\n", 55, &f);
	assert_null(f.type);
	assert_null(f.encoding);
	mime_fields_clear(&f);
}

static void
test_rfc2231(void **state)
{
	const char *hdr =
	    "Content-Type: application/x-stuff;\n"
	    " title*0*=us-ascii'en'This%20is%20even%20more%20;\n"
	    " title*2=\"isn't it!\";\n"
	    " title*1*=%2A%2A%2Afun%2A%2A%2A%20;\n"
	    " name*=UTF-8''%E2%82%AC%20rates.txt;\n"
	    " plain*0=\"a \"; plain*1=b;\n"
	    " file=\"=?UTF-8?B?w6kudHh0?=\";\n"
	    " odd*=x-unknown''abc%FF\n\n";
	struct mime_fields f;
	struct buf out = BUF_INIT;
	char lang[8];

	mime_fields_parse(hdr, strlen(hdr), &f);
	assert_int_equal(f.nparams, 5);
	assert_string_equal(f.params[0].name, "title");
	assert_true(f.params[0].extended);
	assert_string_equal(f.params[0].value, "us-ascii'en'This%20is%20even"
	    "%20more%20%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!");
	mime_param_decode(&f.params[0], &out, lang, sizeof(lang));
	assert_string_equal(out.data, "This is even more ***fun*** isn't it!");
	assert_string_equal(lang, "en");
	buf_reset(&out);
	mime_param_decode(&f.params[1], &out, NULL, 0);
	assert_string_equal(out.data, "\xe2\x82\xac rates.txt");
	assert_false(f.params[2].extended);
	assert_string_equal(f.params[2].value, "a b");
	buf_reset(&out);
	mime_param_decode(&f.params[3], &out, NULL, 0);
	assert_string_equal(out.data, "\xc3\xa9.txt");
	buf_reset(&out);
	mime_param_decode(&f.params[4], &out, NULL, 0);
	assert_string_equal(out.data, "abc\xef\xbf\xbd");
	buf_free(&out);
	mime_fields_clear(&f);
}

static void
test_part_fields_defaults(void **state)
{
	const char *msg = "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	    "Subject: m\n\nb\n--d\nContent-Type: multipart/mixed\n\nx\n--d--\n";
	struct mime_tree t;
	struct mime_fields f;

	mime_parse(msg, strlen(msg), &t);
	mime_part_fields(&t, 1, &f);
	assert_string_equal(f.type, "message");
	assert_string_equal(f.subtype, "rfc822");
	mime_fields_clear(&f);
	mime_part_fields(&t, 2, &f);	/* the embedded message */
	assert_string_equal(f.type, "text");
	assert_string_equal(f.subtype, "plain");
	mime_fields_clear(&f);
	mime_part_fields(&t, 3, &f);	/* multipart without a boundary */
	assert_string_equal(f.type, "application");
	assert_string_equal(f.subtype, "octet-stream");
	mime_fields_clear(&f);
	mime_tree_free(&t);
}

/* ---- part numbers ---- */

static void
test_part_number(void **state)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=o\n\n--o\n\nA\n"
	    "--o\nContent-Type: message/rfc822\n\nSubject: in\n"
	    "Content-Type: multipart/alternative; boundary=i\n\n"
	    "--i\n\nB\n--i\n\nC\n--i--\n--o\nContent-Type: message/rfc822\n\n"
	    "Subject: plain\n\nD\n--o--\n";
	struct mime_tree t;
	uint32_t p[4];

	mime_parse(msg, strlen(msg), &t);
	assert_int_equal(mime_part_number(&t, p, 0), 0);
	p[0] = 1;
	assert_int_equal(mime_part_number(&t, p, 1), 1);
	p[0] = 2;
	assert_int_equal(t.parts[mime_part_number(&t, p, 1)].kind, MIME_MESSAGE);
	p[1] = 2;		/* 2.2: C */
	assert_int_equal(t.data[t.parts[mime_part_number(&t, p, 2)].body_off],
	    'C');
	p[0] = 3;
	p[1] = 1;		/* 3.1: the body of a non-multipart message */
	assert_int_equal(t.data[t.parts[mime_part_number(&t, p, 2)].body_off],
	    'D');
	p[1] = 2;
	assert_int_equal(mime_part_number(&t, p, 2), MIME_NONE);
	p[0] = 4;
	assert_int_equal(mime_part_number(&t, p, 1), MIME_NONE);
	p[0] = 1;
	p[1] = 1;		/* 1.1 of a text part: itself */
	assert_int_equal(mime_part_number(&t, p, 2), 1);
	p[1] = 0;
	assert_int_equal(mime_part_number(&t, p, 2), MIME_NONE);
	mime_tree_free(&t);
}

/* ---- ranges and the CR LF reader ---- */

static void
read_all(const struct mime_tree *t, const struct mime_ranges *rs,
    uint64_t voff, size_t step, struct buf *out)
{
	struct mime_reader rd;

	mime_reader_init(&rd, t, rs, voff);
	while (mime_reader_read(&rd, step, out) > 0)
		;
}

static void
test_reader(void **state)
{
	const char *msg = "A: 1\r\nB: 2\n\nline\nx\r\n\ny";
	const char *want = "A: 1\r\nB: 2\r\n\r\nline\r\nx\r\n\r\ny";
	struct mime_tree t;
	struct mime_ranges rs = { 0 };
	size_t wlen = strlen(want);

	mime_parse(msg, strlen(msg), &t);
	mime_ranges_add(&rs, &t, 0, t.parts[0].hdr_len, t.parts[0].hdr_vlen);
	mime_ranges_add(&rs, &t, t.parts[0].body_off, t.parts[0].body_len,
	    UINT64_MAX);
	assert_int_equal(rs.n, 1);	/* adjacent ranges merged */
	assert_int_equal(rs.vsize, wlen);
	for (size_t off = 0; off <= wlen + 1; off++)
		for (size_t step = 1; step < 8; step++) {
			struct buf out = BUF_INIT;

			read_all(&t, &rs, off, step, &out);
			if (off >= wlen)
				assert_int_equal(out.len, 0);
			else {
				assert_int_equal(out.len, wlen - off);
				assert_memory_equal(out.data, want + off, out.len);
			}
			buf_free(&out);
		}
	mime_ranges_add_crlf(&rs);
	{
		struct buf out = BUF_INIT;

		read_all(&t, &rs, wlen - 1, 2, &out);
		assert_int_equal(out.len, 3);
		assert_memory_equal(out.data, "y\r\n", 3);
		buf_free(&out);
	}
	mime_ranges_free(&rs);
	mime_tree_free(&t);
}

/* ---- serialised trees ---- */

static void
test_serialize(void **state)
{
	const char *msg = tree_cases[9].msg;	/* the nested message */
	struct mime_tree t, u;
	struct buf blob = BUF_INIT, a = BUF_INIT, b = BUF_INIT;

	mime_parse(msg, strlen(msg), &t);
	mime_tree_serialize(&t, &blob);
	assert_int_equal(mime_tree_deserialize(blob.data, blob.len, msg,
	    strlen(msg), &u), 0);
	describe(&t, 0, &a);
	describe(&u, 0, &b);
	assert_string_equal(a.data, b.data);
	mime_tree_free(&u);
	/* shorter data than the tree was made of */
	assert_int_equal(mime_tree_deserialize(blob.data, blob.len, msg, 10,
	    &u), -1);
	/* a link pointing backwards (a loop) */
	blob.data[5 + 76 * 1 + 64] = 0;		/* part 1's next = 0 */
	assert_int_equal(mime_tree_deserialize(blob.data, blob.len, msg,
	    strlen(msg), &u), -1);
	assert_int_equal(mime_tree_deserialize(blob.data, blob.len - 1, msg,
	    strlen(msg), &u), -1);
	buf_free(&blob);
	buf_free(&a);
	buf_free(&b);
	mime_tree_free(&t);
}

/* mime_open_fd: parsed without a blob or with a bad one, loaded with a
 * good one; the same tree either way. */
static void
test_open_fd(void **state)
{
	const char *msg = tree_cases[9].msg;
	FILE *f = tmpfile();
	struct mime_tree t, u;
	struct buf blob = BUF_INIT, a = BUF_INIT, b = BUF_INIT;

	assert_non_null(f);
	fputs(msg, f);
	fflush(f);
	assert_int_equal(mime_open_fd(fileno(f), NULL, 0, &t), 1);
	mime_tree_serialize(&t, &blob);
	assert_int_equal(mime_open_fd(fileno(f), blob.data, blob.len, &u), 0);
	describe(&t, 0, &a);
	describe(&u, 0, &b);
	assert_string_equal(a.data, b.data);
	assert_memory_equal(u.data + u.parts[3].body_off, "A", 1);
	mime_tree_free(&u);
	blob.data[0] = 99;		/* another version */
	assert_int_equal(mime_open_fd(fileno(f), blob.data, blob.len, &u), 1);
	mime_tree_free(&u);
	mime_tree_free(&t);
	fclose(f);
	/* an empty file: no map, but data is never NULL */
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(mime_open_fd(fileno(f), NULL, 0, &t), 1);
	assert_non_null(t.data);
	assert_int_equal(t.nparts, 1);
	buf_reset(&blob);
	mime_tree_serialize(&t, &blob);
	assert_int_equal(mime_open_fd(fileno(f), blob.data, blob.len, &u), 0);
	assert_non_null(u.data);
	mime_tree_free(&u);
	mime_tree_free(&t);
	fclose(f);
	buf_free(&blob);
	buf_free(&a);
	buf_free(&b);
}

/* ---- transfer encodings ---- */

struct cte_case {
	const char *name;
	enum mime_cte cte;
	const char *in;
	const char *out;
	size_t outlen;		/* 0: strlen(out) */
};

static const struct cte_case cte_cases[] = {
	{ "7bit: bare LF to CR LF", MIME_CTE_7BIT, "a\nb\r\nc\n", "a\r\nb\r\nc\r\n", 0 },
	{ "7bit: bare CR kept", MIME_CTE_7BIT, "a\rb\r", "a\rb\r", 0 },
	{ "unknown is identity", MIME_CTE_UNKNOWN, "x\ny", "x\r\ny", 0 },
	{ "base64", MIME_CTE_BASE64, "aGVsbG8=", "hello", 0 },
	{ "base64 with line ends", MIME_CTE_BASE64, "aGVs\r\nbG8=\n", "hello", 0 },
	{ "base64 without padding", MIME_CTE_BASE64, "aGVsbG8", "hello", 0 },
	{ "base64 with garbage", MIME_CTE_BASE64, "aG*Vs bG8\t", "hello", 0 },
	{ "base64 blocks concatenated", MIME_CTE_BASE64, "aGk=aGk=", "hihi", 0 },
	{ "base64 binary", MIME_CTE_BASE64, "AP8A", "\0\xff\0", 3 },
	{ "qp escapes", MIME_CTE_QP, "caf=C3=A9 x=3Dy", "caf\xc3\xa9 x=y", 0 },
	{ "qp lower-case hex", MIME_CTE_QP, "=c3=a9", "\xc3\xa9", 0 },
	{ "qp soft line breaks", MIME_CTE_QP, "a=\nb=\r\nc", "abc", 0 },
	{ "qp hard line breaks", MIME_CTE_QP, "a\nb\r\n", "a\r\nb\r\n", 0 },
	{ "qp bad escape kept", MIME_CTE_QP, "a=ZZ=4x=", "a=ZZ=4x=", 0 },
	{ "qp cut escape kept", MIME_CTE_QP, "a=4", "a=4", 0 },
	{ "qp trailing white space kept", MIME_CTE_QP, "a \t\nb", "a \t\r\nb", 0 },
	{ "qp '=' CR without LF", MIME_CTE_QP, "a=\rb", "ab", 0 },
};

/* Whole, byte by byte and in pieces of 2..7: the same output. */
static void
test_cte(void **state)
{
	const struct cte_case *c = *state;
	size_t want = c->outlen ? c->outlen : strlen(c->out), n = strlen(c->in);

	for (size_t step = 1; step <= 8; step++) {
		struct mime_decoder d;
		struct buf out = BUF_INIT;
		size_t piece = step == 8 ? n : step;

		mime_decoder_init(&d, c->cte);
		for (size_t off = 0; off < n; off += piece)
			mime_decoder_feed(&d, c->in + off,
			    n - off < piece ? n - off : piece, &out);
		mime_decoder_end(&d, &out);
		assert_int_equal(out.len, want);
		if (want > 0)
			assert_memory_equal(out.data, c->out, want);
		buf_free(&out);
	}
}

static void
test_part_decoding(void **state)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\nx=\n\n--b\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: BASE64\n\naGVs\nbG8=\n--b\n"
	    "Content-Type: text/html\n\n<p>\n--b--\n";
	struct mime_tree t;
	struct buf out = BUF_INIT;

	assert_int_equal(mime_cte_parse(NULL), MIME_CTE_7BIT);
	assert_int_equal(mime_cte_parse("x-uuencode"), MIME_CTE_UNKNOWN);
	mime_parse(msg, strlen(msg), &t);
	assert_int_equal(mime_part_decoded_size(&t, 2), 5);
	assert_int_equal(mime_part_decoded_size(&t, 1), 7);	/* caf\xe9 CR LF x */
	assert_int_equal(mime_part_text(&t, 1, SIZE_MAX, &out), 0);
	assert_string_equal(out.data, "caf\xc3\xa9\r\nx");
	buf_reset(&out);
	assert_int_equal(mime_part_text(&t, 1, 3, &out), 0);	/* bounded */
	assert_string_equal(out.data, "caf");
	buf_reset(&out);
	assert_int_equal(mime_part_text(&t, 2, SIZE_MAX, &out), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(mime_part_text(&t, 0, SIZE_MAX, &out), -1);
	assert_int_equal(mime_part_text(&t, 3, SIZE_MAX, &out), 0);
	assert_string_equal(out.data, "<p>");
	buf_free(&out);
	mime_tree_free(&t);
}

/* ---- RFC 2047 ---- */

struct decode_case {
	const char *name, *in, *out;
};

static const struct decode_case decode_cases[] = {
	{ "plain", "hello  world", "hello  world" },
	{ "Q latin1", "=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard" },
	{ "Q underscore, lower-case q", "=?utf-8?q?a_b?=", "a b" },
	{ "adjacent words: space dropped", "=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=",
	  "\xc3\xa9\xc3\xa9" },
	{ "folded between words", "=?utf-8?q?a?=\n =?utf-8?q?b?=", "ab" },
	{ "character split between B words", "=?utf-8?B?4oI=?= =?utf-8?B?rA==?=",
	  "\xe2\x82\xac" },
	{ "missing base64 padding", "=?utf-8?B?w6k?=", "\xc3\xa9" },
	{ "ISO-2022-JP", "=?ISO-2022-JP?B?GyRCJEYkOSRIGyhC?=",
	  "\xe3\x81\xa6\xe3\x81\x99\xe3\x81\xa8" },
	{ "language suffix", "=?utf-8*en?q?x?=", "x" },
	{ "text around words kept", "a =?utf-8?q?b?= c", "a b c" },
	{ "word inside a word", "a=?utf-8?q?b?=c", "abc" },
	{ "unknown charset, ASCII", "=?x-bogus?Q?abc?=", "abc" },
	{ "unknown charset, 8-bit", "=?x-bogus?Q?a=FFb?=", "a\xef\xbf\xbd" "b" },
	{ "invalid in its charset", "=?utf-8?q?a=FF?=", "a\xef\xbf\xbd" },
	{ "unknown encoding kept", "=?utf-8?X?abc?=", "=?utf-8?X?abc?=" },
	{ "unterminated kept", "=?utf-8?Q?abc", "=?utf-8?Q?abc" },
	{ "bad base64 kept", "=?utf-8?B?*?=", "=?utf-8?B?*?=" },
	{ "space inside a word: not a word", "=?utf-8?q?a b?=", "=?utf-8?q?a b?=" },
	{ "raw 8-bit UTF-8", "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "raw 8-bit latin1", "caf\xe9!", "caf\xef\xbf\xbd!" },
	{ "empty word", "=?utf-8?q?" "?=x", "x" },
	{ "empty word, then a word in another charset",
	  "=?utf-8?q?" "?= =?iso-8859-1?q?=E9?=", "\xc3\xa9" },
};

static void
test_decode(void **state)
{
	const struct decode_case *c = *state;
	struct buf out = BUF_INIT;

	rfc2047_decode(c->in, strlen(c->in), &out);
	buf_addc(&out, '\0');
	assert_string_equal(out.data, c->out);
	buf_free(&out);
}

/* ---- RFC 5322 fields, addresses, dates ---- */

static void
test_header_fields(void **state)
{
	const char *hdr = "Subject: a\n b\nX-No-Colon\nsubject : second\r\n"
	    "To: t\n\nBody: no\n";
	struct rfc5322_field f;
	struct buf v = BUF_INIT;
	size_t pos = 0;
	int n = 0;

	while (rfc5322_next_field(hdr, strlen(hdr), &pos, &f))
		n++;
	assert_int_equal(n, 4);
	assert_int_equal(pos, strlen(hdr) - strlen("\nBody: no\n"));
	assert_true(rfc5322_find(hdr, strlen(hdr), "SUBJECT", &f));
	assert_int_equal(f.off, 0);
	assert_int_equal(f.len, 14);
	rfc5322_unfold(f.value, f.value_len, &v);
	assert_string_equal(v.data, "a b");
	assert_false(rfc5322_find(hdr, strlen(hdr), "Body", &f));
	assert_false(rfc5322_find(hdr, strlen(hdr), "X-No", &f));
	assert_true(rfc5322_find(hdr, strlen(hdr), "To", &f));
	pos = 0;
	assert_true(rfc5322_next_field(hdr, strlen(hdr), &pos, &f));
	assert_true(rfc5322_next_field(hdr, strlen(hdr), &pos, &f));
	assert_int_equal(f.value_len, 0);	/* the line without a colon */
	assert_true(rfc5322_next_field(hdr, strlen(hdr), &pos, &f));
	assert_true(rfc5322_name_is(&f, "Subject"));	/* "subject :" */
	buf_free(&v);
}

struct addr_case {
	const char *name, *in, *out;
};

/* out: one "name|route|mailbox|host" per address (- for NULL), ';'
 * after each; a group start is "<name", its end ">". */
static const struct addr_case addr_cases[] = {
	{ "bare", "a@b.example", "-|-|a|b.example;" },
	{ "name and angle", "John Doe <jd@x.org>", "John Doe|-|jd|x.org;" },
	{ "quoted name with comma", "\"Doe, John\" <jd@x.org>, c@d",
	  "Doe, John|-|jd|x.org;-|-|c|d;" },
	{ "comment as name", "jd@x.org (John Doe)", "John Doe|-|jd|x.org;" },
	{ "obs-phrase with dot", "John Q. Public <jq@x>", "John Q. Public|-|jq|x;" },
	{ "encoded word name kept raw", "=?utf-8?q?J=C3=B6rg?= <j@x>",
	  "=?utf-8?q?J=C3=B6rg?=|-|j|x;" },
	{ "route", "<@r1.org,@r2.org:u@h>", "-|@r1.org,@r2.org|u|h;" },
	{ "group", "team: a@b, \"C\" <c@d>;, e@f",
	  "<team;-|-|a|b;C|-|c|d;>;-|-|e|f;" },
	{ "empty group", "undisclosed-recipients:;", "<undisclosed-recipients;>;" },
	{ "unclosed group", "g: a@b", "<g;-|-|a|b;>;" },
	{ "missing comma", "a@b c@d", "-|-|a|b;-|-|c|d;" },
	{ "no domain", "someone", "-|-|someone|-;" },
	{ "quoted local part", "\"a b\"@c", "-|-|a b|c;" },
	{ "domain literal", "u@[192.0.2.1]", "-|-|u|[192.0.2.1];" },
	{ "unclosed angle", "N <a@b", "N|-|a|b;" },
	{ "unclosed quote runs to the end", "\"abc <a@b>", "-|-|abc <a@b>|-;" },
	{ "empty", "  ", "" },
	{ "only commas", ",,", "" },
	{ "folded", "A\n <a@b>,\n\tc@d", "A|-|a|b;-|-|c|d;" },
	{ "8-bit name", "J\xc3\xb6rg <j@x>", "J\xc3\xb6rg|-|j|x;" },
	{ "empty angle", "<>", "-|-|-|-;" },
};

static void
test_addresses(void **state)
{
	const struct addr_case *c = *state;
	struct rfc5322_addr *a;
	struct buf out = BUF_INIT;
	size_t n;

	rfc5322_parse_addresses(c->in, strlen(c->in), &a, &n);
	for (size_t i = 0; i < n; i++) {
		if (a[i].kind == RFC5322_GROUP_START)
			buf_printf(&out, "<%s;", a[i].name ? a[i].name : "-");
		else if (a[i].kind == RFC5322_GROUP_END)
			buf_adds(&out, ">;");
		else
			buf_printf(&out, "%s|%s|%s|%s;",
			    a[i].name ? a[i].name : "-",
			    a[i].route ? a[i].route : "-",
			    a[i].mailbox ? a[i].mailbox : "-",
			    a[i].host ? a[i].host : "-");
	}
	buf_addc(&out, '\0');
	assert_string_equal(out.data, c->out);
	rfc5322_addrs_free(&a, n);
	assert_null(a);
	buf_free(&out);
}

static void
test_many_addresses(void **state)
{
	struct buf b = BUF_INIT;
	struct rfc5322_addr *a;
	size_t n;

	buf_adds(&b, "g:");
	for (int i = 0; i < 2 * RFC5322_ADDR_MAX; i++)
		buf_adds(&b, "a@b,");
	rfc5322_parse_addresses(b.data, b.len, &a, &n);
	assert_int_equal(n, RFC5322_ADDR_MAX);
	assert_int_equal(a[n - 1].kind, RFC5322_GROUP_END);
	rfc5322_addrs_free(&a, n);
	buf_free(&b);
}

struct date_case {
	const char *in;
	int ok;
	int64_t t;
	int tz;
};

static const struct date_case date_cases[] = {
	{ "Sat, 24 Mar 2007 23:00:00 +0200", 1, 1174770000, 120 },
	{ "24 Mar 2007 23:00 +0200", 1, 1174770000, 120 },
	{ "Thu, 1 Jan 1970 00:00:00 GMT", 1, 0, 0 },
	{ "Thu, 01 Jan 70 00:00:00 -0000", 1, 0, 0 },
	{ "1 jan 2049 00:00:00 +0000", 1, 2493072000, 0 },
	{ "1 Jan 49 00:00:00 +0000", 1, 2493072000, 0 },
	{ "Mon, 7 Dec 2026 23:28:05 EST", 1, 1796704085, -300 },
	{ "Mon (day), 7 Dec 2026 (x) 23:28:05 (y) +0000 (UTC)", 1, 1796686085, 0 },
	{ "7 December 2026 23:28:05", 1, 1796686085, 0 },
	{ "29 Feb 2024 12:00:00 +0130", 1, 1709202600, 90 },
	{ "", 0, 0, 0 },
	{ "yesterday", 0, 0, 0 },
	{ "32 Jan 2020 00:00:00 +0000", 0, 0, 0 },
	{ "1 Foo 2020 00:00:00 +0000", 0, 0, 0 },
	{ "1 Jan 2020 24:00:00 +0000", 0, 0, 0 },
	{ "1 Jan 2020", 0, 0, 0 },
};

static void
test_dates(void **state)
{
	for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
		const struct date_case *c = &date_cases[i];
		int64_t t = -1;
		int tz = -1;
		int r = rfc5322_parse_date(c->in, strlen(c->in), &t, &tz);

		if (r != (c->ok ? 0 : -1))
			fail_msg("%s: got %d", c->in, r);
		if (c->ok && (t != c->t || tz != c->tz))
			fail_msg("%s: got %lld %d, want %lld %d", c->in,
			    (long long)t, tz, (long long)c->t, c->tz);
	}
}

int
main(void)
{
	struct CMUnitTest tests[160];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ tree_cases[i].name, test_tree,
		    NULL, NULL, (void *)&tree_cases[i] };
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ decode_cases[i].name,
		    test_decode, NULL, NULL, (void *)&decode_cases[i] };
	for (size_t i = 0; i < sizeof(cte_cases) / sizeof(cte_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ cte_cases[i].name,
		    test_cte, NULL, NULL, (void *)&cte_cases[i] };
	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ addr_cases[i].name,
		    test_addresses, NULL, NULL, (void *)&addr_cases[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flags);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_deep_multipart);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_deep_message);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_many_parts);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_big_file);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fields);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_rfc2231);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_part_decoding);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_part_fields_defaults);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_part_number);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_reader);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_serialize);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_open_fd);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_header_fields);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_many_addresses);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_dates);
	return _cmocka_run_group_tests("mime", tests, n, NULL, NULL);
}
