/*
 * imap-auth - LOGIN (RFC 3501 §6.2.3) and AUTHENTICATE (RFC 3501 §6.2.2,
 * RFC 4959 SASL-IR) with the mechanisms of sasl.h (PLAIN, LOGIN), checked
 * by authd exactly as for submission and POP3.
 *
 * Passwords are taken only under TLS, or on a listener the admin listed in
 * plaintext_auth_listen; elsewhere CAPABILITY says LOGINDISABLED and LOGIN
 * and AUTHENTICATE answer NO [PRIVACYREQUIRED].
 *
 * A failed login is answered NO [AUTHENTICATIONFAILED] auth_fail_delay_ms
 * after the request left for authd (how long the check took must not
 * show); an attempt that authd's throttle refused (too many failures from
 * the client's network or for the account, counted over every service)
 * gets NO [UNAVAILABLE] at once, without a password check.  An empty user
 * name or password is refused without asking authd.  Failed and throttled
 * logins count towards the error cap (session_count_error).
 *
 * A good password is then held against imap_max_userip_connections: the
 * sessions of this process logged in as the same user from the same
 * address.  Offices put many people and phones behind one NAT address, and
 * one mail client opens several connections (Thunderbird up to 5 per
 * account, one more per folder it watches), so the default is far above
 * Dovecot's 10.  (Sessions of an imapd retiring after a SIGHUP are not
 * counted.)
 *
 * Then the user's Maildir++ root and the standard folders (Drafts, Sent,
 * Trash, Junk, Archive) are made, in a worker thread: file system work
 * never stalls the other sessions.
 */
#include "imap.h"
#include "index.h"
#include "jobs.h"
#include "log.h"
#include "maildir.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>

int
imap_auth_allowed(struct imap_session *s)
{
	return s->base.tls || s->base.peer.plaintext_ok;
}

/* ---- after a good password: the folder set-up in a worker ---- */

struct login_job {
	struct job job;
	struct imap_session *s;		/* NULL once the session is gone */
	char *root;
	char *user;
	int result;
};

static void
login_work(struct job *j)
{
	struct login_job *lj = (struct login_job *)j;

	lj->result = index_folders_init(lj->root);
}

static void
login_free(struct login_job *lj)
{
	free(lj->root);
	free(lj->user);
	free(lj);
}

static void
login_done(struct job *j)
{
	struct login_job *lj = (struct login_job *)j;
	struct imap_session *s = lj->s;
	struct buf caps = BUF_INIT;

	if (s == NULL) {
		login_free(lj);
		return;
	}
	s->login = NULL;
	if (lj->result < 0) {
		log_warnx("%016llx imap cannot set up the mailbox of user=%s", (unsigned long long)s->base.id, lj->user);
		s->state = IMAP_S_NOT_AUTH;
		imap_tagged(s, "NO [UNAVAILABLE] Cannot open your mailbox, try again later");
	} else {
		s->user = lj->user;
		s->root = lj->root;
		lj->user = lj->root = NULL;
		s->state = IMAP_S_AUTH;
		log_info("%016llx imap login address=%s user=%s tls=%s", (unsigned long long)s->base.id,
		    s->base.peer.ip, s->user, s->base.tls ? "yes" : "no");
		imap_capability(s, &caps);
		imap_tagged(s, "OK [CAPABILITY %s] Logged in", caps.data);
		buf_free(&caps);
	}
	login_free(lj);
	session_resume(&s->base);
}

/* userip_count - logged-in sessions of user from the session's address. */
static size_t
userip_count(struct imap_session *s, const char *user)
{
	size_t n = 0;

	for (struct session *o = s->d->svc.sessions; o; o = o->next) {
		struct imap_session *io = (struct imap_session *)o;
		if (o != &s->base && io->user && strcmp(io->user, user) == 0 &&
		    strcmp(o->peer.ip, s->base.peer.ip) == 0)
			n++;
	}
	return n;
}

/* login_ok - the password is good: limits, then the folders (input stays paused). */
static void
login_ok(struct imap_session *s, const char *user)
{
	struct db *db = s->d->svc.db;
	struct db_user u;
	struct login_job *lj;
	char *root = NULL;

	if (userip_count(s, user) >= (size_t)db_setting_int(db, ST_IMAP_MAX_USERIP_CONNECTIONS)) {
		log_info("%016llx imap login address=%s user=%s result=userip-limit", (unsigned long long)s->base.id,
		    s->base.peer.ip, user);
		s->state = IMAP_S_NOT_AUTH;
		imap_tagged(s, "NO [LIMIT] Too many connections for this user from your address");
		session_resume(&s->base);
		return;
	}
	if (db_user_get(db, user, &u) == 1) {
		root = maildir_path(s->d->svc.conf->data_dir, u.localpart, u.domain);
		db_user_free(&u);
	}
	if (root == NULL) {
		log_warnx("%016llx imap no mailbox for user=%s", (unsigned long long)s->base.id, user);
		s->state = IMAP_S_NOT_AUTH;
		imap_tagged(s, "NO [UNAVAILABLE] Cannot open your mailbox, try again later");
		session_resume(&s->base);
		return;
	}
	lj = xcalloc(1, sizeof(*lj));
	lj->job.work = login_work;
	lj->job.done = login_done;
	lj->s = s;
	lj->root = root;
	lj->user = xstrdup(user);
	s->login = lj;
	jobs_submit(s->d->jobs, &lj->job);
}

void
imap_auth_cancel(struct imap_session *s)
{
	if (s->auth_req)
		auth_client_cancel(s->d->svc.auth, s->auth_req);
	s->auth_req = 0;
	if (s->login)
		s->login->s = NULL;
	s->login = NULL;
}

/* ---- the password check ---- */

static void
auth_done(void *arg, int result, const char *user, uint64_t sent_ms)
{
	struct imap_session *s = arg;
	uint64_t delay = (uint64_t)db_setting_int(s->d->svc.db, ST_AUTH_FAIL_DELAY_MS);
	char text[160];

	s->auth_req = 0;
	if (session_closing(&s->base))
		return;
	if (result == AUTH_OK) {
		login_ok(s, user);
		return;
	}
	s->state = IMAP_S_NOT_AUTH;
	if (result == AUTH_THROTTLED) {
		log_info("%016llx imap auth address=%s result=throttled", (unsigned long long)s->base.id, s->base.peer.ip);
		imap_tagged(s, "NO [UNAVAILABLE] Too many failed logins, try again later");
		session_count_error(&s->base);
	} else if (result == AUTH_TEMPFAIL) {
		log_warnx("%016llx imap auth address=%s result=tempfail", (unsigned long long)s->base.id, s->base.peer.ip);
		imap_tagged(s, "NO [UNAVAILABLE] Temporary authentication failure, try again later");
	} else {
		log_info("%016llx imap auth address=%s result=failed", (unsigned long long)s->base.id, s->base.peer.ip);
		snprintf(text, sizeof(text), "%s NO [AUTHENTICATIONFAILED] Authentication failed", s->tag);
		session_reply_at(&s->base, sent_ms + delay, text);
		session_count_error(&s->base);	/* at the cap, closes after the delayed reply */
		return;
	}
	if (session_closing(&s->base))
		return;		/* too many errors */
	session_resume(&s->base);
}

static void
auth_check(struct imap_session *s, const char *user, const char *pass)
{
	if (user[0] == '\0' || pass[0] == '\0') {
		log_info("%016llx imap auth address=%s result=failed reason=empty", (unsigned long long)s->base.id,
		    s->base.peer.ip);
		s->state = IMAP_S_NOT_AUTH;
		imap_tagged(s, "NO [AUTHENTICATIONFAILED] Authentication failed");
		session_count_error(&s->base);
		return;
	}
	s->state = IMAP_S_AUTH_WAIT;
	session_pause(&s->base);
	s->auth_req = auth_client_request(s->d->svc.auth, s->base.peer.ip, user, pass, auth_done, s);
}

/* need_tls - 1 (and answered) if passwords are not allowed here yet. */
static int
need_tls(struct imap_session *s)
{
	if (imap_auth_allowed(s))
		return 0;
	imap_tagged(s, "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections, "
	    "use STARTTLS first");
	return 1;
}

void
imap_cmd_login(struct imap_session *s, const struct imap_command *c)
{
	const char *user = imap_arg_astring(&c->args[0]);
	const char *pass = imap_arg_astring(&c->args[1]);

	if (need_tls(s))
		return;
	if (user == NULL || pass == NULL || c->args[0].len > AUTH_USER_MAX || c->args[1].len > AUTH_PASS_MAX) {
		imap_bad(s, "LOGIN takes a user name and a password");
		return;
	}
	auth_check(s, user, pass);
	explicit_bzero((char *)pass, c->args[1].len);
}

/* sasl_result - act on what the SASL exchange (sasl.h) asks for. */
static void
sasl_result(struct imap_session *s, enum sasl_result r)
{
	switch (r) {
	case SASL_CHALLENGE:
		s->state = IMAP_S_SASL;
		imap_reply(s, "+ %s", sasl_challenge(&s->sasl));
		return;
	case SASL_DONE:
		auth_check(s, s->sasl.user, s->sasl.pass);
		sasl_wipe(&s->sasl);
		return;
	case SASL_CANCELLED:
		s->state = IMAP_S_NOT_AUTH;
		imap_tagged(s, "BAD Authentication cancelled");
		return;
	case SASL_BAD_MECH:
		s->state = IMAP_S_NOT_AUTH;
		imap_tagged(s, "NO Unsupported authentication mechanism");
		return;
	case SASL_BAD_INPUT:
		s->state = IMAP_S_NOT_AUTH;
		imap_bad(s, "Cannot decode the authentication response");
		return;
	}
}

void
imap_cmd_authenticate(struct imap_session *s, const struct imap_command *c)
{
	const char *mech = c->args[0].type == IMAP_ARG_ATOM ? c->args[0].str : NULL;
	const char *ir = c->nargs > 1 && c->args[1].type == IMAP_ARG_ATOM ? c->args[1].str : NULL;

	if (mech == NULL || (c->nargs > 1 && ir == NULL)) {
		imap_bad(s, "AUTHENTICATE takes a mechanism name and an optional initial response");
		return;
	}
	if (need_tls(s))
		return;
	sasl_result(s, sasl_start(&s->sasl, mech, ir));
	if (ir)
		explicit_bzero((char *)ir, strlen(ir));
}

void
imap_sasl_line(struct imap_session *s, char *line)
{
	sasl_result(s, sasl_step(&s->sasl, line));
	explicit_bzero(line, strlen(line));
}
