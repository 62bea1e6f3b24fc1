"""IMAP: the service, greeting, CAPABILITY, STARTTLS and implicit TLS,
LOGIN and AUTHENTICATE (PLAIN, LOGIN, SASL-IR), LOGINDISABLED without TLS,
the fail delay and the throttle, the per user and address limit, ID,
ENABLE, NAMESPACE, LOGOUT; with imaplib, curl and openssl s_client."""

import base64
import os
import secrets
import imaplib
import re
import subprocess
import time

import pytest

from conftest import ALICE, ALICE_PW
from obtest import IMAPRaw, client_tls_context, new_user, service_pid


def rest(tagged):
    """A tagged answer without its tag."""
    return tagged.split(" ", 1)[1]


def caps_of(line):
    m = re.search(r"CAPABILITY ([^\]]*)", line)
    assert m, line
    return m.group(1).split()


def test_greeting_and_capability_before_tls(shared_imap):
    with shared_imap.imap(tls="none") as c:
        caps = caps_of(c.greeting)
        assert "IMAP4rev1" in caps and "STARTTLS" in caps
        assert "LOGINDISABLED" in caps and not any(x.startswith("AUTH=") for x in caps)
        untagged = c.ok("CAPABILITY")
        assert untagged[0].startswith("* CAPABILITY ")
        assert caps_of(untagged[0]) == caps


def test_capability_after_starttls_and_login(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(tls="starttls") as c:
        caps = caps_of(c.ok("CAPABILITY")[0])
        assert "AUTH=PLAIN" in caps and "AUTH=LOGIN" in caps and "SASL-IR" in caps
        assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
        _, tagged = c.cmd('LOGIN %s "Pop3-pw-7#"' % user)
        assert rest(tagged).startswith("OK [CAPABILITY ")
        after = caps_of(tagged)
        assert "IMAP4rev1" in after and "NAMESPACE" in after
        assert not any(x.startswith("AUTH=") for x in after)


def test_implicit_tls(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(tls="imaps") as c:
        caps = caps_of(c.greeting)
        assert "AUTH=PLAIN" in caps and "STARTTLS" not in caps
        c.login(user, "Pop3-pw-7#")
        c.ok("NOOP")


def test_login_refused_without_tls(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(tls="none") as c:
        _, r = c.cmd('LOGIN %s "Pop3-pw-7#"' % user)
        assert rest(r).startswith("NO [PRIVACYREQUIRED]"), r
        _, r = c.cmd("AUTHENTICATE PLAIN")
        assert rest(r).startswith("NO [PRIVACYREQUIRED]"), r


def test_plaintext_auth_listen_allows_login(onebox_factory):
    ob = onebox_factory.make_imap(conf_extra={"plaintext_auth_listen": "127.0.0.1"})
    with ob.imap(tls="none") as c:
        caps = caps_of(c.greeting)
        assert "AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps
        c.login(ALICE, ALICE_PW)


def test_imaplib_starttls_and_imaps(shared_imap):
    user = new_user(shared_imap)
    for tls in ("starttls", "imaps"):
        c = shared_imap.imaplib(tls=tls)
        typ, _ = c.login(user, "Pop3-pw-7#")
        assert typ == "OK"
        typ, data = c.namespace()
        assert typ == "OK" and data[0] == b'(("" "/")) NIL NIL'
        assert c.logout()[0] == "BYE"


def test_authenticate_plain_with_and_without_initial_response(shared_imap):
    user = new_user(shared_imap)
    cred = base64.b64encode(("\0%s\0Pop3-pw-7#" % user).encode()).decode()
    with shared_imap.imap() as c:
        _, r = c.cmd("AUTHENTICATE PLAIN " + cred)
        assert rest(r).startswith("OK [CAPABILITY "), r
    with shared_imap.imap() as c:
        c.send_line("a AUTHENTICATE PLAIN")
        assert c.read_line() == "+ "
        c.send_line(cred)
        _, r = c.tagged("a")
        assert r.startswith("a OK"), r


def test_authenticate_login_and_cancel(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap() as c:
        c.send_line("a AUTHENTICATE LOGIN")
        assert c.read_line().startswith("+ ")
        c.send_line(base64.b64encode(user.encode()).decode())
        assert c.read_line().startswith("+ ")
        c.send_line("*")
        _, r = c.tagged("a")
        assert r.startswith("a BAD"), r
        c.send_line("b AUTHENTICATE LOGIN")
        c.read_line()
        c.send_line(base64.b64encode(user.encode()).decode())
        c.read_line()
        c.send_line(base64.b64encode(b"Pop3-pw-7#").decode())
        _, r = c.tagged("b")
        assert r.startswith("b OK"), r
        _, r = c.cmd("AUTHENTICATE PLAIN")
        assert rest(r).startswith("BAD"), r


def test_imaplib_authenticate_plain(shared_imap):
    user = new_user(shared_imap)
    c = shared_imap.imaplib()
    typ, _ = c.authenticate("PLAIN", lambda _: ("\0%s\0Pop3-pw-7#" % user).encode())
    assert typ == "OK"
    c.logout()


def test_bad_password_and_unknown_mechanism(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap() as c:
        _, r = c.cmd('LOGIN %s "wrong"' % user)
        assert rest(r).startswith("NO [AUTHENTICATIONFAILED]"), r
        _, r = c.cmd("AUTHENTICATE CRAM-MD5")
        assert rest(r).startswith("NO"), r
        c.login(user, "Pop3-pw-7#")


def test_fail_delay(onebox_factory):
    ob = onebox_factory.make_imap()
    ob.set("auth_fail_delay_ms", "700")
    with ob.imap() as c:
        t0 = time.monotonic()
        _, r = c.cmd('LOGIN %s "wrong"' % ALICE)
        assert rest(r).startswith("NO [AUTHENTICATIONFAILED]"), r
        assert time.monotonic() - t0 >= 0.6


def test_throttle_shared_with_other_services(onebox_factory):
    ob = onebox_factory.make_imap()
    ob.set("auth_max_failures", "2")
    with ob.imap() as c:
        for _ in range(2):
            _, r = c.cmd('LOGIN %s "wrong"' % ALICE)
            assert "[AUTHENTICATIONFAILED]" in r, r
        _, r = c.cmd('LOGIN %s "%s"' % (ALICE, ALICE_PW))
        assert rest(r).startswith("NO [UNAVAILABLE]") and "Too many failed" in r, r


def test_userip_limit(onebox_factory):
    ob = onebox_factory.make_imap()
    ob.set("imap_max_userip_connections", "2")
    a, b = ob.imap(ALICE, ALICE_PW), ob.imap(ALICE, ALICE_PW)
    with ob.imap() as c:
        _, r = c.cmd('LOGIN %s "%s"' % (ALICE, ALICE_PW))
        assert rest(r).startswith("NO [LIMIT]"), r
        a.close()
        time.sleep(0.3)
        c.login(ALICE, ALICE_PW)
    b.close()


def test_standard_folders_made_at_first_login(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user):
        pass
    import os
    md = shared_imap.maildir(user)
    for name in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
        assert os.path.isdir(os.path.join(md, "." + name, "cur")), name
        assert os.path.exists(os.path.join(md, "." + name, "maildirfolder"))
    with open(os.path.join(md, "subscriptions")) as f:
        assert f.read().split() == ["INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"]


def test_id_enable_namespace_noop_logout(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap() as c:
        untagged = c.ok('ID ("name" "pytest" "version" NIL)')
        assert untagged == ['* ID ("name" "onebox" "vendor" "onebox")']
        c.ok("ID NIL")
        _, r = c.cmd("ID (\"odd\")")
        assert " BAD " in r
        _, r = c.cmd("ENABLE CONDSTORE")
        assert " BAD " in r, r          # not logged in yet
        c.login(user, "Pop3-pw-7#")
        assert c.ok("ENABLE CONDSTORE") == ["* ENABLED CONDSTORE"]
        assert c.ok("ENABLE X-NOTHING") == ["* ENABLED"]
        assert c.ok("NAMESPACE") == ['* NAMESPACE (("" "/")) NIL NIL']
        c.ok("NOOP")
        c.send_line("z LOGOUT")
        assert c.read_line().startswith("* BYE")
        assert c.read_line() == "z OK Logout completed"
        assert c.is_closed()


def test_starttls_twice_and_after_login(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap() as c:
        _, r = c.cmd("STARTTLS")
        assert " BAD " in r
        c.login(user, "Pop3-pw-7#")
    with shared_imap.imap(tls="imaps") as c:
        _, r = c.cmd("STARTTLS")
        assert " BAD " in r


def test_starttls_discards_pipelined_commands(shared_imap):
    with shared_imap.imap(tls="none") as c:
        c.send(b"a STARTTLS\r\nb CAPABILITY\r\n")
        assert c.read_line().startswith("a OK")
        c.wrap_tls()
        c.send_line("c NOOP")
        assert c.read_line() == "c OK NOOP completed"


def test_openssl_s_client_starttls(shared_imap):
    host, port = shared_imap.addr("imap")
    p = subprocess.run(["openssl", "s_client", "-starttls", "imap", "-connect", "%s:%d" % (host, port),
                        "-quiet"],
                       input=b"a CAPABILITY\r\nb LOGOUT\r\n", capture_output=True, timeout=20)
    out = p.stdout.decode()
    assert "AUTH=PLAIN" in out and "b OK Logout completed" in out, (out, p.stderr)


def test_curl_imaps_login(shared_imap):
    user = new_user(shared_imap)
    host, port = shared_imap.addr("imaps")
    p = subprocess.run(["curl", "-sS", "-k", "--max-time", "15", "imaps://%s:%d/" % (host, port),
                        "-u", "%s:Pop3-pw-7#" % user, "-X", "NAMESPACE"],
                       capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert b'NAMESPACE (("" "/"))' in p.stdout, p.stdout


def test_imapd_restarted_after_kill(imap_onebox):
    pid = service_pid(imap_onebox, "imapd")
    assert pid
    import os
    import signal
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if service_pid(imap_onebox, "imapd") != pid:
                break
        except AssertionError:
            pass                # between the death and the restart
        time.sleep(0.1)
    else:
        pytest.fail("imapd not restarted")
    for _ in range(50):
        try:
            with imap_onebox.imap(ALICE, ALICE_PW) as c:
                c.ok("NOOP")
            return
        except (ConnectionRefusedError, AssertionError, OSError):
            time.sleep(0.1)
    pytest.fail("imapd does not answer after its restart")


def test_shutdown_says_bye(onebox_factory):
    ob = onebox_factory.make_imap()
    c = ob.imap(ALICE, ALICE_PW)
    ob.stop()
    assert c.read_line().startswith("* BYE")
    c.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="reading a non-dumpable process's memory needs root")
@pytest.mark.parametrize("how", ["quoted", "literal", "authenticate"])
def test_login_credentials_wiped(onebox_factory, how):
    """A LOGIN's password (quoted or a literal) and an AUTHENTICATE PLAIN
    answer are gone from imapd's memory once answered (as in SMTP and
    POP3: test_auth_session.py; without TLS, whose buffers are OpenSSL's)."""
    from test_auth_session import process_memory_has
    ob = onebox_factory.make_imap(conf_extra={"plaintext_auth_listen": "127.0.0.1"})
    pw = "Wipe-me-" + secrets.token_hex(8)
    tok = base64.b64encode(("\0%s\0%s" % (ALICE, pw)).encode()).decode()
    with ob.imap(tls="none") as c:
        if how == "quoted":
            _, r = c.cmd('LOGIN %s "%s"' % (ALICE, pw))
        elif how == "literal":
            _, r = c.cmd("LOGIN %s {%d+}\r\n%s" % (ALICE, len(pw), pw))
        else:
            _, r = c.cmd("AUTHENTICATE PLAIN " + tok)
        assert " NO " in r, r
        left = process_memory_has(service_pid(ob, "imapd"), [tok.encode(), pw.encode()])
        assert not left, "credentials left in imapd's memory: %s" % left
