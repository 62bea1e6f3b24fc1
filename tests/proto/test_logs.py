"""Logs an admin can grep: session lines with an id, one line per delivery."""

import re

from conftest import ALICE, BOB


def test_delivery_log_line(shared):
    start = len(shared.log())
    r, qid = shared.send("logger@example.org", [ALICE, BOB])
    assert r.code == 250 and qid, r
    for rcpt in (ALICE, BOB):
        m = shared.wait_log(r"id=%s\b[^\n]*from=<logger@example\.org>[^\n]*to=<%s>[^\n]*status=delivered"
                            % (re.escape(qid), re.escape(rcpt)), start=start)
        assert m


def test_session_connect_line(shared):
    start = len(shared.log())
    with shared.raw() as c:
        c.ehlo()
        c.cmd("QUIT")
    m = shared.wait_log(r"smtpd[^\n]*\b([0-9a-f]{8,16}) smtp connect address=127\.0\.0\.1 port=\d+",
                        start=start)
    sid = m.group(1)
    # later lines of the same session carry the same id
    text = shared.log()[start:]
    assert len(re.findall(r"\b%s\b" % sid, text)) >= 2, "session id %s appears only once:\n%s" % (sid, text)


def test_refused_recipient_logged(shared):
    start = len(shared.log())
    with shared.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<user@remote.test>")
    shared.wait_log(r"user@remote\.test", start=start)


def test_no_password_in_log(shared):
    from conftest import ALICE_PW
    start = len(shared.log())
    with shared.submit_session(ALICE, ALICE_PW, "submissions") as c:
        c.cmd("QUIT")
    text = shared.log()[start:]
    import base64
    assert ALICE_PW not in text
    assert base64.b64encode(("\0%s\0%s" % (ALICE, ALICE_PW)).encode()).decode() not in text


def _disconnect_lines(ob, start, sid):
    return re.findall(r"\b%s smtp disconnect [^\n]*" % sid, ob.log()[start:])


def _session_id(ob, start, port):
    m = ob.wait_log(r"\b([0-9a-f]{16}) smtp connect address=127\.0\.0\.1 port=%d\b" % port, start=start)
    return m.group(1)


def test_one_disconnect_line(shared):
    """Every session ends with exactly one disconnect line:
    `<sid> smtp disconnect address=IP`, plus ` error="why"` when the
    connection broke (a reset); a QUIT has no error."""
    import socket
    import struct
    import time
    start = len(shared.log())
    with shared.raw() as c:
        port = c.sock.getsockname()[1]
        c.ehlo()
        c.cmd("QUIT")
    quit_sid = _session_id(shared, start, port)
    c = shared.raw()
    port = c.sock.getsockname()[1]
    c.ehlo()
    reset_sid = _session_id(shared, start, port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.sock.close()
    shared.wait_log(r"\b%s smtp disconnect address=127\.0\.0\.1 error=\"[^\"]+\"" % reset_sid, start=start)
    shared.wait_log(r"\b%s smtp disconnect address=127\.0\.0\.1\n" % quit_sid, start=start)
    time.sleep(0.3)
    assert len(_disconnect_lines(shared, start, quit_sid)) == 1
    assert len(_disconnect_lines(shared, start, reset_sid)) == 1, _disconnect_lines(shared, start, reset_sid)
