/*
 * session - the protocol-independent half of a session (see session.h).
 *
 * One function, session_process(), decides what the input is used for:
 * a counted read in progress, a streamed answer in progress (nothing is
 * read), a failed-login delay (nothing), then whatever the protocol wants
 * (a line, a stream it reads itself, or nothing while the server works).
 * Every path that can let input flow again ends in it, so a pipelining
 * client's buffered commands are never forgotten.
 *
 * Why the goodbye of a shutdown is said in session_process: a session in
 * the middle of something that must finish (a message being committed)
 * comes back there when it is done, and that is the first moment a
 * goodbye may be said.
 */
#include "session.h"
#include "service.h"
#include "log.h"
#include "str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t session_counter;

static void session_io(struct io *io, enum io_event ev, void *arg);
static void session_stream_more(struct session *s);

void
session_vreply(struct session *s, const char *fmt, va_list ap)
{
	io_vreply(s->io, s->id, s->ops->proto, fmt, ap);
}

void
session_reply(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(s, fmt, ap);
	va_end(ap);
}

int
session_closing(const struct session *s)
{
	return s->phase == SESSION_CLOSING || s->io == NULL;
}

void
session_close_after_reply(struct session *s)
{
	s->phase = SESSION_CLOSING;
	io_flush_close(s->io);
}

static void
too_many_errors(struct session *s)
{
	log_info("%016llx %s too many errors address=%s", (unsigned long long)s->id, s->ops->proto, s->peer.ip);
	s->ops->say(s, SESSION_SAY_TOO_MANY_ERRORS);
	session_close_after_reply(s);
}

void
session_count_error(struct session *s)
{
	if (++s->errors < s->ops->max_errors(s) || session_closing(s))
		return;
	if (ev_timer_pending(&s->delay_timer)) {
		/* a failed login's answer is being held back: the goodbye
		 * goes with it, not before (an early close would tell the
		 * client the answer ahead of time) */
		s->cap_after_delay = 1;
		return;
	}
	too_many_errors(s);
}

void
session_pause(struct session *s)
{
	io_pause_read(s->io);
}

void
session_resume(struct session *s)
{
	io_resume_read(s->io);
	session_process(s);
}

void
session_starttls(struct session *s, SSL_CTX *ctx)
{
	s->phase = SESSION_TLS;
	if (ctx == NULL || io_starttls(s->io, ctx) < 0) {
		log_warnx("%016llx %s starttls failed", (unsigned long long)s->id, s->ops->proto);
		session_close_after_reply(s);
	}
}

/* ---- the failed-login delay ---- */

void
session_reply_later(struct session *s, uint64_t ms, const char *text)
{
	str_lcpy(s->delayed_reply, text, sizeof(s->delayed_reply));
	io_pause_read(s->io);
	ev_timer_add(s->svc->loop, &s->delay_timer, ms);
}

void
session_reply_at(struct session *s, uint64_t deadline_ms, const char *text)
{
	uint64_t now = ev_clock_ms();

	session_reply_later(s, deadline_ms > now ? deadline_ms - now : 0, text);
}

static void
session_delay_done(void *arg)
{
	struct session *s = arg;

	if (session_closing(s))
		return;
	session_reply(s, "%s", s->delayed_reply);
	if (s->cap_after_delay) {
		too_many_errors(s);
		return;
	}
	session_resume(s);
}

/* ---- input ---- */

void
session_read_bytes(struct session *s, uint64_t n, session_chunk_cb *chunk, session_done_cb *done)
{
	s->counted = n;
	s->chunk = chunk;
	s->chunk_done = done;
	if (n == 0) {
		s->chunk = NULL;
		done(s);
	}
}

/* feed_counted - 1 if the consumer took something (or the read ended):
 * offer more; 0 to wait for input or for the consumer. */
static int
feed_counted(struct session *s)
{
	size_t avail = buf_unread(&s->io->in);
	size_t n = avail < s->counted ? avail : (size_t)s->counted;
	size_t used;

	if (n == 0)
		return 0;
	used = s->chunk(s, buf_rptr(&s->io->in), n);
	if (used > n)
		log_panic("%016llx %s chunk consumer took %zu of %zu bytes", (unsigned long long)s->id,
		    s->ops->proto, used, n);
	if (s->io == NULL || s->io->dead)
		return 0;
	buf_consume(&s->io->in, used);
	s->counted -= used;
	if (s->counted > 0)
		return used > 0;
	s->chunk = NULL;
	s->chunk_done(s);
	return 1;
}

/* read_line - 1 with a line, 0 when none is complete yet.  An over-long
 * line is answered once (and counted as an error); its tail is dropped. */
static int
read_line(struct session *s, char **line_r, size_t *len_r)
{
	for (;;) {
		int r = io_getline(s->io, s->ops->line_max, line_r, len_r);
		if (r == 0)
			return 0;
		if (r > 0 && !s->skipping)
			return 1;
		if (r > 0) {
			/* the tail of an over-long line: already answered */
			s->skipping = 0;
			io_line_done(s->io);
			continue;
		}
		if (!s->skipping) {
			s->ops->say(s, SESSION_SAY_LINE_TOO_LONG);
			session_count_error(s);
		}
		s->skipping = !io_skip_line(s->io);
		if (session_closing(s) || s->skipping)
			return 0;
	}
}

/* take_line - run one command line; 1 if one was run, 0 to wait. */
static int
take_line(struct session *s)
{
	char *line;
	size_t len;

	/* A client that pipelines without reading the replies: stop taking
	 * commands until it has read them (IO_LOWAT resumes). */
	if (io_pending_out(s->io) > s->ops->out_high) {
		s->out_blocked = 1;
		io_pause_read(s->io);
		return 0;
	}
	if (s->ending != SESSION_SAY_NONE) {
		/* a goodbye was put off until the session was idle */
		s->ops->say(s, s->ending);
		session_close_after_reply(s);
		return 0;
	}
	if (!read_line(s, &line, &len))
		return 0;
	s->ops->line(s, line, len);
	if (s->io && s->io->line_used)
		io_line_done(s->io);
	return 1;
}

/* take_input - run what the buffered input allows now. */
static void
take_input(struct session *s)
{
	while (s->io && !s->io->dead && s->phase == SESSION_OPEN) {
		if (s->producer || ev_timer_pending(&s->delay_timer))
			return;
		if (s->chunk) {
			if (!feed_counted(s))
				return;
			continue;
		}
		switch (s->ops->want(s)) {
		case SESSION_WANT_NOTHING:
			return;
		case SESSION_WANT_STREAM:
			if (!s->ops->stream(s))
				return;
			break;
		case SESSION_WANT_LINE:
			if (!take_line(s))
				return;
			break;
		}
	}
}

void
session_process(struct session *s)
{
	take_input(s);
	/* io stops reading while its buffer is full; bytes taken here (a
	 * counted read or a stream whose consumer caught up, called from
	 * outside the I/O handling) made room that io cannot see */
	if (s->io && !s->io->dead)
		io_rearm(s->io);
}

/* ---- streamed answers ---- */

int
session_streaming(const struct session *s)
{
	return s->producer != NULL;
}

static void
stream_finish(struct session *s, int status)
{
	session_stream_end *end = s->stream_end;

	s->producer = NULL;
	s->stream_end = NULL;
	s->stream_waiting = 0;
	buf_reset(&s->scratch);
	if (end)
		end(s, status);
}

/* produce - run the producer until the output is full enough; 1 done,
 * 0 more to come, -1 failed (the session is closing). */
static int
produce(struct session *s)
{
	int r = 0;

	s->stream_waiting = 0;
	while (r == 0 && io_pending_out(s->io) + s->scratch.len < s->ops->out_high) {
		size_t before = s->scratch.len;
		r = s->producer(s, &s->scratch);
		if (r == 0 && s->scratch.len == before) {
			/* nothing yet: calling again would spin */
			s->stream_waiting = 1;
			break;
		}
	}
	if (s->scratch.len) {
		io_write(s->io, s->scratch.data, s->scratch.len);
		buf_reset(&s->scratch);
	}
	if (r == 0)
		return 0;
	stream_finish(s, r);
	if (r < 0) {
		/* the answer lacks its end: the client knows it failed */
		session_close_after_reply(s);
		return -1;
	}
	return 1;
}

void
session_send_stream(struct session *s, session_producer *p, session_stream_end *end)
{
	s->producer = p;
	s->stream_end = end;
	produce(s);
}

static void
session_stream_more(struct session *s)
{
	io_set_timeout(s->io, s->ops->idle_ms(s));
	if (produce(s) == 1)
		session_process(s);
}

void
session_stream_resume(struct session *s)
{
	if (s->producer == NULL || session_closing(s))
		return;
	session_stream_more(s);
}

/* ---- events ---- */

static void
session_tls_ready(struct session *s)
{
	s->tls = 1;
	s->phase = SESSION_OPEN;
	s->ops->tls_ready(s);
	if (conf_service_implicit_tls(s->peer.svc) && s->io->bytes_out == 0)
		s->ops->greeting(s);
	log_debug("%016llx %s tls established", (unsigned long long)s->id, s->ops->proto);
	session_process(s);
}

static const char *
state_name(struct session *s)
{
	if (s->phase == SESSION_CLOSING)
		return "closing";
	if (s->phase == SESSION_TLS)
		return "tls";
	if (s->producer)
		return "sending";
	return s->ops->state_name(s);
}

static void
session_timeout(struct session *s)
{
	if (ev_timer_pending(&s->delay_timer) || (s->producer && s->stream_waiting) ||
	    (s->phase == SESSION_OPEN && !s->producer && !s->chunk && s->ops->want(s) == SESSION_WANT_NOTHING)) {
		/* the server is working (authd, a commit, the delay, a suspended
		 * stream): io re-arms the timer only on input, so keep it running
		 * for afterwards */
		io_set_timeout(s->io, s->ops->idle_ms(s));
		return;
	}
	log_info("%016llx %s timeout address=%s state=%s", (unsigned long long)s->id, s->ops->proto,
	    s->peer.ip, state_name(s));
	if (s->phase != SESSION_OPEN || s->producer || io_pending_out(s->io) > 0) {
		/* no TLS yet, or the client does not read: a goodbye would never leave */
		session_close(s);
		return;
	}
	s->ops->say(s, SESSION_SAY_TIMEOUT);
	session_close_after_reply(s);
}

static void
session_io(struct io *io, enum io_event ev, void *arg)
{
	struct session *s = arg;

	switch (ev) {
	case IO_DATAIN:
		session_process(s);
		break;
	case IO_TLSREADY:
		session_tls_ready(s);
		break;
	case IO_LOWAT:
		if (s->producer) {
			session_stream_more(s);
			break;
		}
		if (s->out_blocked) {
			s->out_blocked = 0;
			io_resume_read(s->io);
		}
		session_process(s);
		break;
	case IO_TIMEOUT:
		session_timeout(s);
		break;
	case IO_CLOSED:
		/* said on the one disconnect line (a close that we asked for is
		 * no error) */
		if (io->error && s->phase != SESSION_CLOSING)
			s->close_error = io->error;
		session_close(s);
		break;
	}
}

/* ---- the end ---- */

void
session_end(struct session *s, enum session_say why)
{
	if (s->io == NULL || s->phase == SESSION_CLOSING)
		return;
	s->ending = why;
	/* A handshake in progress is let finish (front cuts what is left at
	 * its deadline): cut now, the client's hello would make the close a
	 * reset; finished, it gets the goodbye in its new TLS session. */
	if (s->phase == SESSION_TLS)
		return;
	if (s->producer || (s->ops->must_finish && s->ops->must_finish(s, why)))
		return;		/* said by session_process once it is idle */
	s->ops->say(s, why);
	session_close_after_reply(s);
}

static void
session_life_over(void *arg)
{
	struct session *s = arg;

	log_info("%016llx %s session-timeout address=%s", (unsigned long long)s->id, s->ops->proto, s->peer.ip);
	session_end(s, SESSION_SAY_LIFETIME);
}

void
session_close(struct session *s)
{
	struct service *svc = s->svc;
	char extra[256] = "";

	if (s->ops->release(s) > 0) {
		/* a worker still owns part of the session: it calls again */
		io_free(&s->io);
		return;
	}
	if (s->producer)
		stream_finish(s, 0);
	ev_timer_del(svc->loop, &s->delay_timer);
	ev_timer_del(svc->loop, &s->life_timer);
	io_free(&s->io);
	buf_free(&s->scratch);
	if (s->prev)
		s->prev->next = s->next;
	else
		svc->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->ops->end_log)
		s->ops->end_log(s, extra, sizeof(extra));
	log_info("%016llx %s disconnect address=%s%s%s%s%s", (unsigned long long)s->id, s->ops->proto, s->peer.ip,
	    extra, s->close_error ? " error=\"" : "", s->close_error ? s->close_error : "",
	    s->close_error ? "\"" : "");
	front_closed(svc->front, s->peer.ip);
	s->ops->free(s);
}

/* ---- the start ---- */

void
session_start(struct session *s, struct service *svc, const struct session_ops *ops, int fd,
    const struct front_peer *peer)
{
	uint64_t life;

	s->id = ((uint64_t)getpid() << 32) | ++session_counter;
	s->ops = ops;
	s->svc = svc;
	s->peer = *peer;
	s->phase = SESSION_OPEN;
	life = ops->life_ms ? ops->life_ms(s) : 0;
	ev_timer_init(&s->delay_timer, session_delay_done, s);
	ev_timer_init(&s->life_timer, session_life_over, s);
	if (life)
		ev_timer_add(svc->loop, &s->life_timer, life);
	s->io = io_new(svc->loop, fd, session_io, s);
	io_set_timeout(s->io, ops->idle_ms(s));
	s->next = svc->sessions;
	if (svc->sessions)
		svc->sessions->prev = s;
	svc->sessions = s;
	front_opened(svc->front, s->peer.ip);
	log_info("%016llx %s connect address=%s port=%d local=%s:%d service=%s", (unsigned long long)s->id,
	    ops->proto, s->peer.ip, s->peer.port, s->peer.local_ip, s->peer.local_port,
	    conf_service_key(peer->svc));
	if (conf_service_implicit_tls(peer->svc)) {
		s->phase = SESSION_TLS;
		if (svc->tls == NULL || io_starttls(s->io, svc->tls) < 0)
			session_close(s);
		return;
	}
	ops->greeting(s);
}
