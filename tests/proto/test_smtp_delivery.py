"""Local delivery into Maildir: trace headers, content fidelity (dot-stuffing,
bare LF, 8BITMIME, SMTPUTF8), aliases, catch-all, disabled users, quota."""

import os
import re
import subprocess
import time

import pytest

from conftest import ALICE, BOB, BOB_PW, populate
from obtest import HOSTNAME, QUEUED_RE, SMTPClosed, make_message


def split_msg(raw):
    head, _, body = raw.partition(b"\n\n")
    return head.split(b"\n"), body


def only_new(ob, addr, before):
    msgs = ob.messages(addr)
    assert len(msgs) == len(before) + 1, "%s: expected one new message, have %d (was %d)" % (
        addr, len(msgs), len(before))
    new = [m for m in msgs if m not in before] or msgs[-1:]
    return new[0]


def test_trace_headers_plain(shared):
    before = shared.messages(ALICE)
    msg = make_message("carol@example.org", ALICE, subject="trace", body="line one\nline two\n")
    r, qid = shared.send("carol@example.org", ALICE, msg)
    assert r.code == 250 and r.enhanced == "2.0.0", r
    assert qid, "250 after DATA should say 'queued as <id>': %s" % r
    raw = only_new(shared, ALICE, before)
    assert b"\r\n" not in raw, "Maildir files use LF line ends"
    hdrs, body = split_msg(raw)
    assert hdrs[0] == b"Return-Path: <carol@example.org>", hdrs[:3]
    assert hdrs[1] == b"Delivered-To: alice@local.test", hdrs[:3]
    assert hdrs[2].startswith(b"Received: from "), hdrs[:3]
    received = b" ".join([hdrs[2]] + [h for h in hdrs[3:6] if h[:1] in (b" ", b"\t")]).decode()
    assert "by " + HOSTNAME in received, received
    assert re.search(r"\bwith ESMTP\b", received), received
    assert "id " + qid in received, "queue id %s not in %s" % (qid, received)
    assert "127.0.0.1" in received, received
    assert b"Subject: trace" in raw
    assert body == b"line one\nline two\n", body


def test_trace_header_tls(shared):
    before = shared.messages(ALICE)
    with shared.raw() as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        assert c.cmd("MAIL FROM:<tls@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % ALICE).code == 250
        assert c.data(make_message("tls@example.org", ALICE)).code == 250
    raw = only_new(shared, ALICE, before)
    hdrs, _ = split_msg(raw)
    received = b" ".join([hdrs[2]] + [h for h in hdrs[3:8] if h[:1] in (b" ", b"\t")]).decode()
    assert re.search(r"\bwith ESMTPS\b", received), received
    assert "TLS" in received, "Received should carry the TLS details: %s" % received


def test_maildir_filename_sizes(shared):
    shared.send("a@example.org", BOB)
    for p in shared.message_files(BOB):
        name = os.path.basename(p)
        m = re.search(r",S=(\d+)", name)
        if m:
            assert int(m.group(1)) == os.path.getsize(p), name


def test_two_recipients_each_own_delivered_to(shared):
    ba, bb = shared.messages(ALICE), shared.messages(BOB)
    r, _ = shared.send("a@example.org", [ALICE, BOB])
    assert r.code == 250
    a, b = only_new(shared, ALICE, ba), only_new(shared, BOB, bb)
    assert a.split(b"\n")[1] == b"Delivered-To: alice@local.test"
    assert b.split(b"\n")[1] == b"Delivered-To: bob@local.test"


def test_dot_stuffing(shared):
    before = shared.messages(BOB)
    body = ".leading dot\n..two dots\n.\nend\n"
    r, _ = shared.send("a@example.org", BOB, make_message(to=BOB, body=body))
    assert r.code == 250
    _, got = split_msg(only_new(shared, BOB, before))
    assert got == body.encode(), "dot-unstuffing wrong: %r" % got


def test_8bitmime(shared):
    before = shared.messages(BOB)
    body = "Grüße, ça va? Ωμέγα 日本語\n".encode("utf-8") + b"latin1: \xe9\xe8\n"
    with shared.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org> BODY=8BITMIME").code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        msg = make_message(to=BOB, body="").encode() + body
        assert c.data(msg).code == 250
        assert c.cmd("MAIL FROM:<a@example.org> BODY=7BIT").code == 250
        assert c.cmd("RSET").code == 250
    _, got = split_msg(only_new(shared, BOB, before))
    assert got == body, "8-bit body changed: %r" % got


def test_smtputf8_alias(onebox):
    onebox.cli("alias", "add", "jösé@local.test", ALICE)
    before = onebox.messages(ALICE)
    with onebox.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<ñandú@example.org> SMTPUTF8").code == 250
        r = c.cmd("RCPT TO:<jösé@local.test>")
        assert r.code == 250, r
        msg = "From: ñandú@example.org\r\nSubject: ünïcödé\r\n\r\nhi\r\n"
        assert c.data(msg).code == 250
    raw = only_new(onebox, ALICE, before)
    hdrs, _ = split_msg(raw)
    assert hdrs[0] == "Return-Path: <ñandú@example.org>".encode(), hdrs[:2]
    assert hdrs[1] == "Delivered-To: jösé@local.test".encode(), hdrs[:2]
    assert re.search(rb"with UTF8SMTPS?A?\b|with ESMTP", hdrs[2] + b" ".join(hdrs[3:6]))


def test_idn_domain_stored_and_delivered_as_a_labels(onebox):
    """The CLI stores an international domain as A-labels; a recipient
    written with U-labels reaches the same mailbox; an invalid IDN is 553."""
    onebox.add_domain("bücher.test")
    assert "xn--bcher-kva.test\t" in onebox.cli("domain", "list").stdout
    onebox.add_user("anna@BÜCHER.test", "anna-pw-1234")
    assert "anna@xn--bcher-kva.test" in onebox.cli("user", "list").stdout
    with onebox.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org> SMTPUTF8").code == 250
        r = c.cmd("RCPT TO:<anna@Bücher.test>")
        assert r.code == 250 and "anna@xn--bcher-kva.test" in r.text, r
        r = c.cmd("RCPT TO:<anna@☃.test>")
        assert r.code == 553 and r.enhanced == "5.1.3" and "invalid international domain name" in r.text, r
        assert c.data(make_message(to="anna@bücher.test")).code == 250
    assert len(onebox.messages("anna@xn--bcher-kva.test")) == 1
    p = onebox.cli("domain", "add", "☃.test", check=False)
    assert p.returncode == 1 and "international" in p.stderr, p.stderr


def test_utf8_address_without_smtputf8_refused(shared):
    with shared.raw() as c:
        c.ehlo()
        r = c.cmd("MAIL FROM:<ñandú@example.org>")
        assert 500 <= r.code < 600, "non-ASCII sender without SMTPUTF8: %s" % r


BARE = [
    b"Subject: bare lf\nFrom: a@example.org\n\nline1\nline2\r\n",
    b"Subject: bare lf 2\r\n\r\nx\ny\r\nz\n\r\n",
    b"Subject: bare cr\r\n\r\nx\ry\r\n",
    b"Subject: bare cr then dot\r\n\r\nx\r.y\r\n",
]
BARE_IDS = ["lf-headers", "lf-body", "bare-cr", "bare-cr-dot"]


def send_data(ob, data):
    with ob.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        assert c.cmd("DATA").code == 354
        c.send(data + b".\r\n")
        r = c.reply(timeout=15)
        assert c.cmd("NOOP").code == 250        # the whole message was read
    return r


@pytest.mark.parametrize("data", BARE, ids=BARE_IDS)
def test_bare_line_ends_rejected(shared, data):
    """Default smtp_bare_line_ends = reject: 550 5.6.0 after the final dot, nothing stored."""
    before = shared.messages(BOB)
    r = send_data(shared, data)
    assert r.code == 550 and r.enhanced == "5.6.0" and "bare CR or bare LF" in r.text, r
    assert shared.messages(BOB) == before


def test_bare_line_ends_normalize(onebox_factory):
    """normalize: a bare LF or a bare CR is stored as a line end (LF), so the
    stored sizes (Maildir W=, POP3 LIST) are those of the CR LF text."""
    onebox = populate(onebox_factory.make(listeners={r: ["127.0.0.1:0"] for r in ("smtp", "pop3")}))
    onebox.cli("set", "smtp_bare_line_ends", "normalize")
    for data in BARE:
        assert send_data(onebox, data).code == 250
    raws = onebox.messages(BOB)
    assert len(raws) == len(BARE)
    assert any(b"line1\nline2\n" in r for r in raws), raws
    assert any(b"x\ny\nz\n\n" in r for r in raws), raws
    assert any(b"x\ny\n" in r for r in raws), raws
    assert all(b"\r" not in r for r in raws), raws
    for path, raw in zip(onebox.message_files(BOB), raws):
        assert ",W=%d" % (len(raw) + raw.count(b"\n")) in os.path.basename(path), (path, raw)
    import poplib
    from obtest import client_tls_context
    p = poplib.POP3(*onebox.addr("pop3"), timeout=10)
    try:
        p.stls(client_tls_context())
        p.user(BOB)
        p.pass_(BOB_PW)
        listed = [int(x.split()[1]) for x in p.list()[1]]
        n = len(listed)
        got = [b"\n".join(p.retr(i)[1]) for i in range(1, n + 1)]
        # RETR's octets (poplib strips CR LF and unstuffs): LIST's size
        for size, g in zip(listed, got):
            assert size == len(g.replace(b"\n", b"\r\n")) + 2, (size, g)
    finally:
        p.quit()
    # no bare CR leaves; the line after "x\r" starts with a dot and is stuffed
    assert any(b"x\n.y" in g for g in got), got


def test_bare_line_ends_setting_checked(onebox):
    p = onebox.cli("set", "smtp_bare_line_ends", "sometimes", check=False)
    assert p.returncode == 1 and "reject normalize" in p.stderr, p.stderr
    onebox.cli("set", "smtp_bare_line_ends", "NORMALIZE")
    assert onebox.cli("get", "smtp_bare_line_ends").stdout.strip() == "normalize"


def test_lone_cr_at_chunk_boundary(shared):
    """A CR at the end of one TCP segment and its LF at the start of the next is a line end."""
    before = shared.messages(BOB)
    with shared.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        assert c.cmd("DATA").code == 354
        for part in (b"Subject: split\r", b"\n\r", b"\nbody\r", b"\n.\r", b"\n"):
            c.send(part)
            time.sleep(0.05)
        r = c.reply(timeout=15)
        assert r.code == 250, r
    raw = only_new(shared, BOB, before)
    assert raw.endswith(b"Subject: split\n\nbody\n"), raw


@pytest.mark.parametrize("end", [b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r"],
                         ids=["lf-dot-lf", "crlf-dot-lf", "lf-dot-crlf", "cr-dot-cr", "crlf-dot-cr"])
def test_no_smtp_smuggling(shared, end):
    """A non-CRLF end-of-data must not end the message and start a second one."""
    before_a, before_b = shared.messages(ALICE), shared.messages(BOB)
    smuggled = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                b"Subject: SMUGGLED\r\n\r\nsmuggled\r\n" % ALICE.encode())
    with shared.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: carrier\r\n\r\nhello" + end + smuggled + b".\r\n")
        r = c.reply(timeout=15)
        assert r.code == 250 or 500 <= r.code < 600, r
        c.send(b"NOOP\r\n")
        r2 = c.reply(timeout=10)
        assert r2.code == 250 and "2.0.0" in r2.text, \
            "extra replies after DATA: the smuggled commands were executed (%s)" % r2
    time.sleep(0.2)
    assert shared.messages(ALICE) == before_a, "smuggled message delivered to alice"
    assert len(shared.messages(BOB)) <= len(before_b) + 1


def test_disconnect_mid_data(shared):
    before = shared.messages(BOB)
    c = shared.raw()
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@example.org>").code == 250
    assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: cut\r\n\r\n" + b"partial line\r\n" * 1000)
    c.close()
    time.sleep(1)
    assert shared.messages(BOB) == before, "a message cut mid-DATA reached new/ or cur/"
    with shared.raw() as c2:                # server still serving
        c2.ehlo()


def test_swaks(shared):
    before = shared.messages(BOB)
    host, port = shared.addr("smtp")
    p = subprocess.run(["swaks", "--server", host, "--port", str(port), "--from", "swaks@example.org",
                        "--to", BOB, "--header", "Subject: via swaks", "--body", "swaks body",
                        "--timeout", "15"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "swaks failed:\n" + p.stdout + p.stderr
    assert QUEUED_RE.search(p.stdout), p.stdout
    raw = only_new(shared, BOB, before)
    assert b"Subject: via swaks" in raw and b"swaks body" in raw


def test_swaks_starttls_pipelining(shared):
    host, port = shared.addr("smtp")
    p = subprocess.run(["swaks", "--server", host, "--port", str(port), "--from", "swaks@example.org",
                        "--to", ALICE, "--tls", "--pipeline", "--timeout", "15"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "swaks --tls --pipeline failed:\n" + p.stdout + p.stderr


def test_alias_fanout_hardlink(onebox):
    onebox.cli("alias", "add", "team@local.test", ALICE, BOB)
    r, _ = onebox.send("a@example.org", "team@local.test")
    assert r.code == 250, r
    fa, fb = onebox.message_files(ALICE), onebox.message_files(BOB)
    assert len(fa) == 1 and len(fb) == 1, (fa, fb)
    sa, sb = os.stat(fa[0]), os.stat(fb[0])
    assert (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino), "fan-out copies are not one hard-linked file"
    assert sa.st_nlink >= 2
    raw = onebox.messages(ALICE)[0]
    assert raw.split(b"\n")[1] == b"Delivered-To: team@local.test", raw[:200]


def test_alias_external_target_and_list(onebox):
    onebox.cli("alias", "add", "sales@local.test", ALICE)
    out = onebox.cli("alias", "list").stdout
    assert "sales@local.test" in out and ALICE in out, out
    onebox.cli("alias", "del", "sales@local.test")
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        r = c.cmd("RCPT TO:<sales@local.test>")
        assert r.code == 550 and r.enhanced == "5.1.1", "deleted alias still works: %s" % r


@pytest.mark.parametrize("how", ["alias", "nested-alias", "catchall"])
def test_external_target_queued(onebox, how):
    """An alias (or catch-all) with an outside target: the local part goes to the Maildir, the outside one to the queue, from anyone.
    The outside domain is under .example: libunbound answers .test names
    itself (NXDOMAIN), so a .test recipient is bounced at once and its queue
    file may be gone before the test reads it; with the tests' dead DNS
    server an .example recipient waits in the queue."""
    onebox.cli("alias", "add", "fwd@local.test", ALICE, "someone@remote.example")
    rcpt = "fwd@local.test"
    if how == "nested-alias":
        onebox.cli("alias", "add", "outer@local.test", "fwd@local.test")
        rcpt = "outer@local.test"
    elif how == "catchall":
        onebox.cli("catchall", "set", "local.test", "fwd@local.test")
        rcpt = "nobody-here@local.test"
    with onebox.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % rcpt).code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        r = c.data(make_message("a@example.org", BOB))
        assert r.code == 250, r
    qid = r.text.split()[-1]
    assert len(onebox.messages(ALICE)) == 1 and len(onebox.messages(BOB)) == 1
    onebox.wait_log(r"id=%s from=<a@example\.org> to=<someone@remote\.example> orig_to=<%s> .*route=remote "
                    r"status=queued" % (qid, re.escape(rcpt)))
    env = open(os.path.join(onebox.data_dir, "queue", "env", qid)).read()
    assert "\tsomeone@remote.example\t%s\t" % rcpt in env and "sender a@example.org\n" in env, env


def add_alias_maybe_refused(ob, *args):
    """Add an alias; True if added, False if the CLI refused it as a loop (also fine)."""
    p = ob.cli("alias", "add", *args, check=False)
    if p.returncode == 0:
        return True
    assert p.returncode == 1 and re.search(r"loop|itself|cycle", p.stderr, re.I), \
        "alias add %s: exit %d, %r (want success, or a refusal that names the loop)" % (
            args, p.returncode, p.stderr)
    return False


def test_alias_loop(onebox):
    """Loops are refused when made (CLI) or detected at delivery, never a hang or a 250 to nowhere."""
    # targets must exist when an alias is made, so close each loop last
    onebox.cli("alias", "add", "ring1@local.test", ALICE)
    onebox.cli("alias", "add", "ring2@local.test", "ring1@local.test")
    ring = add_alias_maybe_refused(onebox, "ring1@local.test", "ring2@local.test")
    if ring:
        onebox.cli("alias", "del", "ring1@local.test", ALICE)      # a pure loop now
    onebox.cli("alias", "add", "loop1@local.test", ALICE)
    onebox.cli("alias", "add", "loop2@local.test", "loop1@local.test")
    add_alias_maybe_refused(onebox, "loop1@local.test", "loop2@local.test")
    onebox.cli("alias", "add", "self@local.test", BOB)
    add_alias_maybe_refused(onebox, "self@local.test", "self@local.test")
    with onebox.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        r = c.cmd("RCPT TO:<ring1@local.test>")
        if ring:
            assert 400 <= r.code < 600, "a pure alias loop has no mailbox; must not be accepted: %s" % r
        r = c.cmd("RCPT TO:<self@local.test>")
        assert r.code == 250 or 400 <= r.code < 600, r      # self -> {bob, self}: bob, or refused
        r = c.cmd("RCPT TO:<loop1@local.test>")
        if r.code == 250:
            assert c.data(make_message()).code == 250
            assert len(onebox.messages(ALICE)) == 1, "alice must get exactly one copy"
        else:
            assert 400 <= r.code < 600, r
        assert c.cmd("NOOP").code == 250


def test_catchall(onebox):
    onebox.cli("catchall", "set", "local.test", ALICE)
    r, _ = onebox.send("a@example.org", "whoever@local.test")
    assert r.code == 250
    msgs = onebox.messages(ALICE)
    assert len(msgs) == 1 and msgs[0].split(b"\n")[1] == b"Delivered-To: whoever@local.test"
    onebox.send("a@example.org", BOB)           # a real user still gets its own mail
    assert len(onebox.messages(BOB)) == 1 and len(onebox.messages(ALICE)) == 1
    onebox.cli("catchall", "clear", "local.test")
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        r = c.cmd("RCPT TO:<whoever@local.test>")
        assert r.code == 550 and r.enhanced == "5.1.1", r


def test_disabled_user(onebox):
    onebox.cli("user", "disable", BOB)
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        r = c.cmd("RCPT TO:<%s>" % BOB)
        assert r.code == 550 and r.enhanced in ("5.1.1", "5.2.1"), r
    onebox.cli("user", "enable", BOB)
    r, _ = onebox.send("a@example.org", BOB)
    assert r.code == 250


def test_alias_skipped_members_logged(onebox):
    """Members an alias expansion leaves out (a disabled user, a deleted
    one) are logged: one line per resolution, with the counts."""
    onebox.add_user("carol@local.test", "carol-pw-1234")
    onebox.cli("alias", "add", "crew@local.test", ALICE, BOB, "carol@local.test")
    onebox.cli("user", "disable", BOB)
    onebox.cli("user", "del", "carol@local.test")
    start = len(onebox.log())
    r, _ = onebox.send("a@example.org", "crew@local.test")
    assert r.code == 250, r
    onebox.wait_log(r"resolve address=<crew@local\.test> skipped=2 disabled=1 unknown=1 loop=0", start=start)
    assert len(re.findall(r"resolve address=<crew@", onebox.log()[start:])) == 1


def test_bare_postmaster(onebox):
    """RCPT TO:<postmaster> (no domain, RFC 5321 §4.5.1) on port 25 from
    anyone: postmaster@ the primary domain (the local domain the host name
    is in, else the oldest), through its user, alias or catch-all; without
    one, 550 and a log line for the admin, never a guessed mailbox."""
    def rcpt_postmaster(word="postmaster"):
        with onebox.raw() as c:
            c.ehlo()
            assert c.cmd("MAIL FROM:<someone@example.org>").code == 250
            return c.cmd("RCPT TO:<%s>" % word)

    r = rcpt_postmaster()
    assert r.code == 550 and r.enhanced == "5.1.1" and "postmaster@local.test" in r.text, r
    onebox.wait_log(r"<postmaster> refused: postmaster@local\.test is neither a user nor an alias")
    onebox.cli("alias", "add", "postmaster@local.test", ALICE)
    before = len(onebox.messages(ALICE))
    with onebox.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<someone@example.org>").code == 250
        r = c.cmd("RCPT TO:<PostMaster>")
        assert r.code == 250 and "postmaster@local.test" in r.text, r
        assert c.data(make_message(to="postmaster")).code == 250
    assert len(onebox.messages(ALICE)) == before + 1
    # the domain the host name (mail.onebox.test) is in wins over the oldest one
    onebox.add_domain("onebox.test")
    r = rcpt_postmaster()
    assert r.code == 550 and "postmaster@onebox.test" in r.text, r


def test_quota(onebox):
    body = ("q" * 76 + "\n") * 800             # ~62 KB
    for i in range(2):
        assert onebox.send("a@example.org", BOB, make_message(to=BOB, body=body))[0].code == 250
    onebox.cli("user", "quota", BOB, "100K")   # now ~124 KB used of 100 KB
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        r = c.cmd("RCPT TO:<%s>" % BOB)
        assert r.code == 452 and r.enhanced == "4.2.2", "RCPT to a mailbox over quota: %s" % r
    assert len(onebox.messages(BOB)) == 2
    # alice is not affected, and raising the quota takes effect at once
    assert onebox.send("a@example.org", ALICE)[0].code == 250
    onebox.cli("user", "quota", BOB, "10M")
    assert onebox.send("a@example.org", BOB)[0].code == 250


def test_quota_counts_trace_lines_and_mailboxes_once(onebox):
    """The quota check at the final dot counts the file as stored (the
    Return-Path/Delivered-To lines onebox adds in front), and a mailbox
    reached twice in one transaction (directly and through an alias) once:
    it gets one file."""
    msg = make_message(to=BOB, body="x" * 4000 + "\n")
    assert onebox.send("a@example.org", BOB, msg)[0].code == 250
    (path,) = onebox.message_files(BOB)
    stored = os.path.getsize(path)
    trace = len(b"Return-Path: <a@example.org>\nDelivered-To: %s\n" % BOB.encode())
    # room for one more spool copy, but not for the lines in front of it
    onebox.cli("user", "quota", BOB, str(2 * stored - trace // 2))
    r, _ = onebox.send("a@example.org", BOB, msg)
    assert r.code == 452 and r.enhanced == "4.2.2", r
    assert len(onebox.messages(BOB)) == 1
    # room for exactly one more file: bob twice in one transaction is one file
    onebox.cli("user", "quota", BOB, str(2 * stored))
    onebox.cli("alias", "add", "bobby@local.test", BOB)
    r, _ = onebox.send("a@example.org", [BOB, "bobby@local.test"], msg)
    assert r.code == 250, r
    assert len(onebox.messages(BOB)) == 2


def test_quota_checked_at_data(onebox):
    """Under quota at RCPT, over it with this message: refused after DATA (4.2.2/5.2.2) or accepted."""
    onebox.cli("user", "quota", BOB, "100K")
    body = ("q" * 76 + "\n") * 800
    codes = []
    for i in range(3):
        with onebox.raw() as c:
            c.ehlo()
            c.cmd("MAIL FROM:<a@example.org>")
            r = c.cmd("RCPT TO:<%s>" % BOB)
            if r.code == 452:
                codes.append("rcpt452")
                break
            r = c.data(make_message(to=BOB, body=body))
            assert r.code == 250 or (r.code in (452, 552) and r.enhanced in ("4.2.2", "5.2.2")), r
            codes.append(r.code)
    assert codes[0] == 250, codes
    assert codes[1] != 250 or codes[2] != 250, "quota never enforced: %s" % codes


def test_user_added_with_quota(onebox):
    onebox.cli("user", "add", "carol@local.test", "--quota", "1M", input="pw-carol\n")
    out = onebox.cli("user", "list", "local.test").stdout
    assert "carol@local.test" in out, out


def test_unknown_domain_user_refused(shared):
    with shared.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        r = c.cmd("RCPT TO:<nobody@local.test>")
        assert r.code == 550 and r.enhanced == "5.1.1", r
        try:
            assert c.cmd("NOOP").code == 250
        except SMTPClosed:
            raise AssertionError("connection closed after one unknown recipient")


def test_mailbox_on_another_file_system_refused(onebox):
    """syncfs covers only data_dir/mail's file system: a mailbox mounted elsewhere is 451, never a 250 that is not durable."""
    import pwd
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    onebox.send("a@example.org", BOB)                     # creates bob's Maildir
    box = onebox.maildir(BOB)
    pw = pwd.getpwnam(onebox.user)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700,uid=%d,gid=%d" % (pw.pw_uid, pw.pw_gid),
                        "onebox-test", box], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + p.stderr.strip())
    try:
        with onebox.raw() as c:
            c.ehlo()
            assert c.cmd("MAIL FROM:<a@example.org>").code == 250
            assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
            r = c.data(make_message("a@example.org", BOB))
            assert r.code == 451 and r.enhanced == "4.3.0", r
        onebox.wait_log(r"refusing mailbox \S+: it is on another file system")
        for sub in ("tmp", "new", "cur"):
            d = os.path.join(box, sub)
            assert not os.path.isdir(d) or os.listdir(d) == [], "files left in %s" % d
        r, _ = onebox.send("a@example.org", ALICE)        # others are not affected
        assert r.code == 250
    finally:
        subprocess.run(["umount", box], check=True)
