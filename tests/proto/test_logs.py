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
