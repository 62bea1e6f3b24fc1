/*
 * commit - group commit (see commit.h for the why).
 *
 * Batching happens in the loop thread, without locks: deliveries queue up
 * while a batch is being synced, and when it comes back the whole queue
 * leaves as the next batch.  The sync itself runs on a one-thread jobs
 * pool, so there is never more than one batch in flight.
 */
#include "commit.h"
#include "buf.h"
#include "jobs.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

struct batch {
	struct job job;
	struct committer *c;
	struct commit_job *list;
};

struct committer {
	int dirfd;
	dev_t dev;			/* the file system syncfs covers */
	struct jobs *jobs;
	struct commit_job *queue, **queue_tail;	/* waiting for the next batch */
	int syncing;
	int held;			/* committer_hold depth */
};

static void committer_kick(struct committer *c);

/* batch_work - in the worker: data durable, publish, renames durable. */
static void
batch_work(struct job *j)
{
	struct batch *b = (struct batch *)j;
	int err = 0;

	if (syncfs(b->c->dirfd) < 0)
		err = errno;
	for (struct commit_job *cj = b->list; cj; cj = cj->next) {
		cj->result = err ? -1 : 0;
		cj->errno_val = err;
		for (size_t i = 0; !err && i < cj->nrenames; i++) {
			struct commit_rename *r = &cj->renames[i];
			if (rename(r->from, r->to) < 0) {
				cj->result = -1;
				cj->errno_val = errno;
				break;
			}
			r->done = 1;
		}
	}
	if (!err && syncfs(b->c->dirfd) < 0) {
		err = errno;
		for (struct commit_job *cj = b->list; cj; cj = cj->next)
			if (cj->result == 0) {
				/* The renames may not be durable: the sender must retry
				 * (the caller takes the published copies back). */
				cj->result = -1;
				cj->errno_val = err;
			}
	}
}

/* batch_done - in the loop: answer every delivery of the batch. */
static void
batch_done(struct job *j)
{
	struct batch *b = (struct batch *)j;
	struct committer *c = b->c;
	struct commit_job *cj = b->list;

	free(b);
	c->syncing = 0;
	while (cj) {
		struct commit_job *next = cj->next;
		cj->next = NULL;
		cj->done(cj, cj->arg);
		cj = next;
	}
	committer_kick(c);
}

static void
committer_kick(struct committer *c)
{
	if (c->syncing || c->held || c->queue == NULL)
		return;
	struct batch *b = xcalloc(1, sizeof(*b));
	b->job.work = batch_work;
	b->job.done = batch_done;
	b->c = c;
	b->list = c->queue;
	c->queue = NULL;
	c->queue_tail = &c->queue;
	c->syncing = 1;
	jobs_submit(c->jobs, &b->job);
}

struct committer *
committer_new(struct ev_loop *loop, const char *sync_dir)
{
	struct committer *c = xcalloc(1, sizeof(*c));
	struct stat st;

	c->dirfd = open(sync_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0 || fstat(c->dirfd, &st) < 0)
		fatal("open %s", sync_dir);
	c->dev = st.st_dev;
	c->queue_tail = &c->queue;
	c->jobs = jobs_new(loop, 1);
	return c;
}

dev_t
committer_dev(const struct committer *c)
{
	return c->dev;
}

void
committer_submit(struct committer *c, struct commit_job *job)
{
	job->next = NULL;
	*c->queue_tail = job;
	c->queue_tail = &job->next;
	committer_kick(c);
}


void
committer_hold(struct committer *c)
{
	c->held++;
}

void
committer_release(struct committer *c)
{
	if (--c->held == 0)
		committer_kick(c);
}
