/*
 * imap-session - the IMAP side of a session: the hooks the session base
 * (session.h) calls, and the assembly of a command from its lines and
 * literals.
 *
 * A line that ends in {n} or {n+} is kept, the n literal bytes are read
 * through the base's counted read (after "+ Ready" for {n}), and the next
 * line continues the command; a line without a literal ends it, and the
 * whole is parsed (imap-parse.h) and run.  A command may not exceed
 * IMAP_COMMAND_MAX: a synchronizing literal that would pass it is refused
 * before the client sends it ([TOOBIG]); a non-synchronizing one is
 * already on its way, so the connection is closed after the BAD (RFC 7888
 * §4 allows that), rather than reading megabytes to throw away.
 *
 * Nothing is taken from the input while a password is checked or the
 * login's folders are made (IMAP_S_AUTH_WAIT), while an answer is
 * streamed, or while more than IMAP_OUT_HIGH bytes wait for a client that
 * does not read.
 */
#include "imap.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct imap_session *
imap_of(struct session *b)
{
	return (struct imap_session *)b;	/* the base is the first member */
}

void
imap_reply(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(&s->base, fmt, ap);
	va_end(ap);
}

void
imap_tagged(struct imap_session *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_printf(&b, "%s ", s->tag[0] ? s->tag : "*");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	session_reply(&s->base, "%s", b.data);
	buf_free(&b);
}

void
imap_bad(struct imap_session *s, const char *text)
{
	imap_tagged(s, "BAD %s", text);
	session_count_error(&s->base);
}

static int
imap_max_errors(struct session *b)
{
	return IMAP_MAX_ERRORS;
}

static uint64_t
imap_idle_ms(struct session *b)
{
	return 1000 * (uint64_t)db_setting_int(b->svc->db, ST_IMAP_IDLE_TIMEOUT);
}

static void
imap_greeting(struct session *b)
{
	struct imap_session *s = imap_of(b);
	struct buf caps = BUF_INIT;

	imap_capability(s, &caps);
	imap_reply(s, "* OK [CAPABILITY %s] onebox IMAP ready", caps.data);
	buf_free(&caps);
}

static enum session_want
imap_want(struct session *b)
{
	struct imap_session *s = imap_of(b);

	return s->state == IMAP_S_AUTH_WAIT || s->busy ? SESSION_WANT_NOTHING : SESSION_WANT_LINE;
}

/* ---- mailbox work in a worker (struct imap_job) ---- */

static void
job_work(struct job *jb)
{
	struct imap_job *j = (struct imap_job *)jb;

	j->work(j);
}

static void
job_done(struct job *jb)
{
	struct imap_job *j = (struct imap_job *)jb;
	struct imap_session *s = j->s;

	if (s != NULL && s->close_after_job) {
		s->busy = NULL;
		j->free(j);
		session_close(&s->base);
		return;
	}
	if (s != NULL) {
		s->busy = NULL;
		j->done(s, j);
	}
	j->free(j);
	if (s != NULL && !session_closing(&s->base))
		session_resume(&s->base);
}

void
imap_job_submit(struct imap_session *s, struct imap_job *j)
{
	j->job.work = job_work;
	j->job.done = job_done;
	j->s = s;
	s->busy = j;
	session_pause(&s->base);
	jobs_submit(s->d->jobs, &j->job);
}

/* imap_quote - RFC 3501 quoted string; a literal for CR, LF, NUL or 8-bit. */
void
imap_quote(struct buf *out, const char *str)
{
	const unsigned char *p;

	for (p = (const unsigned char *)str; *p; p++)
		if (*p == '\r' || *p == '\n' || *p >= 0x80)
			break;
	if (*p) {
		buf_printf(out, "{%zu}\r\n%s", strlen(str), str);
		return;
	}
	buf_addc(out, '"');
	for (p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, (char)*p);
	}
	buf_addc(out, '"');
}

static void
command_reset(struct imap_session *s)
{
	if (s->cmd.len)
		explicit_bzero(s->cmd.data, s->cmd.len);	/* may hold a password */
	buf_reset(&s->cmd);
}

static size_t
literal_chunk(struct session *b, const char *data, size_t len)
{
	buf_add(&imap_of(b)->cmd, data, len);
	/* the input buffer's copy is not needed again and may be a password */
	explicit_bzero((char *)data, len);
	return len;
}

static void
literal_done(struct session *b)
{
	/* the next line continues the command */
}

/* literal_too_big - refuse a literal that would make the command too long. */
static void
literal_too_big(struct imap_session *s, int sync)
{
	command_reset(s);
	if (sync) {
		imap_tagged(s, "NO [TOOBIG] Command too long (at most %d bytes)", IMAP_COMMAND_MAX);
		return;
	}
	imap_tagged(s, "BAD [TOOBIG] Literal too big (at most %d bytes in a command)", IMAP_COMMAND_MAX);
	imap_reply(s, "* BYE Too much data without a continuation");
	session_close_after_reply(&s->base);
}

static void
imap_line(struct session *b, char *line, size_t len)
{
	struct imap_session *s = imap_of(b);
	uint64_t size;
	int sync, r;

	if (s->state == IMAP_S_SASL) {
		imap_sasl_line(s, line);
		return;
	}
	if (s->state == IMAP_S_IDLE) {
		imap_idle_line(s, line);
		return;
	}
	if (s->append) {
		/* the rest of an APPEND after its message */
		imap_append_finish(s, line);
		command_reset(s);
		return;
	}
	if (s->cmd.len == 0 && imap_parse_tag(line, len, s->tag) < 0)
		s->tag[0] = '\0';
	if (s->cmd.len + len > IMAP_COMMAND_MAX) {
		command_reset(s);
		imap_bad(s, "[TOOBIG] Command too long");
		return;
	}
	buf_add(&s->cmd, line, len);
	r = imap_line_literal(line, len, &size, &sync);
	/* the command lives on in s->cmd (wiped by command_reset); the input
	 * buffer's copy of a LOGIN or AUTHENTICATE line would outlive it */
	explicit_bzero(line, len);
	if (r < 0) {
		command_reset(s);
		imap_bad(s, "Invalid literal size");
		return;
	}
	if (r == 0) {
		imap_command(s, s->cmd.data, s->cmd.len);
		command_reset(s);
		return;
	}
	if ((r = imap_append_literal(s, s->cmd.data, s->cmd.len, size, sync)) != 0) {
		if (r < 0)
			command_reset(s);
		return;		/* the message goes to a file, not into s->cmd */
	}
	if (s->cmd.len + 2 + size > IMAP_COMMAND_MAX) {
		literal_too_big(s, sync);
		return;
	}
	buf_add(&s->cmd, "\r\n", 2);
	if (sync)
		imap_reply(s, "+ Ready for literal data");
	session_read_bytes(b, size, literal_chunk, literal_done);
}

static void
imap_tls_ready(struct session *b)
{
	struct imap_session *s = imap_of(b);

	/* RFC 3501 §6.2.1: forget what was said before TLS */
	s->state = IMAP_S_NOT_AUTH;
	command_reset(s);
}

static void
imap_say(struct session *b, enum session_say what)
{
	struct imap_session *s = imap_of(b);

	switch (what) {
	case SESSION_SAY_LINE_TOO_LONG:
		command_reset(s);
		if (s->state == IMAP_S_SASL) {
			sasl_wipe(&s->sasl);
			s->state = IMAP_S_NOT_AUTH;
			imap_tagged(s, "BAD [TOOBIG] Authentication response too long");
		} else
			imap_reply(s, "* BAD [TOOBIG] Command line too long");
		break;
	case SESSION_SAY_TOO_MANY_ERRORS:
		imap_reply(s, "* BYE Too many bad commands, closing connection");
		break;
	case SESSION_SAY_TIMEOUT:
		imap_reply(s, "* BYE Disconnected for inactivity");
		break;
	case SESSION_SAY_LIFETIME:
	case SESSION_SAY_SHUTDOWN:
		imap_reply(s, "* BYE [UNAVAILABLE] Server shutting down, try again later");
		break;
	case SESSION_SAY_NONE:
		break;
	}
}

static const char *
imap_state_name(struct session *b)
{
	static const char *const names[] = {
		[IMAP_S_NOT_AUTH] = "not-authenticated", [IMAP_S_SASL] = "sasl",
		[IMAP_S_AUTH_WAIT] = "auth-wait", [IMAP_S_AUTH] = "authenticated",
		[IMAP_S_SELECTED] = "selected", [IMAP_S_IDLE] = "idle",
		[IMAP_S_LOGOUT] = "logout",
	};
	return names[imap_of(b)->state];
}

static int
imap_release(struct session *b)
{
	struct imap_session *s = imap_of(b);

	if (s->busy && s->busy->holds_session) {
		s->close_after_job = 1;		/* job_done closes it again */
		return 1;
	}
	imap_auth_cancel(s);
	if (s->busy)
		s->busy->s = NULL;
	s->busy = NULL;
	imap_mailbox_close(s);
	imap_append_free(s);
	sasl_wipe(&s->sasl);
	command_reset(s);
	return 0;
}

static void
imap_end_log(struct session *b, char *out, size_t size)
{
	struct imap_session *s = imap_of(b);

	snprintf(out, size, " user=%s commands=%lu", s->user ? s->user : "-", s->ncommands);
}

static void
imap_free(struct session *b)
{
	struct imap_session *s = imap_of(b);

	buf_free(&s->cmd);
	index_names_free(s->kwnames, s->nkw);
	free(s->user);
	free(s->root);
	free(s);
}

static const struct session_ops imap_session_ops = {
	.proto = "imap",
	.line_max = IMAP_LINE_MAX,
	.out_high = IMAP_OUT_HIGH,
	.max_errors = imap_max_errors,
	.idle_ms = imap_idle_ms,
	.greeting = imap_greeting,
	.want = imap_want,
	.line = imap_line,
	.tls_ready = imap_tls_ready,
	.say = imap_say,
	.state_name = imap_state_name,
	.release = imap_release,
	.end_log = imap_end_log,
	.free = imap_free,
};

void
imap_session_start(struct service *svc, int fd, const struct front_peer *peer)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));

	s->d = (struct imapd *)svc;	/* the service is the first member of imapd */
	s->state = IMAP_S_NOT_AUTH;
	session_start(&s->base, svc, &imap_session_ops, fd, peer);
}
