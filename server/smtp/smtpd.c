/*
 * smtpd - the SMTP process: accepts on its listeners, enforces the
 * connection limits, and stops cleanly on SIGTERM.
 *
 * Runs as the unprivileged user.  Reads the config DB (read-only) for
 * every lookup, so CLI changes apply at once.
 */
#include "smtp.h"
#include "service.h"
#include "log.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STOP_DEADLINE_MS 10000

static struct smtpd D;

int
smtpd_trusted(struct smtpd *d, const char *ip)
{
	return net_cidr_match(db_setting_str(d->db, "trusted_networks"), ip);
}

static size_t
count_ip(struct smtpd *d, const char *ip)
{
	size_t n = 0;
	for (struct smtp_session *s = d->sessions; s; s = s->next)
		if (strcmp(s->ip, ip) == 0)
			n++;
	return n;
}

/* smtpd_refuse - answer 421 at connect without starting a session. */
static void
smtpd_refuse(int fd, const char *why)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "421 4.7.0 %s, try again later\r\n", why);
	ssize_t w = send(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	close(fd);
}

static void
smtpd_accept(int lfd, int events, void *arg)
{
	struct listener *l = arg;
	struct sockaddr_storage ss;

	for (int i = 0; i < 64; i++) {
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		char ip[64];
		net_addr_str((struct sockaddr *)&ss, ip, sizeof(ip), NULL);
		db_changed(D.db);
		if (D.nsessions >= (size_t)db_setting_int(D.db, "smtp_max_connections")) {
			log_warnx("refused address=%s reason=\"too many connections\"", ip);
			smtpd_refuse(fd, "Too many connections");
			continue;
		}
		if (count_ip(&D, ip) >= (size_t)db_setting_int(D.db, "smtp_max_connections_per_ip")) {
			log_warnx("refused address=%s reason=\"too many connections from this address\"", ip);
			smtpd_refuse(fd, "Too many connections from your address");
			continue;
		}
		smtp_session_start(&D, fd, l->svc);
	}
}

void
smtpd_session_gone(struct smtp_session *s)
{
	if (D.stopping && D.nsessions == 0)
		ev_stop(D.loop);
}

static void
smtpd_deadline(void *arg)
{
	log_warnx("shutdown deadline reached; closing %zu sessions", D.nsessions);
	for (struct smtp_session *s = D.sessions, *n; s; s = n) {
		n = s->next;
		smtp_session_close(s);
	}
	ev_stop(D.loop);
}

static void
smtpd_stop(int signo, void *arg)
{
	static struct ev_timer deadline;

	if (D.stopping)
		return;
	D.stopping = 1;
	log_info("stopping: %zu sessions open", D.nsessions);
	for (size_t i = 0; i < D.env->nlisteners; i++) {
		struct listener *l = &D.env->listeners[i];
		if (l->svc == SVC_SMTP || l->svc == SVC_SUBMISSION || l->svc == SVC_SUBMISSIONS) {
			ev_io_del(D.loop, l->fd);
			close(l->fd);
			l->fd = -1;
		}
	}
	for (struct smtp_session *s = D.sessions, *n; s; s = n) {
		n = s->next;
		smtp_session_shutdown(s);
	}
	if (D.nsessions == 0) {
		ev_stop(D.loop);
		return;
	}
	ev_timer_init(&deadline, smtpd_deadline, NULL);
	ev_timer_add(D.loop, &deadline, STOP_DEADLINE_MS);
}

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
	/* Signals first: the commit thread inherits the blocked mask, so a
	 * SIGTERM always reaches the loop's signalfd, never the default action. */
	ev_signal(D.loop, SIGTERM, smtpd_stop, NULL);
	ev_signal(D.loop, SIGINT, smtpd_stop, NULL);
	D.committer = committer_new(D.loop, D.mail_dir);
	for (size_t i = 0; i < env->nlisteners; i++) {
		struct listener *l = &env->listeners[i];
		if (l->svc == SVC_SMTP || l->svc == SVC_SUBMISSION || l->svc == SVC_SUBMISSIONS)
			ev_io_set(D.loop, l->fd, EV_READ, smtpd_accept, l);
		else
			close(l->fd);
	}
	log_debug("smtpd ready");
	ev_run(D.loop);
	db_close(&D.db);
	return 0;
}
