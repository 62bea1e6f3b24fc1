/*
 * handoff - where a finished message goes: its ROUTE_LOCAL recipients
 * into their Maildirs (deliver.h) and its ROUTE_REMOTE ones into the
 * outbound queue (queue.h), in one group commit (committer_hold), so one
 * sync makes both durable and the caller answers once.
 *
 * Used by the SMTP server after the final dot and by the queue runner for
 * bounces: one way to hand a message on, whoever made it.
 *
 * If the local part cannot be written after the queue part was submitted,
 * the queued copy is taken back when the commit returns, so a sender told
 * "try again" does not also get the message sent once already.
 */
#ifndef ONEBOX_HANDOFF_H
#define ONEBOX_HANDOFF_H

#include "commit.h"
#include "envelope.h"

/* handoff_done_cb - ok = 1 when every recipient is RCPT_DELIVERED
 * (durable in its mailbox or in the queue). */
typedef void handoff_done_cb(struct envelope *env, int ok, void *arg);

/*
 * handoff - make env durable (env->spool_fd, size and lines set; the
 * spool is read or linked during this call only).  0: done is called
 * later from the loop, env must stay valid until then.  -1 (logged, errno):
 * nothing was written, done is not called.
 */
int handoff(const char *data_dir, const char *queue_dir, struct committer *c, struct envelope *env,
    handoff_done_cb *done, void *arg);

#endif
