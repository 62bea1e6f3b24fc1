/*
 * pop3-retr - multi-line answers (RETR, TOP, LIST, UIDL) streamed as the
 * client reads them.
 *
 * The session base runs a producer (session_send_stream) while less than
 * POP3_OUT_HIGH bytes wait in the output, and again on IO_LOWAT, re-arming
 * the idle timer at each refill.  So a 50 MB message costs one read chunk
 * plus at most about 2 x POP3_OUT_HIGH of buffers, however slow the
 * client, and a small message (the common case) is answered at once,
 * which keeps a pipelining client's RETR burst fast.  A client that stops
 * reading makes no progress, so it still times out.
 *
 * The message bytes pass the dot-stuffer (server/mail/dotstuff.h) here and only
 * here: pop3_send_message() sets it up, produce_message() feeds it.
 */
#include "pop3.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (32 * 1024)

static struct pop3_session *
pop3_of(struct session *b)
{
	return (struct pop3_session *)b;	/* the base is the first member */
}

void
pop3_send_abort(struct pop3_session *s)
{
	if (s->msg_fd >= 0)
		close(s->msg_fd);
	s->msg_fd = -1;
}

static void
stream_end(struct session *b, int status)
{
	pop3_send_abort(pop3_of(b));
}

/* produce_message - the RETR/TOP producer. */
static int
produce_message(struct session *b, struct buf *out)
{
	struct pop3_session *s = pop3_of(b);
	char chunk[READ_CHUNK];
	ssize_t n;
	int done;

	do
		n = read(s->msg_fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_warn("%016llx pop3 read message", (unsigned long long)b->id);
		return -1;
	}
	s->bytes_sent_msgs += (uint64_t)n;
	done = n == 0 || dot_stuff_feed(&s->stuff, chunk, (size_t)n, out);
	if (!done)
		return 0;
	dot_stuff_end(&s->stuff, out);
	return 1;
}

void
pop3_send_message(struct pop3_session *s, int fd, uint64_t lines)
{
	s->msg_fd = fd;
	dot_stuff_init(&s->stuff, lines);
	session_send_stream(&s->base, produce_message, stream_end);
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

static int
produce_list(struct session *b, struct buf *out)
{
	return produce_listing(pop3_of(b), out, 0);
}

static int
produce_uidl(struct session *b, struct buf *out)
{
	return produce_listing(pop3_of(b), out, 1);
}

void
pop3_send_listing(struct pop3_session *s, int uidl)
{
	s->cursor = 0;
	session_send_stream(&s->base, uidl ? produce_uidl : produce_list, NULL);
}
