"""Outbound delivery: the queue runner (queued) delivering to stand-in
internet servers found through a loopback DNS server (outbound.py).

Covers MX preference and fallback to the next MX, implicit MX, null MX and
an unknown domain (bounced), STARTTLS when offered, a first MX that does not
speak SMTP, a temporary failure retried to success, a
permanent failure returned as an RFC 3464 report in the sender's INBOX,
submission to an outside address end to end, an alias with an outside
target, and no bounce for a bounce.
"""

import email
import os
import re
import socket
import threading
import time

import pytest

from conftest import ALICE, ALICE_PW, BOB, populate
from obtest import make_message
from outbound import Internet


@pytest.fixture
def net():
    n = Internet()
    yield n
    n.close()


@pytest.fixture
def ob(onebox_factory, net):
    o = populate(onebox_factory.make(dns_servers=net.dns.address))
    net.configure(o)
    o.set("trusted_networks", "127.0.0.0/8")
    return o


def submit(ob, rcpts, sender=ALICE, subject="outbound test", body="Hello outside.\n"):
    """Through submission (587, STARTTLS, AUTH) as ALICE; the queue id."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    with ob.submit_session(ALICE, ALICE_PW) as c:
        assert c.cmd("MAIL FROM:<%s>" % sender).code == 250
        for r in rcpts:
            rr = c.cmd("RCPT TO:<%s>" % r)
            assert rr.code == 250, rr
        r = c.data(make_message(sender, rcpts[0], subject=subject, body=body))
        assert r.code == 250, r
        return r.text.split()[-1]


def dsn_of(ob, address, n=1, timeout=20):
    """The n-th message in address's INBOX, parsed; it must be a DSN."""
    files = ob.wait_messages(address, n, timeout=timeout)
    msg = email.message_from_bytes(files[n - 1] if isinstance(files[n - 1], bytes) else
                                   files[n - 1].encode())
    assert msg.get_content_type() == "multipart/report", msg.as_string()[:2000]
    assert msg.get_param("report-type") == "delivery-status"
    return msg


def dsn_parts(msg):
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status",
                                                      "text/rfc822-headers"], msg.as_string()[:2000]
    return parts


def test_mx_preference_and_fallback(ob, net):
    # best.example: the best MX answers, the second must get nothing
    net.dns.mx("best.example", 10, "mx1.best.example")
    net.dns.mx("best.example", 20, "mx2.best.example")
    net.dns.a("mx1.best.example", "127.0.0.21")
    net.dns.a("mx2.best.example", "127.0.0.22")
    first = net.sink("127.0.0.21")
    second = net.sink("127.0.0.22")
    # down.example: the best MX refuses connections, the second takes it
    net.dns.mx("down.example", 5, "mx1.down.example")
    net.dns.mx("down.example", 50, "mx2.down.example")
    net.dns.a("mx1.down.example", "127.0.0.23")        # nothing listens there
    net.dns.a("mx2.down.example", "127.0.0.24")
    backup = net.sink("127.0.0.24")
    qid = submit(ob, ["friend@best.example", "other@down.example"])
    got = first.wait(1)
    assert got[0][1] == ["friend@best.example"] and got[0][0] == ALICE
    assert b"Hello outside." in got[0][2] and b"Received: from" in got[0][2]
    got = backup.wait(1)
    assert got[0][1] == ["other@down.example"]
    assert second.messages == []
    ob.wait_log(r"queued id=%s to=<friend@best\.example> relay=mx1\.best\.example\[127\.0\.0\.21\] "
                r"status=sent" % qid)
    ob.wait_log(r"queued id=%s domain=down\.example relay=mx1\.down\.example\[127\.0\.0\.23\] "
                r"connect failed" % qid)
    ob.wait_log(r"queued id=%s removed" % qid)


def test_implicit_mx(ob, net):
    net.dns.a("bare.example", "127.0.0.25")            # no MX: the domain's own address
    sink = net.sink("127.0.0.25")
    r, qid = ob.send(ALICE, ["someone@bare.example"])
    assert r.code == 250, r
    assert sink.wait(1)[0][1] == ["someone@bare.example"]


@pytest.mark.parametrize("how", ["null-mx", "nxdomain"])
def test_undeliverable_domain_bounced(ob, net, how):
    if how == "null-mx":
        net.dns.mx("nomail.example", 0, ".")
        rcpt, status = "x@nomail.example", "5.1.10"
    else:
        rcpt, status = "x@nowhere.example", "5.1.2"
    qid = submit(ob, rcpt, subject="to be returned")
    msg = dsn_of(ob, ALICE)
    human, report, headers = dsn_parts(msg)
    assert rcpt in human.get_payload()
    text = report.as_string()
    assert "Final-Recipient: rfc822; %s" % rcpt in text and "Action: failed" in text
    assert "Status: %s" % status in text, text
    assert "Subject: to be returned" in headers.get_payload()
    assert msg["From"].startswith("Mail Delivery System") and msg["To"] == "<%s>" % ALICE
    ob.wait_log(r"queued id=%s removed" % qid)
    assert ob.messages(BOB) == []


def test_temporary_failure_retried(ob, net):
    net.dns.mx("grey.example", 10, "mx.grey.example")
    net.dns.a("mx.grey.example", "127.0.0.26")
    tries = []

    def greylist(address):
        tries.append(address)
        return "451 4.7.1 Greylisted, come back later" if len(tries) == 1 else None

    sink = net.sink("127.0.0.26", rcpt_reply=greylist)
    qid = submit(ob, "late@grey.example")
    ob.wait_log(r"queued id=%s to=<late@grey\.example> .*status=deferred reply=\"451 4\.7\.1 Greylisted"
                % qid, timeout=10)
    assert sink.wait(1, timeout=20)[0][1] == ["late@grey.example"]
    ob.wait_log(r"queued id=%s attempt=2 " % qid)
    ob.wait_log(r"queued id=%s removed" % qid)
    assert ob.messages(ALICE) == [], "a bounce for a message that was delivered"


def test_permanent_failure_dsn(ob, net):
    net.dns.mx("strict.example", 10, "mx.strict.example")
    net.dns.a("mx.strict.example", "127.0.0.27")
    sink = net.sink("127.0.0.27", rcpt_reply=lambda a: "550 5.1.1 No such user here"
                    if a.startswith("nobody@") else None)
    qid = submit(ob, ["nobody@strict.example", "real@strict.example"], subject="half of it")
    assert sink.wait(1)[0][1] == ["real@strict.example"]
    human, report, headers = dsn_parts(dsn_of(ob, ALICE))
    text = report.as_string()
    assert "Final-Recipient: rfc822; nobody@strict.example" in text
    assert "Status: 5.1.1" in text and "Diagnostic-Code: smtp; 550 5.1.1 No such user here" in text
    assert "real@strict.example" not in text
    assert "Subject: half of it" in headers.get_payload()
    ob.wait_log(r"queued id=%s removed" % qid)


def test_alias_with_outside_target(ob, net):
    net.dns.mx("fwd.example", 10, "mx.fwd.example")
    net.dns.a("mx.fwd.example", "127.0.0.28")
    sink = net.sink("127.0.0.28")
    ob.cli("alias", "add", "team@local.test", BOB, "partner@fwd.example")
    ob.set("trusted_networks", "")                      # a stranger on port 25
    r, qid = ob.send("someone@example.org", ["team@local.test"])
    assert r.code == 250, r
    got = sink.wait(1)
    assert got[0][0] == "someone@example.org" and got[0][1] == ["partner@fwd.example"]
    assert len(ob.messages(BOB)) == 1


def test_starttls_when_offered(ob, net):
    net.dns.mx("secure.example", 10, "mx.secure.example")
    net.dns.a("mx.secure.example", "127.0.0.33")
    tls = os.path.join(ob.data_dir, "tls")
    sink = net.sink("127.0.0.33", tls_cert=(os.path.join(tls, "cert.pem"), os.path.join(tls, "key.pem")))
    r, qid = ob.send(ALICE, ["x@secure.example"])
    got = sink.wait(1)
    assert got[0][3], "delivered without TLS although STARTTLS was offered"
    ob.wait_log(r"queued id=%s \S+ send \"STARTTLS\"" % qid)


def test_garbage_server_is_skipped(ob, net):
    """A first MX that answers with something that is not SMTP: the next MX gets the mail, nothing crashes."""
    net.dns.mx("odd.example", 10, "mx1.odd.example")
    net.dns.mx("odd.example", 20, "mx2.odd.example")
    net.dns.a("mx1.odd.example", "127.0.0.34")
    net.dns.a("mx2.odd.example", "127.0.0.35")
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.34", net.port))
    srv.listen(5)

    def babble():
        try:
            c, _ = srv.accept()
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nServer: not-smtp\r\n\r\n")
            time.sleep(1)
            c.close()
        except OSError:
            pass
    t = threading.Thread(target=babble, daemon=True)
    t.start()
    sink = net.sink("127.0.0.35")
    try:
        r, qid = ob.send(ALICE, ["x@odd.example"])
        assert sink.wait(1)[0][1] == ["x@odd.example"]
        ob.wait_log(r"queued id=%s domain=odd\.example relay=mx1\.odd\.example\[127\.0\.0\.34\] "
                    r"not an SMTP reply" % qid)
    finally:
        srv.close()


def test_no_bounce_for_a_bounce(ob, net):
    net.dns.mx("strict.example", 10, "mx.strict.example")
    net.dns.a("mx.strict.example", "127.0.0.29")
    net.sink("127.0.0.29", rcpt_reply=lambda a: "550 5.1.1 No such user here")
    r, qid = ob.send("", ["nobody@strict.example"])
    assert r.code == 250, r
    ob.wait_log(r"queued id=%s no bounce for a bounce" % qid, timeout=10)
    ob.wait_log(r"queued id=%s removed" % qid)
    assert ob.messages(ALICE) == []


def test_relay_still_refused_for_strangers(ob, net):
    ob.set("trusted_networks", "")
    with ob.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<someone@example.org>").code == 250
        r = c.cmd("RCPT TO:<friend@best.example>")
        assert r.code == 554 and r.enhanced == "5.7.1", r
    assert not re.search(r"queued id=", ob.log())
