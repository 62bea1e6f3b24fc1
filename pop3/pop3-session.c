/*
 * pop3-session - one POP3 connection: greeting, reading command lines,
 * the I/O events, timeouts and the end of the session.
 *
 * Commands are taken one line at a time from the input buffer.  Nothing
 * more is taken while a password is being checked (reading is paused), while
 * a multi-line answer is being streamed, or while more than POP3_OUT_HIGH
 * bytes of output wait for a client that does not read: a pipelining client
 * can then neither grow our output nor our input without bound (the input
 * buffer stops reading at its own limit).
 */
#include "pop3.h"
#include "front.h"
#include "log.h"
#include "net.h"
#include "str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t session_counter;

static const char *const state_names[] = {
	[POP3_S_AUTHORIZATION] = "authorization", [POP3_S_SASL] = "sasl",
	[POP3_S_AUTH_WAIT] = "auth-wait", [POP3_S_TLS] = "tls",
	[POP3_S_TRANSACTION] = "transaction", [POP3_S_SENDING] = "sending",
	[POP3_S_CLOSING] = "closing",
};

void
pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	io_vreply(s->io, s->id, "pop3", fmt, ap);
	va_end(ap);
}

void
pop3_close_after_reply(struct pop3_session *s)
{
	s->state = POP3_S_CLOSING;
	io_flush_close(s->io);
}

void
pop3_count_error(struct pop3_session *s)
{
	if (++s->errors >= POP3_MAX_ERRORS) {
		log_info("%016llx pop3 too many errors address=%s", (unsigned long long)s->id, s->peer.ip);
		pop3_reply(s, "-ERR Too many bad commands, closing connection");
		pop3_close_after_reply(s);
	}
}

uint64_t
pop3_idle_ms(struct pop3_session *s)
{
	return 1000 * (uint64_t)db_setting_int(s->d->db, ST_POP3_IDLE_TIMEOUT);
}

/* session_busy - 1 if no command may be taken now. */
static int
session_busy(struct pop3_session *s)
{
	switch (s->state) {
	case POP3_S_AUTH_WAIT:
	case POP3_S_TLS:
	case POP3_S_SENDING:
	case POP3_S_CLOSING:
		return 1;
	default:
		return io_pending_out(s->io) > POP3_OUT_HIGH;
	}
}

/* read_line - 1 with a line, 0 when none is complete yet. */
static int
read_line(struct pop3_session *s, char **line_r, size_t *len_r)
{
	for (;;) {
		int r = io_getline(s->io, POP3_LINE_MAX, line_r, len_r);
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
			pop3_reply(s, "-ERR Line too long");
			pop3_count_error(s);
		}
		s->skipping = !io_skip_line(s->io);
		if (s->state == POP3_S_CLOSING || s->skipping)
			return 0;
	}
}

void
pop3_process(struct pop3_session *s)
{
	char *line;
	size_t len;

	while (s->io && !s->io->dead && !session_busy(s)) {
		if (!read_line(s, &line, &len))
			return;
		if (s->state == POP3_S_SASL)
			pop3_sasl_line(s, line);
		else
			pop3_command(s, line, len);
		if (s->io && s->io->line_used)
			io_line_done(s->io);
	}
}

static void
session_timeout(struct pop3_session *s)
{
	if (s->state == POP3_S_AUTH_WAIT) {
		/* authd answers or the delay ends soon; io re-arms the timer
		 * only on input, so keep it running for after the login */
		io_set_timeout(s->io, pop3_idle_ms(s));
		return;
	}
	log_info("%016llx pop3 timeout address=%s state=%s", (unsigned long long)s->id, s->peer.ip,
	    state_names[s->state]);
	if (s->state == POP3_S_CLOSING || s->state == POP3_S_SENDING || s->state == POP3_S_TLS ||
	    io_pending_out(s->io) > 0) {
		/* the client does not read: a goodbye would never leave */
		pop3_session_close(s);
		return;
	}
	pop3_reply(s, "-ERR Disconnected for inactivity");
	pop3_close_after_reply(s);
}

static void
session_tls_ready(struct pop3_session *s)
{
	s->tls = 1;
	s->state = POP3_S_AUTHORIZATION;
	/* RFC 2595 §4: forget what was said before TLS */
	free(s->user_arg);
	s->user_arg = NULL;
	if (s->svc == SVC_POP3S && s->io->bytes_out == 0)
		pop3_reply(s, "+OK onebox POP3 ready");
	log_debug("%016llx pop3 tls established", (unsigned long long)s->id);
	pop3_process(s);
}

static void
pop3_io(struct io *io, enum io_event ev, void *arg)
{
	struct pop3_session *s = arg;

	switch (ev) {
	case IO_DATAIN:
		pop3_process(s);
		break;
	case IO_TLSREADY:
		session_tls_ready(s);
		break;
	case IO_LOWAT:
		if (s->state == POP3_S_SENDING)
			pop3_send_more(s);
		else
			pop3_process(s);
		break;
	case IO_TIMEOUT:
		session_timeout(s);
		break;
	case IO_CLOSED:
		if (io->error && s->state != POP3_S_CLOSING)
			log_info("%016llx pop3 disconnect address=%s error=\"%s\"", (unsigned long long)s->id,
			    s->peer.ip, io->error);
		pop3_session_close(s);
		break;
	}
}

static void
pop3_delay_done(void *arg)
{
	struct pop3_session *s = arg;

	if (s->state == POP3_S_CLOSING)
		return;
	pop3_reply(s, "%s", s->delayed_reply);
	if (s->state == POP3_S_AUTH_WAIT)
		s->state = POP3_S_AUTHORIZATION;
	io_resume_read(s->io);
	pop3_process(s);
}

static void
session_link(struct pop3d *d, struct pop3_session *s)
{
	s->next = d->sessions;
	if (d->sessions)
		d->sessions->prev = s;
	d->sessions = s;
	front_opened(d->front, s->peer.ip);
}

void
pop3_session_start(struct pop3d *d, int fd, const struct front_peer *peer)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	enum conf_service svc = peer->svc;

	s->id = ((uint64_t)getpid() << 32) | ++session_counter;
	s->d = d;
	s->svc = svc;
	s->msg_fd = -1;
	s->mbox.lock_fd = -1;
	s->peer = *peer;
	ev_timer_init(&s->delay_timer, pop3_delay_done, s);
	s->io = io_new(d->loop, fd, pop3_io, s);
	io_set_timeout(s->io, pop3_idle_ms(s));
	session_link(d, s);
	log_info("%016llx pop3 connect address=%s port=%d local=%s:%d service=%s", (unsigned long long)s->id,
	    s->peer.ip, s->peer.port, s->peer.local_ip, s->peer.local_port, conf_service_key(svc));
	if (svc == SVC_POP3S) {
		s->state = POP3_S_TLS;
		if (d->tls == NULL || io_starttls(s->io, d->tls) < 0)
			pop3_session_close(s);
		return;
	}
	s->state = POP3_S_AUTHORIZATION;
	pop3_reply(s, "+OK onebox POP3 ready");
}

void
pop3_session_close(struct pop3_session *s)
{
	struct pop3d *d = s->d;

	pop3_auth_cancel(s);
	pop3_mailbox_cancel(s);
	free(s->user_pending);
	ev_timer_del(d->loop, &s->delay_timer);
	pop3_send_abort(s);
	pop3_mailbox_close(s);
	io_free(&s->io);
	buf_free(&s->scratch);
	if (s->user_arg)
		explicit_bzero(s->user_arg, strlen(s->user_arg));
	free(s->user_arg);
	if (s->prev)
		s->prev->next = s->next;
	else
		d->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	log_info("%016llx pop3 disconnect address=%s user=%s retr=%lu top=%lu", (unsigned long long)s->id,
	    s->peer.ip, s->user ? s->user : "-", s->nretr, s->ntop);
	front_closed(d->front, s->peer.ip);
	free(s->user);
	free(s);
}

/* pop3_session_shutdown - the server stops: an answer being streamed may
 * finish (pop3-retr.c closes then); the others are told and closed. */
void
pop3_session_shutdown(struct pop3_session *s)
{
	s->shutting_down = 1;
	if (s->state == POP3_S_SENDING || s->state == POP3_S_CLOSING)
		return;
	if (s->state == POP3_S_TLS) {
		pop3_session_close(s);
		return;
	}
	pop3_reply(s, "-ERR [SYS/TEMP] Server shutting down, try again later");
	pop3_close_after_reply(s);
}
