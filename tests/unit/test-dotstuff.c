/*
 * test-dotstuff - the dot-transparency converters (server/mail/dotstuff.c).
 *
 * Every row is one named cmocka test, run with the input fed whole, one
 * byte at a time, and in random piece sizes (several seeds): the output,
 * the bytes consumed and the counters must not depend on where the pieces
 * are cut (a lone CR at the end of a piece in particular).  Then a
 * property: stuffing any LF text and unstuffing the result gives the text
 * back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dotstuff.h"

#define ALL UINT64_MAX

/* ---- unstuffer ---- */

struct unstuff_case {
	const char *name;
	const char *in;
	int done;		/* the end marker is in the input */
	const char *out;	/* stored bytes */
	const char *rest;	/* input left after the end marker */
	uint64_t bare_cr, bare_lf;
};

static const struct unstuff_case ucases[] = {
	{ "empty-message", ".\r\n", 1, "", "", 0, 0 },
	{ "one-line", "hello\r\n.\r\n", 1, "hello\n", "", 0, 0 },
	{ "pipelined-after-dot", "a\r\n.\r\nQUIT\r\n", 1, "a\n", "QUIT\r\n", 0, 0 },
	{ "stuffed-dots", "..x\r\n...\r\n..\r\n.\r\n", 1, ".x\n..\n.\n", "", 0, 0 },
	{ "dot-inside-line", "a.b\r\nx.\r\n.\r\n", 1, "a.b\nx.\n", "", 0, 0 },
	{ "header-body", "S: v\r\n\r\nbody\r\n.\r\nNOOP", 1, "S: v\n\nbody\n", "NOOP", 0, 0 },
	{ "not-finished", "a\r\nb\r\n", 0, "a\nb\n", "", 0, 0 },
	{ "not-finished-dot", "a\r\n.", 0, "a\n", "", 0, 0 },
	{ "not-finished-dotcr", "a\r\n.\r", 0, "a\n", "", 0, 0 },
	{ "bare-lf", "a\nb\r\n.\r\n", 1, "a\nb\n", "", 0, 1 },
	{ "bare-cr", "a\rb\r\n.\r\n", 1, "a\nb\n", "", 1, 0 },
	{ "cr-cr-lf", "a\r\r\n.\r\n", 1, "a\n\n", "", 1, 0 },
	{ "lf-dot-lf-is-content", "a\n.\nb\r\n.\r\n", 1, "a\n.\nb\n", "", 0, 2 },
	{ "lf-dot-crlf-is-content", "a\n.\r\nb\r\n.\r\n", 1, "a\n.\nb\n", "", 0, 1 },
	{ "crlf-dot-lf-is-content", "a\r\n.\nb\r\n.\r\n", 1, "a\n\nb\n", "", 0, 1 },
	{ "cr-dot-cr-is-content", "a\r.\rb\r\n.\r\n", 1, "a\n.\nb\n", "", 2, 0 },
	{ "crlf-dot-cr-x", "a\r\n.\rb\r\n.\r\n", 1, "a\n\nb\n", "", 1, 0 },
	{ "crlf-dot-cr-cr-lf", "a\r\n.\r\r\n.\r\n", 1, "a\n\n\n", "", 1, 0 },
	{ "dot-at-start-stuffed", "..\r\n.\r\n", 1, ".\n", "", 0, 0 },
	{ "nul-and-8bit", "a\0\xff\r\n.\r\n", 1, "a\0\xff\n", "", 0, 0 },
	{ "lone-cr-at-end", "a\r", 0, "a", "", 0, 0 },
	{ "cr-cr-x", "a\r\rb\r\n.\r\n", 1, "a\n\nb\n", "", 2, 0 },
	{ "bare-cr-then-stuffed-dot", "a\r..b\r\n.\r\n", 1, "a\n..b\n", "", 1, 0 },
	{ "bare-cr-at-start", "\rx\r\n.\r\n", 1, "\nx\n", "", 1, 0 },
	{ "cr-dot-crlf-is-content", "a\r.\r\nb\r\n.\r\n", 1, "a\n.\nb\n", "", 1, 0 },
};
#define NUCASES (sizeof(ucases) / sizeof(ucases[0]))

static size_t
case_len(const char *s, const char *name)
{
	/* "nul-and-8bit" holds a NUL: its length is written here */
	if (strcmp(name, "nul-and-8bit") == 0)
		return 8;
	return strlen(s);
}

static size_t
out_len(const struct unstuff_case *c)
{
	return strcmp(c->name, "nul-and-8bit") == 0 ? 4 : strlen(c->out);
}

/* next_piece - the piece size: mode 0 whole, 1 bytes, else random. */
static size_t
next_piece(int mode, size_t left)
{
	size_t k = mode == 0 ? left : mode == 1 ? 1 : 1 + (size_t)rand() % 7;

	return k < left ? k : left;
}

static void
run_unstuff(const struct unstuff_case *c, int mode)
{
	struct dot_unstuff u;
	struct buf out = BUF_INIT;
	size_t n = case_len(c->in, c->name), off = 0, used;
	int done = 0;

	dot_unstuff_init(&u);
	while (off < n && !done) {
		size_t k = next_piece(mode, n - off);
		done = dot_unstuff_feed(&u, c->in + off, k, &out, &used);
		assert_true(used <= k);
		if (!done)
			assert_int_equal(used, k);
		off += used;
	}
	if (done != c->done || out.len != out_len(c) || memcmp(out.data, c->out, out.len) != 0)
		fail_msg("%s (mode %d): done %d, %zu bytes out, want %d and '%s'", c->name, mode, done,
		    out.len, c->done, c->out);
	assert_string_equal(c->in + off, c->rest);
	assert_int_equal(u.bare_cr, c->bare_cr);
	assert_int_equal(u.bare_lf, c->bare_lf);
	uint64_t lf = 0;
	for (size_t i = 0; i < out.len; i++)
		lf += out.data[i] == '\n';
	assert_int_equal(u.lines, lf);
	buf_free(&out);
}

static void
test_unstuff_case(void **state)
{
	const struct unstuff_case *c = *state;

	run_unstuff(c, 0);
	run_unstuff(c, 1);
	for (unsigned seed = 1; seed <= 20; seed++) {
		srand(seed);
		run_unstuff(c, 2);
	}
}

/* after DONE nothing more is consumed */
static void
test_unstuff_stops(void **state)
{
	struct dot_unstuff u;
	struct buf out = BUF_INIT;
	size_t used;

	(void)state;
	dot_unstuff_init(&u);
	assert_int_equal(dot_unstuff_feed(&u, "x\r\n.\r\n", 6, &out, &used), 1);
	assert_int_equal(used, 6);
	assert_int_equal(dot_unstuff_feed(&u, "more", 4, &out, &used), 1);
	assert_int_equal(used, 0);
	assert_int_equal(out.len, 2);
	buf_free(&out);
}

/* a CR that ends one piece: CR LF, bare CR and CR CR across the boundary */
static void
test_unstuff_cr_at_boundary(void **state)
{
	static const struct { const char *a, *b, *out; uint64_t bare_cr; int done; } t[] = {
		{ "x\r", "\n.\r\n", "x\n", 0, 1 },
		{ "x\r", "y\r\n.\r\n", "x\ny\n", 1, 1 },
		{ "x\r", "\r\n.\r\n", "x\n\n", 1, 1 },
		{ "x\r\n.\r", "\n", "x\n", 0, 1 },
		{ "x\r\n.\r", "x\r\n", "x\n\nx\n", 1, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dot_unstuff u;
		struct buf out = BUF_INIT;
		size_t used;
		dot_unstuff_init(&u);
		assert_int_equal(dot_unstuff_feed(&u, t[i].a, strlen(t[i].a), &out, &used), 0);
		assert_int_equal(dot_unstuff_feed(&u, t[i].b, strlen(t[i].b), &out, &used), t[i].done);
		buf_addc(&out, '\0');
		assert_string_equal(out.data, t[i].out);
		assert_int_equal(u.bare_cr, t[i].bare_cr);
		buf_free(&out);
	}
}

/* ---- stuffer ---- */

struct stuff_case {
	const char *name;
	const char *in;
	uint64_t lines;		/* ALL: RETR; else TOP n */
	const char *out;
};

static const struct stuff_case scases[] = {
	{ "retr", "A: 1\n\nbody\n", ALL, "A: 1\r\n\r\nbody\r\n.\r\n" },
	{ "empty", "", ALL, ".\r\n" },
	{ "no-final-newline", "no newline", ALL, "no newline\r\n.\r\n" },
	{ "dots", ".\n..\n.x\nx.\n", ALL, "..\r\n...\r\n..x\r\nx.\r\n.\r\n" },
	{ "dot-line-in-body", "H: v\n\n.\nb2\n", ALL, "H: v\r\n\r\n..\r\nb2\r\n.\r\n" },
	{ "top-0", "H: v\n\nb1\nb2\nb3\n", 0, "H: v\r\n\r\n.\r\n" },
	{ "top-2", "H: v\n\nb1\nb2\nb3\n", 2, "H: v\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "top-more-than-there", "H: v\n\nb1\nb2\nb3", 5, "H: v\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n" },
	{ "top-dot", "H: v\n\n.b1\nb2\n", 1, "H: v\r\n\r\n..b1\r\n.\r\n" },
	{ "top-only-header", "H: only header\n", 0, "H: only header\r\n.\r\n" },
	{ "top-body-first", "\nbody first\n", 0, "\r\n.\r\n" },
	{ "crlf-mixed", "a\r\nb\n", ALL, "a\r\nb\r\n.\r\n" },
	{ "crlf-file", "H: v\r\n\r\nb1\r\nb2\r\n", ALL, "H: v\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "crlf-file-top", "H: v\r\n\r\nb1\r\nb2\r\n", 1, "H: v\r\n\r\nb1\r\n.\r\n" },
	{ "crlf-file-dot", "H: v\r\n\r\n.dot\r\n", ALL, "H: v\r\n\r\n..dot\r\n.\r\n" },
	{ "bare-cr-ends-line", "bare\rcr\n", ALL, "bare\r\ncr\r\n.\r\n" },
	{ "bare-cr-then-dot", "x\r.\n", ALL, "x\r\n..\r\n.\r\n" },
	{ "bare-cr-dot-cr", "x\r.\r", ALL, "x\r\n..\r\n.\r\n" },
	{ "cr-at-end", "x\r", ALL, "x\r\n.\r\n" },
	{ "crlf-at-end-top", "H\r\n\r\nb1\r", 1, "H\r\n\r\nb1\r\n.\r\n" },
	{ "bare-cr-empty-line-ends-header", "H\n\rb1\nb2\n", 1, "H\r\n\r\nb1\r\n.\r\n" },
};
#define NSCASES (sizeof(scases) / sizeof(scases[0]))

static char *
run_stuff(const struct stuff_case *c, int mode)
{
	struct dot_stuff st;
	struct buf out = BUF_INIT;
	size_t n = strlen(c->in);

	dot_stuff_init(&st, c->lines);
	for (size_t i = 0; i < n;) {
		size_t k = next_piece(mode, n - i);
		if (dot_stuff_feed(&st, c->in + i, k, &out))
			break;
		i += k;
	}
	dot_stuff_end(&st, &out);
	buf_addc(&out, '\0');
	return out.data;
}

static void
test_stuff_case(void **state)
{
	const struct stuff_case *c = *state;

	for (int mode = 0; mode < 3; mode++) {
		for (unsigned seed = 1; seed <= (mode == 2 ? 20u : 1u); seed++) {
			srand(seed);
			char *got = run_stuff(c, mode);
			if (strcmp(got, c->out) != 0)
				fail_msg("%s (mode %d): got '%s', want '%s'", c->name, mode, got, c->out);
			free(got);
		}
	}
}

/* ---- round trip: unstuff(stuff(text)) == text for LF text ---- */

static void
test_round_trip(void **state)
{
	static const char alphabet[] = "..\n\nab. \t\x80";
	(void)state;
	srand(7);
	for (int iter = 0; iter < 2000; iter++) {
		char text[64];
		size_t n = (size_t)rand() % (sizeof(text) - 1);
		for (size_t i = 0; i < n; i++)
			text[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
		if (n > 0)
			text[n - 1] = '\n';	/* LF text ends with a line end */
		struct dot_stuff st;
		struct dot_unstuff u;
		struct buf wire = BUF_INIT, back = BUF_INIT;
		size_t used;
		dot_stuff_init(&st, ALL);
		for (size_t i = 0; i < n;) {
			size_t k = next_piece(2, n - i);
			assert_int_equal(dot_stuff_feed(&st, text + i, k, &wire), 0);
			i += k;
		}
		dot_stuff_end(&st, &wire);
		dot_unstuff_init(&u);
		size_t off = 0;
		int done = 0;
		while (off < wire.len && !done) {
			size_t k = next_piece(2, wire.len - off);
			done = dot_unstuff_feed(&u, wire.data + off, k, &back, &used);
			off += used;
		}
		assert_true(done);
		assert_int_equal(off, wire.len);
		assert_int_equal(u.bare_cr + u.bare_lf, 0);
		assert_int_equal(back.len, n);
		assert_memory_equal(back.data, text, n);
		buf_free(&wire);
		buf_free(&back);
	}
}

int
main(void)
{
	static struct CMUnitTest t[NUCASES + NSCASES + 4];
	size_t n = 0;

	for (size_t i = 0; i < NUCASES; i++) {
		t[n].name = ucases[i].name;
		t[n].test_func = test_unstuff_case;
		t[n++].initial_state = (void *)&ucases[i];
	}
	for (size_t i = 0; i < NSCASES; i++) {
		t[n].name = scases[i].name;
		t[n].test_func = test_stuff_case;
		t[n++].initial_state = (void *)&scases[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_unstuff_stops);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_unstuff_cr_at_boundary);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_round_trip);
	return _cmocka_run_group_tests("dotstuff", t, n, NULL, NULL);
}
