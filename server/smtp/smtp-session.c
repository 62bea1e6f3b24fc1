/*
 * smtp-session - one SMTP conversation: the command table and the state
 * machine (RFC 5321, with RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 1870 SIZE,
 * RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2920 PIPELINING, RFC 2034
 * enhanced status codes).
 *
 * The session base (session.h) reads the lines, applies the limits and
 * timeouts and asks smtp_want() what the state can take: a pipelining
 * client's commands wait in the input buffer while a reply is pending on
 * a slow step (password check, group commit).
 */
#include "smtp.h"
#include "front.h"
#include "log.h"
#include "net.h"
#include "str.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

struct smtp_cmdtab {
	enum smtp_cmd cmd;
	/* check: sequence and policy; returns 0 to proceed, -1 if it replied */
	int (*check)(struct smtp_session *s, struct smtp_command *c);
	void (*proceed)(struct smtp_session *s, struct smtp_command *c);
};

void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(&s->base, fmt, ap);
	va_end(ap);
}

void
smtp_transaction_reset(struct smtp_session *s)
{
	smtp_data_abort(s);
	for (size_t i = 0; i < s->nrcpts; i++)
		db_targets_free(&s->rcpts[i].targets);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	memset(&s->from, 0, sizeof(s->from));
	s->from_text[0] = '\0';
	s->smtputf8 = s->body8 = 0;
	s->declared_size = 0;
	s->qid[0] = '\0';
}

static int
is_submission(struct smtp_session *s)
{
	return s->base.peer.svc == SVC_SUBMISSION || s->base.peer.svc == SVC_SUBMISSIONS;
}

/* ---- checks ---- */

static int
check_helo_done(struct smtp_session *s, struct smtp_command *c)
{
	if (s->state == SMTP_S_CONNECTED) {
		smtp_reply(s, "503 5.5.1 Say HELO or EHLO first");
		return -1;
	}
	return 0;
}

static int
check_mail(struct smtp_session *s, struct smtp_command *c)
{
	if (check_helo_done(s, c) < 0)
		return -1;
	if (s->state != SMTP_S_READY) {
		smtp_reply(s, "503 5.5.1 Nested MAIL command");
		return -1;
	}
	if (is_submission(s) && s->auth_user == NULL) {
		smtp_reply(s, "530 5.7.0 Authentication required");
		return -1;
	}
	if (s->base.peer.svc == SVC_SUBMISSION && !s->base.tls && !s->base.peer.plaintext_ok) {
		smtp_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return -1;
	}
	return 0;
}

static int
check_rcpt(struct smtp_session *s, struct smtp_command *c)
{
	if (s->state != SMTP_S_MAIL && s->state != SMTP_S_RCPT) {
		smtp_reply(s, "503 5.5.1 Need MAIL command first");
		return -1;
	}
	if (s->nrcpts >= (size_t)db_setting_int(s->d->svc.db, ST_MAX_RECIPIENTS)) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return -1;
	}
	return 0;
}

static int
check_data(struct smtp_session *s, struct smtp_command *c)
{
	if (s->state == SMTP_S_MAIL) {
		smtp_reply(s, "554 5.5.1 No valid recipients");
		return -1;
	}
	if (s->state != SMTP_S_RCPT) {
		smtp_reply(s, "503 5.5.1 Need RCPT command first");
		return -1;
	}
	return 0;
}

static int
check_starttls(struct smtp_session *s, struct smtp_command *c)
{
	if (s->base.tls) {
		smtp_reply(s, "503 5.5.1 TLS already active");
		return -1;
	}
	if (s->state != SMTP_S_READY && s->state != SMTP_S_CONNECTED) {
		smtp_reply(s, "503 5.5.1 STARTTLS not allowed during a mail transaction");
		return -1;
	}
	return 0;
}

static int
check_auth(struct smtp_session *s, struct smtp_command *c)
{
	if (check_helo_done(s, c) < 0)
		return -1;
	if (!is_submission(s)) {
		smtp_reply(s, "503 5.5.1 AUTH not available on this port; use submission (587 or 465)");
		return -1;
	}
	if (!s->base.tls && !s->base.peer.plaintext_ok) {
		smtp_reply(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return -1;
	}
	if (s->auth_user) {
		smtp_reply(s, "503 5.5.1 Already authenticated");
		return -1;
	}
	if (s->state != SMTP_S_READY) {
		smtp_reply(s, "503 5.5.1 AUTH not allowed during a mail transaction");
		return -1;
	}
	return 0;
}

/* ---- proceeds ---- */

static void
do_helo(struct smtp_session *s, struct smtp_command *c)
{
	smtp_transaction_reset(s);
	str_lcpy(s->helo, c->arg, sizeof(s->helo));
	s->esmtp = 0;
	s->state = SMTP_S_READY;
	smtp_reply(s, "250 %s", s->d->svc.conf->hostname);
}

static void
do_ehlo(struct smtp_session *s, struct smtp_command *c)
{
	smtp_transaction_reset(s);
	str_lcpy(s->helo, c->arg, sizeof(s->helo));
	s->esmtp = 1;
	s->state = SMTP_S_READY;
	smtp_reply(s, "250-%s Hello %s [%s]", s->d->svc.conf->hostname, s->helo, s->base.peer.ip);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %llu", (unsigned long long)db_setting_int(s->d->svc.db, ST_MAX_MESSAGE_SIZE));
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-SMTPUTF8");
	if (!s->base.tls && s->d->svc.tls)
		smtp_reply(s, "250-STARTTLS");
	if (smtp_auth_allowed(s) && s->auth_user == NULL)
		smtp_reply(s, "250-AUTH PLAIN LOGIN");
	smtp_reply(s, "250 ENHANCEDSTATUSCODES");
}

static void
do_mail(struct smtp_session *s, struct smtp_command *c)
{
	uint64_t max = (uint64_t)db_setting_int(s->d->svc.db, ST_MAX_MESSAGE_SIZE);

	if (c->has_size && c->size > max) {
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum message size (%llu bytes)",
		    (unsigned long long)max);
		return;
	}
	if (c->addr.utf8 && !c->smtputf8) {
		smtp_reply(s, "553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter");
		return;
	}
	addr_format(&c->addr, s->from_text, sizeof(s->from_text));
	/* <> (read receipts, vacation replies, bounces) claims no address:
	 * nothing to check it against */
	if (s->auth_user && c->addr.local[0]) {
		int ok = db_sender_allowed(s->d->svc.db, s->auth_user, s->from_text) == 1;
		if (!ok) {
			smtp_reply(s, "553 5.7.1 Sender address <%s> not owned by user %s", s->from_text, s->auth_user);
			s->from_text[0] = '\0';
			return;
		}
	}
	if (smtp_sender_check(s, &c->addr) < 0)
		return;
	s->from = c->addr;
	s->smtputf8 = c->smtputf8;
	s->body8 = c->body == SMTP_BODY_8BITMIME;
	s->declared_size = c->has_size ? c->size : 0;
	str_random_hex(s->qid, 8);
	s->state = SMTP_S_MAIL;
	log_info("%016llx smtp mail id=%s from=<%s> size=%llu", (unsigned long long)s->base.id, s->qid,
	    s->from_text, (unsigned long long)s->declared_size);
	smtp_reply(s, "250 2.1.0 Sender <%s> ok", s->from_text);
}

static void
do_rcpt(struct smtp_session *s, struct smtp_command *c)
{
	struct smtp_rcpt r;

	memset(&r, 0, sizeof(r));
	if (c->addr.utf8 && !s->smtputf8) {
		smtp_reply(s, "553 5.6.7 Non-ASCII address requires SMTPUTF8 on MAIL");
		return;
	}
	if (smtp_rcpt_check(s, &c->addr, &r) < 0) {
		/* rejected recipients count: address harvesting ends at smtp_max_errors */
		smtp_count_error(s);
		return;
	}
	s->rcpts = xrealloc(s->rcpts, (s->nrcpts + 1) * sizeof(*s->rcpts));
	s->rcpts[s->nrcpts++] = r;
	s->state = SMTP_S_RCPT;
	smtp_reply(s, "250 2.1.5 Recipient <%s> ok", r.addr);
}

static void
do_data(struct smtp_session *s, struct smtp_command *c)
{
	if (smtp_data_begin(s) < 0) {
		smtp_reply(s, "451 4.3.0 Local error in processing, try again later");
		return;
	}
	s->state = SMTP_S_DATA;
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void
do_rset(struct smtp_session *s, struct smtp_command *c)
{
	smtp_transaction_reset(s);
	if (s->state != SMTP_S_CONNECTED)
		s->state = SMTP_S_READY;
	smtp_reply(s, "250 2.0.0 Ok");
}

static void
do_noop(struct smtp_session *s, struct smtp_command *c)
{
	smtp_reply(s, "250 2.0.0 Ok");
}

static void
do_quit(struct smtp_session *s, struct smtp_command *c)
{
	smtp_reply(s, "221 2.0.0 %s Bye", s->d->svc.conf->hostname);
	session_close_after_reply(&s->base);
}

static void
do_help(struct smtp_session *s, struct smtp_command *c)
{
	smtp_reply(s, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY STARTTLS AUTH");
	smtp_reply(s, "214 2.0.0 onebox, see RFC 5321");
}

static void
do_vrfy(struct smtp_session *s, struct smtp_command *c)
{
	smtp_reply(s, "252 2.5.0 Cannot verify addresses; send the message and delivery will be attempted");
}

static void
do_starttls(struct smtp_session *s, struct smtp_command *c)
{
	if (s->d->svc.tls == NULL) {
		smtp_reply(s, "454 4.7.0 TLS not available");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	session_starttls(&s->base, s->d->svc.tls);
}

static void
do_auth(struct smtp_session *s, struct smtp_command *c)
{
	smtp_cmd_auth(s, c->arg);
}

static void
do_bdat(struct smtp_session *s, struct smtp_command *c)
{
	smtp_reply(s, "502 5.5.1 BDAT not supported (CHUNKING not offered)");
}

static void
do_unknown(struct smtp_session *s, struct smtp_command *c)
{
	smtp_reply(s, "500 5.5.2 Command unrecognized");
	smtp_count_error(s);
}

static const struct smtp_cmdtab commands[] = {
	{ SMTP_CMD_HELO, NULL, do_helo },
	{ SMTP_CMD_EHLO, NULL, do_ehlo },
	{ SMTP_CMD_MAIL, check_mail, do_mail },
	{ SMTP_CMD_RCPT, check_rcpt, do_rcpt },
	{ SMTP_CMD_DATA, check_data, do_data },
	{ SMTP_CMD_BDAT, check_helo_done, do_bdat },
	{ SMTP_CMD_RSET, NULL, do_rset },
	{ SMTP_CMD_NOOP, NULL, do_noop },
	{ SMTP_CMD_QUIT, NULL, do_quit },
	{ SMTP_CMD_HELP, NULL, do_help },
	{ SMTP_CMD_VRFY, NULL, do_vrfy },
	{ SMTP_CMD_EXPN, NULL, do_vrfy },
	{ SMTP_CMD_STARTTLS, check_starttls, do_starttls },
	{ SMTP_CMD_AUTH, check_auth, do_auth },
	{ SMTP_CMD_UNKNOWN, NULL, do_unknown },
};

/*
 * too_many_commands - smtp_max_commands_before_mail: every command counts
 * (MAIL, RCPT, RSET, NOOP, bad ones...) until a message is delivered,
 * which resets the count (smtp-deliver.c), so MAIL/RSET loops are cut as
 * well as NOOP loops.  The recipients accepted in the open transaction are
 * allowed on top, so a message with many recipients is never cut.  QUIT
 * is not counted.  Returns 1 (and closes with 421) over the limit.
 */
static int
too_many_commands(struct smtp_session *s)
{
	uint64_t limit = (uint64_t)db_setting_int(s->d->svc.db, ST_SMTP_MAX_COMMANDS_BEFORE_MAIL);

	if (++s->cmds_without_message <= limit + s->nrcpts)
		return 0;
	log_info("%016llx smtp too many commands address=%s", (unsigned long long)s->base.id, s->base.peer.ip);
	smtp_reply(s, "421 4.7.0 %s Too many commands without a message, closing", s->d->svc.conf->hostname);
	session_close_after_reply(&s->base);
	return 1;
}

static void
smtp_dispatch(struct smtp_session *s, char *line, size_t len)
{
	struct smtp_command c;
	struct smtp_parse_error e;

	db_changed(s->d->svc.db);
	log_debug("%016llx smtp command \"%.*s\"", (unsigned long long)s->base.id,
	    str_casecmp_prefix(line, "AUTH ") ? 4 : (int)len, line);
	int r = smtp_parse_command(line, len, s->smtputf8, &c, &e);
	if ((r < 0 || c.cmd != SMTP_CMD_QUIT) && too_many_commands(s))
		return;
	if (r < 0) {
		if (e.code == 500) {
			do_unknown(s, &c);
			return;
		}
		smtp_reply(s, "%d %s %s", e.code, e.enhanced, e.text);
		smtp_count_error(s);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct smtp_cmdtab *t = &commands[i];
		if (t->cmd != c.cmd)
			continue;
		if (t->check && t->check(s, &c) < 0) {
			smtp_count_error(s);
			return;
		}
		t->proceed(s, &c);
		return;
	}
}

/*
 * smtp_command - one command line.  An AUTH line may carry credentials
 * (the initial response); it is wiped once handled, whatever the answer
 * was (AUTH refused on port 25, in a transaction, a syntax error), so no
 * password stays in the input buffer.
 */
static void
smtp_command(struct smtp_session *s, char *line, size_t len)
{
	int auth = str_casecmp_prefix(line, "AUTH ") || str_casecmp_prefix(line, "AUTH\t");

	smtp_dispatch(s, line, len);
	if (auth)
		explicit_bzero(line, len);
}

/* ---- the session base's hooks ---- */

static struct smtp_session *
smtp_of(struct session *b)
{
	return (struct smtp_session *)b;	/* the base is the first member */
}

static int
smtp_max_errors(struct session *b)
{
	return (int)db_setting_int(b->svc->db, ST_SMTP_MAX_ERRORS);
}

static uint64_t
smtp_idle_ms(struct session *b)
{
	return 1000 * (uint64_t)db_setting_int(b->svc->db, ST_SMTP_IDLE_TIMEOUT);
}

static uint64_t
smtp_life_ms(struct session *b)
{
	return 1000 * (uint64_t)db_setting_int(b->svc->db, ST_SMTP_SESSION_TIMEOUT);
}

static void
smtp_greeting(struct session *b)
{
	smtp_reply(smtp_of(b), "220 %s ESMTP onebox", b->svc->conf->hostname);
}

static enum session_want
smtp_want(struct session *b)
{
	struct smtp_session *s = smtp_of(b);

	switch (s->state) {
	case SMTP_S_DATA:
		return SESSION_WANT_STREAM;
	case SMTP_S_COMMIT:
		return SESSION_WANT_NOTHING;
	case SMTP_S_AUTH:
		return s->auth_req ? SESSION_WANT_NOTHING : SESSION_WANT_LINE;
	default:
		return SESSION_WANT_LINE;
	}
}

static void
smtp_line(struct session *b, char *line, size_t len)
{
	struct smtp_session *s = smtp_of(b);

	if (s->state == SMTP_S_AUTH)
		smtp_auth_line(s, line);
	else
		smtp_command(s, line, len);
}

/* smtp_stream - DATA: the message body, up to the final "." */
static int
smtp_stream(struct session *b)
{
	struct smtp_session *s = smtp_of(b);

	if (smtp_data_feed(s) == 0)
		return 0;
	smtp_deliver(s);
	return 1;
}

static void
smtp_tls_ready(struct session *b)
{
	struct smtp_session *s = smtp_of(b);

	/* RFC 3207 §4.2: forget everything said before TLS */
	tls_describe(b->io->ssl, s->tls_desc, sizeof(s->tls_desc));
	s->state = SMTP_S_CONNECTED;
	s->helo[0] = '\0';
	free(s->auth_user);
	s->auth_user = NULL;
}

static void
smtp_say(struct session *b, enum session_say what)
{
	struct smtp_session *s = smtp_of(b);
	const char *host = b->svc->conf->hostname;

	switch (what) {
	case SESSION_SAY_LINE_TOO_LONG:
		smtp_reply(s, "500 5.5.2 Line too long");
		break;
	case SESSION_SAY_TOO_MANY_ERRORS:
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing connection", host);
		break;
	case SESSION_SAY_TIMEOUT:
		smtp_reply(s, "421 4.4.2 %s Timeout, closing connection", host);
		break;
	case SESSION_SAY_LIFETIME:
		smtp_reply(s, "421 4.4.2 %s Session too long, closing connection", host);
		break;
	case SESSION_SAY_SHUTDOWN:
		smtp_reply(s, "421 4.3.2 %s Service shutting down", host);
		break;
	case SESSION_SAY_NONE:
		break;
	}
}

/* smtp_must_finish - a message being committed is answered first; one
 * being received is finished first when the server stops (not when the
 * session has lived too long). */
static int
smtp_must_finish(struct session *b, enum session_say why)
{
	struct smtp_session *s = smtp_of(b);

	return s->state == SMTP_S_COMMIT || (s->state == SMTP_S_DATA && why == SESSION_SAY_SHUTDOWN);
}

static const char *
smtp_state_name(struct session *b)
{
	static const char *const names[] = {
		[SMTP_S_CONNECTED] = "connected", [SMTP_S_READY] = "ready", [SMTP_S_MAIL] = "mail",
		[SMTP_S_RCPT] = "rcpt", [SMTP_S_DATA] = "data", [SMTP_S_COMMIT] = "commit",
		[SMTP_S_AUTH] = "auth",
	};
	return names[smtp_of(b)->state];
}

static int
smtp_release(struct session *b)
{
	struct smtp_session *s = smtp_of(b);

	if (s->state == SMTP_S_COMMIT) {
		/* the commit thread still owns files of this session: however
		 * many times it is closed (the client left, then the shutdown
		 * deadline cut every session), it is freed only by
		 * delivery_done, which leaves this state first */
		s->gone = 1;
		return 1;
	}
	if (s->auth_req)
		auth_client_cancel(b->svc->auth, s->auth_req);
	s->auth_req = 0;
	smtp_transaction_reset(s);
	buf_free(&s->data_out);
	return 0;
}

static void
smtp_free(struct session *b)
{
	struct smtp_session *s = smtp_of(b);

	free(s->auth_user);
	free(s);
}

static const struct session_ops smtp_session_ops = {
	.proto = "smtp",
	.line_max = SMTP_LINE_MAX,
	.out_high = SMTP_OUT_HIGH,
	.max_errors = smtp_max_errors,
	.idle_ms = smtp_idle_ms,
	.life_ms = smtp_life_ms,
	.greeting = smtp_greeting,
	.want = smtp_want,
	.line = smtp_line,
	.stream = smtp_stream,
	.tls_ready = smtp_tls_ready,
	.say = smtp_say,
	.must_finish = smtp_must_finish,
	.state_name = smtp_state_name,
	.release = smtp_release,
	.free = smtp_free,
};

void
smtp_session_start(struct service *svc, int fd, const struct front_peer *peer)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->d = (struct smtpd *)svc;	/* the service is the first member of smtpd */
	s->spool_fd = -1;
	session_start(&s->base, svc, &smtp_session_ops, fd, peer);
}

/* smtp_session_shutdown - after a commit: the goodbye that a shutdown or
 * the session's time limit put off. */
void
smtp_session_shutdown(struct smtp_session *s)
{
	session_end(&s->base, s->base.ending != SESSION_SAY_NONE ? s->base.ending : SESSION_SAY_SHUTDOWN);
}
