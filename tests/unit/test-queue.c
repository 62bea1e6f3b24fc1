/*
 * test-queue - the queue's envelope file (server/mail/queue.c): what is
 * written reads back the same, only remote recipients are written, a
 * reply's control characters cannot break a line, and damaged files are
 * refused by name, never half-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue.h"

static const char QID[] = "0123456789abcdef";

static void
test_round_trip(void **state)
{
	struct route remote = { ROUTE_REMOTE, 0 }, local = { ROUTE_LOCAL, 0 };
	struct queue_meta m = { 1700000000, 1700000300, 2 }, m2;
	struct envelope env, back;
	struct buf b = BUF_INIT;
	const char *err;

	envelope_init(&env, QID, "alice@local.test");
	env.smtputf8 = 1;
	env.size = 1234;
	env.lines = 40;
	envelope_add_rcpt(&env, "team@local.test", "bob@local.test", &local);
	envelope_add_rcpt(&env, "team@local.test", "x@remote.example", &remote);
	size_t k = envelope_add_rcpt(&env, "\"a b\"@remote.example", "\"a b\"@remote.example", &remote);
	envelope_set_status(&env.rcpts[k], RCPT_DEFERRED, "451 4.7.1 try\tlater\nplease");
	queue_env_format(&env, &m, &b);
	assert_int_equal(queue_env_parse(QID, b.data, &back, &m2, &err), 0);
	assert_int_equal(back.nrcpts, 2);	/* the local one is not queued */
	assert_string_equal(back.sender, "alice@local.test");
	assert_string_equal(back.rcpts[0].final, "x@remote.example");
	assert_string_equal(back.rcpts[0].orcpt, "team@local.test");
	assert_int_equal(back.rcpts[0].status, RCPT_PENDING);
	assert_null(back.rcpts[0].reply);
	assert_string_equal(back.rcpts[1].final, "\"a b\"@remote.example");
	assert_int_equal(back.rcpts[1].status, RCPT_DEFERRED);
	assert_string_equal(back.rcpts[1].reply, "451 4.7.1 try later please");
	assert_int_equal(back.rcpts[1].route.kind, ROUTE_REMOTE);
	assert_int_equal(back.smtputf8, 1);
	assert_int_equal(back.body8, 0);
	assert_int_equal(back.size, 1234);
	assert_int_equal(back.lines, 40);
	assert_int_equal(m2.created, m.created);
	assert_int_equal(m2.next, m.next);
	assert_int_equal(m2.attempts, 2);
	envelope_free(&back);
	envelope_free(&env);
	buf_free(&b);
}

static void
test_null_sender(void **state)
{
	struct envelope env;
	struct queue_meta m;
	const char *err;

	assert_int_equal(queue_env_parse(QID, "version 1\nsender \nrcpt\tpending\ta@b.example\ta@b.example\t\n",
	    &env, &m, &err), 0);
	assert_string_equal(env.sender, "");
	envelope_free(&env);
}

struct bad_case {
	const char *name;
	const char *text;
};

static const struct bad_case bad[] = {
	{ "empty", "" },
	{ "no-version", "sender a@b\nrcpt\tpending\ta@b.example\ta@b.example\t\n" },
	{ "future-version", "version 2\nrcpt\tpending\ta@b.example\ta@b.example\t\n" },
	{ "no-recipient", "version 1\nsender a@b\n" },
	{ "unknown-key", "version 1\ncolour blue\nrcpt\tpending\ta@b.example\ta@b.example\t\n" },
	{ "bad-number", "version 1\nsize 12x\nrcpt\tpending\ta@b.example\ta@b.example\t\n" },
	{ "bad-status", "version 1\nrcpt\tlost\ta@b.example\ta@b.example\t\n" },
	{ "short-rcpt", "version 1\nrcpt\tpending\ta@b.example\n" },
	{ "long-rcpt", "version 1\nrcpt\tpending\ta@b.example\ta@b.example\tx\ty\n" },
	{ "empty-address", "version 1\nrcpt\tpending\t\ta@b.example\t\n" },
	{ "no-value", "version 1\nsender\nrcpt\tpending\ta@b.example\ta@b.example\t\n" },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	struct envelope env;
	struct queue_meta m;
	const char *err;

	assert_int_equal(queue_env_parse(QID, c->text, &env, &m, &err), -1);
	assert_non_null(err);
	assert_null(env.rcpts);
}

static void
test_qid_valid(void **state)
{
	assert_true(queue_qid_valid(QID));
	assert_false(queue_qid_valid("0123456789ABCDEF"));
	assert_false(queue_qid_valid("0123456789abcde"));
	assert_false(queue_qid_valid("0123456789abcdef0"));
	assert_false(queue_qid_valid("../../etc/passwd"));
	assert_false(queue_qid_valid(""));
}

#define NBAD (sizeof(bad) / sizeof(bad[0]))

int
main(void)
{
	static struct CMUnitTest t[NBAD + 3];
	size_t n = 0;

	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_round_trip);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_null_sender);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_qid_valid);
	for (size_t i = 0; i < NBAD; i++) {
		t[n].name = bad[i].name;
		t[n].test_func = test_bad;
		t[n++].initial_state = (void *)&bad[i];
	}
	return _cmocka_run_group_tests("queue", t, n, NULL, NULL);
}
