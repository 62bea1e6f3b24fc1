"""Submission on 587 (STARTTLS) and 465 (implicit TLS): AUTH PLAIN/LOGIN only
under TLS, sender checks, local delivery, remote refused (issue §5)."""

import base64
import os
import re
import smtplib
import time

import pytest

from conftest import ALICE, ALICE_PW, BOB, BOB_PW, populate
from obtest import client_tls_context, make_message


def b64(s):
    return base64.b64encode(s.encode()).decode()


def ext_keywords(reply):
    return {line[4:].split()[0].upper(): line[4:] for line in reply.lines[1:] if len(line) > 4}


def test_587_no_auth_before_starttls(shared):
    with shared.raw("submission") as c:
        kw = ext_keywords(c.ehlo())
        assert "STARTTLS" in kw
        assert "AUTH" not in kw, "AUTH offered before TLS on 587"
        r = c.auth_plain(ALICE, ALICE_PW)
        assert r.code == 538 and r.enhanced == "5.7.11", r
        r = c.cmd("MAIL FROM:<%s>" % ALICE)
        assert r.code == 530 and r.enhanced == "5.7.0", r


def test_587_auth_offered_after_starttls(shared):
    with shared.raw("submission") as c:
        c.ehlo()
        c.starttls()
        kw = ext_keywords(c.ehlo())
        assert "AUTH" in kw, kw
        mechs = set(kw["AUTH"].upper().split()[1:])
        assert {"PLAIN", "LOGIN"} <= mechs, kw["AUTH"]
        r = c.cmd("MAIL FROM:<%s>" % ALICE)
        assert r.code == 530 and r.enhanced == "5.7.0", "MAIL before AUTH: %s" % r


@pytest.mark.parametrize("role", ["submission", "submissions"])
def test_auth_plain(shared, role):
    c = shared.submit_session(ALICE, ALICE_PW, role)
    c.close()


@pytest.mark.parametrize("role", ["submission", "submissions"])
def test_auth_plain_initial_response_separate(shared, role):
    with shared.raw(role) as c:
        c.ehlo()
        if role == "submission":
            c.starttls()
            c.ehlo()
        r = c.cmd("AUTH PLAIN")
        assert r.code == 334, r
        r = c.cmd(base64.b64encode(("\0%s\0%s" % (BOB, BOB_PW)).encode()).decode())
        assert r.code == 235 and r.enhanced == "2.7.0", r


@pytest.mark.parametrize("role", ["submission", "submissions"])
def test_auth_login(shared, role):
    with shared.raw(role) as c:
        c.ehlo()
        if role == "submission":
            c.starttls()
            c.ehlo()
        r = c.cmd("AUTH LOGIN")
        assert r.code == 334 and base64.b64decode(r.lines[0][4:]).lower().startswith(b"username"), r
        r = c.cmd(b64(BOB))
        assert r.code == 334 and base64.b64decode(r.lines[0][4:]).lower().startswith(b"password"), r
        r = c.cmd(b64(BOB_PW))
        assert r.code == 235 and r.enhanced == "2.7.0", r


@pytest.mark.parametrize("i,user,pw", [(1, ALICE, "wrong"), (2, ALICE, BOB_PW), (3, "nobody@local.test", "x"),
                                       (4, ALICE, ""), (5, "", ALICE_PW)])
def test_auth_bad(shared, i, user, pw):
    # each case from its own client address so that throttling stays out of the way
    with shared.raw("submissions", source="127.0.1.%d" % i) as c:
        c.ehlo()
        r = c.auth_plain(user, pw)
        if not user:            # "\0\0password": malformed, a 501 is fine too
            assert r.code in (501, 535), "empty user -> %s" % r
            return
        assert r.code == 535 and r.enhanced == "5.7.8", "%s/%r -> %s" % (user, pw, r)


def test_auth_cancel_and_garbage(shared):
    with shared.raw("submissions", source="127.0.1.10") as c:
        c.ehlo()
        assert c.cmd("AUTH LOGIN").code == 334
        r = c.cmd("*")
        assert r.code == 501, "AUTH cancelled with '*': %s" % r
        r = c.cmd("AUTH PLAIN !!!notbase64")
        assert r.code == 501, r
        r = c.cmd("AUTH CRAM-MD5")
        assert r.code == 504, r
        assert c.auth_plain(ALICE, ALICE_PW).code == 235
        r = c.auth_plain(ALICE, ALICE_PW)
        assert r.code == 503, "second AUTH: %s" % r


def test_smtplib_login_and_send(shared):
    before = len(shared.messages(BOB))
    with shared.smtplib("submission") as s:
        s.starttls(context=client_tls_context())
        s.login(ALICE, ALICE_PW)
        assert s.sendmail(ALICE, [BOB], make_message(ALICE, BOB, subject="submitted")) == {}
    with shared.smtplib("submissions") as s:
        s.login(ALICE, ALICE_PW)
        assert s.sendmail(ALICE, [BOB], make_message(ALICE, BOB)) == {}
    msgs = shared.messages(BOB)
    assert len(msgs) == before + 2
    submitted = [m for m in msgs if b"Subject: submitted" in m]
    assert submitted and re.search(rb"with ESMTPSA\b", submitted[0]), submitted[:1]


def test_smtplib_login_refused_without_tls(shared):
    with shared.smtplib("submission") as s:
        s.ehlo()
        assert not s.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            s.login(ALICE, ALICE_PW)


def test_sender_checks(onebox):
    onebox.cli("alias", "add", "sales@local.test", ALICE)
    onebox.cli("alias", "add", "office@local.test", BOB)
    onebox.cli("alias", "senders", "office@local.test", "add", ALICE)
    with onebox.submit_session(ALICE, ALICE_PW) as c:
        for sender, code in [(ALICE, 250), ("Alice@Local.Test", 250),
                             ("sales@local.test", 553),     # delivers to alice, but no right to send as it
                             ("office@local.test", 250),    # explicit right, though not a target
                             ("Office@Local.Test", 250),
                             (BOB, 553), ("someone@example.org", 553),
                             ("", 250)]:                     # null sender: receipts, vacation replies
            r = c.cmd("MAIL FROM:<%s>" % sender)
            if code == 553:
                assert r.code == 553 and r.enhanced == "5.7.1", "%r -> %s" % (sender, r)
            else:
                assert r.code == 250, "%r -> %s" % (sender, r)
                c.cmd("RSET")
    # a null-sender message is delivered
    with onebox.submit_session(ALICE, ALICE_PW) as c:
        assert c.cmd("MAIL FROM:<>").code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        assert c.data(make_message(sender="", to=BOB)).code == 250


def test_alias_senders_cli(onebox):
    onebox.cli("alias", "add", "sales@local.test", ALICE, BOB)
    assert onebox.cli("alias", "senders", "sales@local.test").stdout == ""
    onebox.cli("alias", "senders", "sales@local.test", "add", ALICE, BOB)
    assert onebox.cli("alias", "senders", "sales@local.test").stdout.split() == [ALICE, BOB]
    with onebox.submit_session(BOB, BOB_PW) as c:
        assert c.cmd("MAIL FROM:<sales@local.test>").code == 250
    onebox.cli("alias", "senders", "sales@local.test", "del", BOB)
    with onebox.submit_session(BOB, BOB_PW) as c:
        assert c.cmd("MAIL FROM:<sales@local.test>").code == 553
    p = onebox.cli("alias", "senders", "sales@local.test", "add", "nobody@local.test", check=False)
    assert p.returncode == 1 and "not a user" in p.stderr, p.stderr
    p = onebox.cli("alias", "senders", ALICE, "add", BOB, check=False)
    assert p.returncode == 1 and "not an alias" in p.stderr, p.stderr
    p = onebox.cli("alias", "senders", "sales@local.test", "frob", check=False)
    assert p.returncode == 2
    onebox.cli("alias", "del", "sales@local.test")          # the right goes with the alias
    onebox.cli("alias", "add", "sales@local.test", BOB)
    assert onebox.cli("alias", "senders", "sales@local.test").stdout == ""


def mail_from_25(ob, sender):
    with ob.raw() as c:
        c.ehlo()
        return c.cmd("MAIL FROM:<%s>" % sender)


@pytest.mark.parametrize("sender", [ALICE, "Nobody@LOCAL.TEST", "alias-or-not@local.test"])
def test_own_domain_sender_from_outside_refused(onebox, sender):
    """Port 25, client neither trusted nor authenticated, sender in one of our domains: 550 5.7.1."""
    r = mail_from_25(onebox, sender)
    assert r.code == 550 and r.enhanced == "5.7.1" and "submission" in r.text, r
    onebox.wait_log(r"status=rejected reason=\"local domain sender from an outside client\"")


def test_idn_own_domain_sender_from_outside_refused(onebox):
    """A local domain written with U-labels (any case, composed or not) is
    the same domain as its A-label form: refused on port 25 from outside."""
    onebox.add_domain("xn--xample-ova.com")                          # ëxample.com
    for sender in ("news@xn--xample-ova.com", "news@ëxample.com", "news@ËXAMPLE.COM",
                   "news@e\u0308xample.com"):
        with onebox.raw() as c:
            c.ehlo()
            r = c.cmd("MAIL FROM:<%s> SMTPUTF8" % sender)
            assert r.code == 550 and r.enhanced == "5.7.1", (sender, r)
    with onebox.raw() as c:
        c.ehlo()
        r = c.cmd("MAIL FROM:<news@☃.com> SMTPUTF8")
        assert r.code == 553 and "invalid international domain name" in r.text, r


def test_outside_sender_rules(onebox):
    assert mail_from_25(onebox, "").code == 250                      # <> is never refused
    assert mail_from_25(onebox, "someone@example.org").code == 250   # not ours
    onebox.add_domain("shop.test")
    assert mail_from_25(onebox, "news@shop.test").code == 550
    onebox.cli("domain", "set", "shop.test", "allow-outside-senders", "yes")
    assert "outside-senders" in onebox.cli("domain", "list").stdout
    assert mail_from_25(onebox, "news@shop.test").code == 250
    onebox.cli("domain", "set", "shop.test", "allow-outside-senders", "no")
    assert mail_from_25(onebox, "news@shop.test").code == 550
    onebox.cli("domain", "add", "list.test", "--allow-outside-senders")
    assert mail_from_25(onebox, "x@list.test").code == 250
    onebox.set("trusted_networks", "127.0.0.0/8")                    # a trusted client may
    assert mail_from_25(onebox, ALICE).code == 250
    with onebox.submit_session(ALICE, ALICE_PW) as c:                 # and submission is unaffected
        assert c.cmd("MAIL FROM:<%s>" % ALICE).code == 250


def test_submission_local_and_remote(shared):
    before = len(shared.messages(BOB))
    with shared.submit_session(ALICE, ALICE_PW, "submissions") as c:
        assert c.cmd("MAIL FROM:<%s>" % ALICE).code == 250
        assert c.cmd("RCPT TO:<friend@remote.test>").code == 250     # queued for outside
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        r = c.cmd("RCPT TO:<nobody@local.test>")
        assert r.code == 550 and r.enhanced == "5.1.1", r
        r = c.data(make_message(ALICE, BOB))
        assert r.code == 250, r
    assert len(shared.messages(BOB)) == before + 1
    qid = r.text.split()[-1]
    shared.wait_log(r"id=%s .*to=<friend@remote\.test> .*route=remote status=queued" % qid)
    assert os.path.exists(os.path.join(shared.data_dir, "queue", "msg", qid))


def test_plaintext_auth_listen(onebox_factory):
    ob = onebox_factory.make(conf_extra={"plaintext_auth_listen": "127.0.0.1"})
    populate(ob)
    with ob.raw("submission") as c:
        kw = ext_keywords(c.ehlo())
        assert "AUTH" in kw, "plaintext_auth_listen=127.0.0.1 should offer AUTH without TLS: %s" % kw
        assert c.auth_plain(ALICE, ALICE_PW).code == 235


def test_fail_delay(onebox):
    onebox.set("auth_fail_delay_ms", "700")
    with onebox.raw("submissions") as c:
        c.ehlo()
        t0 = time.monotonic()
        r = c.auth_plain(ALICE, "bad")
        took = time.monotonic() - t0
        assert r.code == 535
        assert took >= 0.6, "failed login answered after %.2fs, delay is 700 ms" % took
        t0 = time.monotonic()
        assert c.auth_plain(ALICE, ALICE_PW).code == 235
    with onebox.raw("submissions") as c:
        c.ehlo()
        t0 = time.monotonic()
        assert c.auth_plain(BOB, BOB_PW).code == 235
        assert time.monotonic() - t0 < 0.5, "a good login should not be delayed"


def test_auth_throttle(onebox):
    onebox.set("auth_max_failures", "3")
    onebox.set("auth_throttle_seconds", "60")
    for i in range(3):
        with onebox.raw("submissions") as c:
            c.ehlo()
            r = c.auth_plain(ALICE, "wrong%d" % i)
            assert r.code == 535, r
    with onebox.raw("submissions") as c:
        c.ehlo()
        r = c.auth_plain(ALICE, ALICE_PW)
        assert r.code in (454, 421), "after 3 failures even a good password must be throttled: %s" % r
        if r.code == 454:
            assert r.enhanced == "4.7.0", r
    # another client address is not throttled
    c = onebox.raw("submissions", source="127.0.0.5")
    with c:
        c.ehlo()
        assert c.auth_plain(ALICE, ALICE_PW).code == 235
