/*
 * smtp-auth - AUTH PLAIN (RFC 4616) and AUTH LOGIN on the submission
 * listeners, only under TLS (or on a listener the admin marked plaintext_ok).
 *
 * The password check runs in authd; reading is paused meanwhile.  A failed
 * login is answered after auth_fail_delay_ms, and an address with
 * auth_max_failures failures within auth_throttle_seconds is refused
 * outright until the window has passed.
 */
#include "smtp.h"
#include "log.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
smtp_auth_allowed(struct smtp_session *s)
{
	return (s->base.peer.svc == SVC_SUBMISSION || s->base.peer.svc == SVC_SUBMISSIONS) &&
	    (s->base.tls || s->base.peer.plaintext_ok);
}

static void
auth_done(void *arg, int result, const char *user)
{
	struct smtp_session *s = arg;
	struct db *db = s->d->svc.db;
	uint64_t now = ev_clock_ms();
	uint64_t window = 1000 * (uint64_t)db_setting_int(db, ST_AUTH_THROTTLE_SECONDS);

	s->auth_req = 0;
	if (session_closing(&s->base))
		return;
	if (result == AUTH_OK) {
		free(s->auth_user);
		s->auth_user = xstrdup(user);
		s->state = SMTP_S_READY;
		log_info("%016llx smtp auth address=%s user=%s result=ok", (unsigned long long)s->base.id, s->base.peer.ip, user);
		smtp_reply(s, "235 2.7.0 Authentication successful");
		io_resume_read(s->base.io);
		smtp_process(s);
		return;
	}
	if (result == AUTH_TEMPFAIL) {
		log_warnx("%016llx smtp auth address=%s result=tempfail", (unsigned long long)s->base.id, s->base.peer.ip);
		s->state = SMTP_S_READY;
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		io_resume_read(s->base.io);
		smtp_process(s);
		return;
	}
	int n = auth_throttle_failed(s->base.peer.ip, now, window);
	log_info("%016llx smtp auth address=%s result=failed failures=%d", (unsigned long long)s->base.id, s->base.peer.ip, n);
	s->base.errors++;
	s->state = SMTP_S_READY;
	session_reply_later(&s->base, (uint64_t)db_setting_int(db, ST_AUTH_FAIL_DELAY_MS),
	    "535 5.7.8 Authentication credentials invalid");
}

static void
auth_check(struct smtp_session *s, const char *user, const char *pass)
{
	s->state = SMTP_S_AUTH;
	s->auth_step = 0;
	io_pause_read(s->base.io);
	s->auth_req = auth_client_request(s->d->svc.auth, s->base.peer.ip, user, pass, auth_done, s);
}

static int
auth_throttled(struct smtp_session *s)
{
	struct db *db = s->d->svc.db;
	if (!auth_throttle_blocked(s->base.peer.ip, ev_clock_ms(), (int)db_setting_int(db, ST_AUTH_MAX_FAILURES),
	    1000 * (uint64_t)db_setting_int(db, ST_AUTH_THROTTLE_SECONDS)))
		return 0;
	log_info("%016llx smtp auth address=%s result=throttled", (unsigned long long)s->base.id, s->base.peer.ip);
	smtp_reply(s, "454 4.7.0 Too many failed logins from your address, try again later");
	return 1;
}

static void
auth_plain(struct smtp_session *s, const char *b64)
{
	char user[AUTH_USER_MAX + 1], pass[AUTH_PASS_MAX + 1];

	if (strcmp(b64, "*") == 0) {
		s->state = SMTP_S_READY;
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	}
	if (sasl_plain_decode(b64, user, sizeof(user), pass, sizeof(pass)) < 0) {
		s->state = SMTP_S_READY;
		smtp_reply(s, "501 5.5.2 Cannot decode AUTH PLAIN response");
		smtp_count_error(s);
		return;
	}
	auth_check(s, user, pass);
	explicit_bzero(pass, sizeof(pass));
}

void
smtp_cmd_auth(struct smtp_session *s, const char *arg)
{
	char mech[32];
	const char *sp = strchr(arg, ' ');
	size_t ml = sp ? (size_t)(sp - arg) : strlen(arg);
	const char *initial = sp ? sp + 1 : NULL;

	if (ml == 0 || ml >= sizeof(mech)) {
		smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	memcpy(mech, arg, ml);
	mech[ml] = '\0';
	if (auth_throttled(s))
		return;
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (initial && strcmp(initial, "=") == 0) {
			/* RFC 4954: "=" is an empty initial response, no credentials */
			smtp_reply(s, "501 5.5.2 Cannot decode AUTH PLAIN response");
			smtp_count_error(s);
			return;
		}
		if (initial && *initial) {
			auth_plain(s, initial);
			return;
		}
		s->state = SMTP_S_AUTH;
		s->auth_step = 3;
		smtp_reply(s, "334 ");
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		s->state = SMTP_S_AUTH;
		if (initial && *initial) {
			if (b64_decode(initial, s->auth_login_user, sizeof(s->auth_login_user)) < 0) {
				s->state = SMTP_S_READY;
				smtp_reply(s, "501 5.5.2 Cannot decode response");
				return;
			}
			s->auth_step = 2;
			smtp_reply(s, "334 UGFzc3dvcmQ6");
		} else {
			s->auth_step = 1;
			smtp_reply(s, "334 VXNlcm5hbWU6");
		}
	} else
		smtp_reply(s, "504 5.5.4 Unrecognized authentication mechanism");
}

/* smtp_auth_line - a SASL continuation line. */
void
smtp_auth_line(struct smtp_session *s, char *line)
{
	char pass[AUTH_PASS_MAX + 1];

	if (strcmp(line, "*") == 0) {
		s->state = SMTP_S_READY;
		s->auth_step = 0;
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	}
	switch (s->auth_step) {
	case 3:
		auth_plain(s, line);
		return;
	case 1:
		if (b64_decode(line, s->auth_login_user, sizeof(s->auth_login_user)) < 0)
			break;
		s->auth_step = 2;
		smtp_reply(s, "334 UGFzc3dvcmQ6");
		return;
	case 2:
		if (b64_decode(line, pass, sizeof(pass)) < 0)
			break;
		auth_check(s, s->auth_login_user, pass);
		explicit_bzero(pass, sizeof(pass));
		return;
	default:
		break;
	}
	s->state = SMTP_S_READY;
	s->auth_step = 0;
	smtp_reply(s, "501 5.5.2 Cannot decode response");
	smtp_count_error(s);
}
