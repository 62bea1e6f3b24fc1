/*
 * front - the accept side that every service process shares: its
 * listeners, the connection limits (in all and per client address), and
 * the stop on SIGTERM (listeners closed at once, sessions asked to finish,
 * the rest closed after a deadline, then the loop stops).
 *
 * The service keeps its own sessions; it tells front when one opens and
 * closes, and front calls back through front_ops.
 */
#ifndef ONEBOX_FRONT_H
#define ONEBOX_FRONT_H

#include "ev.h"
#include "service.h"

#include <stddef.h>

/* front_peer - who connected, and where. */
struct front_peer {
	enum conf_service svc;
	char ip[64];		/* client address, numeric */
	int port;
	char local_ip[64];	/* the listener's address */
	int local_port;
	int plaintext_ok;	/* passwords allowed without TLS on this listener */
};

struct front_ops {
	const char *proto;	/* "smtp", "pop3": in log lines */
	/* start - a connection that passed the limits: make a session, which
	 * calls front_opened() (or closes fd). */
	void (*start)(void *ctx, int fd, const struct front_peer *peer);
	/* refuse - send the protocol's "busy" reply if it can, close fd. */
	void (*refuse)(void *ctx, int fd, enum conf_service svc, const char *why);
	/* limits - the current caps (read at each accept, so they can change). */
	void (*limits)(void *ctx, size_t *total_r, size_t *per_ip_r);
	/* stop - the service stops: now=0 asks every session to finish
	 * (idle ones are told goodbye), now=1 closes them all. */
	void (*stop)(void *ctx, int now);
};

struct front;

/* front_start - listen on env's listeners whose service is in svcs (a
 * bit mask of 1 << enum conf_service), close the others, handle SIGTERM
 * and SIGINT.  Call it before starting any thread (signal mask). */
struct front *front_start(struct ev_loop *loop, struct svc_env *env, unsigned svcs,
    const struct front_ops *ops, void *ctx);
void front_opened(struct front *f, const char *ip);
void front_closed(struct front *f, const char *ip);

#endif
