/*
 * commit - the group-commit thread (see commit.h for the why).
 */
#include "commit.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct committer {
	int dirfd;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct commit_job *queue, **queue_tail;
	struct commit_job *done, **done_tail;
	size_t busy;
	struct ev_async *wake;
};

static void
commit_batch(struct committer *c, struct commit_job *batch)
{
	int err = 0;

	if (syncfs(c->dirfd) < 0)
		err = errno;
	for (struct commit_job *j = batch; j; j = j->next) {
		j->result = 0;
		if (err) {
			j->result = -1;
			j->errno_val = err;
			continue;
		}
		for (size_t i = 0; i < j->ntmps; i++)
			if (maildir_tmp_publish(&j->tmps[i]) < 0) {
				j->result = -1;
				j->errno_val = errno;
				break;
			}
	}
	if (!err && syncfs(c->dirfd) < 0) {
		err = errno;
		for (struct commit_job *j = batch; j; j = j->next)
			if (j->result == 0) {
				/* The renames may not be durable: the sender must retry.
				 * (A duplicate is possible; a loss is not.) */
				j->result = -1;
				j->errno_val = err;
			}
	}
}

static void *
commit_thread(void *arg)
{
	struct committer *c = arg;

	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (c->queue == NULL)
			pthread_cond_wait(&c->cond, &c->lock);
		struct commit_job *batch = c->queue;
		c->queue = NULL;
		c->queue_tail = &c->queue;
		pthread_mutex_unlock(&c->lock);

		commit_batch(c, batch);

		pthread_mutex_lock(&c->lock);
		*c->done_tail = batch;
		while (*c->done_tail)
			c->done_tail = &(*c->done_tail)->next;
		pthread_mutex_unlock(&c->lock);
		ev_async_wake(c->wake);
	}
	return NULL;
}

static void
commit_wake(void *arg)
{
	struct committer *c = arg;

	pthread_mutex_lock(&c->lock);
	struct commit_job *j = c->done;
	c->done = NULL;
	c->done_tail = &c->done;
	pthread_mutex_unlock(&c->lock);
	while (j) {
		struct commit_job *next = j->next;
		c->busy--;
		j->next = NULL;
		j->done(j, j->arg);
		j = next;
	}
}

struct committer *
committer_new(struct ev_loop *loop, const char *sync_dir)
{
	struct committer *c = xcalloc(1, sizeof(*c));
	c->dirfd = open(sync_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		fatal("open %s", sync_dir);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->queue_tail = &c->queue;
	c->done_tail = &c->done;
	c->wake = ev_async_new(loop, commit_wake, c);
	if (pthread_create(&c->thread, NULL, commit_thread, c) != 0)
		fatalx("cannot start the commit thread");
	return c;
}

void
committer_submit(struct committer *c, struct commit_job *job)
{
	job->next = NULL;
	c->busy++;
	pthread_mutex_lock(&c->lock);
	*c->queue_tail = job;
	c->queue_tail = &job->next;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

size_t
committer_busy(struct committer *c)
{
	return c->busy;
}
