/*
 * handoff - local delivery and the queue in one group commit (see
 * handoff.h).  The queue part goes first: it is the one that can take its
 * files back (queue_remove) if the local part then fails.
 */
#include "handoff.h"
#include "buf.h"
#include "deliver.h"
#include "log.h"
#include "queue.h"

#include <errno.h>
#include <stdlib.h>

struct handoff {
	char *queue_dir;
	handoff_done_cb *done;
	void *arg;
	int pending;		/* parts still to call back */
	int queued;		/* the queue part was submitted */
	int failed;		/* the local part could not be written */
};

static void
part_done(struct envelope *env, void *arg)
{
	struct handoff *h = arg;
	int ok;

	if (--h->pending > 0)
		return;
	ok = envelope_count(env, RCPT_DELIVERED) == env->nrcpts && !h->failed;
	if (!ok && h->queued && queue_remove(h->queue_dir, env->qid) < 0 && errno != ENOENT)
		log_warn("handoff id=%s cannot take back the queued copy", env->qid);
	h->done(env, ok, h->arg);
	free(h->queue_dir);
	free(h);
}

int
handoff(const char *data_dir, const char *queue_dir, struct committer *c, struct envelope *env,
    handoff_done_cb *done, void *arg)
{
	struct handoff *h = xcalloc(1, sizeof(*h));
	int rc = 0, e = 0;

	h->queue_dir = xstrdup(queue_dir);
	h->done = done;
	h->arg = arg;
	committer_hold(c);
	if (envelope_has_route(env, ROUTE_REMOTE)) {
		if ((rc = queue_submit(queue_dir, c, env, part_done, h)) == 0)
			h->queued = h->pending = 1;
		else {
			e = errno;
			log_warn("handoff id=%s cannot write to the queue", env->qid);
		}
	}
	if (rc == 0 && envelope_has_route(env, ROUTE_LOCAL)) {
		if (local_deliver(data_dir, c, env, part_done, h) == 0)
			h->pending++;
		else {
			e = errno;
			log_warn("handoff id=%s cannot write to the mail store", env->qid);
			h->failed = 1;	/* reported by the queue part's call back, if any */
			rc = -1;
		}
	}
	committer_release(c);
	if (h->pending)
		return 0;
	free(h->queue_dir);
	free(h);
	errno = e;
	return -1;
}
