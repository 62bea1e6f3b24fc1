/*
 * pop3d - the POP3 process: accepts on pop3_listen (STLS) and
 * pop3s_listen (implicit TLS) through front.c, which also applies the
 * connection limits and stops cleanly on SIGTERM.
 *
 * Runs as the unprivileged user that owns the Maildirs.  The config DB is
 * opened read-only and read on every login, so CLI changes apply at once.
 *
 * On SIGTERM the listeners close at once; a session streaming RETR/TOP
 * finishes that answer, every other one is told "-ERR [SYS/TEMP]" and
 * closed.  A session that has not sent QUIT does not expunge anything
 * (RFC 1939 §6).  Whatever is still open after front's deadline is cut.
 */
#include "pop3.h"
#include "front.h"
#include "jobs.h"
#include "service.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct pop3d D;

static void
pop3d_start_session(void *ctx, int fd, const struct front_peer *peer)
{
	pop3_session_start(ctx, fd, peer);
}

/* pop3d_refuse - answer at connect without a session (plain listeners only:
 * on an implicit-TLS one the client could not read it anyway). */
static void
pop3d_refuse(void *ctx, int fd, enum conf_service svc, const char *why)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "-ERR [SYS/TEMP] %s, try again later\r\n", why);

	if (svc == SVC_POP3) {
		ssize_t w = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;
	}
	close(fd);
}

static void
pop3d_limits(void *ctx, size_t *total_r, size_t *per_ip_r)
{
	struct pop3d *d = ctx;
	db_changed(d->db);
	*total_r = (size_t)db_setting_int(d->db, ST_POP3_MAX_CONNECTIONS);
	*per_ip_r = (size_t)db_setting_int(d->db, ST_POP3_MAX_CONNECTIONS_PER_IP);
}

static void
pop3d_stop_sessions(void *ctx, int now)
{
	struct pop3d *d = ctx;
	for (struct pop3_session *s = d->sessions, *n; s; s = n) {
		n = s->next;
		if (now)
			pop3_session_close(s);
		else
			pop3_session_shutdown(s);
	}
}

static const struct front_ops pop3d_front = {
	"pop3", pop3d_start_session, pop3d_refuse, pop3d_limits, pop3d_stop_sessions
};

int
pop3d_main(struct svc_env *env)
{
	const char *err;

	memset(&D, 0, sizeof(D));
	D.env = env;
	D.conf = env->conf;
	D.tls = env->tls;
	D.loop = ev_new();
	if (db_open(env->db_path, DB_READONLY, &D.db, &err) < 0)
		fatalx("pop3d: %s: %s", env->db_path, err);
	D.auth = auth_client_new(D.loop, env->auth_path, "pop3");
	D.front = front_start(D.loop, env, 1u << SVC_POP3 | 1u << SVC_POP3S, &pop3d_front, &D);
	/* after front_start: the workers inherit the blocked signals */
	D.jobs = jobs_new(D.loop, 2);
	log_debug("pop3d ready");
	ev_run(D.loop);
	db_close(&D.db);
	return 0;
}
