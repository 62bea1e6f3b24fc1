"""SMTP on the port-25 role: greeting, EHLO, the simple commands, pipelining,
bad sequences and syntax errors (RFC 5321 + enhanced status codes)."""

import smtplib
import time

import pytest

from conftest import ALICE, BOB
from obtest import HOSTNAME, make_message


def ext_keywords(reply):
    return {line[4:].split()[0].upper() for line in reply.lines[1:] if len(line) > 4}


def test_banner(shared):
    with shared.raw() as c:
        assert c.banner.code == 220
        assert c.banner.lines[0].startswith("220 %s ESMTP onebox" % HOSTNAME), c.banner


def test_ehlo_extensions(shared):
    with shared.raw() as c:
        r = c.ehlo()
        assert HOSTNAME in r.lines[0], r
        kw = ext_keywords(r)
        for k in ("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS"):
            assert k in kw, "%s missing from EHLO: %s" % (k, r)
        assert "AUTH" not in kw, "AUTH must never be offered on smtp_listen: %s" % r
        size = [line for line in r.lines if line[4:].upper().startswith("SIZE")][0]
        assert size.split()[-1].isdigit() and int(size.split()[-1]) > 0, size


def test_ehlo_after_starttls_no_auth_no_starttls(shared):
    with shared.raw() as c:
        c.ehlo()
        c.starttls()
        kw = ext_keywords(c.ehlo())
        assert "STARTTLS" not in kw
        assert "AUTH" not in kw, "AUTH offered on port-25 role under TLS"
        r = c.cmd("AUTH PLAIN AGFsaWNlAHg=")
        assert 500 <= r.code < 600, "AUTH on smtp_listen: %s" % r


def test_helo(shared):
    with shared.raw() as c:
        r = c.cmd("HELO client.example.org")
        assert r.code == 250, r
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250


@pytest.mark.parametrize("cmd,code,enh", [
    ("NOOP", 250, "2.0.0"),
    ("RSET", 250, "2.0.0"),
    ("VRFY alice@local.test", 252, None),
    ("VRFY nobody@local.test", 252, None),
    ("EXPN alice@local.test", 252, None),
    ("HELP", 214, None),
    ("FOOBAR", 500, "5.5.2"),
    ("MAIL FROM:<a@example.org> FOO=BAR", 555, "5.5.4"),
])
def test_simple_commands(shared, cmd, code, enh):
    with shared.raw() as c:
        c.ehlo()
        r = c.cmd(cmd)
        assert r.code == code, "%s -> %s" % (cmd, r)
        if enh:
            assert r.enhanced == enh, "%s -> %s (want %s)" % (cmd, r, enh)


def test_vrfy_discloses_nothing(shared):
    with shared.raw() as c:
        c.ehlo()
        a = c.cmd("VRFY alice@local.test")
        b = c.cmd("VRFY nosuchuser@local.test")
        assert a.code == b.code == 252
        assert a.text.replace("alice", "X") == b.text.replace("nosuchuser", "X"), \
            "VRFY answers differ for a known and an unknown user: %s / %s" % (a, b)


def test_quit(shared):
    with shared.raw() as c:
        c.ehlo()
        r = c.cmd("QUIT")
        assert r.code == 221 and r.enhanced == "2.0.0", r
        assert c.is_closed(), "connection not closed after QUIT"


def test_rset_clears_transaction(shared):
    with shared.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % ALICE).code == 250
        assert c.cmd("RSET").code == 250
        r = c.cmd("DATA")
        assert r.code == 503, "DATA after RSET: %s" % r
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250


@pytest.mark.parametrize("steps", [
    ["RCPT TO:<alice@local.test>"],                                   # RCPT before MAIL
    ["MAIL FROM:<a@example.org>", "DATA"],                            # DATA before RCPT
    ["DATA"],                                                         # DATA first
    ["MAIL FROM:<a@example.org>", "MAIL FROM:<a@example.org>"],       # second MAIL
], ids=["rcpt-before-mail", "data-before-rcpt", "data-first", "second-mail"])
def test_bad_sequence(shared, steps):
    with shared.raw() as c:
        c.ehlo()
        for s in steps[:-1]:
            assert c.cmd(s).code == 250, s
        r = c.cmd(steps[-1])
        # RFC 5321 §3.3: DATA without a valid recipient may get 503 or 554
        codes = (503, 554) if steps[-1] == "DATA" and len(steps) > 1 else (503,)
        assert r.code in codes and r.enhanced == "5.5.1", "%s -> %s" % (steps[-1], r)
        assert c.cmd("NOOP").code == 250, "session must continue after 503"


def test_mail_before_helo(shared):
    with shared.raw() as c:
        r = c.cmd("MAIL FROM:<a@example.org>")
        assert r.code == 503 and r.enhanced == "5.5.1", r


@pytest.mark.parametrize("cmd,enh", [
    ("EHLO", {"5.5.4", "5.5.2"}),
    ("MAIL FROM:", {"5.5.4", "5.1.7"}),
    ("MAIL FROM:<a b@example.org>", {"5.1.7", "5.5.4"}),
    ("MAIL FROM:<a@@example.org>", {"5.1.7"}),
    ("MAIL FROM:<a@example.org", {"5.1.7", "5.5.4"}),
    ("MAIL TO:<a@example.org>", {"5.5.4"}),
    ("RCPT TO:<>", {"5.1.3", "5.5.4"}),
    ("RCPT TO:<alice@>", {"5.1.3"}),
    ("RCPT TO:<@local.test>", {"5.1.3"}),
    ("RCPT TO:alice", {"5.1.3", "5.5.4"}),
    ("RCPT FROM:<alice@local.test>", {"5.5.4"}),
])
def test_syntax_errors(shared, cmd, enh):
    with shared.raw() as c:
        c.ehlo()
        if cmd.startswith("RCPT"):
            assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        r = c.cmd(cmd)
        assert r.code == 501, "%r -> %s" % (cmd, r)
        assert r.enhanced in enh, "%r -> %s (want one of %s)" % (cmd, r, enh)


def test_null_sender_accepted(shared):
    r, qid = shared.send("", ALICE)
    assert r.code == 250, r
    assert any(m.startswith(b"Return-Path: <>\n") for m in shared.messages(ALICE))


def test_smtplib_send(shared):
    before = len(shared.messages(BOB))
    with shared.smtplib() as s:
        refused = s.sendmail("carol@example.org", [BOB], make_message("carol@example.org", BOB))
        assert refused == {}
    assert len(shared.messages(BOB)) == before + 1


def test_pipelining(shared):
    """MAIL, RCPT, RCPT, DATA in one write; replies come back in order."""
    before_a, before_b = len(shared.messages(ALICE)), len(shared.messages(BOB))
    with shared.raw() as c:
        c.ehlo()
        c.send("MAIL FROM:<p@example.org>\r\nRCPT TO:<%s>\r\nRCPT TO:<nobody@local.test>\r\n"
               "RCPT TO:<%s>\r\nDATA\r\n" % (ALICE, BOB))
        codes = [c.reply().code for _ in range(5)]
        assert codes == [250, 250, 550, 250, 354], codes
        c.send(make_message("p@example.org", ALICE, subject="pipelined").encode() + b".\r\n")
        r = c.reply()
        assert r.code == 250, r
        # a whole second transaction plus QUIT in one write
        c.send("MAIL FROM:<p@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % ALICE)
        assert [c.reply().code for _ in range(3)] == [250, 250, 354]
        c.send(make_message("p@example.org", ALICE).encode() + b".\r\nQUIT\r\n")
        assert c.reply().code == 250
        assert c.reply().code == 221
    assert len(shared.messages(ALICE)) == before_a + 2
    assert len(shared.messages(BOB)) == before_b + 1


def test_pipelining_no_valid_recipient(shared):
    with shared.raw() as c:
        c.ehlo()
        c.send("MAIL FROM:<p@example.org>\r\nRCPT TO:<nobody@local.test>\r\nDATA\r\n")
        codes = [c.reply().code for _ in range(3)]
        assert codes[0] == 250 and codes[1] == 550, codes
        assert codes[2] in (503, 554), "DATA with no valid recipient: %s" % codes
        assert c.cmd("NOOP").code == 250


def test_smtplib_unknown_user(shared):
    with shared.smtplib() as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as ei:
            s.sendmail("a@example.org", ["nobody@local.test"], make_message())
        code, text = ei.value.recipients["nobody@local.test"]
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)


def test_fast_local_delivery_with_dead_dns(onebox_factory):
    """dns_servers points at a UDP socket that never answers: still < 1 s per message."""
    import socket
    from conftest import populate
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    try:
        ob = populate(onebox_factory.make(dns_servers="127.0.0.1:%d" % hole.getsockname()[1]))
        worst = 0.0
        for i in range(5):
            t0 = time.monotonic()
            r, _ = ob.send("someone@remote-sender.example", ALICE,
                           make_message("someone@remote-sender.example", ALICE, subject="dns %d" % i))
            worst = max(worst, time.monotonic() - t0)
            assert r.code == 250, r
        assert worst < 1.0, "a local delivery took %.2fs with a dead DNS server" % worst
    finally:
        hole.close()
