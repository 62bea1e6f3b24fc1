/*
 * fuzz-data - libFuzzer target for server/mail/dotstuff.c (SMTP DATA
 * unstuffer, RETR/TOP and SMTP-client stuffer).
 *
 * The first input byte picks the piece size (1..8) and a TOP line count;
 * the rest is the data.  Checks:
 *   unstuff   fed whole and in pieces gives the same bytes, consumed
 *             count and counters; it is done exactly when the input holds
 *             CR LF "." CR LF (or starts with "." CR LF), and then it
 *             consumed exactly up to the first one (pipelined commands
 *             after it stay in the input)
 *   stuff     on the raw data (TOP count): whole == pieces, CR LF lines
 *             only (no bare CR, no bare LF), ends with ".\r\n", and no
 *             end marker before the end
 *   round     the data as LF text (CRs dropped, a final LF added):
 *   trip      unstuff(stuff(text)) == text, with no bare line end seen
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dotstuff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
unstuff(const char *in, size_t n, size_t piece, struct buf *out, size_t *used_r, struct dot_unstuff *u)
{
	size_t off = 0, used;
	int done = 0;

	dot_unstuff_init(u);
	while (off < n && !done) {
		size_t k = n - off < piece ? n - off : piece;
		done = dot_unstuff_feed(u, in + off, k, out, &used);
		if (used > k || (!done && used != k))
			abort();
		off += used;
	}
	*used_r = off;
	return done;
}

static void
stuff(const char *in, size_t n, uint64_t lines, size_t piece, struct buf *out)
{
	struct dot_stuff st;

	dot_stuff_init(&st, lines);
	for (size_t i = 0; i < n; i += piece)
		if (dot_stuff_feed(&st, in + i, n - i < piece ? n - i : piece, out))
			break;
	dot_stuff_end(&st, out);
}

/* first_end - where the data ends: just after the first end marker, or 0. */
static size_t
first_end(const char *in, size_t n)
{
	if (n >= 3 && memcmp(in, ".\r\n", 3) == 0)
		return 3;
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(in + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	return 0;
}

static void
check_unstuff(const char *in, size_t n, size_t piece)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct dot_unstuff ua, ub;
	size_t used_a, used_b, end = first_end(in, n);
	int da = unstuff(in, n, n ? n : 1, &a, &used_a, &ua);
	int db = unstuff(in, n, piece, &b, &used_b, &ub);

	if (da != db || used_a != used_b || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0) ||
	    ua.bare_cr != ub.bare_cr || ua.bare_lf != ub.bare_lf || ua.lines != ub.lines)
		abort();
	if (da != (end != 0) || (da && used_a != end) || a.len > n)
		abort();
	buf_free(&a);
	buf_free(&b);
}

/* check_wire - CR LF lines only, ".\r\n" at the end and nowhere before. */
static void
check_wire(const struct buf *w)
{
	if (w->len < 3 || memcmp(w->data + w->len - 3, ".\r\n", 3) != 0)
		abort();
	for (size_t i = 0; i < w->len; i++) {
		if (w->data[i] == '\n' && (i == 0 || w->data[i - 1] != '\r'))
			abort();
		if (w->data[i] == '\r' && (i + 1 == w->len || w->data[i + 1] != '\n'))
			abort();
	}
	if (first_end(w->data, w->len) != w->len)
		abort();
}

static void
check_stuff(const char *in, size_t n, uint64_t lines, size_t piece)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	stuff(in, n, lines, n ? n : 1, &a);
	stuff(in, n, lines, piece, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	check_wire(&a);
	buf_free(&a);
	buf_free(&b);
}

static void
check_round_trip(const char *in, size_t n, size_t piece)
{
	struct buf text = BUF_INIT, wire = BUF_INIT, back = BUF_INIT;
	struct dot_unstuff u;
	size_t used;

	for (size_t i = 0; i < n; i++)
		if (in[i] != '\r')
			buf_addc(&text, in[i]);
	if (text.len > 0 && text.data[text.len - 1] != '\n')
		buf_addc(&text, '\n');
	stuff(text.data, text.len, UINT64_MAX, piece, &wire);
	check_wire(&wire);
	if (!unstuff(wire.data, wire.len, piece, &back, &used, &u) || used != wire.len ||
	    u.bare_cr || u.bare_lf || back.len != text.len ||
	    (text.len && memcmp(back.data, text.data, text.len) != 0))
		abort();
	buf_free(&text);
	buf_free(&wire);
	buf_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t piece = 1 + (data[0] & 7);
	uint64_t lines = data[0] & 0x80 ? UINT64_MAX : (data[0] >> 3) & 15;
	const char *in = (const char *)data + 1;
	size_t n = size - 1;

	check_unstuff(in, n, piece);
	check_stuff(in, n, lines, piece);
	check_round_trip(in, n, piece);
	return 0;
}
