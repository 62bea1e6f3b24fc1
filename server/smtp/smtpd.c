/*
 * smtpd - the SMTP process: its listeners and limits (through front.c),
 * the config DB handle, the auth client and the group committer.
 *
 * Runs as the unprivileged user.  Reads the config DB (read-only) for
 * every lookup, so CLI changes apply at once.
 */
#include "smtp.h"
#include "front.h"
#include "service.h"
#include "log.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct smtpd D;

int
smtpd_trusted(struct smtpd *d, const char *ip)
{
	return net_cidr_match(db_setting_str(d->db, ST_TRUSTED_NETWORKS), ip);
}

static void
smtpd_start_session(void *ctx, int fd, const struct front_peer *peer)
{
	smtp_session_start(ctx, fd, peer);
}

/* smtpd_refuse - 421 at connect, without a session (not on implicit TLS,
 * where the client could not read it). */
static void
smtpd_refuse(void *ctx, int fd, enum conf_service svc, const char *why)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "421 4.7.0 %s, try again later\r\n", why);
	if (svc != SVC_SUBMISSIONS) {
		ssize_t w = send(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;
	}
	close(fd);
}

static void
smtpd_limits(void *ctx, size_t *total_r, size_t *per_ip_r)
{
	struct smtpd *d = ctx;
	db_changed(d->db);
	*total_r = (size_t)db_setting_int(d->db, ST_SMTP_MAX_CONNECTIONS);
	*per_ip_r = (size_t)db_setting_int(d->db, ST_SMTP_MAX_CONNECTIONS_PER_IP);
}

static void
smtpd_stop_sessions(void *ctx, int now)
{
	struct smtpd *d = ctx;
	for (struct smtp_session *s = d->sessions, *n; s; s = n) {
		n = s->next;
		if (now)
			smtp_session_close(s);
		else
			smtp_session_shutdown(s);
	}
}

static const struct front_ops smtpd_front = {
	"smtp", smtpd_start_session, smtpd_refuse, smtpd_limits, smtpd_stop_sessions
};

int
smtpd_main(struct svc_env *env)
{
	const char *err;

	memset(&D, 0, sizeof(D));
	D.env = env;
	D.conf = env->conf;
	D.tls = env->tls;
	D.loop = ev_new();
	if (db_open(env->db_path, DB_READONLY, &D.db, &err) < 0)
		fatalx("smtpd: %s: %s", env->db_path, err);
	D.mail_dir = xasprintf("%s/mail", D.conf->data_dir);
	D.queue_dir = xasprintf("%s/queue", D.conf->data_dir);
	D.auth = auth_client_new(D.loop, env->auth_path, "smtp");
	/* front first: it blocks the signals, and the commit thread inherits
	 * that mask, so a SIGTERM always reaches the loop. */
	D.front = front_start(D.loop, env, 1u << SVC_SMTP | 1u << SVC_SUBMISSION | 1u << SVC_SUBMISSIONS,
	    &smtpd_front, &D);
	D.committer = committer_new(D.loop, D.mail_dir);
	log_debug("smtpd ready");
	ev_run(D.loop);
	db_close(&D.db);
	return 0;
}
