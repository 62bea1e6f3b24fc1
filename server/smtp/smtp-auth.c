/*
 * smtp-auth - AUTH PLAIN (RFC 4616) and AUTH LOGIN on the submission
 * listeners, only under TLS (or on a listener the admin marked plaintext_ok).
 *
 * The password check runs in authd; reading is paused meanwhile.  A failed
 * login is answered auth_fail_delay_ms after the request left for authd
 * (not after its answer: how long the check took must not show); one that
 * authd's throttle refused (too many failures from the client's network
 * or for the account, counted over every service) gets 454 at once.  An
 * empty user name or password is refused at once without asking authd:
 * no account has one.  Failed and throttled logins count towards the
 * session's error cap (session_count_error), so a client hammering a
 * throttled account is disconnected.
 *
 * The credentials are wiped from the command line (in the input buffer)
 * as soon as SASL has them, so they do not linger in memory.
 */
#include "smtp.h"
#include "log.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>

int
smtp_auth_allowed(struct smtp_session *s)
{
	return (s->base.peer.svc == SVC_SUBMISSION || s->base.peer.svc == SVC_SUBMISSIONS) &&
	    (s->base.tls || s->base.peer.plaintext_ok);
}

/* commands - take commands again after an answer from authd. */
static void
commands(struct smtp_session *s)
{
	s->state = SMTP_S_READY;
	if (session_closing(&s->base))
		return;		/* too many errors */
	io_resume_read(s->base.io);
	smtp_process(s);
}

static void
auth_done(void *arg, int result, const char *user, uint64_t sent_ms)
{
	struct smtp_session *s = arg;
	uint64_t delay = (uint64_t)db_setting_int(s->d->svc.db, ST_AUTH_FAIL_DELAY_MS);

	s->auth_req = 0;
	if (session_closing(&s->base))
		return;
	switch (result) {
	case AUTH_OK:
		free(s->auth_user);
		s->auth_user = xstrdup(user);
		log_info("%016llx smtp auth address=%s user=%s result=ok", (unsigned long long)s->base.id, s->base.peer.ip, user);
		smtp_reply(s, "235 2.7.0 Authentication successful");
		break;
	case AUTH_THROTTLED:
		log_info("%016llx smtp auth address=%s result=throttled", (unsigned long long)s->base.id, s->base.peer.ip);
		smtp_reply(s, "454 4.7.0 Too many failed logins, try again later");
		smtp_count_error(s);
		break;
	case AUTH_FAIL:
		log_info("%016llx smtp auth address=%s result=failed", (unsigned long long)s->base.id, s->base.peer.ip);
		s->state = SMTP_S_READY;
		session_reply_at(&s->base, sent_ms + delay, "535 5.7.8 Authentication credentials invalid");
		smtp_count_error(s);	/* at the cap, closes after the delayed reply */
		return;
	default:
		log_warnx("%016llx smtp auth address=%s result=tempfail", (unsigned long long)s->base.id, s->base.peer.ip);
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		break;
	}
	commands(s);
}

static void
auth_check(struct smtp_session *s, const char *user, const char *pass)
{
	if (user[0] == '\0' || pass[0] == '\0') {
		log_info("%016llx smtp auth address=%s result=failed reason=empty", (unsigned long long)s->base.id,
		    s->base.peer.ip);
		s->state = SMTP_S_READY;
		smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
		smtp_count_error(s);
		return;
	}
	s->state = SMTP_S_AUTH;
	io_pause_read(s->base.io);
	s->auth_req = auth_client_request(s->d->svc.auth, s->base.peer.ip, user, pass, auth_done, s);
}

/* sasl_result - act on what the SASL exchange (sasl.h) asks for. */
static void
sasl_result(struct smtp_session *s, enum sasl_result r)
{
	switch (r) {
	case SASL_CHALLENGE:
		s->state = SMTP_S_AUTH;
		smtp_reply(s, "334 %s", sasl_challenge(&s->sasl));
		return;
	case SASL_DONE:
		auth_check(s, s->sasl.user, s->sasl.pass);
		sasl_wipe(&s->sasl);
		return;
	case SASL_CANCELLED:
		s->state = SMTP_S_READY;
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	case SASL_BAD_MECH:
		s->state = SMTP_S_READY;
		smtp_reply(s, "504 5.5.4 Unrecognized authentication mechanism");
		return;
	case SASL_BAD_INPUT:
		s->state = SMTP_S_READY;
		smtp_reply(s, "501 5.5.2 Cannot decode the AUTH response");
		smtp_count_error(s);
		return;
	}
}

void
smtp_cmd_auth(struct smtp_session *s, char *arg)
{
	char mech[32];
	char *sp = strchr(arg, ' ');
	size_t ml = sp ? (size_t)(sp - arg) : strlen(arg);
	char *initial = sp && sp[1] ? sp + 1 : NULL;

	if (ml == 0 || ml >= sizeof(mech)) {
		smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	memcpy(mech, arg, ml);
	mech[ml] = '\0';
	sasl_result(s, sasl_start(&s->sasl, mech, initial));
	if (initial != NULL)
		explicit_bzero(initial, strlen(initial));
}

/* smtp_auth_line - a SASL continuation line. */
void
smtp_auth_line(struct smtp_session *s, char *line)
{
	sasl_result(s, sasl_step(&s->sasl, line));
	explicit_bzero(line, strlen(line));
}
