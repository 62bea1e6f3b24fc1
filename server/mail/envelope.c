/*
 * envelope - the message in transit (see envelope.h).
 */
#include "envelope.h"
#include "buf.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>

const char *
route_kind_name(enum route_kind kind)
{
	switch (kind) {
	case ROUTE_LOCAL:
		return "local";
	case ROUTE_REMOTE:
		return "remote";
	}
	return "?";
}

const char *
rcpt_status_name(enum rcpt_status status)
{
	switch (status) {
	case RCPT_PENDING:
		return "pending";
	case RCPT_DELIVERED:
		return "delivered";
	case RCPT_DEFERRED:
		return "deferred";
	case RCPT_FAILED:
		return "failed";
	}
	return "?";
}

void
envelope_init(struct envelope *env, const char *qid, const char *sender)
{
	memset(env, 0, sizeof(*env));
	str_lcpy(env->qid, qid, sizeof(env->qid));
	env->sender = xstrdup(sender);
	env->spool_fd = -1;
}

size_t
envelope_add_rcpt(struct envelope *env, const char *orcpt, const char *final,
    const struct route *route)
{
	struct envelope_rcpt *r;

	env->rcpts = xrealloc(env->rcpts, (env->nrcpts + 1) * sizeof(*env->rcpts));
	r = &env->rcpts[env->nrcpts];
	memset(r, 0, sizeof(*r));
	r->orcpt = xstrdup(orcpt);
	r->final = xstrdup(final);
	r->route = *route;
	r->status = RCPT_PENDING;
	return env->nrcpts++;
}

void
envelope_set_status(struct envelope_rcpt *r, enum rcpt_status status, const char *reply)
{
	free(r->reply);
	r->reply = reply ? xstrdup(reply) : NULL;
	r->status = status;
}

size_t
envelope_count(const struct envelope *env, enum rcpt_status status)
{
	size_t n = 0;

	for (size_t i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].status == status)
			n++;
	return n;
}

int
envelope_has_route(const struct envelope *env, enum route_kind kind)
{
	for (size_t i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].route.kind == kind)
			return 1;
	return 0;
}

void
envelope_free(struct envelope *env)
{
	for (size_t i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].orcpt);
		free(env->rcpts[i].final);
		free(env->rcpts[i].reply);
	}
	free(env->rcpts);
	free(env->sender);
	env->rcpts = NULL;
	env->nrcpts = 0;
	env->sender = NULL;
}
