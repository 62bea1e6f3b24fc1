"""IMAP FETCH / UID FETCH: UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ,
BODY[] BODY.PEEK[] BODY[HEADER] BODY[TEXT] BODY[HEADER.FIELDS (...)] and
.NOT, partial <o.n>, RFC822 RFC822.HEADER RFC822.TEXT: exact bytes with
CR LF, sizes in CR LF terms, \\Seen set by non-PEEK items; big bodies
streamed; bad items answered BAD.  The MIME items: test_imap_mime.py."""

import email
import re

from obtest import new_user, place_message

PW = "Pop3-pw-7#"
MSG = (b"From: Ann <ann@example.org>\n"
       b"To: p@local.test\n"
       b"Subject: hello\n"
       b" continued\n"
       b"X-Other: 1\n"
       b"\n"
       b"line one\n"
       b"line two\n")
HDR = MSG[:MSG.index(b"\n\n") + 2].replace(b"\n", b"\r\n")
TEXT = MSG[MSG.index(b"\n\n") + 2:].replace(b"\n", b"\r\n")
FULL = MSG.replace(b"\n", b"\r\n")


def literal(resp, label):
    """The bytes of item label ("BODY[]", ...) in a raw FETCH response."""
    i = resp.index(label.encode() + b" {")
    j = resp.index(b"}\r\n", i)
    n = int(resp[resp.index(b"{", i) + 1:j])
    return resp[j + 3:j + 3 + n]


def fetch_raw(c, line, timeout=60):
    tag = c.next_tag()
    c.send_line("%s %s" % (tag, line))
    out = []
    while True:
        r = c.read_response(timeout)
        if r.startswith(tag.encode() + b" "):
            return out, r.decode()
        out.append(r)


def selected(ob, *msgs):
    user = new_user(ob)
    for m in msgs:
        place_message(ob, user, m)
    c = ob.imap(user)
    c.ok("SELECT INBOX")
    return c


def test_simple_items(shared_imap):
    with selected(shared_imap, MSG, MSG) as c:
        untagged = c.ok("FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ)")
        assert len(untagged) == 2
        m = re.match(r'\* 1 FETCH \(UID 1 FLAGS \(\\Recent\) RFC822.SIZE %d INTERNALDATE '
                     r'"\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000" MODSEQ \(\d+\)\)$' % len(FULL), untagged[0])
        assert m, untagged[0]
        untagged = c.ok("UID FETCH 2 FLAGS")
        assert untagged == ["* 2 FETCH (UID 2 FLAGS (\\Recent))"]
        assert c.ok("FETCH 2 FAST")[0].startswith("* 2 FETCH (FLAGS (\\Recent) INTERNALDATE")


def test_body_sections_exact(shared_imap):
    with selected(shared_imap, MSG) as c:
        out, r = fetch_raw(c, "FETCH 1 (BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT])")
        assert "OK" in r
        assert literal(out[0], "BODY[]") == FULL
        assert literal(out[0], "BODY[HEADER]") == HDR
        assert literal(out[0], "BODY[TEXT]") == TEXT
        out, _ = fetch_raw(c, "FETCH 1 (BODY.PEEK[HEADER.FIELDS (subject FROM)])")
        assert literal(out[0], "BODY[HEADER.FIELDS (subject FROM)]") == (
            b"From: Ann <ann@example.org>\r\nSubject: hello\r\n continued\r\n\r\n")
        out, _ = fetch_raw(c, "FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Subject From)])")
        assert literal(out[0], "BODY[HEADER.FIELDS.NOT (Subject From)]") == (
            b"To: p@local.test\r\nX-Other: 1\r\n\r\n")
        # nothing was marked \Seen by PEEK
        assert c.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS (\\Recent))"]


def test_partial(shared_imap):
    with selected(shared_imap, MSG) as c:
        out, _ = fetch_raw(c, "FETCH 1 (BODY.PEEK[]<5.10> BODY.PEEK[TEXT]<0.6> BODY.PEEK[]<99999.5>)")
        assert literal(out[0], "BODY[]<5>") == FULL[5:15]
        assert literal(out[0], "BODY[TEXT]<0>") == TEXT[:6]
        assert literal(out[0], "BODY[]<99999>") == b""
        # a window that ends between the CR and the LF of a line end
        cut = FULL.index(b"\r\n") + 1
        out, _ = fetch_raw(c, "FETCH 1 BODY.PEEK[]<0.%d>" % cut)
        assert literal(out[0], "BODY[]<0>") == FULL[:cut]
        out, _ = fetch_raw(c, "FETCH 1 BODY.PEEK[]<%d.3>" % cut)
        assert literal(out[0], "BODY[]<%d>" % cut) == FULL[cut:cut + 3]


def test_rfc822_items_and_seen(shared_imap):
    with selected(shared_imap, MSG, MSG) as c:
        out, _ = fetch_raw(c, "FETCH 1 RFC822.HEADER")
        assert literal(out[0], "RFC822.HEADER") == HDR
        assert c.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS (\\Recent))"]
        out, _ = fetch_raw(c, "FETCH 1 (RFC822.TEXT)")
        assert literal(out[0], "RFC822.TEXT") == TEXT
        assert b"FLAGS (\\Seen \\Recent)" in out[0]
        out, _ = fetch_raw(c, "UID FETCH 2 (BODY[])")
        assert literal(out[0], "BODY[]") == FULL and b"UID 2" in out[0] and b"\\Seen" in out[0]
        out, _ = fetch_raw(c, "FETCH 2 RFC822")
        assert literal(out[0], "RFC822") == FULL


def test_imaplib_fetch_and_email_parse(shared_imap):
    user = new_user(shared_imap)
    place_message(shared_imap, user, MSG)
    c = shared_imap.imaplib()
    c.login(user, PW)
    c.select("INBOX")
    typ, data = c.fetch("1", "(RFC822)")
    assert typ == "OK"
    m = email.message_from_bytes(data[0][1])
    assert m["Subject"].replace("\r\n", "\n") == "hello\n continued"
    typ, data = c.uid("FETCH", "1", "(FLAGS)")
    assert b"\\Seen" in data[0]
    c.logout()


def test_big_body_streamed(shared_imap):
    body = (b"x" * 99 + b"\n") * 40000      # 4 MB
    big = b"Subject: big\n\n" + body
    with selected(shared_imap, big) as c:
        out, r = fetch_raw(c, "FETCH 1 BODY.PEEK[TEXT]")
        assert "OK" in r
        got = literal(out[0], "BODY[TEXT]")
        assert len(got) == len(body) + 40000 and got[:101] == b"x" * 99 + b"\r\n"


def test_bad_items(shared_imap):
    with selected(shared_imap, MSG) as c:
        # a single-part message: part 1 is its body, 1.2 does not exist
        out, r = fetch_raw(c, "FETCH 1 (BODY.PEEK[1] BODY.PEEK[1.2.MIME])")
        assert literal(out[0], "BODY[1]") == TEXT and out[0].endswith(b" BODY[1.2.MIME] NIL)"), out
        for item in ("BOGUS", "BODY[HEADER.FIELDS]", "BODY[]<1>", "BODY[]<1.0>", "(UID", "()", "BODY[0]",
                     "BODY[MIME]", "BODY[1.]", "BODY[]<-1.2>", "BODY[TEXT]x", "BODY.PEK[]", "BINARY[TEXT]"):
            _, r = c.cmd("FETCH 1 " + item)
            assert " BAD " in r, (item, r)
        for bad in ("0", "2", "1:3", "x"):
            _, r = c.cmd("FETCH %s FLAGS" % bad)
            assert " BAD " in r, (bad, r)
        assert c.ok("UID FETCH 5:* FLAGS") == ["* 1 FETCH (UID 1 FLAGS (\\Recent))"]
        assert c.ok("UID FETCH 7 FLAGS") == []


def test_fetch_needs_selected(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        _, r = c.cmd("FETCH 1 FLAGS")
        assert " BAD " in r and "No mailbox selected" in r, r
