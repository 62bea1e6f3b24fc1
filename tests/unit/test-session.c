/*
 * test-session - the session base (server/master/session.c) through a
 * socketpair and the real event loop: lines, counted reads fed byte by
 * byte and in bulk (chunks handed over as they arrive, never the whole),
 * back-pressure of a slow consumer and of a client that does not read,
 * the over-long line policy, streamed answers, the failed-login delay.
 *
 * The "protocol" here is a toy: "LIT n" starts a counted read of n bytes,
 * "BIG" answers with a 4 KB line, "SEND n" streams n bytes through a
 * producer, "LATER n" likewise from a producer that has nothing until the
 * test says so, "FAIL" answers after a delay; every other line is recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front.h"
#include "service.h"
#include "session.h"

struct toy {
	struct session base;
	struct buf lines;		/* every recorded line + "\n" */
	struct buf literal;		/* bytes of counted reads */
	size_t chunks;			/* chunk calls */
	size_t max_chunk;
	size_t take_max;		/* the consumer takes at most this (0: all) */
	int full;			/* the consumer takes nothing */
	int literals_done;
	uint64_t to_send, sent;		/* SEND n */
	size_t max_pending;		/* largest output queue seen while sending */
	int ready;			/* LATER: the producer's data is there */
	size_t empty_calls;		/* LATER: producer calls while not ready */
	int *freed;
};

static struct service SVC;
static int said[8];		/* ops->say calls of the current toy */
static struct svc_env ENV;

static struct toy *
toy_of(struct session *b)
{
	return (struct toy *)b;
}

static int toy_max_errors(struct session *b) { return 3; }
static uint64_t toy_idle_ms(struct session *b) { return 60000; }
static void toy_greeting(struct session *b) { session_reply(b, "hello"); }
static enum session_want toy_want(struct session *b) { return SESSION_WANT_LINE; }
static void toy_tls_ready(struct session *b) { }
static const char *toy_state_name(struct session *b) { return "toy"; }
static int toy_release(struct session *b) { return 0; }

static void
toy_say(struct session *b, enum session_say what)
{
	said[what]++;
	session_reply(b, "said %d", (int)what);
}

static void
toy_free(struct session *b)
{
	struct toy *t = toy_of(b);
	*t->freed = 1;
	buf_free(&t->lines);
	buf_free(&t->literal);
	free(t);
}

static size_t
toy_chunk(struct session *b, const char *data, size_t len)
{
	struct toy *t = toy_of(b);

	if (t->full)
		return 0;
	if (t->take_max && len > t->take_max)
		len = t->take_max;
	t->chunks++;
	if (len > t->max_chunk)
		t->max_chunk = len;
	buf_add(&t->literal, data, len);
	return len;
}

static void
toy_chunk_done(struct session *b)
{
	toy_of(b)->literals_done++;
}

static int
toy_produce(struct session *b, struct buf *out)
{
	struct toy *t = toy_of(b);
	size_t n = t->to_send - t->sent > 1000 ? 1000 : (size_t)(t->to_send - t->sent);

	if (io_pending_out(b->io) > t->max_pending)
		t->max_pending = io_pending_out(b->io);
	for (size_t i = 0; i < n; i++)
		buf_add(out, "0123456789" + (t->sent + i) % 10, 1);
	t->sent += n;
	return t->sent == t->to_send;
}

/* toy_produce_later - nothing until t->ready (a worker's data), then
 * SEND's bytes; fails after 1000 empty calls (a spin) so the test ends. */
static int
toy_produce_later(struct session *b, struct buf *out)
{
	struct toy *t = toy_of(b);

	if (!t->ready)
		return ++t->empty_calls > 1000 ? -1 : 0;
	return toy_produce(b, out);
}

static void
toy_line(struct session *b, char *line, size_t len)
{
	struct toy *t = toy_of(b);
	unsigned long long n;

	if (sscanf(line, "LIT %llu", &n) == 1) {
		session_read_bytes(b, n, toy_chunk, toy_chunk_done);
		return;
	}
	if (sscanf(line, "SEND %llu", &n) == 1) {
		session_reply(b, "+OK");
		t->to_send = n;
		t->sent = 0;
		session_send_stream(b, toy_produce, NULL);
		return;
	}
	if (sscanf(line, "LATER %llu", &n) == 1) {
		session_reply(b, "+OK");
		t->to_send = n;
		t->sent = 0;
		session_send_stream(b, toy_produce_later, NULL);
		return;
	}
	if (strcmp(line, "FAIL") == 0) {
		session_reply_later(b, 50, "later");
		return;
	}
	if (strcmp(line, "BIG") == 0) {
		char big[4096];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		session_reply(b, "%s", big);
	}
	buf_add(&t->lines, line, len);
	buf_add(&t->lines, "\n", 1);
}

static const struct session_ops toy_ops = {
	.proto = "toy",
	.line_max = 64,
	.out_high = 16384,
	.max_errors = toy_max_errors,
	.idle_ms = toy_idle_ms,
	.greeting = toy_greeting,
	.want = toy_want,
	.line = toy_line,
	.tls_ready = toy_tls_ready,
	.say = toy_say,
	.state_name = toy_state_name,
	.release = toy_release,
	.free = toy_free,
};

/* ---- harness ---- */

static void
stop_loop(void *arg)
{
	ev_stop(arg);
}

/* pump - run the loop for about ms milliseconds. */
static void
pump(uint64_t ms)
{
	struct ev_timer t;

	ev_timer_init(&t, stop_loop, SVC.loop);
	ev_timer_add(SVC.loop, &t, ms);
	ev_run(SVC.loop);
	ev_timer_del(SVC.loop, &t);
}

static const struct front_ops no_front = { "toy", NULL, NULL, NULL, NULL };

/* one loop and one front for all tests (front blocks SIGTERM) */
static int
setup(void **state)
{
	SVC.loop = ev_new();
	SVC.front = front_start(SVC.loop, &ENV, 0, &no_front, &SVC);
	return 0;
}

/* toy_start - a session on one end of a socketpair; *peer_r the other. */
static struct toy *
toy_start(int *peer_r, int *freed, int sndbuf)
{
	struct toy *t = calloc(1, sizeof(*t));
	struct front_peer p = { .svc = SVC_SMTP, .ip = "192.0.2.1", .port = 1234 };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (sndbuf) {
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	}
	t->freed = freed;
	*freed = 0;
	memset(said, 0, sizeof(said));
	session_start(&t->base, &SVC, &toy_ops, sv[0], &p);
	*peer_r = sv[1];
	return t;
}

static void
send_all(int fd, const char *data, size_t len, int byte_by_byte)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, data + off, byte_by_byte ? 1 : len - off, MSG_NOSIGNAL);
		assert_true(n > 0);
		off += (size_t)n;
		if (byte_by_byte)
			pump(1);
	}
	pump(20);
}

/* drain - read what the session sent into out (if not NULL). */
static size_t
drain(int fd, struct buf *out)
{
	char b[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		if (out)
			buf_add(out, b, (size_t)n);
		total += (size_t)n;
	}
	return total;
}

static void
finish(struct toy *t, int fd, int *freed)
{
	close(fd);
	pump(20);
	assert_int_equal(*freed, 1);
	(void)t;
}

/* ---- tests ---- */

static void
test_counted_byte_by_byte(void **state)
{
	static const char in[] = "A\r\nLIT 10\r\n0123\n\r\n89B\r\nLIT 0\r\nC\r\n";
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 0);

	send_all(fd, in, sizeof(in) - 1, 1);
	assert_int_equal(t->literal.len, 10);
	assert_memory_equal(t->literal.data, "0123\n\r\n89B", 10);
	assert_int_equal(t->chunks, 10);	/* handed over as it came */
	assert_int_equal(t->literals_done, 2);
	assert_int_equal(t->lines.len, strlen("A\n\nC\n"));
	assert_memory_equal(t->lines.data, "A\n\nC\n", t->lines.len);
	finish(t, fd, &freed);
}

static void
test_counted_bulk_is_not_buffered_whole(void **state)
{
	size_t n = 5 * 1024 * 1024;
	char *data = malloc(n + 32);
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 0);
	int len = snprintf(data, 32, "LIT %zu\r\n", n);

	for (size_t i = 0; i < n; i++)
		data[len + i] = (char)('a' + i % 26);
	memcpy(data + len + n, "END\r\n", 5);
	size_t total = (size_t)len + n + 5, off = 0;
	while (off < total) {
		ssize_t w = send(fd, data + off, total - off, MSG_DONTWAIT);
		if (w > 0)
			off += (size_t)w;
		else
			assert_true(errno == EAGAIN);
		pump(1);
	}
	pump(20);
	assert_int_equal(t->literal.len, n);
	assert_memory_equal(t->literal.data, data + len, n);
	assert_true(t->max_chunk <= (256 + 16) * 1024);	/* at most the input buffer */
	assert_true(t->chunks > 1);
	assert_memory_equal(t->lines.data, "END\n", 4);
	free(data);
	finish(t, fd, &freed);
}

static void
test_counted_slow_consumer(void **state)
{
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 0);

	t->full = 1;
	send_all(fd, "LIT 6\r\nabcdefX\r\n", 16, 0);
	assert_int_equal(t->literal.len, 0);
	t->full = 0;
	t->take_max = 2;
	session_process(&t->base);	/* the consumer has room again */
	assert_int_equal(t->literal.len, 6);
	assert_memory_equal(t->literal.data, "abcdef", 6);
	assert_int_equal(t->chunks, 3);
	assert_memory_equal(t->lines.data, "X\n", 2);
	finish(t, fd, &freed);
}

/* push - send what the socket takes of in, pumping the loop between tries. */
static void
push(int fd, struct buf *in, int rounds)
{
	for (int i = 0; i < rounds && buf_unread(in); i++) {
		ssize_t w = send(fd, buf_rptr(in), buf_unread(in), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			buf_consume(in, (size_t)w);
		else
			assert_true(errno == EAGAIN);
		pump(1);
	}
}

/* A consumer that stalled while the input buffer filled up, then took
 * everything when called from outside the I/O handling: reading must
 * start again (io stops reading while its buffer is full, and nothing
 * but the session knows that room was made). */
static void
test_counted_stalled_consumer_resumes(void **state)
{
	size_t n = 1024 * 1024;
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 0);
	struct buf in = BUF_INIT;

	buf_printf(&in, "LIT %zu\r\n", n);
	for (size_t i = 0; i < n; i++)
		buf_addc(&in, (char)('a' + i % 26));
	buf_add(&in, "END\r\n", 5);
	t->full = 1;
	push(fd, &in, 50);
	assert_true(buf_unread(&in) > 0);	/* the server stopped reading */
	assert_int_equal(t->literal.len, 0);
	t->full = 0;
	session_process(&t->base);		/* the consumer has room again */
	push(fd, &in, 2000);
	pump(20);
	assert_int_equal(buf_unread(&in), 0);
	assert_int_equal(t->literal.len, n);
	assert_int_equal(t->literals_done, 1);
	assert_memory_equal(t->lines.data, "END\n", 4);
	buf_free(&in);
	finish(t, fd, &freed);
}

static void
test_client_that_does_not_read(void **state)
{
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 8192);
	struct buf in = BUF_INIT;
	size_t lines;

	for (int i = 0; i < 400; i++)
		buf_add(&in, "BIG\r\n", 5);
	for (int i = 0; i < 50 && buf_unread(&in); i++) {
		ssize_t w = send(fd, buf_rptr(&in), buf_unread(&in), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			buf_consume(&in, (size_t)w);
		pump(2);
	}
	pump(20);
	lines = t->lines.len / 4;
	/* 4 KB replies: out_high (16 KB) plus the socket buffers, then wait */
	assert_true(lines < 100);
	assert_true(io_pending_out(t->base.io) <= 16384 + 4096 + 8);
	/* the client reads: everything is answered */
	for (int i = 0; i < 1000 && t->lines.len / 4 < 400; i++) {
		drain(fd, NULL);
		if (buf_unread(&in)) {
			ssize_t w = send(fd, buf_rptr(&in), buf_unread(&in), MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0)
				buf_consume(&in, (size_t)w);
		}
		pump(2);
	}
	assert_int_equal(t->lines.len / 4, 400);
	buf_free(&in);
	finish(t, fd, &freed);
}

static void
test_over_long_line(void **state)
{
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 0);
	char line[200];

	memset(line, 'y', sizeof(line));
	send_all(fd, line, sizeof(line), 0);
	send_all(fd, line, sizeof(line), 0);
	send_all(fd, "\r\nOK\r\n", 6, 0);
	assert_int_equal(said[SESSION_SAY_LINE_TOO_LONG], 1);
	assert_int_equal(t->base.errors, 1);
	assert_int_equal(t->lines.len, 3);
	assert_memory_equal(t->lines.data, "OK\n", 3);
	/* two more make three errors: goodbye and close */
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	send_all(fd, line, sizeof(line), 0);
	send_all(fd, line, sizeof(line), 0);
	assert_int_equal(said[SESSION_SAY_TOO_MANY_ERRORS], 1);
	assert_int_equal(freed, 1);
	close(fd);
}

static void
test_stream_bounded(void **state)
{
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 8192);
	struct buf got = BUF_INIT;
	size_t n = 2 * 1024 * 1024;

	size_t max_pending = 0;

	send_all(fd, "SEND 2097152\r\nAFTER\r\n", 21, 0);
	assert_true(session_streaming(&t->base));
	assert_int_equal(t->lines.len, 0);	/* commands wait for the answer */
	for (int i = 0; i < 5000 && got.len < n + 12; i++) {
		if (io_pending_out(t->base.io) > max_pending)
			max_pending = io_pending_out(t->base.io);
		drain(fd, &got);
		pump(1);
	}
	drain(fd, &got);
	assert_false(session_streaming(&t->base));
	assert_true(t->max_pending < 16384);
	assert_true(max_pending <= 16384 + 1000);
	assert_memory_equal(got.data, "hello\r\n+OK\r\n", 12);
	assert_int_equal(got.len, 12 + n);
	for (size_t i = 0; i < n; i++)
		if (got.data[12 + i] != "0123456789"[i % 10])
			fail_msg("byte %zu out of order", i);
	assert_memory_equal(t->lines.data, "AFTER\n", 6);
	buf_free(&got);
	finish(t, fd, &freed);
}

/* A producer with nothing yet is suspended, not called in a loop, and
 * runs again when the protocol resumes it. */
static void
test_stream_suspend_resume(void **state)
{
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 0);
	struct buf got = BUF_INIT;

	send_all(fd, "LATER 5000\r\nAFTER\r\n", 19, 0);
	pump(20);
	assert_true(t->empty_calls <= 2);	/* no spin */
	assert_true(session_streaming(&t->base));
	assert_int_equal(t->lines.len, 0);	/* commands wait for the answer */
	t->ready = 1;
	session_stream_resume(&t->base);
	for (int i = 0; i < 100 && got.len < 12 + 5000; i++) {
		pump(1);
		drain(fd, &got);
	}
	assert_false(session_streaming(&t->base));
	assert_int_equal(got.len, 12 + 5000);
	assert_memory_equal(got.data, "hello\r\n+OK\r\n01234", 17);
	assert_memory_equal(t->lines.data, "AFTER\n", 6);
	buf_free(&got);
	finish(t, fd, &freed);
}

static void
test_reply_later_and_close_while_paused(void **state)
{
	int fd, freed;
	struct toy *t = toy_start(&fd, &freed, 0);
	struct buf got = BUF_INIT;

	send_all(fd, "FAIL\r\nNEXT\r\n", 12, 0);
	assert_int_equal(t->lines.len, 0);	/* paused during the delay */
	pump(80);
	drain(fd, &got);
	assert_memory_equal(got.data, "hello\r\nlater\r\n", 14);
	assert_memory_equal(t->lines.data, "NEXT\n", 5);
	/* the peer leaves during a delay: closed at once, not after it */
	send_all(fd, "FAIL\r\n", 6, 0);
	close(fd);
	pump(20);
	assert_int_equal(freed, 1);
	buf_free(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counted_byte_by_byte),
		cmocka_unit_test(test_counted_bulk_is_not_buffered_whole),
		cmocka_unit_test(test_counted_slow_consumer),
		cmocka_unit_test(test_counted_stalled_consumer_resumes),
		cmocka_unit_test(test_client_that_does_not_read),
		cmocka_unit_test(test_over_long_line),
		cmocka_unit_test(test_stream_bounded),
		cmocka_unit_test(test_stream_suspend_resume),
		cmocka_unit_test(test_reply_later_and_close_while_paused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
