/*
 * test-net-peer - net_peer_closed: after recv() returned 0 on a
 * SOCK_SEQPACKET or SOCK_DGRAM socketpair, a zero-length datagram is told
 * apart from the peer's close (authd and pamd rely on it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

static void
check_type(int type)
{
	int sv[2];
	char buf[8];

	assert_int_equal(socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(send(sv[1], "", 0, 0), 0);
	assert_int_equal(recv(sv[0], buf, sizeof(buf), 0), 0);
	assert_int_equal(net_peer_closed(sv[0]), 0);
	/* the empty datagram was consumed: nothing left to read */
	assert_int_equal(recv(sv[0], buf, sizeof(buf), 0), -1);
	assert_int_equal(net_peer_closed(sv[0]), 0);
	close(sv[1]);
	if (type == SOCK_SEQPACKET) {
		assert_int_equal(recv(sv[0], buf, sizeof(buf), 0), 0);
		assert_int_equal(net_peer_closed(sv[0]), 1);
	}
	close(sv[0]);
}

static void
test_seqpacket(void **state)
{
	check_type(SOCK_SEQPACKET);
}

static void
test_dgram(void **state)
{
	check_type(SOCK_DGRAM);
}

static void
test_shutdown(void **state)
{
	int sv[2];
	char buf[8];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	assert_int_equal(recv(sv[0], buf, sizeof(buf), 0), 0);
	assert_int_equal(net_peer_closed(sv[0]), 1);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seqpacket),
		cmocka_unit_test(test_dgram),
		cmocka_unit_test(test_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
