"""The login throttle kept by authd: one count for SMTP and POP3, per client
address and per account, that survives a reload (SIGHUP).

Linux routes all of 127.0.0.0/8 to lo, so clients bind 127.0.0.x source
addresses to look like different hosts.  The /64 grouping of IPv6 clients
cannot be shown on loopback (only ::1): tests/unit/test-throttle.c has it.
"""

import base64
import os
import pwd
import socket
import subprocess
import time

import pytest

from conftest import ALICE, ALICE_PW, BOB, BOB_PW, populate

THROTTLED = "454 4.7.0 Too many failed logins"

LISTENERS = {r: ["127.0.0.1:0"] for r in ("smtp", "submission", "submissions", "pop3")}


def smtp_login(ob, user, pw, source=None):
    with ob.raw("submissions", source=source) as c:
        c.ehlo()
        return c.auth_plain(user, pw)


class POP3Line:
    """The few POP3 lines these tests need, in clear text (the listener is in
    plaintext_auth_listen), from a chosen source address."""

    def __init__(self, ob, source=None):
        self.sock = socket.create_connection(ob.addr("pop3"), timeout=10,
                                             source_address=(source, 0) if source else None)
        self.f = self.sock.makefile("rb")
        assert self.line().startswith("+OK")

    def line(self):
        return self.f.readline().decode().rstrip("\r\n")

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def login(self, user, pw):
        assert self.cmd("USER " + user).startswith("+OK")
        return self.cmd("PASS " + pw)

    def close(self):
        self.f.close()
        self.sock.close()


def pop3_login(ob, user, pw, source=None):
    c = POP3Line(ob, source)
    try:
        return c.login(user, pw)
    finally:
        c.close()


def make(factory, **settings):
    ob = populate(factory.make(listeners=LISTENERS,
                               conf_extra={"plaintext_auth_listen": "127.0.0.1"}))
    for k, v in settings.items():
        ob.set(k, v)
    return ob


def test_count_survives_reload(onebox_factory):
    ob = make(onebox_factory, auth_max_failures="3", auth_throttle_seconds="600")
    for i in range(3):
        assert smtp_login(ob, ALICE, "wrong%d" % i).code == 535
    start = len(ob.log())
    ob.reload()
    ob.wait_log(r"started smtpd", start=start)
    time.sleep(0.3)
    ob.wait_ready()
    r = smtp_login(ob, ALICE, ALICE_PW)
    assert r.code == 454 and r.lines[0].startswith(THROTTLED), \
        "the failures before SIGHUP must still count: %s" % r
    assert "started authd" not in ob.log()[start:], "authd was replaced by the reload"


def test_per_account_limit_across_addresses(onebox_factory):
    ob = make(onebox_factory, auth_max_failures="100", auth_max_failures_per_user="3")
    for i in range(3):
        r = smtp_login(ob, ALICE, "wrong", source="127.0.0.%d" % (i + 2))
        assert r.code == 535, r
    # a fourth address, right password: the account is throttled
    r = smtp_login(ob, ALICE.upper(), ALICE_PW, source="127.0.0.9")
    assert r.code == 454 and r.lines[0].startswith(THROTTLED), r
    # ... over POP3 as well
    r = pop3_login(ob, ALICE, ALICE_PW, source="127.0.0.9")
    assert r.startswith("-ERR [SYS/TEMP] Too many failed logins"), r
    # another account from that address is not
    assert smtp_login(ob, BOB, BOB_PW, source="127.0.0.9").code == 235
    ob.wait_log(r"result=throttled reason=account")


def test_smtp_and_pop3_share_the_count(onebox_factory):
    ob = make(onebox_factory, auth_max_failures="3", auth_max_failures_per_user="100")
    assert smtp_login(ob, ALICE, "bad1", source="127.0.0.20").code == 535
    assert pop3_login(ob, BOB, "bad2", source="127.0.0.20").startswith("-ERR [AUTH]")
    assert smtp_login(ob, BOB, "bad3", source="127.0.0.20").code == 535
    r = pop3_login(ob, ALICE, ALICE_PW, source="127.0.0.20")
    assert r.startswith("-ERR [SYS/TEMP]"), "POP3 must see SMTP's failures: %s" % r
    r = smtp_login(ob, BOB, BOB_PW, source="127.0.0.20")
    assert r.code == 454, r
    # a good login does not wipe the count, and does not use it up either
    assert pop3_login(ob, ALICE, ALICE_PW, source="127.0.0.21").startswith("+OK")
    assert smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.21").code == 235
    assert smtp_login(ob, BOB, BOB_PW, source="127.0.0.21").code == 235
    ob.wait_log(r"result=throttled reason=address")


def test_cli_limit_change_applies_at_next_attempt(onebox_factory):
    """authd drops its settings cache at each request: a limit raised with
    the CLI lets the very next attempt through."""
    ob = make(onebox_factory, auth_max_failures="2", auth_max_failures_per_user="100")
    for i in range(2):
        assert smtp_login(ob, ALICE, "wrong%d" % i, source="127.0.0.30").code == 535
    assert smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.30").code == 454
    ob.set("auth_max_failures", "10")
    r = smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.30")
    assert r.code == 235, "authd must see the new auth_max_failures at once: %s" % r


def test_disabled_user_applies_at_next_attempt(onebox_factory):
    ob = make(onebox_factory)
    assert smtp_login(ob, BOB, BOB_PW).code == 235
    ob.cli("user", "disable", BOB)
    assert smtp_login(ob, BOB, BOB_PW).code == 535


def test_known_network_exempt_from_account_limit(onebox_factory):
    """The office (where alice logged in before) is not locked out by
    somebody guessing her password elsewhere; elsewhere is."""
    ob = make(onebox_factory, auth_max_failures="3", auth_max_failures_per_user="3")
    assert smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.40").code == 235
    for i in range(3):
        assert smtp_login(ob, ALICE, "guess%d" % i, source="127.0.0.%d" % (41 + i)).code == 535
    r = smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.50")
    assert r.code == 454 and r.lines[0].startswith(THROTTLED), r
    r = smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.40")
    assert r.code == 235, "a known network must be exempt from the account limit: %s" % r
    assert pop3_login(ob, ALICE, ALICE_PW, source="127.0.0.40").startswith("+OK")
    # the network's own limit still applies to it
    for i in range(3):
        assert smtp_login(ob, ALICE, "typo%d" % i, source="127.0.0.40").code == 535
    assert smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.40").code == 454


def test_impossible_names_not_counted(onebox_factory):
    """A name that cannot be an account (no domain) is refused without a
    password check and counts nothing: it cannot throttle the address."""
    ob = make(onebox_factory, auth_max_failures="3")
    for i in range(6):
        assert smtp_login(ob, "nodomain%d" % i, "pw", source="127.0.0.60").code == 535
    assert smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.60").code == 235
    ob.wait_log(r"result=failed reason=malformed")


def unix_user(name, password):
    subprocess.run(["userdel", name], capture_output=True)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    subprocess.run(["chpasswd"], input="%s:%s\n" % (name, password), text=True, check=True)
    return pwd.getpwnam(name).pw_uid


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a Unix account needs root")
def test_unix_login_one_count_for_every_domain(onebox_factory):
    """A Unix account reachable through two system domains has one count:
    guessing through the second address does not get a fresh budget."""
    name = "obth%d" % (os.getpid() % 100000)
    password = "Unix-pw-%d" % os.getpid()
    unix_user(name, password)
    try:
        ob = make(onebox_factory, auth_max_failures="100", auth_max_failures_per_user="3")
        for d in ("sys1.test", "sys2.test"):
            ob.cli("domain", "add", d, "--system")
            ob.cli("user", "add", "%s@%s" % (name, d), input="")
        one, two = "%s@sys1.test" % name, "%s@sys2.test" % name
        assert smtp_login(ob, one, "wrong1", source="127.0.0.70").code == 535
        assert smtp_login(ob, one, "wrong2", source="127.0.0.71").code == 535
        assert smtp_login(ob, two, "wrong3", source="127.0.0.72").code == 535
        r = smtp_login(ob, two, password, source="127.0.0.73")
        assert r.code == 454 and r.lines[0].startswith(THROTTLED), \
            "three failures on the Unix account through two domains must throttle it: %s" % r
        ob.wait_log(r"user=<%s> result=throttled reason=account" % two)
        # another account is not affected
        assert smtp_login(ob, ALICE, ALICE_PW, source="127.0.0.73").code == 235
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_office_logs_in_all_at_once(onebox_factory):
    """Everybody behind the office's one address starts their mail programs
    at nine, each with several connections: more logins in flight than
    auth_max_failures.  A network an account logged in from before counts
    those logins only when they fail, so none is refused (a network the
    account never used still gets no more guesses in flight than the limit:
    test-throttle's test_parallel_reservations)."""
    ob = make(onebox_factory, auth_max_failures="3", auth_fail_delay_ms="0")
    assert smtp_login(ob, ALICE, ALICE_PW).code == 235        # the office is known
    conns = []
    try:
        for _ in range(12):
            c = ob.raw("submission")
            c.ehlo()
            conns.append(c)
        tok = base64.b64encode(("\0%s\0%s" % (ALICE, ALICE_PW)).encode()).decode()
        for c in conns:                     # all twelve in flight before any answer
            c.send_line("AUTH PLAIN " + tok)
        codes = [c.reply().code for c in conns]
        assert codes == [235] * 12, codes
    finally:
        for c in conns:
            c.close()
