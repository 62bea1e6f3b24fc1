/*
 * test-ev - the timers of ev.h: many timers added, deleted and re-armed in
 * random order fire once each, never early, in the order of their
 * deadlines; a deleted timer never fires, also when a callback deletes it
 * while it is already due (and frees what holds it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "ev.h"

#define NTIMERS 300

struct tmr {
	struct ev_timer t;
	struct run *run;
	uint64_t deadline;	/* our lower bound: clock before add + ms */
	int armed;
	int fired;
};

struct run {
	struct ev_loop *loop;
	struct tmr tm[NTIMERS];
	uint64_t last_deadline;	/* highest deadline fired so far */
	int nfired;
};

static void
tmr_fire(void *arg)
{
	struct tmr *m = arg;
	struct run *r = m->run;

	assert_true(m->armed);
	assert_false(ev_timer_pending(&m->t));
	assert_true(ev_clock_ms() >= m->deadline);
	/* deadlines may differ from the loop's by the 1 ms the add took */
	if (m->deadline + 2 <= r->last_deadline)
		fail_msg("timer due at %llu fired after one due at %llu",
		    (unsigned long long)m->deadline, (unsigned long long)r->last_deadline);
	if (m->deadline > r->last_deadline)
		r->last_deadline = m->deadline;
	m->armed = 0;
	m->fired++;
	r->nfired++;
}

static void
arm(struct run *r, struct tmr *m, uint64_t ms)
{
	m->deadline = ev_clock_ms() + ms;
	m->armed = 1;
	ev_timer_add(r->loop, &m->t, ms);
	assert_true(ev_timer_pending(&m->t));
}

static void
stop_loop(void *arg)
{
	ev_stop(arg);
}

/* shuffle_ops - random adds, re-arms and deletes, then run until all fired */
static void
shuffle_ops(unsigned seed)
{
	struct run *r = calloc(1, sizeof(*r));
	struct ev_timer stop;
	int armed = 0;

	srand(seed);
	r->loop = ev_new();
	for (int i = 0; i < NTIMERS; i++) {
		r->tm[i].run = r;
		ev_timer_init(&r->tm[i].t, tmr_fire, &r->tm[i]);
	}
	for (int op = 0; op < 4 * NTIMERS; op++) {
		struct tmr *m = &r->tm[rand() % NTIMERS];
		if (rand() % 4 == 0) {
			ev_timer_del(r->loop, &m->t);
			m->armed = 0;
			assert_false(ev_timer_pending(&m->t));
		} else
			arm(r, m, (uint64_t)(rand() % 60));
	}
	for (int i = 0; i < NTIMERS; i++)
		armed += r->tm[i].armed;
	ev_timer_init(&stop, stop_loop, r->loop);
	ev_timer_add(r->loop, &stop, 200);
	assert_int_equal(ev_run(r->loop), 0);
	assert_int_equal(r->nfired, armed);
	for (int i = 0; i < NTIMERS; i++)
		assert_true(r->tm[i].fired <= 1 && !r->tm[i].armed);
	ev_free(&r->loop);
	free(r);
}

static void
test_random_order(void **state)
{
	for (unsigned seed = 1; seed <= 5; seed++)
		shuffle_ops(seed);
}

/* ---- a callback deletes other timers, due at the same moment ---- */

struct victim {
	struct ev_timer t;
	int fired;
};

struct killer {
	struct ev_timer t;
	struct ev_loop *loop;
	struct victim *v[3];	/* v[0] deleted, v[1] deleted and freed, v[2] kept */
	int *v2_fired;
};

static void
victim_fire(void *arg)
{
	struct victim *v = arg;
	v->fired++;
}

static void
killer_fire(void *arg)
{
	struct killer *k = arg;

	ev_timer_del(k->loop, &k->v[0]->t);
	ev_timer_del(k->loop, &k->v[1]->t);
	free(k->v[1]);
	k->v[1] = NULL;
	ev_timer_del(k->loop, &k->t);		/* itself: already disarmed */
}

static void
test_delete_from_callback(void **state)
{
	struct ev_loop *loop = ev_new();
	struct killer k = { .loop = loop };
	struct ev_timer stop;

	for (int i = 0; i < 3; i++) {
		k.v[i] = calloc(1, sizeof(*k.v[i]));
		ev_timer_init(&k.v[i]->t, victim_fire, k.v[i]);
		ev_timer_add(loop, &k.v[i]->t, 30);
	}
	ev_timer_init(&k.t, killer_fire, &k);
	ev_timer_add(loop, &k.t, 10);
	ev_timer_init(&stop, stop_loop, loop);
	ev_timer_add(loop, &stop, 80);
	/* all four are due before the loop looks at its timers */
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(ev_run(loop), 0);
	assert_int_equal(k.v[0]->fired, 0);
	assert_null(k.v[1]);
	assert_int_equal(k.v[2]->fired, 1);
	free(k.v[0]);
	free(k.v[2]);
	ev_free(&loop);
}

/* ---- a callback re-arms its own timer ---- */

struct ticker {
	struct ev_timer t;
	struct ev_loop *loop;
	int n;
};

static void
tick(void *arg)
{
	struct ticker *tk = arg;

	if (++tk->n < 5)
		ev_timer_add(tk->loop, &tk->t, 1);
	else
		ev_stop(tk->loop);
}

static void
test_rearm_from_callback(void **state)
{
	struct ticker tk = { .loop = ev_new() };

	ev_timer_init(&tk.t, tick, &tk);
	ev_timer_add(tk.loop, &tk.t, 0);
	assert_int_equal(ev_run(tk.loop), 0);
	assert_int_equal(tk.n, 5);
	assert_false(ev_timer_pending(&tk.t));
	ev_free(&tk.loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_order),
		cmocka_unit_test(test_delete_from_callback),
		cmocka_unit_test(test_rearm_from_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
