/*
 * pop3-session - the POP3 side of a session: the hooks the session base
 * (session.h) calls: greeting, what each state takes, the replies for the
 * base's events, and the end of the session.
 *
 * Nothing is taken from the input while a password is checked or the
 * maildrop opened (POP3_S_AUTH_WAIT), while a multi-line answer is being
 * streamed, or while more than POP3_OUT_HIGH bytes of output wait for a
 * client that does not read: a pipelining client can then neither grow
 * our output nor our input without bound (the input buffer stops reading
 * at its own limit).
 */
#include "pop3.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pop3_session *
pop3_of(struct session *b)
{
	return (struct pop3_session *)b;	/* the base is the first member */
}

void
pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(&s->base, fmt, ap);
	va_end(ap);
}

static int
pop3_max_errors(struct session *b)
{
	return POP3_MAX_ERRORS;
}

static uint64_t
pop3_idle_ms(struct session *b)
{
	return 1000 * (uint64_t)db_setting_int(b->svc->db, ST_POP3_IDLE_TIMEOUT);
}

static void
pop3_greeting(struct session *b)
{
	pop3_reply(pop3_of(b), "+OK onebox POP3 ready");
}

static enum session_want
pop3_want(struct session *b)
{
	return pop3_of(b)->state == POP3_S_AUTH_WAIT ? SESSION_WANT_NOTHING : SESSION_WANT_LINE;
}

static void
pop3_line(struct session *b, char *line, size_t len)
{
	struct pop3_session *s = pop3_of(b);

	if (s->state == POP3_S_SASL)
		pop3_sasl_line(s, line);
	else
		pop3_command(s, line, len);
}

static void
pop3_tls_ready(struct session *b)
{
	struct pop3_session *s = pop3_of(b);

	s->state = POP3_S_AUTHORIZATION;
	/* RFC 2595 §4: forget what was said before TLS */
	free(s->user_arg);
	s->user_arg = NULL;
}

static void
pop3_say(struct session *b, enum session_say what)
{
	struct pop3_session *s = pop3_of(b);

	switch (what) {
	case SESSION_SAY_LINE_TOO_LONG:
		pop3_reply(s, "-ERR Line too long");
		break;
	case SESSION_SAY_TOO_MANY_ERRORS:
		pop3_reply(s, "-ERR Too many bad commands, closing connection");
		break;
	case SESSION_SAY_TIMEOUT:
		pop3_reply(s, "-ERR Disconnected for inactivity");
		break;
	case SESSION_SAY_LIFETIME:
	case SESSION_SAY_SHUTDOWN:
		pop3_reply(s, "-ERR [SYS/TEMP] Server shutting down, try again later");
		break;
	case SESSION_SAY_NONE:
		break;
	}
}

static const char *
pop3_state_name(struct session *b)
{
	static const char *const names[] = {
		[POP3_S_AUTHORIZATION] = "authorization", [POP3_S_SASL] = "sasl",
		[POP3_S_AUTH_WAIT] = "auth-wait", [POP3_S_TRANSACTION] = "transaction",
	};
	return names[pop3_of(b)->state];
}

static int
pop3_release(struct session *b)
{
	struct pop3_session *s = pop3_of(b);

	pop3_auth_cancel(s);
	pop3_mailbox_cancel(s);
	free(s->user_pending);
	s->user_pending = NULL;
	pop3_send_abort(s);
	pop3_mailbox_close(s);
	if (s->user_arg)
		explicit_bzero(s->user_arg, strlen(s->user_arg));
	free(s->user_arg);
	s->user_arg = NULL;
	return 0;
}

static void
pop3_end_log(struct session *b, char *out, size_t size)
{
	struct pop3_session *s = pop3_of(b);

	snprintf(out, size, " user=%s retr=%lu top=%lu", s->user ? s->user : "-", s->nretr, s->ntop);
}

static void
pop3_free(struct session *b)
{
	struct pop3_session *s = pop3_of(b);

	free(s->user);
	free(s);
}

static const struct session_ops pop3_session_ops = {
	.proto = "pop3",
	.line_max = POP3_LINE_MAX,
	.out_high = POP3_OUT_HIGH,
	.max_errors = pop3_max_errors,
	.idle_ms = pop3_idle_ms,
	.greeting = pop3_greeting,
	.want = pop3_want,
	.line = pop3_line,
	.tls_ready = pop3_tls_ready,
	.say = pop3_say,
	.state_name = pop3_state_name,
	.release = pop3_release,
	.end_log = pop3_end_log,
	.free = pop3_free,
};

void
pop3_session_start(struct service *svc, int fd, const struct front_peer *peer)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));

	s->d = (struct pop3d *)svc;	/* the service is the first member of pop3d */
	s->msg_fd = -1;
	s->mbox.lock_fd = -1;
	s->state = POP3_S_AUTHORIZATION;
	session_start(&s->base, svc, &pop3_session_ops, fd, peer);
}
