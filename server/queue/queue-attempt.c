/*
 * queue-attempt - one delivery attempt of one queued message (queued.h).
 *
 * The envelope is read from disk, its undelivered recipients are grouped
 * by domain, and each domain gets one mta_deliver after the other (one
 * connection at a time per message keeps the code simple; many messages
 * run at once).  Then, in this order:
 *   1. recipients that failed for good in this attempt (or whose lifetime
 *      is over) are returned to the sender in one bounce (bounce.c),
 *      made durable before anything else changes;
 *   2. nothing left to try: the envelope, then the message file, are
 *      removed; else the envelope is rewritten (attempts, next time, each
 *      recipient's state and last reply) through the group commit.
 * A crash anywhere in between repeats the attempt: recipients already
 * delivered may get the message twice, none gets it zero times.
 */
#include "queued.h"
#include "bounce.h"
#include "log.h"
#include "queue.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct attempt {
	struct queued *q;
	struct qmsg *m;
	struct envelope env;
	struct queue_meta meta;
	int msg_fd;
	int *tried;			/* per recipient: done in this attempt */
	int *was_failed;		/* per recipient: failed (and bounced) before */
	size_t *idx;			/* the current domain's recipients */
	struct mta *mta;
	int reached, unreachable;	/* over the attempt's domains (queued_link) */
	struct commit_job job;
	struct commit_rename ren;
};

static void attempt_next_domain(struct attempt *a);

static void
attempt_free(struct attempt *a, time_t next)
{
	struct queued *q = a->q;
	struct qmsg *m = a->m;

	if (a->msg_fd >= 0)
		close(a->msg_fd);
	envelope_free(&a->env);
	free(a->tried);
	free(a->was_failed);
	free(a->idx);
	free(a->ren.from);
	free(a->ren.to);
	free(a);
	queued_attempt_done(q, m, next);
}

static time_t
backoff(struct queued *q, unsigned attempts)
{
	uint64_t min = (uint64_t)db_setting_int(q->svc.db, ST_QUEUE_RETRY_MIN);
	uint64_t max = (uint64_t)db_setting_int(q->svc.db, ST_QUEUE_RETRY_MAX);
	uint64_t wait = min;

	for (unsigned i = 1; i < attempts && wait < max; i++)
		wait *= 2;
	return (time_t)(wait < max ? wait : max);
}

static void
saved(struct commit_job *cj, void *arg)
{
	struct attempt *a = arg;

	if (cj->result < 0) {
		log_warnx("queued id=%s cannot save the envelope: %s", a->env.qid, strerror(cj->errno_val));
		unlink(a->ren.from);
	}
	attempt_free(a, a->meta.next);
}

/* attempt_save - the recipients' new states, or the end of the message. */
static void
attempt_save(struct attempt *a)
{
	struct queued *q = a->q;

	if (a->m->removed) {		/* deleted or held by the CLI meanwhile */
		attempt_free(a, 0);
		return;
	}
	if (envelope_count(&a->env, RCPT_DEFERRED) + envelope_count(&a->env, RCPT_PENDING) == 0) {
		log_info("queued id=%s removed: every recipient delivered or returned", a->env.qid);
		if (queue_remove(q->queue_dir, a->env.qid) < 0)
			log_warn("queued id=%s remove", a->env.qid);
		attempt_free(a, 0);
		return;
	}
	a->meta.attempts++;
	a->meta.next = time(NULL) + backoff(q, a->meta.attempts);
	if (queue_env_stage(q->queue_dir, &a->env, &a->meta, &a->ren) < 0) {
		log_warn("queued id=%s cannot write the envelope", a->env.qid);
		attempt_free(a, a->meta.next);
		return;
	}
	a->job.renames = &a->ren;
	a->job.nrenames = 1;
	a->job.done = saved;
	a->job.arg = a;
	committer_submit(q->committer, &a->job);
}

static void
bounced(int ok, void *arg)
{
	struct attempt *a = arg;

	if (!ok) {
		/* the sender was not told: keep the envelope as it was and
		 * try the whole attempt again later */
		log_warnx("queued id=%s the bounce could not be queued; retrying later", a->env.qid);
		attempt_free(a, time(NULL) + backoff(a->q, 1));
		return;
	}
	attempt_save(a);
}

/* attempt_end - expire what is too old, bounce what failed, save. */
static void
attempt_end(struct attempt *a)
{
	struct queued *q = a->q;
	time_t lifetime = (time_t)db_setting_int(q->svc.db, ST_QUEUE_LIFETIME);
	int expired = time(NULL) - a->meta.created >= lifetime;
	size_t nfailed = 0;

	queued_link(q, a->reached, a->unreachable);
	for (size_t i = 0; i < a->env.nrcpts; i++) {
		struct envelope_rcpt *r = &a->env.rcpts[i];
		if (expired && r->status == RCPT_DEFERRED) {
			char *why = xasprintf("Delivery time expired (queue_lifetime); last try: %s",
			    r->reply ? r->reply : "none");
			envelope_set_status(r, RCPT_FAILED, why);
			log_info("queued id=%s to=<%s> status=expired reply=\"%s\"", a->env.qid, r->final, why);
			free(why);
		}
		if (r->status == RCPT_FAILED && !a->was_failed[i])
			nfailed++;
	}
	if (nfailed == 0 || a->env.sender[0] == '\0') {
		if (nfailed)
			log_info("queued id=%s no bounce for a bounce (null sender)", a->env.qid);
		attempt_save(a);
		return;
	}
	if (bounce_send(q, &a->env, a->was_failed, a->msg_fd, bounced, a) < 0)
		bounced(0, a);
}

static void
mta_done(struct mta *mta, void *arg)
{
	struct attempt *a = arg;

	a->reached |= mta_reached(mta);
	a->unreachable |= mta_unreachable(mta);
	mta_free(&a->mta);
	attempt_next_domain(a);
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "";
}

static void
attempt_next_domain(struct attempt *a)
{
	size_t first = SIZE_MAX, n = 0;

	for (size_t i = 0; i < a->env.nrcpts && first == SIZE_MAX; i++)
		if (!a->tried[i])
			first = i;
	if (first == SIZE_MAX) {
		attempt_end(a);
		return;
	}
	const char *dom = domain_of(a->env.rcpts[first].final);
	for (size_t i = first; i < a->env.nrcpts; i++)
		if (!a->tried[i] && strcasecmp(domain_of(a->env.rcpts[i].final), dom) == 0) {
			a->tried[i] = 1;
			a->idx[n++] = i;
		}
	a->mta = mta_deliver(&a->q->mta, &a->env, a->msg_fd, dom, a->idx, n, mta_done, a);
}

void
attempt_start(struct queued *q, struct qmsg *m)
{
	struct attempt *a = xcalloc(1, sizeof(*a));
	char *path;

	a->q = q;
	a->m = m;
	a->msg_fd = -1;
	m->active = 1;
	q->nactive++;
	db_changed(q->svc.db);
	q->mta.port = (int)db_setting_int(q->svc.db, ST_OUTBOUND_SMTP_PORT);
	if (queue_env_load(q->queue_dir, "env", m->qid, &a->env, &a->meta) < 0) {
		m->removed = errno == ENOENT;	/* deleted or held meanwhile */
		if (!m->removed)
			log_warn("queued id=%s cannot read the envelope", m->qid);
		attempt_free(a, time(NULL) + 3600);
		return;
	}
	path = queue_path(q->queue_dir, "msg", m->qid);
	a->msg_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (a->msg_fd < 0) {
		log_warn("queued id=%s cannot open the message file", m->qid);
		attempt_free(a, time(NULL) + 3600);
		return;
	}
	a->tried = xcalloc(a->env.nrcpts, sizeof(*a->tried));
	a->was_failed = xcalloc(a->env.nrcpts, sizeof(*a->was_failed));
	a->idx = xcalloc(a->env.nrcpts, sizeof(*a->idx));
	for (size_t i = 0; i < a->env.nrcpts; i++) {
		struct envelope_rcpt *r = &a->env.rcpts[i];
		a->was_failed[i] = r->status == RCPT_FAILED;
		if (r->status == RCPT_DEFERRED)
			r->status = RCPT_PENDING;	/* tried again now */
		a->tried[i] = r->status != RCPT_PENDING;
	}
	log_info("queued id=%s attempt=%u from=<%s> rcpts=%zu", m->qid, a->meta.attempts + 1, a->env.sender,
	    a->env.nrcpts);
	attempt_next_domain(a);
}
