/*
 * test-io - the bounded line reader of io.h (io_getline, io_line_done,
 * io_skip_line) on a real connection: every case goes through a socketpair
 * and an ev_loop, once all at once and once byte by byte, and both must
 * give the same lines.
 *
 * The owner below does what a protocol session does: take every complete
 * line; on -1 record an over-long line and skip input up to the next LF,
 * over as many reads as that takes.  Lines are recorded as "[text]" (a NUL
 * byte shown as \0, CR as \r), an over-long line as "!".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "io.h"

struct reader {
	struct ev_loop *loop;
	struct io *io;
	size_t max;
	int skipping;
	struct buf got;
	int datain;
};

static void
record(struct buf *b, const char *line, size_t len)
{
	assert_int_equal(line[len], '\0');	/* NUL-terminated in place */
	assert_null(memchr(line, '\n', len));
	buf_addc(b, '[');
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\0')
			buf_adds(b, "\\0");
		else if (line[i] == '\r')
			buf_adds(b, "\\r");
		else
			buf_addc(b, line[i]);
	}
	buf_addc(b, ']');
}

/* take_lines - what a session does on IO_DATAIN */
static void
take_lines(struct reader *r)
{
	char *line;
	size_t len;
	int n;

	for (;;) {
		if (r->skipping) {
			if (io_skip_line(r->io) == 0)
				return;
			r->skipping = 0;
		}
		n = io_getline(r->io, r->max, &line, &len);
		if (n == 0)
			return;
		if (n < 0) {
			buf_addc(&r->got, '!');
			r->skipping = 1;
			continue;
		}
		assert_true(len < r->max);
		record(&r->got, line, len);
		io_line_done(r->io);
	}
}

static void
reader_cb(struct io *io, enum io_event ev, void *arg)
{
	struct reader *r = arg;

	assert_int_equal(ev, IO_DATAIN);
	r->datain++;
	take_lines(r);
	ev_stop(r->loop);
}

static void
too_slow(void *arg)
{
	fail_msg("no IO_DATAIN within 5 s");
}

/* run_once - let the loop deliver what was written (one IO_DATAIN) */
static void
run_once(struct reader *r)
{
	struct ev_timer guard;

	ev_timer_init(&guard, too_slow, NULL);
	ev_timer_add(r->loop, &guard, 5000);
	assert_int_equal(ev_run(r->loop), 0);
	ev_timer_del(r->loop, &guard);
}

/* feed - send input in pieces of step bytes; return the recorded lines */
static char *
feed(const char *input, size_t len, size_t max, size_t step)
{
	struct reader r = { .max = max };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r.loop = ev_new();
	r.io = io_new(r.loop, sv[0], reader_cb, &r);
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		assert_int_equal(write(sv[1], input + off, n), (ssize_t)n);
		run_once(&r);
	}
	io_free(&r.io);
	ev_free(&r.loop);
	close(sv[1]);
	buf_addc(&r.got, '\0');
	return r.got.data;
}

struct line_case {
	const char *name;
	const char *input;
	size_t len;		/* 0: strlen(input) */
	size_t max;
	const char *want;
};

#define S(s) s, sizeof(s) - 1

static const struct line_case cases[] = {
	{ "LF", "a\nbc\n", 0, 64, "[a][bc]" },
	{ "CR LF", "a\r\nbc\r\n", 0, 64, "[a][bc]" },
	{ "mixed ends", "a\r\nb\nc\r\n", 0, 64, "[a][b][c]" },
	{ "empty lines", "\r\n\n\r\n", 0, 64, "[][][]" },
	{ "bare CR stays", "a\rb\r\n", 0, 64, "[a\\rb]" },
	{ "CR CR LF keeps one CR", "a\r\r\n", 0, 64, "[a\\r]" },
	{ "partial last line waits", "abc\r\nde", 0, 64, "[abc]" },
	{ "NUL bytes kept", S("a\0b\r\n\0\n"), 64, "[a\\0b][\\0]" },
	{ "fits: max-2 bytes + CR LF", "123456\r\nx\n", 0, 8, "[123456][x]" },
	{ "fits: max-1 bytes + LF", "1234567\nx\n", 0, 8, "[1234567][x]" },
	{ "too long: max-1 bytes + CR LF", "1234567\r\nok\r\n", 0, 8, "![ok]" },
	{ "too long: max bytes + LF", "12345678\nok\n", 0, 8, "![ok]" },
	{ "long line skipped, neighbours kept", "a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nb\r\n", 0, 8,
	    "[a]![b]" },
	{ "two long lines", "xxxxxxxxxxxx\nyyyyyyyyyyyyyy\r\nz\n", 0, 8, "!![z]" },
	{ "long line without end", "ok\nxxxxxxxxxxxxxxxxxxxx", 0, 8, "[ok]!" },
	{ NULL, NULL, 0, 0, NULL }
};

static void
run_cases(size_t step)
{
	for (const struct line_case *c = cases; c->name; c++) {
		size_t len = c->len ? c->len : strlen(c->input);
		char *got = feed(c->input, len, c->max, step ? step : len);
		if (strcmp(got, c->want) != 0)
			fail_msg("case '%s' (%s): got '%s', want '%s'", c->name,
			    step ? "byte by byte" : "at once", got, c->want);
		free(got);
	}
}

static void
test_lines_at_once(void **state)
{
	run_cases(0);
}

static void
test_lines_byte_by_byte(void **state)
{
	run_cases(1);
}

/* A line far longer than one read: the skip spans many IO_DATAIN. */
static void
test_skip_spans_reads(void **state)
{
	size_t n = 300 * 1000;
	char *in = malloc(n + 8);
	char *got;

	assert_non_null(in);
	memset(in, 'x', n);
	memcpy(in + n, "\r\nend\r\n", 7);
	got = feed(in, n + 7, 1000, 4096);
	assert_string_equal(got, "![end]");
	free(got);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_at_once),
		cmocka_unit_test(test_lines_byte_by_byte),
		cmocka_unit_test(test_skip_spans_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
