"""Zero-length packets on authd's and pamd's SOCK_SEQPACKET sockets.

recv() returns 0 both for a zero-length packet and for a closed peer.  A
(compromised) service that sends an empty packet must not get its
connection closed by authd, and an empty packet between authd and pamd must
kill neither: it is dropped and reading goes on.

authd's socket accepts root, so the test talks to it directly.  The
authd-pamd socketpair has no name: the test takes a copy of an end from the
process holding it (pidfd_getfd, which needs root and Linux 5.6).
"""

import ctypes
import os
import socket
import stat
import struct
import time

import pytest

from conftest import ALICE
from obtest import service_pid

IS_ROOT = os.geteuid() == 0
REQ = struct.Struct("=IHH16s64s")       # struct auth_req (auth-proto.h)
REP = struct.Struct("=Ii")              # struct auth_rep: id, result, then user
AUTH_FAIL = 0
SYS_PIDFD_GETFD = 438


def auth_request(rid, user, pw, ip="127.0.0.1"):
    u, p = user.encode(), pw.encode()
    return REQ.pack(rid, len(u), len(p), b"smtp", ip.encode()) + u + p


def auth_socket(ob):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(os.path.join(ob.data_dir, "run", "auth.sock"))
    return s


@pytest.mark.skipif(not IS_ROOT, reason="authd's socket takes root or the service user")
def test_empty_packet_does_not_close_service_connection(onebox):
    with auth_socket(onebox) as s:
        s.send(b"")
        s.send(auth_request(7, ALICE, "wrong"))
        rep = s.recv(4096)
        assert len(rep) >= REP.size, "authd closed the connection after an empty packet"
        assert REP.unpack_from(rep) == (7, AUTH_FAIL)
    onebox.wait_log(r"authd: empty request dropped")


def unnamed_seqpacket_fd(pid):
    """The fd number of pid's one SOCK_SEQPACKET socket without a name: the
    authd-pamd socketpair end (service connections carry auth.sock's path)."""
    unnamed = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            cols = line.split()
            if cols[4] == "0005" and len(cols) == 7:
                unnamed.add(cols[6])
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in unnamed:
            return int(fd)
    raise AssertionError("no unnamed SOCK_SEQPACKET socket in %d" % pid)


def steal_fd(pid, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        new = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    finally:
        os.close(pidfd)
    if new < 0:
        pytest.skip("pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
    assert stat.S_ISSOCK(os.fstat(new).st_mode)
    return socket.socket(fileno=new)


@pytest.mark.skipif(not IS_ROOT, reason="pidfd_getfd needs root")
def test_empty_packet_to_pamd(onebox):
    pamd = service_pid(onebox, "pamd")
    authd = service_pid(onebox, "authd")
    with steal_fd(authd, unnamed_seqpacket_fd(authd)) as s:
        s.send(b"")
    onebox.wait_log(r"pamd: malformed request \(0 bytes\) dropped")
    time.sleep(0.3)
    assert service_pid(onebox, "pamd") == pamd, "pamd died of an empty packet"
    assert "authd's socket closed" not in onebox.log()


@pytest.mark.skipif(not IS_ROOT, reason="pidfd_getfd needs root")
def test_empty_packet_to_authd_from_pamd_side(onebox):
    pamd = service_pid(onebox, "pamd")
    with steal_fd(pamd, unnamed_seqpacket_fd(pamd)) as s:
        s.send(b"")
    onebox.wait_log(r"authd: malformed answer from pamd \(0 bytes\)")
    time.sleep(0.3)
    assert "pamd's socket closed" not in onebox.log(), "authd stopped reading pamd's answers"
