/*
 * pop3-auth - USER/PASS (RFC 1939) and AUTH (RFC 5034) with the SASL
 * mechanisms of sasl.h (PLAIN, LOGIN), checked by authd exactly as for
 * submission.
 *
 * Passwords are taken only under TLS, or on a listener the admin listed in
 * plaintext_auth_listen; elsewhere USER, PASS and AUTH answer
 * "-ERR [AUTH] ... STLS first" and CAPA does not offer them.
 *
 * The "-ERR [AUTH]" answer of a failed login comes auth_fail_delay_ms
 * after the request left for authd (not after its answer: how long the
 * check took must not show); an attempt that authd's throttle refused
 * (too many failures from the client's network or for the account,
 * counted over every service) gets [SYS/TEMP] at once, without a password
 * check.  An empty user name or password is refused at once without
 * asking authd.  Failed and throttled logins count towards the error cap
 * (session_count_error).  A good password opens the maildrop at once;
 * [IN-USE] there leaves the session in AUTHORIZATION (RFC 2449 §8.1.2).
 *
 * The password (PASS) and the SASL response (AUTH) are wiped from the
 * command line in the input buffer once read, whatever the answer.
 */
#include "pop3.h"
#include "log.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>

int
pop3_auth_allowed(struct pop3_session *s)
{
	return s->base.tls || s->base.peer.plaintext_ok;
}

void
pop3_auth_cancel(struct pop3_session *s)
{
	if (s->auth_req)
		auth_client_cancel(s->d->svc.auth, s->auth_req);
	s->auth_req = 0;
}

static void
login_opened(struct pop3_session *s, const char *err_resp)
{
	const char *user = s->user_pending;

	if (session_closing(&s->base)) {	/* shutting down meanwhile */
		pop3_mailbox_close(s);
		free(s->user_pending);
		s->user_pending = NULL;
		return;
	}
	if (err_resp) {
		log_info("%016llx pop3 login address=%s user=%s result=\"%s\"", (unsigned long long)s->base.id,
		    s->base.peer.ip, user, err_resp);
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "%s", err_resp);
		free(s->user_pending);
	} else {
		free(s->user);
		s->user = s->user_pending;
		s->state = POP3_S_TRANSACTION;
		log_info("%016llx pop3 login address=%s user=%s messages=%zu octets=%llu tls=%s",
		    (unsigned long long)s->base.id, s->base.peer.ip, s->user, s->mbox.n,
		    (unsigned long long)s->mbox.octets, s->base.tls ? "yes" : "no");
		pop3_reply(s, "+OK Logged in, %zu messages (%llu octets)", s->mbox.n,
		    (unsigned long long)s->mbox.octets);
	}
	s->user_pending = NULL;
	io_resume_read(s->base.io);
	pop3_process(s);
}

/* login_ok - the password is good: open the mailbox (reading stays paused). */
static void
login_ok(struct pop3_session *s, const char *user)
{
	free(s->user_pending);
	s->user_pending = xstrdup(user);
	pop3_mailbox_open(s, user, login_opened);
}

static void
auth_done(void *arg, int result, const char *user, uint64_t sent_ms)
{
	struct pop3_session *s = arg;
	uint64_t delay = (uint64_t)db_setting_int(s->d->svc.db, ST_AUTH_FAIL_DELAY_MS);

	s->auth_req = 0;
	if (session_closing(&s->base))
		return;
	if (result == AUTH_OK) {
		login_ok(s, user);
		return;
	}
	s->state = POP3_S_AUTHORIZATION;
	if (result == AUTH_THROTTLED) {
		log_info("%016llx pop3 auth address=%s result=throttled", (unsigned long long)s->base.id, s->base.peer.ip);
		pop3_reply(s, "-ERR [SYS/TEMP] Too many failed logins, try again later");
		pop3_count_error(s);
	} else if (result == AUTH_TEMPFAIL) {
		log_warnx("%016llx pop3 auth address=%s result=tempfail", (unsigned long long)s->base.id, s->base.peer.ip);
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication failure, try again later");
	} else {
		log_info("%016llx pop3 auth address=%s result=failed", (unsigned long long)s->base.id, s->base.peer.ip);
		session_reply_at(&s->base, sent_ms + delay, "-ERR [AUTH] Authentication failed");
		pop3_count_error(s);	/* at the cap, closes after the delayed reply */
		return;
	}
	if (session_closing(&s->base))
		return;		/* too many errors */
	io_resume_read(s->base.io);
	pop3_process(s);
}

static void
auth_check(struct pop3_session *s, const char *user, const char *pass)
{
	if (user[0] == '\0' || pass[0] == '\0') {
		log_info("%016llx pop3 auth address=%s result=failed reason=empty", (unsigned long long)s->base.id,
		    s->base.peer.ip);
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "-ERR [AUTH] Authentication failed");
		pop3_count_error(s);
		return;
	}
	s->state = POP3_S_AUTH_WAIT;
	io_pause_read(s->base.io);
	s->auth_req = auth_client_request(s->d->svc.auth, s->base.peer.ip, user, pass, auth_done, s);
}

/* need_tls - 1 (and answered) if passwords are not allowed here yet. */
static int
need_tls(struct pop3_session *s)
{
	if (pop3_auth_allowed(s))
		return 0;
	pop3_reply(s, "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections, use STLS first");
	return 1;
}

void
pop3_cmd_user(struct pop3_session *s, struct pop3_command *c)
{
	if (need_tls(s))
		return;
	free(s->user_arg);
	s->user_arg = xstrdup(c->arg);
	pop3_reply(s, "+OK Send your password");
}

static void
pass(struct pop3_session *s, const char *pw)
{
	if (need_tls(s))
		return;
	if (s->user_arg == NULL) {
		pop3_reply(s, "-ERR Send USER first");
		pop3_count_error(s);
		return;
	}
	char *user = s->user_arg;
	s->user_arg = NULL;
	auth_check(s, user, pw);
	free(user);
}

void
pop3_cmd_pass(struct pop3_session *s, struct pop3_command *c)
{
	pass(s, c->arg);
	explicit_bzero(c->arg, strlen(c->arg));
}

/* sasl_result - act on what the SASL exchange (sasl.h) asks for. */
static void
sasl_result(struct pop3_session *s, enum sasl_result r)
{
	switch (r) {
	case SASL_CHALLENGE:
		s->state = POP3_S_SASL;
		pop3_reply(s, "+ %s", sasl_challenge(&s->sasl));
		return;
	case SASL_DONE:
		auth_check(s, s->sasl.user, s->sasl.pass);
		sasl_wipe(&s->sasl);
		return;
	case SASL_CANCELLED:
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "-ERR Authentication cancelled");
		return;
	case SASL_BAD_MECH:
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "-ERR Unsupported authentication mechanism");
		return;
	case SASL_BAD_INPUT:
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "-ERR [AUTH] Cannot decode the AUTH response");
		pop3_count_error(s);
		return;
	}
}

void
pop3_cmd_auth(struct pop3_session *s, struct pop3_command *c)
{
	if (c->mech == NULL) {
		/* RFC 1734 clients probe with a bare AUTH */
		pop3_reply(s, "+OK Mechanisms follow");
		if (pop3_auth_allowed(s)) {
			char mechs[64];
			str_lcpy(mechs, sasl_offered(), sizeof(mechs));
			for (char *save = NULL, *m = strtok_r(mechs, " ", &save); m; m = strtok_r(NULL, " ", &save))
				pop3_reply(s, "%s", m);
		}
		pop3_reply(s, ".");
		return;
	}
	if (!need_tls(s))
		sasl_result(s, sasl_start(&s->sasl, c->mech, c->resp));
	if (c->resp != NULL)
		explicit_bzero(c->resp, strlen(c->resp));
}

void
pop3_sasl_line(struct pop3_session *s, char *line)
{
	sasl_result(s, sasl_step(&s->sasl, line));
	explicit_bzero(line, strlen(line));
}
