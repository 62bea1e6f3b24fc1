/*
 * pop3-auth - USER/PASS (RFC 1939) and AUTH PLAIN (RFC 5034, SASL PLAIN
 * RFC 4616), checked by authd exactly as for submission.
 *
 * Passwords are taken only under TLS, or on a listener the admin listed in
 * plaintext_auth_listen; elsewhere USER, PASS and AUTH answer
 * "-ERR [AUTH] ... STLS first" and CAPA does not offer them.
 *
 * Failures use the shared throttle (auth-client.h): the "-ERR [AUTH]"
 * answer of a failed login comes after auth_fail_delay_ms, and a client
 * address with auth_max_failures failures within auth_throttle_seconds is
 * refused with [SYS/TEMP] until the window has passed, without a password
 * check.  A good password opens the maildrop at once; [IN-USE] there
 * leaves the session in AUTHORIZATION (RFC 2449 §8.1.2).
 */
#include "pop3.h"
#include "log.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
auth_done(void *arg, int result, const char *user)
{
	struct pop3_session *s = arg;
	struct db *db = s->d->svc.db;
	uint64_t window = 1000 * (uint64_t)db_setting_int(db, ST_AUTH_THROTTLE_SECONDS);

	s->auth_req = 0;
	if (session_closing(&s->base))
		return;
	if (result == AUTH_OK) {
		login_ok(s, user);
		return;
	} else if (result == AUTH_TEMPFAIL) {
		log_warnx("%016llx pop3 auth address=%s result=tempfail", (unsigned long long)s->base.id, s->base.peer.ip);
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication failure, try again later");
	} else {
		int n = auth_throttle_failed(s->base.peer.ip, ev_clock_ms(), window);
		log_info("%016llx pop3 auth address=%s result=failed failures=%d", (unsigned long long)s->base.id,
		    s->base.peer.ip, n);
		s->base.errors++;
		s->state = POP3_S_AUTHORIZATION;
		session_reply_later(&s->base, (uint64_t)db_setting_int(db, ST_AUTH_FAIL_DELAY_MS),
		    "-ERR [AUTH] Authentication failed");
		return;
	}
	io_resume_read(s->base.io);
	pop3_process(s);
}

/* throttled - 1 (and answered) if this address must wait. */
static int
throttled(struct pop3_session *s)
{
	struct db *db = s->d->svc.db;

	if (!auth_throttle_blocked(s->base.peer.ip, ev_clock_ms(), (int)db_setting_int(db, ST_AUTH_MAX_FAILURES),
	    1000 * (uint64_t)db_setting_int(db, ST_AUTH_THROTTLE_SECONDS)))
		return 0;
	log_info("%016llx pop3 auth address=%s result=throttled", (unsigned long long)s->base.id, s->base.peer.ip);
	pop3_reply(s, "-ERR [SYS/TEMP] Too many failed logins from your address, try again later");
	return 1;
}

static void
auth_check(struct pop3_session *s, const char *user, const char *pass)
{
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

void
pop3_cmd_pass(struct pop3_session *s, struct pop3_command *c)
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
	if (!throttled(s))
		auth_check(s, user, c->arg);
	explicit_bzero(c->arg, strlen(c->arg));
	free(user);
}

static void
auth_plain(struct pop3_session *s, const char *b64)
{
	char user[AUTH_USER_MAX + 1], pass[AUTH_PASS_MAX + 1];

	if (strcmp(b64, "*") == 0) {
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "-ERR Authentication cancelled");
		return;
	}
	if (sasl_plain_decode(b64, user, sizeof(user), pass, sizeof(pass)) < 0) {
		s->state = POP3_S_AUTHORIZATION;
		pop3_reply(s, "-ERR [AUTH] Cannot decode the AUTH PLAIN response");
		pop3_count_error(s);
		return;
	}
	auth_check(s, user, pass);
	explicit_bzero(pass, sizeof(pass));
}

void
pop3_cmd_auth(struct pop3_session *s, struct pop3_command *c)
{
	if (c->mech == NULL) {
		/* RFC 1734 clients probe with a bare AUTH */
		pop3_reply(s, "+OK Mechanisms follow");
		if (pop3_auth_allowed(s))
			pop3_reply(s, "PLAIN");
		pop3_reply(s, ".");
		return;
	}
	if (need_tls(s))
		return;
	if (strcasecmp(c->mech, "PLAIN") != 0) {
		pop3_reply(s, "-ERR Unsupported authentication mechanism");
		return;
	}
	if (throttled(s))
		return;
	if (c->resp != NULL) {
		auth_plain(s, strcmp(c->resp, "=") == 0 ? "" : c->resp);
		explicit_bzero(c->resp, strlen(c->resp));
		return;
	}
	s->state = POP3_S_SASL;
	pop3_reply(s, "+ ");
}

void
pop3_sasl_line(struct pop3_session *s, char *line)
{
	auth_plain(s, line);
	explicit_bzero(line, strlen(line));
}
