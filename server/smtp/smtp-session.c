/*
 * smtp-session - one SMTP conversation: the command table and the state
 * machine (RFC 5321, with RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 1870 SIZE,
 * RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2920 PIPELINING, RFC 2034
 * enhanced status codes).
 *
 * Commands are read one line at a time from the input buffer; a pipelining
 * client's commands wait in that buffer while a reply is pending on a slow
 * step (password check, group commit), because reading is paused then.
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

static uint64_t session_counter;

void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	io_vreply(s->io, s->id, "smtp", fmt, ap);
	va_end(ap);
}

void
smtp_count_error(struct smtp_session *s)
{
	if (++s->errors >= db_setting_int(s->d->db, ST_SMTP_MAX_ERRORS)) {
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing connection", s->d->conf->hostname);
		s->state = SMTP_S_CLOSING;
		io_flush_close(s->io);
	}
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
	return s->svc == SVC_SUBMISSION || s->svc == SVC_SUBMISSIONS;
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
	if (s->svc == SVC_SUBMISSION && !s->tls && !s->peer.plaintext_ok) {
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
	if (s->nrcpts >= (size_t)db_setting_int(s->d->db, ST_MAX_RECIPIENTS)) {
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
	if (s->tls) {
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
	if (!s->tls && !s->peer.plaintext_ok) {
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
	smtp_reply(s, "250 %s", s->d->conf->hostname);
}

static void
do_ehlo(struct smtp_session *s, struct smtp_command *c)
{
	smtp_transaction_reset(s);
	str_lcpy(s->helo, c->arg, sizeof(s->helo));
	s->esmtp = 1;
	s->state = SMTP_S_READY;
	smtp_reply(s, "250-%s Hello %s [%s]", s->d->conf->hostname, s->helo, s->peer.ip);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %llu", (unsigned long long)db_setting_int(s->d->db, ST_MAX_MESSAGE_SIZE));
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-SMTPUTF8");
	if (!s->tls && s->d->tls)
		smtp_reply(s, "250-STARTTLS");
	if (smtp_auth_allowed(s) && s->auth_user == NULL)
		smtp_reply(s, "250-AUTH PLAIN LOGIN");
	smtp_reply(s, "250 ENHANCEDSTATUSCODES");
}

static void
do_mail(struct smtp_session *s, struct smtp_command *c)
{
	uint64_t max = (uint64_t)db_setting_int(s->d->db, ST_MAX_MESSAGE_SIZE);

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
	if (s->auth_user) {
		int ok = c->addr.local[0] && db_sender_allowed(s->d->db, s->auth_user, s->from_text) == 1;
		if (!ok) {
			smtp_reply(s, "553 5.7.1 Sender address <%s> not owned by user %s", s->from_text, s->auth_user);
			s->from_text[0] = '\0';
			return;
		}
	}
	s->from = c->addr;
	s->smtputf8 = c->smtputf8;
	s->body8 = c->body == SMTP_BODY_8BITMIME;
	s->declared_size = c->has_size ? c->size : 0;
	str_random_hex(s->qid, 8);
	s->state = SMTP_S_MAIL;
	log_info("%016llx smtp mail id=%s from=<%s> size=%llu", (unsigned long long)s->id, s->qid,
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
	smtp_reply(s, "221 2.0.0 %s Bye", s->d->conf->hostname);
	s->state = SMTP_S_CLOSING;
	io_flush_close(s->io);
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
	if (s->d->tls == NULL) {
		smtp_reply(s, "454 4.7.0 TLS not available");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	s->state = SMTP_S_TLS;
	if (io_starttls(s->io, s->d->tls) < 0) {
		log_warnx("%016llx smtp starttls failed", (unsigned long long)s->id);
		s->state = SMTP_S_CLOSING;
		io_flush_close(s->io);
	}
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
	uint64_t limit = (uint64_t)db_setting_int(s->d->db, ST_SMTP_MAX_COMMANDS_BEFORE_MAIL);

	if (++s->cmds_without_message <= limit + s->nrcpts)
		return 0;
	log_info("%016llx smtp too many commands address=%s", (unsigned long long)s->id, s->peer.ip);
	smtp_reply(s, "421 4.7.0 %s Too many commands without a message, closing", s->d->conf->hostname);
	s->state = SMTP_S_CLOSING;
	io_flush_close(s->io);
	return 1;
}

static void
smtp_command(struct smtp_session *s, char *line, size_t len)
{
	struct smtp_command c;
	struct smtp_parse_error e;

	db_changed(s->d->db);
	log_debug("%016llx smtp command \"%.*s\"", (unsigned long long)s->id,
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

/* smtp_process - run as many buffered commands as the state allows. */
void
smtp_process(struct smtp_session *s)
{
	char *line;
	size_t len;

	while (s->io && !s->io->dead) {
		/* A client that pipelines without reading the replies: stop
		 * taking commands until it has read them (IO_LOWAT resumes). */
		if (io_pending_out(s->io) > SMTP_OUT_HIGH && s->state != SMTP_S_DATA) {
			s->out_blocked = 1;
			io_pause_read(s->io);
			return;
		}
		switch (s->state) {
		case SMTP_S_DATA:
			if (smtp_data_feed(s) == 0)
				return;
			smtp_deliver(s);
			continue;
		case SMTP_S_COMMIT:
		case SMTP_S_TLS:
		case SMTP_S_CLOSING:
			return;
		case SMTP_S_AUTH:
			if (s->auth_req || ev_timer_pending(&s->delay_timer))
				return;
			break;
		default:
			break;
		}
		int r = io_getline(s->io, SMTP_LINE_MAX, &line, &len);
		if (r == 0)
			return;
		if (r < 0) {
			smtp_reply(s, "500 5.5.2 Line too long");
			if (!io_skip_line(s->io)) {
				/* the rest of the line arrives later: drop it then */
				s->skip_line = 1;
				return;
			}
			smtp_count_error(s);
			continue;
		}
		if (s->skip_line) {
			/* tail of an over-long line */
			s->skip_line = 0;
			io_line_done(s->io);
			smtp_count_error(s);
			continue;
		}
		if (s->state == SMTP_S_AUTH)
			smtp_auth_line(s, line);
		else
			smtp_command(s, line, len);
		if (s->io && s->io->line_used)
			io_line_done(s->io);
	}
}

static void
smtp_io(struct io *io, enum io_event ev, void *arg)
{
	struct smtp_session *s = arg;

	switch (ev) {
	case IO_DATAIN:
		smtp_process(s);
		break;
	case IO_TLSREADY:
		/* RFC 3207 §4.2: forget everything said before TLS */
		s->tls = 1;
		tls_describe(s->io->ssl, s->tls_desc, sizeof(s->tls_desc));
		s->state = SMTP_S_CONNECTED;
		s->helo[0] = '\0';
		free(s->auth_user);
		s->auth_user = NULL;
		if (s->svc == SVC_SUBMISSIONS && s->io->bytes_out == 0)
			smtp_reply(s, "220 %s ESMTP onebox", s->d->conf->hostname);
		smtp_process(s);
		break;
	case IO_LOWAT:
		if (s->out_blocked) {
			s->out_blocked = 0;
			io_resume_read(s->io);
			smtp_process(s);
		}
		break;
	case IO_TIMEOUT:
		if (s->state == SMTP_S_COMMIT) {
			io_set_timeout(s->io, io->timeout_ms);	/* keep the idle timer */
			break;
		}
		if (s->state == SMTP_S_TLS || io_pending_out(s->io) > 0) {
			/* no TLS yet, or the client does not read: a 421 could not leave */
			log_info("%016llx smtp timeout address=%s", (unsigned long long)s->id, s->peer.ip);
			smtp_session_close(s);
			break;
		}
		log_info("%016llx smtp timeout address=%s", (unsigned long long)s->id, s->peer.ip);
		smtp_reply(s, "421 4.4.2 %s Timeout, closing connection", s->d->conf->hostname);
		s->state = SMTP_S_CLOSING;
		io_flush_close(s->io);
		break;
	case IO_CLOSED:
		if (io->error && s->state != SMTP_S_CLOSING)
			log_info("%016llx smtp disconnect address=%s error=\"%s\"", (unsigned long long)s->id,
			    s->peer.ip, io->error);
		smtp_session_close(s);
		break;
	}
}

/* smtp_life_over - smtp_session_timeout reached, whatever the client does. */
static void
smtp_life_over(void *arg)
{
	struct smtp_session *s = arg;

	log_info("%016llx smtp session-timeout address=%s", (unsigned long long)s->id, s->peer.ip);
	if (s->state == SMTP_S_COMMIT) {
		s->shutting_down = 1;	/* answer the message, then 421 */
		return;
	}
	if (s->state == SMTP_S_TLS) {
		smtp_session_close(s);
		return;
	}
	smtp_reply(s, "421 4.4.2 %s Session too long, closing connection", s->d->conf->hostname);
	s->state = SMTP_S_CLOSING;
	io_flush_close(s->io);
}

static void
smtp_delay_done(void *arg)
{
	struct smtp_session *s = arg;
	if (s->state == SMTP_S_CLOSING)
		return;
	smtp_reply(s, "%s", s->delayed_reply);
	if (s->state == SMTP_S_AUTH)
		s->state = SMTP_S_READY;
	io_resume_read(s->io);
	smtp_process(s);
}

void
smtp_session_start(struct smtpd *d, int fd, const struct front_peer *peer)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	enum conf_service svc = peer->svc;

	s->id = ((uint64_t)getpid() << 32) | ++session_counter;
	s->d = d;
	s->svc = svc;
	s->spool_fd = -1;
	s->peer = *peer;
	ev_timer_init(&s->delay_timer, smtp_delay_done, s);
	ev_timer_init(&s->life_timer, smtp_life_over, s);
	ev_timer_add(d->loop, &s->life_timer, 1000 * (uint64_t)db_setting_int(d->db, ST_SMTP_SESSION_TIMEOUT));
	s->io = io_new(d->loop, fd, smtp_io, s);
	io_set_timeout(s->io, 1000 * (uint64_t)db_setting_int(d->db, ST_SMTP_IDLE_TIMEOUT));
	s->next = d->sessions;
	if (d->sessions)
		d->sessions->prev = s;
	d->sessions = s;
	front_opened(d->front, s->peer.ip);
	log_info("%016llx smtp connect address=%s port=%d local=%s:%d service=%s", (unsigned long long)s->id,
	    s->peer.ip, s->peer.port, s->peer.local_ip, s->peer.local_port, conf_service_key(svc));
	if (svc == SVC_SUBMISSIONS) {
		s->state = SMTP_S_TLS;
		if (d->tls == NULL || io_starttls(s->io, d->tls) < 0) {
			smtp_session_close(s);
			return;
		}
		return;
	}
	smtp_reply(s, "220 %s ESMTP onebox", d->conf->hostname);
}

void
smtp_session_close(struct smtp_session *s)
{
	struct smtpd *d = s->d;

	if (s->state == SMTP_S_COMMIT && !s->gone) {
		/* the commit thread still owns files of this session */
		s->gone = 1;
		io_free(&s->io);
		return;
	}
	if (s->auth_req)
		auth_client_cancel(d->auth, s->auth_req);
	ev_timer_del(d->loop, &s->delay_timer);
	ev_timer_del(d->loop, &s->life_timer);
	smtp_transaction_reset(s);
	buf_free(&s->data_out);
	io_free(&s->io);
	free(s->auth_user);
	if (s->prev)
		s->prev->next = s->next;
	else
		d->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	log_info("%016llx smtp disconnect address=%s", (unsigned long long)s->id, s->peer.ip);
	front_closed(d->front, s->peer.ip);
	free(s);
}

/* smtp_session_shutdown - the server is stopping: a session in DATA or in
 * commit may finish; the others are told 421 and closed. */
void
smtp_session_shutdown(struct smtp_session *s)
{
	s->shutting_down = 1;
	if (s->state == SMTP_S_DATA || s->state == SMTP_S_COMMIT)
		return;
	smtp_reply(s, "421 4.3.2 %s Service shutting down", s->d->conf->hostname);
	s->state = SMTP_S_CLOSING;
	io_flush_close(s->io);
}
