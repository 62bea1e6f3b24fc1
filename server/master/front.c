/*
 * front - listeners, connection limits and graceful stop for a service
 * process (see front.h).
 */
#include "front.h"
#include "buf.h"
#include "log.h"
#include "net.h"
#include "str.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STOP_DEADLINE_MS 10000

struct ipcount {
	char ip[64];
	size_t n;
};

struct front {
	struct ev_loop *loop;
	struct svc_env *env;
	unsigned svcs;
	const struct front_ops *ops;
	void *ctx;
	size_t nsessions;
	struct ipcount *ips;	/* addresses with open sessions */
	size_t nips;
	int stopping;
	struct ev_timer deadline;
	struct ev_timer resume;	/* listeners paused after running out of fds */
};

static void
front_listeners(struct front *f, int events)
{
	for (size_t i = 0; i < f->env->nlisteners; i++) {
		struct listener *l = &f->env->listeners[i];
		if (l->front == f && l->fd >= 0)
			ev_io_mod(f->loop, l->fd, events);
	}
}

static void
front_resume(void *arg)
{
	struct front *f = arg;
	if (!f->stopping)
		front_listeners(f, EV_READ);
}

static struct ipcount *
ip_find(struct front *f, const char *ip)
{
	for (size_t i = 0; i < f->nips; i++)
		if (strcmp(f->ips[i].ip, ip) == 0)
			return &f->ips[i];
	return NULL;
}

void
front_opened(struct front *f, const char *ip)
{
	struct ipcount *c = ip_find(f, ip);
	if (c == NULL) {
		f->ips = xrealloc(f->ips, (f->nips + 1) * sizeof(*f->ips));
		c = &f->ips[f->nips++];
		str_lcpy(c->ip, ip, sizeof(c->ip));
		c->n = 0;
	}
	c->n++;
	f->nsessions++;
}

void
front_closed(struct front *f, const char *ip)
{
	struct ipcount *c = ip_find(f, ip);
	if (c && --c->n == 0)
		*c = f->ips[--f->nips];
	f->nsessions--;
	if (f->stopping && f->nsessions == 0)
		ev_stop(f->loop);
}

static void
front_accept(int lfd, int events, void *arg)
{
	struct listener *l = arg;
	struct front *f = l->front;
	struct sockaddr_storage ss;
	struct front_peer peer;
	size_t total, per_ip;

	for (int i = 0; i < 64 && !f->stopping; i++) {
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* level-triggered: without a pause this would spin */
				log_warn("%s accept: pausing the listeners for a second", f->ops->proto);
				front_listeners(f, 0);
				ev_timer_add(f->loop, &f->resume, 1000);
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("%s accept", f->ops->proto);
			return;
		}
		memset(&peer, 0, sizeof(peer));
		peer.svc = l->svc;
		net_addr_str((struct sockaddr *)&ss, peer.ip, sizeof(peer.ip), &peer.port);
		f->ops->limits(f->ctx, &total, &per_ip);
		struct ipcount *c = ip_find(f, peer.ip);
		const char *why = f->nsessions >= total ? "Too many connections"
		    : c && c->n >= per_ip ? "Too many connections from your address" : NULL;
		if (why) {
			log_warnx("%s refused address=%s reason=\"%s\"", f->ops->proto, peer.ip, why);
			f->ops->refuse(f->ctx, fd, l->svc, why);
			continue;
		}
		net_local_addr(fd, peer.local_ip, sizeof(peer.local_ip), &peer.local_port);
		peer.plaintext_ok = conf_plaintext_ok(f->env->conf, peer.local_ip, peer.local_port);
		f->ops->start(f->ctx, fd, &peer);
	}
}

static void
front_deadline(void *arg)
{
	struct front *f = arg;
	log_warnx("%s: shutdown deadline reached; closing %zu sessions", f->ops->proto, f->nsessions);
	f->ops->stop(f->ctx, 1);
	ev_stop(f->loop);
}

static void
front_stop(int signo, void *arg)
{
	struct front *f = arg;

	if (f->stopping)
		return;
	f->stopping = 1;
	log_info("%s stopping: %zu sessions open", f->ops->proto, f->nsessions);
	for (size_t i = 0; i < f->env->nlisteners; i++) {
		struct listener *l = &f->env->listeners[i];
		if ((f->svcs & (1u << l->svc)) && l->fd >= 0) {
			ev_io_del(f->loop, l->fd);
			close(l->fd);
			l->fd = -1;
		}
	}
	f->ops->stop(f->ctx, 0);
	if (f->nsessions == 0) {
		ev_stop(f->loop);
		return;
	}
	ev_timer_init(&f->deadline, front_deadline, f);
	ev_timer_add(f->loop, &f->deadline, STOP_DEADLINE_MS);
}

struct front *
front_start(struct ev_loop *loop, struct svc_env *env, unsigned svcs,
    const struct front_ops *ops, void *ctx)
{
	struct front *f = xcalloc(1, sizeof(*f));

	f->loop = loop;
	f->env = env;
	f->svcs = svcs;
	f->ops = ops;
	f->ctx = ctx;
	ev_timer_init(&f->resume, front_resume, f);
	ev_signal(loop, SIGTERM, front_stop, f);
	ev_signal(loop, SIGINT, front_stop, f);
	for (size_t i = 0; i < env->nlisteners; i++) {
		struct listener *l = &env->listeners[i];
		if (l->fd < 0)
			continue;
		if (svcs & (1u << l->svc)) {
			l->front = f;
			if (ev_io_set(loop, l->fd, EV_READ, front_accept, l) < 0)
				fatal("%s: listener", ops->proto);
		} else {
			close(l->fd);
			l->fd = -1;
		}
	}
	return f;
}
