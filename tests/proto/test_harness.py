"""The harness itself: LineClient against a scripted loopback server (no
oneboxd needed): line ends, literals read with read_bytes, expect,
read_until, timeouts, and EOF reported as Closed."""

import socket
import threading

import pytest

from obtest import Closed, LineClient, POP3Raw

pytestmark = pytest.mark.no_build


def serve(payload, close=True):
    """A one-shot loopback server that sends payload; returns (host, port)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        conn.sendall(payload)
        if close:
            conn.close()
        else:
            conn.recv(1)        # hold the connection until the client goes
        srv.close()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()


def test_lines_literal_and_eof():
    host, port = serve(b"* OK ready\r\nbare\n* 1 FETCH (BODY[] {7}\r\nab\r\ncd)\r\nA1 OK\r\n")
    with LineClient(host, port, timeout=5) as c:
        assert c.expect(r"\* OK") == "* OK ready"
        assert c.read_line() == "bare"
        assert c.read_line().endswith("{7}")
        assert c.read_bytes(7) == b"ab\r\ncd)"
        assert c.read_line() == ""
        assert c.read_until(lambda b: b.find(b" ") + 1 or None) == b"A1 "
        assert c.read_line() == "OK"
        with pytest.raises(Closed):
            c.read_line()


def test_pop3_lines_end_at_crlf_only():
    host, port = serve(b"+OK a\nb\r\n")
    with POP3Raw(host, port, timeout=5, read_greeting=False) as c:
        assert c.rawline() == b"+OK a\nb"


def test_read_times_out():
    host, port = serve(b"partial", close=False)
    with LineClient(host, port, timeout=0.3) as c:
        with pytest.raises(socket.timeout):
            c.read_line()
        assert c.buf == b"partial"
