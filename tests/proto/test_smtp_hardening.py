"""SMTP against hostile or clumsy clients: what a review found, kept found.

- a client that opens TLS and says nothing must not cost CPU, and is cut
  at the idle timeout;
- a client that pipelines without reading the replies must not grow the
  server's memory;
- a client that sends its message and QUIT, then shuts down its side, still
  gets the 250 (else it would send the message again).
"""

import socket
import time

import pytest

from conftest import BOB
from obtest import make_message, proc_info


def smtpd_pid(ob):
    for pid in ob.child_pids():
        info = proc_info(pid)
        if info and info[0] == "smtpd":
            return pid
    raise AssertionError("no smtpd process")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])       # utime + stime


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_silent_tls_client_costs_no_cpu_and_times_out(onebox):
    onebox.set("smtp_idle_timeout", "5")
    pid = smtpd_pid(onebox)
    s = socket.create_connection(("127.0.0.1", onebox.port("submissions")))
    time.sleep(0.3)
    before = cpu_ticks(pid)
    time.sleep(2)
    used = cpu_ticks(pid) - before
    assert used < 50, "smtpd used %d ticks in 2 s for a silent TLS client" % used
    s.settimeout(10)
    t = time.monotonic()
    assert s.recv(100) == b"", "the silent TLS client must be disconnected"
    assert time.monotonic() - t < 8
    s.close()


def test_pipelining_without_reading_is_bounded(onebox):
    """EHLOs (long replies) from a client that never reads: once 64 KB of
    replies wait, no more commands are run, and smtp_max_commands_before_mail
    ends it (the loopback's socket buffers take a few MB, so the limit may
    come first; tests/unit/test-session.c checks the back-pressure alone)."""
    onebox.set("smtp_max_commands_before_mail", "10000")
    pid = smtpd_pid(onebox)
    base = rss_kb(pid)
    start = len(onebox.log())
    s = socket.create_connection(("127.0.0.1", onebox.port("smtp")))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    chunk = b"EHLO x\r\n" * 4000
    sent, deadline = 0, time.monotonic() + 4
    while time.monotonic() < deadline and sent < 40 * 1024 * 1024:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.05)
        except ConnectionResetError:       # closed after the 421
            break
    time.sleep(0.5)
    ran = onebox.log()[start:].count('smtp command "EHLO x"')
    grown = rss_kb(pid) - base
    s.close()
    cmds = sent // len(b"EHLO x\r\n")
    assert ran < cmds * 0.6, "smtpd ran %d of %d EHLOs for a client that reads nothing" % (ran, cmds)
    assert ran <= 10001
    assert grown < 8 * 1024, "smtpd grew by %d KB for a client that does not read" % grown


def test_half_closed_client_still_gets_250(onebox):
    body = make_message(to=BOB, subject="half close")
    if isinstance(body, str):
        body = body.encode()
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    s = socket.create_connection(("127.0.0.1", onebox.port("smtp")))
    s.settimeout(10)
    s.sendall(b"EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % BOB.encode()
              + body + b".\r\nQUIT\r\n")
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    assert b"\r\n250 2.0.0 Ok: queued as" in got, got
    assert got.rstrip().endswith(b"Bye"), got
    assert len(onebox.messages(BOB)) == 1


def _rst(sock):
    """Close with SO_LINGER {1, 0}: the kernel sends a TCP RST."""
    import struct
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.slow
def test_reset_during_failed_login_delay_costs_no_cpu(onebox_factory):
    """A client that resets its connection while the failed-login answer is
    held back (reading paused) must not make smtpd spin on EPOLLERR/HUP."""
    from conftest import populate
    ob = populate(onebox_factory.make(conf_extra={"plaintext_auth_listen": "127.0.0.1"}))
    ob.set("auth_fail_delay_ms", "3000")
    pid = smtpd_pid(ob)
    s = socket.create_connection(("127.0.0.1", ob.port("submission")))
    s.settimeout(10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"220")
    s.sendall(b"EHLO x\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"AUTH PLAIN AGFsaWNlQGxvY2FsLnRlc3QAd3Jvbmc=\r\n")   # alice, "wrong"
    ob.wait_log(r"smtp auth address=127\.0\.0\.1 result=failed")
    f.close()
    _rst(s)
    time.sleep(0.2)
    before = cpu_ticks(pid)
    time.sleep(2)
    used = cpu_ticks(pid) - before
    assert used < 20, "smtpd used %d ticks in 2 s after a reset during the fail delay" % used
    ob.wait_log(r"smtp disconnect address=127\.0\.0\.1", timeout=5)
