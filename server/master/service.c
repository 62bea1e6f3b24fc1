/*
 * service - the main of every service process (smtpd, pop3d, later
 * imapd): what they all need, in the order that matters.
 *
 * The listeners (front_start) come before any thread is started (init):
 * front blocks SIGTERM/SIGINT for the process, and threads inherit that
 * mask, so the signal always reaches the loop's signalfd.
 */
#include "service.h"
#include "auth-client.h"
#include "db.h"
#include "front.h"
#include "log.h"
#include "session.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void
svc_front_start(void *ctx, int fd, const struct front_peer *peer)
{
	struct service *svc = ctx;
	svc->def->start(svc, fd, peer);
}

/* svc_front_refuse - the protocol's "busy" line at connect, without a
 * session (not on implicit TLS, where the client could not read it). */
static void
svc_front_refuse(void *ctx, int fd, enum conf_service kind, const char *why)
{
	struct service *svc = ctx;
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "%s%s, try again later\r\n", svc->def->refuse_prefix, why);

	if (!conf_service_implicit_tls(kind) && n > 0 && (size_t)n < sizeof(msg)) {
		ssize_t w = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;
	}
	close(fd);
}

static void
svc_front_limits(void *ctx, size_t *total_r, size_t *per_ip_r)
{
	struct service *svc = ctx;
	db_changed(svc->db);
	*total_r = (size_t)db_setting_int(svc->db, svc->def->limit_total);
	*per_ip_r = (size_t)db_setting_int(svc->db, svc->def->limit_per_ip);
}

static void
svc_front_stop(void *ctx, int now)
{
	struct service *svc = ctx;
	for (struct session *s = svc->sessions, *n; s; s = n) {
		n = s->next;
		if (now)
			session_close(s);
		else
			session_end(s, SESSION_SAY_SHUTDOWN);
	}
	if (svc->def->stop)
		svc->def->stop(svc, now);
}

int
svc_run(struct svc_env *env, const struct service_def *def, struct service *svc)
{
	const char *err;
	/* front keeps a pointer to ops: they live as long as the loop runs */
	struct front_ops ops = { def->proto, svc_front_start, svc_front_refuse, svc_front_limits, svc_front_stop };

	memset(svc, 0, sizeof(*svc));
	svc->def = def;
	svc->env = env;
	svc->conf = env->conf;
	svc->tls = env->tls;
	svc->loop = ev_new();
	if (db_open(env->db_path, DB_READONLY, &svc->db, &err) < 0)
		fatalx("%s: %s: %s", def->name, env->db_path, err);
	svc->auth = auth_client_new(svc->loop, env->auth_path, def->proto);
	svc->front = front_start(svc->loop, env, def->listeners, &ops, svc);
	if (def->init)
		def->init(svc);
	log_debug("%s ready", def->name);
	ev_run(svc->loop);
	if (def->fini)
		def->fini(svc);
	db_close(&svc->db);
	return 0;
}
