/*
 * test-jobs - jobs.h: work() runs in a worker thread, done() afterwards in
 * the loop thread, exactly once per job; many jobs on several threads all
 * come back; a one-thread pool gives results back in submission order;
 * done() may submit the next job.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "ev.h"
#include "jobs.h"

#define NJOBS 2000

struct task {
	struct job job;		/* first: a struct job * is a struct task * */
	struct batch *b;
	int id;
	uint64_t in, out;
	pthread_t worker;
	int worked, done;
};

struct batch {
	struct ev_loop *loop;
	struct jobs *js;
	pthread_t loop_thread;
	struct task *t;
	int ndone;
	int next_done;		/* id expected next (ordered check) */
	int ordered;
	int chain;		/* done() submits the next job */
};

static void
task_work(struct job *j)
{
	struct task *t = (struct task *)j;

	t->worker = pthread_self();
	t->out = t->in * t->in;
	if (t->id % 97 == 0) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	t->worked++;
}

static void
task_done(struct job *j)
{
	struct task *t = (struct task *)j;
	struct batch *b = t->b;

	assert_true(pthread_equal(pthread_self(), b->loop_thread));
	assert_false(pthread_equal(t->worker, b->loop_thread));
	assert_int_equal(t->worked, 1);
	assert_int_equal(t->done, 0);
	assert_int_equal(t->out, t->in * t->in);
	if (b->ordered)
		assert_int_equal(t->id, b->next_done);
	b->next_done++;
	t->done++;
	if (++b->ndone == NJOBS)
		ev_stop(b->loop);
	else if (b->chain)
		jobs_submit(b->js, &b->t[t->id + 1].job);
}

static struct {
	struct ev_loop *loop;
	struct jobs *js;
} kept[8];
static int nkept;

static void
too_slow(void *arg)
{
	fail_msg("jobs did not come back within 20 s");
}

static void
run_batch(int nthreads, int ordered, int chain)
{
	struct batch b = { .ordered = ordered, .chain = chain };
	struct ev_timer guard;
	sigset_t all;

	/* the workers inherit the mask (jobs.h): block what the loop would */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	b.loop = ev_new();
	b.loop_thread = pthread_self();
	b.js = jobs_new(b.loop, nthreads);
	b.t = calloc(NJOBS, sizeof(*b.t));
	for (int i = 0; i < NJOBS; i++)
		b.t[i] = (struct task){ .job = { .work = task_work, .done = task_done },
		    .b = &b, .id = i, .in = (uint64_t)i + 3 };
	for (int i = 0; i < (chain ? 1 : NJOBS); i++)
		jobs_submit(b.js, &b.t[i].job);
	ev_timer_init(&guard, too_slow, NULL);
	ev_timer_add(b.loop, &guard, 20000);
	assert_int_equal(ev_run(b.loop), 0);
	for (int i = 0; i < NJOBS; i++)
		assert_true(b.t[i].worked == 1 && b.t[i].done == 1);
	ev_timer_del(b.loop, &guard);
	free(b.t);
	/* jobs has no destructor: the idle workers keep the pool and its
	 * loop, so both stay reachable (for LeakSanitizer) */
	kept[nkept].loop = b.loop;
	kept[nkept++].js = b.js;
}

static void
test_many_jobs_many_threads(void **state)
{
	run_batch(4, 0, 0);
}

static void
test_one_thread_keeps_order(void **state)
{
	run_batch(1, 1, 0);
}

static void
test_done_submits_next(void **state)
{
	run_batch(3, 1, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_jobs_many_threads),
		cmocka_unit_test(test_one_thread_keeps_order),
		cmocka_unit_test(test_done_submits_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
