/*
 * fuzz-getline - libFuzzer target for the line reader of server/lib/io.c
 * (io_getline, io_line_done, io_skip_line).
 *
 * Input: the first byte picks the line limit (1..256), the rest is the
 * stream.  The stream is put into an io's input buffer twice: whole, and in
 * pieces whose sizes come from the stream itself, with the owner loop a
 * session uses (take lines; on -1 skip to the next LF, across pieces).
 * Every line must be shorter than the limit, NUL-terminated in place and
 * free of LF, and both feeds must give the same lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct owner {
	struct io io;
	size_t max;
	int skipping;
	struct buf got;		/* lines as length + bytes; 0xff for too long */
};

static void
take_lines(struct owner *o)
{
	char *line;
	size_t len;
	int r;

	for (;;) {
		if (o->skipping) {
			if (io_skip_line(&o->io) == 0)
				return;
			o->skipping = 0;
		}
		r = io_getline(&o->io, o->max, &line, &len);
		if (r == 0)
			return;
		if (r < 0) {
			buf_addc(&o->got, (char)0xff);
			o->skipping = 1;
			continue;
		}
		if (r != 1 || len >= o->max || line[len] != '\0' || memchr(line, '\n', len))
			abort();
		buf_add(&o->got, &len, sizeof(len));
		buf_add(&o->got, line, len);
		io_line_done(&o->io);
	}
}

/* feed - the stream in pieces; piece sizes from the stream (0 = whole) */
static void
feed(struct owner *o, const uint8_t *s, size_t n, int chunked)
{
	size_t off = 0, step;

	while (off < n) {
		step = chunked ? (size_t)s[off] % 17 + 1 : n;
		if (step > n - off)
			step = n - off;
		buf_add(&o->io.in, s + off, step);
		take_lines(o);
		off += step;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct owner a, b;

	if (size == 0)
		return 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.max = b.max = (size_t)data[0] + 1;
	feed(&a, data + 1, size - 1, 0);
	feed(&b, data + 1, size - 1, 1);
	if (a.got.len != b.got.len || (a.got.len && memcmp(a.got.data, b.got.data, a.got.len)))
		abort();
	buf_free(&a.got);
	buf_free(&b.got);
	buf_free(&a.io.in);
	buf_free(&b.io.in);
	return 0;
}
