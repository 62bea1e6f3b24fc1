/*
 * route - where a resolved recipient goes.
 *
 * Recipient resolution (db_resolve) turns an address into final addresses,
 * each with a route.  A route is a small struct, not a flag, so that the
 * outbound issue can add kinds (a relay pool, a fixed next hop) and their
 * fields without touching the code that only asks "is this local?".
 */
#ifndef ONEBOX_ROUTE_H
#define ONEBOX_ROUTE_H

#include <stdint.h>

enum route_kind {
	ROUTE_LOCAL,		/* a mailbox of a local user (Maildir, deliver.h) */
	ROUTE_REMOTE,		/* the internet or a next hop: the outbound
				 * queue (queue.h) takes it, queued delivers it */
};

struct route {
	enum route_kind kind;
	uint64_t quota;		/* ROUTE_LOCAL: the mailbox's quota in bytes, 0 = none */
};

/* route_kind_name - "local", "remote". */
const char *route_kind_name(enum route_kind kind);

#endif
