/*
 * jobs - worker threads with an eventfd back into the loop (see jobs.h).
 */
#include "jobs.h"
#include "buf.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>

struct jobs {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *todo, **todo_tail;
	struct job *done, **done_tail;
	struct ev_async *wake;
};

static void *
jobs_thread(void *arg)
{
	struct jobs *js = arg;

	for (;;) {
		pthread_mutex_lock(&js->lock);
		while (js->todo == NULL)
			pthread_cond_wait(&js->cond, &js->lock);
		struct job *j = js->todo;
		js->todo = j->next;
		if (js->todo == NULL)
			js->todo_tail = &js->todo;
		pthread_mutex_unlock(&js->lock);

		j->work(j);

		pthread_mutex_lock(&js->lock);
		j->next = NULL;
		*js->done_tail = j;
		js->done_tail = &j->next;
		pthread_mutex_unlock(&js->lock);
		ev_async_wake(js->wake);
	}
	return NULL;
}

static void
jobs_wake(void *arg)
{
	struct jobs *js = arg;

	pthread_mutex_lock(&js->lock);
	struct job *j = js->done;
	js->done = NULL;
	js->done_tail = &js->done;
	pthread_mutex_unlock(&js->lock);
	while (j) {
		struct job *next = j->next;
		j->done(j);
		j = next;
	}
}

struct jobs *
jobs_new(struct ev_loop *loop, int nthreads)
{
	struct jobs *js = xcalloc(1, sizeof(*js));
	pthread_t t;

	pthread_mutex_init(&js->lock, NULL);
	pthread_cond_init(&js->cond, NULL);
	js->todo_tail = &js->todo;
	js->done_tail = &js->done;
	js->wake = ev_async_new(loop, jobs_wake, js);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t, NULL, jobs_thread, js) != 0 || pthread_detach(t) != 0)
			fatalx("cannot start a worker thread");
	return js;
}

void
jobs_submit(struct jobs *js, struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&js->lock);
	*js->todo_tail = j;
	js->todo_tail = &j->next;
	pthread_cond_signal(&js->cond);
	pthread_mutex_unlock(&js->lock);
}
