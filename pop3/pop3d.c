/*
 * pop3d - the POP3 process: accepts on pop3_listen (STLS) and
 * pop3s_listen (implicit TLS), limits the number of sessions, and stops
 * cleanly on SIGTERM.
 *
 * Runs as the unprivileged user that owns the Maildirs.  The config DB is
 * opened read-only and read on every login, so CLI changes apply at once.
 *
 * On SIGTERM the listeners close at once; a session streaming RETR/TOP
 * finishes that answer, every other one is told "-ERR [SYS/TEMP]" and
 * closed.  A session that has not sent QUIT does not expunge anything
 * (RFC 1939 §6).  Whatever is still open after STOP_DEADLINE_MS is cut.
 */
#include "pop3.h"
#include "service.h"
#include "log.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STOP_DEADLINE_MS 10000

static struct pop3d D;

static int
is_pop3(enum conf_service svc)
{
	return svc == SVC_POP3 || svc == SVC_POP3S;
}

static size_t
count_ip(const char *ip)
{
	size_t n = 0;

	for (struct pop3_session *s = D.sessions; s; s = s->next)
		if (strcmp(s->ip, ip) == 0)
			n++;
	return n;
}

/* pop3d_refuse - answer at connect without a session (plain listeners only:
 * on an implicit-TLS one the client could not read it anyway). */
static void
pop3d_refuse(int fd, enum conf_service svc, const char *why)
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
pop3d_accept(int lfd, int events, void *arg)
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
		if (D.nsessions >= POP3_MAX_SESSIONS) {
			log_warnx("refused address=%s reason=\"too many connections\"", ip);
			pop3d_refuse(fd, l->svc, "Too many connections");
			continue;
		}
		if (count_ip(ip) >= POP3_MAX_PER_IP) {
			log_warnx("refused address=%s reason=\"too many connections from this address\"", ip);
			pop3d_refuse(fd, l->svc, "Too many connections from your address");
			continue;
		}
		db_changed(D.db);
		pop3_session_start(&D, fd, l->svc);
	}
}

void
pop3d_session_gone(void)
{
	if (D.stopping && D.nsessions == 0)
		ev_stop(D.loop);
}

static void
pop3d_deadline(void *arg)
{
	log_warnx("shutdown deadline reached; closing %zu sessions", D.nsessions);
	for (struct pop3_session *s = D.sessions, *n; s; s = n) {
		n = s->next;
		pop3_session_close(s);
	}
	ev_stop(D.loop);
}

static void
pop3d_stop(int signo, void *arg)
{
	static struct ev_timer deadline;

	if (D.stopping)
		return;
	D.stopping = 1;
	log_info("stopping: %zu sessions open", D.nsessions);
	for (size_t i = 0; i < D.env->nlisteners; i++) {
		struct listener *l = &D.env->listeners[i];
		if (is_pop3(l->svc) && l->fd >= 0) {
			ev_io_del(D.loop, l->fd);
			close(l->fd);
			l->fd = -1;
		}
	}
	for (struct pop3_session *s = D.sessions, *n; s; s = n) {
		n = s->next;
		pop3_session_shutdown(s);
	}
	if (D.nsessions == 0) {
		ev_stop(D.loop);
		return;
	}
	ev_timer_init(&deadline, pop3d_deadline, NULL);
	ev_timer_add(D.loop, &deadline, STOP_DEADLINE_MS);
}

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
	ev_signal(D.loop, SIGTERM, pop3d_stop, NULL);
	ev_signal(D.loop, SIGINT, pop3d_stop, NULL);
	for (size_t i = 0; i < env->nlisteners; i++) {
		struct listener *l = &env->listeners[i];
		if (is_pop3(l->svc))
			ev_io_set(D.loop, l->fd, EV_READ, pop3d_accept, l);
		else if (l->fd >= 0) {
			close(l->fd);
			l->fd = -1;
		}
	}
	log_debug("pop3d ready");
	ev_run(D.loop);
	db_close(&D.db);
	return 0;
}
