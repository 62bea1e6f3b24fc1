/*
 * pop3-retr - multi-line answers (RETR, TOP, LIST, UIDL) streamed as the
 * client reads them.
 *
 * A producer appends the next part of the answer to the session's scratch
 * buffer; parts are produced until POP3_OUT_HIGH bytes wait in the output,
 * then the session sleeps in POP3_S_SENDING until IO_LOWAT says the output
 * has drained.  So a 50 MB message costs one read chunk plus at most
 * about 2 x POP3_OUT_HIGH of buffers, however slow the client, and a
 * small message (the common case) is answered at once, which keeps a
 * pipelining client's RETR burst fast.
 *
 * Why the idle timer is re-armed on every refill: io only re-arms it when
 * input arrives, and a client that reads a big message for longer than
 * pop3_idle_timeout sends nothing meanwhile.  A client that stops reading
 * makes no progress, so it still times out (and is cut off: a goodbye
 * would never be read).
 */
#include "pop3.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (32 * 1024)

/* produce - run the producer until the output is full enough; 1 done,
 * 0 more to come, -1 failed (the session is closing). */
static int
produce(struct pop3_session *s)
{
	int r = 0;

	while (r == 0 && io_pending_out(s->io) + s->scratch.len < POP3_OUT_HIGH)
		r = s->producer(s, &s->scratch);
	if (s->scratch.len) {
		io_write(s->io, s->scratch.data, s->scratch.len);
		buf_reset(&s->scratch);
	}
	if (r == 0)
		return 0;
	s->producer = NULL;
	if (r < 0) {
		pop3_send_abort(s);
		/* the answer lacks its final ".": the client knows it failed */
		pop3_close_after_reply(s);
		return -1;
	}
	s->state = POP3_S_TRANSACTION;
	if (s->shutting_down) {
		pop3_reply(s, "-ERR [SYS/TEMP] Server shutting down, try again later");
		pop3_close_after_reply(s);
	}
	return 1;
}

void
pop3_send_multiline(struct pop3_session *s, pop3_producer *p)
{
	s->producer = p;
	s->state = POP3_S_SENDING;
	produce(s);
}

void
pop3_send_more(struct pop3_session *s)
{
	io_set_timeout(s->io, pop3_idle_ms(s));
	if (produce(s) == 1)
		pop3_process(s);
}

void
pop3_send_abort(struct pop3_session *s)
{
	if (s->msg_fd >= 0)
		close(s->msg_fd);
	s->msg_fd = -1;
	s->producer = NULL;
}

/* pop3_produce_message - the RETR/TOP producer: s->msg_fd and s->stuff
 * were set up by the command. */
int
pop3_produce_message(struct pop3_session *s, struct buf *out)
{
	char chunk[READ_CHUNK];
	ssize_t n;
	int done;

	do
		n = read(s->msg_fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_warn("%016llx pop3 read message", (unsigned long long)s->id);
		return -1;
	}
	s->bytes_sent_msgs += (uint64_t)n;
	done = n == 0 || dot_stuff_feed(&s->stuff, chunk, (size_t)n, out);
	if (!done)
		return 0;
	dot_stuff_end(&s->stuff, out);
	close(s->msg_fd);
	s->msg_fd = -1;
	return 1;
}

/* ---- LIST and UIDL without argument: one line per undeleted message ---- */

#define LINES_PER_PART 512

static int
produce_listing(struct pop3_session *s, struct buf *out, int uidl)
{
	struct pop3_mailbox *mb = &s->mbox;
	char id[POP3_UIDL_MAX + 1];
	size_t end = s->cursor + LINES_PER_PART;

	for (; s->cursor < mb->n && s->cursor < end; s->cursor++) {
		struct pop3_msg *m = &mb->msgs[s->cursor];
		if (m->deleted)
			continue;
		if (uidl) {
			pop3_uidl(m->base, id);
			buf_printf(out, "%zu %s\r\n", s->cursor + 1, id);
		} else
			buf_printf(out, "%zu %llu\r\n", s->cursor + 1, (unsigned long long)m->vsize);
	}
	if (s->cursor < mb->n)
		return 0;
	buf_add(out, ".\r\n", 3);
	return 1;
}

int
pop3_produce_list(struct pop3_session *s, struct buf *out)
{
	return produce_listing(s, out, 0);
}

int
pop3_produce_uidl(struct pop3_session *s, struct buf *out)
{
	return produce_listing(s, out, 1);
}
