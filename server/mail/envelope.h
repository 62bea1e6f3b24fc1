/*
 * envelope - one message in transit: who sent it, every final recipient
 * with its route and its fate, and where its bytes are.
 *
 * The SMTP server builds one when the data has arrived; local delivery
 * (deliver.h) and, later, the outbound queue take it from there.  Nothing
 * here knows about sessions: a reply to the client is made from the
 * recipients' statuses by whoever owns the envelope.
 *
 * An alias expands to several final recipients that share the address as
 * given (orcpt, as RFC 3461 ORCPT): they are consecutive in rcpts, and
 * local delivery writes one file for them and hard-links it.
 */
#ifndef ONEBOX_ENVELOPE_H
#define ONEBOX_ENVELOPE_H

#include "route.h"

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_QID_MAX 17	/* 16 hex digits and a NUL */

enum rcpt_status {
	RCPT_PENDING,		/* not tried yet */
	RCPT_DELIVERED,		/* durable in its mailbox (or handed on) */
	RCPT_DEFERRED,		/* temporary failure: reply says why */
	RCPT_FAILED,		/* permanent failure: reply says why */
};

struct envelope_rcpt {
	char *orcpt;		/* the address as the client gave it (canonical form) */
	char *final;		/* the resolved final address */
	struct route route;
	enum rcpt_status status;
	char *reply;		/* "451 4.3.0 ..." for DEFERRED/FAILED, else NULL */
};

struct envelope {
	char qid[ENVELOPE_QID_MAX];
	char *sender;		/* envelope sender, "" for the null sender <> */
	int smtputf8;		/* MAIL ... SMTPUTF8: addresses or headers may be UTF-8 */
	int body8;		/* MAIL ... BODY=8BITMIME */
	struct envelope_rcpt *rcpts;
	size_t nrcpts;
	int spool_fd;		/* the message (LF line ends); borrowed, not closed here */
	uint64_t size;		/* bytes in the spool file */
	uint64_t lines;		/* LFs in it: the size with CR LF is size + lines */
};

/* envelope_init - empty envelope for sender (copied); spool_fd -1. */
void envelope_init(struct envelope *env, const char *qid, const char *sender);
/* envelope_add_rcpt - append a pending recipient (strings copied); its index. */
size_t envelope_add_rcpt(struct envelope *env, const char *orcpt, const char *final,
    const struct route *route);
/* envelope_set_status - record a recipient's fate; reply is copied (may be NULL). */
void envelope_set_status(struct envelope_rcpt *r, enum rcpt_status status, const char *reply);
/* envelope_count - recipients with this status. */
size_t envelope_count(const struct envelope *env, enum rcpt_status status);
/* envelope_has_route - 1 if a recipient of env takes route kind. */
int envelope_has_route(const struct envelope *env, enum route_kind kind);
/* envelope_free - release what the envelope owns (not spool_fd). */
void envelope_free(struct envelope *env);
/* rcpt_status_name - "pending", "delivered", "deferred", "failed". */
const char *rcpt_status_name(enum rcpt_status status);

#endif
