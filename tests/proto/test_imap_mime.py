"""IMAP FETCH of the MIME structure (RFC 3501 §6.4.5, §7.4.2; RFC 3516):
ENVELOPE, BODY, BODYSTRUCTURE and body sections of every form on a
multipart message with a nested message/rfc822, delivered over SMTP and
compared byte for byte; BINARY, BINARY.PEEK and BINARY.SIZE; the index's
cache of the structure (no parse at the second FETCH)."""

import base64
import imaplib
import re

from obtest import new_user

PW = "Pop3-pw-7#"

INNER = (b"From: =?UTF-8?B?Sm9zw6k=?= <jose@example.net>\n"
         b"To: team@local.test\n"
         b"Subject: inner\n"
         b"Date: Tue, 1 Dec 2026 10:00:00 +0100\n"
         b"Message-ID: <inner@example.net>\n"
         b"Content-Type: multipart/alternative; boundary=\"in\"\n"
         b"\n"
         b"--in\n"
         b"Content-Type: text/plain; charset=utf-8\n"
         b"Content-Transfer-Encoding: quoted-printable\n"
         b"\n"
         b"caf=C3=A9\n"
         b"--in\n"
         b"Content-Type: text/html\n"
         b"\n"
         b"<p>cafe</p>\n"
         b"--in--\n")

PNG = bytes(range(256)) * 2          # binary data with NUL bytes

MSG = (b"From: Ann Example <ann@example.org>\n"
       b"To: p@local.test, \"Bob, B.\" <bob@example.com>\n"
       b"Cc: undisclosed-recipients:;\n"
       b"Subject: =?ISO-8859-1?Q?caf=E9?= report\n"
       b"Date: Mon, 30 Nov 2026 09:15:00 +0000\n"
       b"Message-ID: <outer@example.org>\n"
       b"In-Reply-To: <prev@example.org>\n"
       b"MIME-Version: 1.0\n"
       b"Content-Type: multipart/mixed; boundary=\"outer\"\n"
       b"\n"
       b"preamble\n"
       b"--outer\n"
       b"Content-Type: text/plain; charset=us-ascii\n"
       b"\n"
       b"Hello,\n"
       b"the report.\n"
       b"--outer\n"
       b"Content-Type: image/png; name=\"a.png\"\n"
       b"Content-Transfer-Encoding: base64\n"
       b"Content-Disposition: attachment; filename=\"a.png\"\n"
       b"\n" + base64.encodebytes(PNG) +
       b"--outer\n"
       b"Content-Type: message/rfc822\n"
       b"\n" + INNER +
       b"--outer--\n"
       b"epilogue\n")


def crlf(b):
    return b.replace(b"\n", b"\r\n")


def literal(resp, label):
    """The bytes of item label in a raw FETCH response ({n} or ~{n})."""
    i = resp.index(label.encode() + b" ")
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


def delivered(ob, msg=MSG):
    user = new_user(ob)
    r, _ = ob.send("ann@example.org", user, msg)
    assert r.code == 250, r
    ob.wait_messages(user, 1)
    c = ob.imap(user)
    c.ok("SELECT INBOX")
    c.user = user
    return c


ENV_OUTER = ('("Mon, 30 Nov 2026 09:15:00 +0000" "=?ISO-8859-1?Q?caf=E9?= report" '
             '(("Ann Example" NIL "ann" "example.org")) (("Ann Example" NIL "ann" "example.org")) '
             '(("Ann Example" NIL "ann" "example.org")) '
             '((NIL NIL "p" "local.test")("Bob, B." NIL "bob" "example.com")) '
             '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL '
             '"<prev@example.org>" "<outer@example.org>")')
JOSE = '(("=?UTF-8?B?Sm9zw6k=?=" NIL "jose" "example.net"))'
ENV_INNER = ('("Tue, 1 Dec 2026 10:00:00 +0100" "inner" %s %s %s ((NIL NIL "team" "local.test")) '
             'NIL NIL NIL "<inner@example.net>")' % (JOSE, JOSE, JOSE))
# sizes: the line end before a boundary belongs to the boundary, but that
# of a close delimiter ("--in--") stays with the part (as Dovecot counts)
INNER_SIZE = len(crlf(INNER))
INNER_LINES = INNER.count(b"\n")
B64 = base64.encodebytes(PNG)[:-1]
BODYSTRUCTURE = (
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 19 1 NIL NIL NIL NIL)'
    '("image" "png" ("name" "a.png") NIL NIL "base64" %d NIL ("attachment" ("filename" "a.png")) NIL NIL)'
    '("message" "rfc822" NIL NIL NIL "7bit" %d %s '
    '(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 9 0 NIL NIL NIL NIL)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL) "alternative" '
    '("boundary" "in") NIL NIL NIL) %d NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)'
    % (len(crlf(B64)), INNER_SIZE, ENV_INNER, INNER_LINES))
BODY = (
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 19 1)'
    '("image" "png" ("name" "a.png") NIL NIL "base64" %d)'
    '("message" "rfc822" NIL NIL NIL "7bit" %d %s '
    '(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 9 0)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 11 0) "alternative") %d) "mixed")'
    % (len(crlf(B64)), INNER_SIZE, ENV_INNER, INNER_LINES))


def test_constants_are_what_the_message_says():
    # the hand-written strings above hold the sizes worked out by hand
    assert (len(crlf(B64)), INNER_SIZE, INNER_LINES) == (700, 368, 17)


def test_envelope_body_bodystructure(shared_imap):
    with delivered(shared_imap) as c:
        assert c.ok("FETCH 1 (ENVELOPE BODY BODYSTRUCTURE)") == [
            "* 1 FETCH (ENVELOPE %s BODY %s BODYSTRUCTURE %s)" % (ENV_OUTER, BODY, BODYSTRUCTURE)]
        # again, from the cache; ALL and FULL are their macros
        assert c.ok("UID FETCH 1 BODYSTRUCTURE") == ["* 1 FETCH (UID 1 BODYSTRUCTURE %s)" % BODYSTRUCTURE]
        full = c.ok("FETCH 1 FULL")[0]
        assert full.startswith("* 1 FETCH (FLAGS (\\Recent) INTERNALDATE ")
        assert full.endswith(" ENVELOPE %s BODY %s)" % (ENV_OUTER, BODY))
        assert c.ok("FETCH 1 ALL")[0].endswith(" ENVELOPE %s)" % ENV_OUTER)


def test_sections_exact(shared_imap):
    inner_hdr = INNER[:INNER.index(b"\n\n") + 2]
    want = {
        "BODY[1]": crlf(b"Hello,\nthe report."),
        "BODY[1.MIME]": crlf(b"Content-Type: text/plain; charset=us-ascii\n\n"),
        "BODY[2]": crlf(B64),
        "BODY[3]": crlf(INNER),
        "BODY[3.HEADER]": crlf(inner_hdr),
        "BODY[3.TEXT]": crlf(INNER[len(inner_hdr):]),
        "BODY[3.MIME]": b"Content-Type: message/rfc822\r\n\r\n",
        "BODY[3.1]": b"caf=C3=A9",
        "BODY[3.2.MIME]": b"Content-Type: text/html\r\n\r\n",
        "BODY[3.HEADER.FIELDS (Subject MESSAGE-ID)]": b"Subject: inner\r\nMessage-ID: <inner@example.net>\r\n\r\n",
        "BODY[3.HEADER.FIELDS.NOT (From To Subject Date Message-ID)]":
            b"Content-Type: multipart/alternative; boundary=\"in\"\r\n\r\n",
        "BODY[TEXT]": crlf(MSG[MSG.index(b"\n\n") + 2:]),
    }
    with delivered(shared_imap) as c:
        items = " ".join(k.replace("BODY[", "BODY.PEEK[") for k in want)
        out, r = fetch_raw(c, "FETCH 1 (%s)" % items)
        assert "OK" in r and len(out) == 1
        for label, data in want.items():
            assert literal(out[0], label) == data, label
        assert c.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS (\\Recent))"]
        # parts that do not exist, HEADER of a part that is no message
        assert c.ok("FETCH 1 (BODY.PEEK[4] BODY.PEEK[1.HEADER] BODY.PEEK[3.3])") == [
            "* 1 FETCH (BODY[4] NIL BODY[1.HEADER] NIL BODY[3.3] NIL)"]
        # partials inside parts; a non-PEEK section sets \Seen
        out, _ = fetch_raw(c, "FETCH 1 (BODY[3.1]<2.3> BODY.PEEK[2]<690.100>)")
        assert literal(out[0], "BODY[3.1]<2>") == b"f=C"
        assert literal(out[0], "BODY[2]<690>") == crlf(B64)[690:]
        assert b"FLAGS (\\Seen \\Recent)" in out[0]


def test_binary(shared_imap):
    with delivered(shared_imap) as c:
        out, r = fetch_raw(c, "FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[3.1] BINARY.SIZE[3.1] "
                              "BINARY.PEEK[3.2] BINARY.PEEK[2]<250.10> BINARY.PEEK[2]<510.10>)")
        assert "OK" in r, r
        assert b"BINARY[2] ~{512}\r\n" in out[0]
        assert literal(out[0], "BINARY[2]") == PNG
        assert b"BINARY.SIZE[2] 512" in out[0] and b"BINARY.SIZE[3.1] 5" in out[0]
        assert literal(out[0], "BINARY[3.1]") == "café".encode()
        assert literal(out[0], "BINARY[3.2]") == b"<p>cafe</p>"
        assert literal(out[0], "BINARY[2]<250>") == PNG[250:260]
        assert literal(out[0], "BINARY[2]<510>") == PNG[510:]
        assert c.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS (\\Recent))"]
        out, _ = fetch_raw(c, "FETCH 1 BINARY[1]")
        assert literal(out[0], "BINARY[1]") == crlf(b"Hello,\nthe report.")
        assert b"\\Seen" in out[0]
        for bad in ("BINARY[1.TEXT]", "BINARY[HEADER]", "BINARY.SIZE[1]<0.5>", "BINARY.PEEKX[1]"):
            _, r = c.cmd("FETCH 1 " + bad)
            assert " BAD " in r, (bad, r)


def test_binary_single_part_and_unknown_cte(shared_imap):
    user = new_user(shared_imap)
    one = (b"Subject: one\nContent-Type: application/octet-stream\n"
           b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(b"\x00\x01hello"))
    odd = b"Subject: odd\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n"
    for m in (one, odd):
        shared_imap.send("ann@example.org", user, m)
    shared_imap.wait_messages(user, 2)
    with shared_imap.imap(user) as c:
        c.ok("SELECT INBOX")
        out, r = fetch_raw(c, "FETCH 1 BINARY.PEEK[1]")
        assert literal(out[0], "BINARY[1]") == b"\x00\x01hello"
        out, r = fetch_raw(c, "FETCH 1:2 (UID BINARY.PEEK[1])")
        assert len(out) == 1 and r.split()[1:3] == ["NO", "[UNKNOWN-CTE]"], (out, r)


def test_imaplib_bodystructure(shared_imap):
    user = new_user(shared_imap)
    shared_imap.send("ann@example.org", user, MSG)
    shared_imap.wait_messages(user, 1)
    c = shared_imap.imaplib()
    c.login(user, PW)
    c.select("INBOX")
    typ, data = c.fetch("1", "(BODYSTRUCTURE ENVELOPE)")
    assert typ == "OK"
    assert data[0] == ("1 (BODYSTRUCTURE %s ENVELOPE %s)" % (BODYSTRUCTURE, ENV_OUTER)).encode()
    typ, data = c.fetch("1", "(BODY.PEEK[3.1.MIME] BODY.PEEK[2.MIME])")
    assert typ == "OK"
    assert data[0][1] == b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    assert data[1][1].startswith(b"Content-Type: image/png")
    c.logout()


def test_structure_cached_in_the_index(shared_imap):
    """The second FETCH answers from the index's cache: a changed cache
    entry is what the client gets (so the file was not parsed again)."""
    import sqlite3
    with delivered(shared_imap) as c:
        c.ok("FETCH 1 ENVELOPE")
        db = sqlite3.connect(shared_imap.maildir(c.user) + "/onebox-index.db")
        row = db.execute("SELECT envelope, bodystructure, mime FROM messages").fetchone()
        assert row[0].decode() == ENV_OUTER and row[1].decode() == BODYSTRUCTURE and len(row[2]) > 0
        db.execute("UPDATE messages SET envelope = CAST('(NIL \"cached\" NIL NIL NIL NIL NIL NIL NIL NIL)' AS BLOB)")
        db.commit()
        db.close()
        assert c.ok("FETCH 1 ENVELOPE") == ['* 1 FETCH (ENVELOPE (NIL "cached" NIL NIL NIL NIL NIL NIL NIL NIL))']


def test_binary_append_literal8(shared_imap):
    """RFC 3516 APPEND ~{n}: a message holding NUL bytes (a part without
    transfer encoding); BINARY gives them back in a literal8, BODY as 0x80
    (a literal may not hold NUL)."""
    user = new_user(shared_imap)
    part = b"a\x00b\x00\x01\xff\n"
    m = (b"Subject: nul\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
         b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
         + part + b"\r\n--x--\r\n")
    with shared_imap.imap(user) as c:
        assert "BINARY" in c.ok("CAPABILITY")[0].split()
        tag = c.next_tag()
        c.send(tag.encode() + b" APPEND INBOX ~{%d+}\r\n" % len(m) + m + b"\r\n")
        _, r = c.tagged(tag)
        assert " OK " in r, r
        c.ok("SELECT INBOX")
        out, r = fetch_raw(c, "FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BODY.PEEK[1])")
        assert "OK" in r, r
        assert b"BINARY[1] ~{%d}\r\n" % len(crlf(part)) in out[0]
        assert literal(out[0], "BINARY[1]") == crlf(part)
        assert b"BINARY.SIZE[1] %d" % len(crlf(part)) in out[0]
        assert literal(out[0], "BODY[1]") == crlf(part).replace(b"\x00", b"\x80")
        # literal8 anywhere else is not IMAP
        _, r = c.cmd("SEARCH SUBJECT ~{3+}\r\nnul")
        assert " BAD " in r, r
