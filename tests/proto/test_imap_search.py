"""IMAP SEARCH / UID SEARCH: ALL, sets, UID, flag keys, NEW/OLD/RECENT,
LARGER/SMALLER, BEFORE/ON/SINCE, SENTBEFORE/SENTON/SENTSINCE,
HEADER/SUBJECT/FROM/TO/CC (case-insensitive, folded headers, encoded
words decoded), BODY and TEXT on the decoded text parts, UTF-8 search
strings, NOT/OR/lists, CHARSET; bad keys BAD."""

import os
import re
import time

from obtest import new_user, place_message

PW = "Pop3-pw-7#"


def msg(subject, frm="ann@example.org", to="p@local.test", body="hi\n", extra=""):
    return ("From: %s\nTo: %s\nSubject: %s\n%s\n%s" % (frm, to, subject, extra, body)).encode()


def search(c, q):
    out = c.ok(q)
    assert len(out) == 1 and out[0].startswith("* SEARCH"), out
    return [int(x) for x in out[0].split()[2:]]


def test_search(shared_imap):
    user = new_user(shared_imap)
    place_message(shared_imap, user, msg("Quarterly report", frm="Boss <boss@corp.test>"))
    place_message(shared_imap, user, msg("lunch?", extra="Cc: team@corp.test\n", body="x" * 5000 + "\n"))
    place_message(shared_imap, user, msg("Re: quarterly\n REPORT folded", to="other@local.test"))
    # the third is old: its file time is the internal date
    md = shared_imap.maildir(user)
    old = sorted(os.listdir(os.path.join(md, "new")))[2]
    os.utime(os.path.join(md, "new", old), (946728000, 946728000))     # 2000-01-01 12:00 UTC
    with shared_imap.imap(user) as c:
        c.ok("SELECT INBOX")
        c.ok("STORE 2 +FLAGS (\\Seen \\Flagged)")
        assert search(c, "SEARCH ALL") == [1, 2, 3]
        assert search(c, "SEARCH SEEN") == [2]
        assert search(c, "SEARCH UNSEEN") == [1, 3]
        assert search(c, "SEARCH FLAGGED UNDELETED") == [2]
        assert search(c, "SEARCH NEW") == [1, 3]
        assert search(c, "SEARCH OLD") == []
        assert search(c, "SEARCH SUBJECT quarterly") == [1, 3]
        assert search(c, 'SEARCH SUBJECT "REPORT"') == [1, 3]
        assert search(c, "SEARCH FROM BOSS@corp") == [1]
        assert search(c, "SEARCH TO other") == [3]
        assert search(c, "SEARCH CC team") == [2]
        assert search(c, 'SEARCH HEADER Cc ""') == [2]
        assert search(c, "SEARCH LARGER 1000") == [2]
        assert search(c, "SEARCH SMALLER 1000") == [1, 3]
        assert search(c, "SEARCH BEFORE 2-Jan-2000") == [3]
        assert search(c, "SEARCH ON 1-Jan-2000") == [3]
        assert search(c, "SEARCH SINCE 2-Jan-2000") == [1, 2]
        assert search(c, "SEARCH NOT SEEN") == [1, 3]
        assert search(c, "SEARCH OR SEEN SUBJECT folded") == [2, 3]
        assert search(c, "SEARCH (OR SEEN FROM boss) NOT FLAGGED") == [1]
        assert search(c, "SEARCH 2:*") == [2, 3]
        assert search(c, "SEARCH UID 1,3") == [1, 3]
        assert search(c, "UID SEARCH SEEN") == [2]
        assert search(c, "SEARCH CHARSET UTF-8 SUBJECT lunch") == [2]
        assert search(c, "SEARCH KEYWORD $Junk") == []
        _, r = c.cmd("SEARCH CHARSET KOI8-R ALL")
        assert "NO [BADCHARSET" in r, r
        assert search(c, "SEARCH BODY xxxxx") == [2]
        assert search(c, "SEARCH TEXT Boss") == [1]
        for q in ("SEARCH BOGUS", "SEARCH LARGER x", "SEARCH SINCE 32-Foo-2000", "SEARCH OR SEEN",
                  "SEARCH ()", "SEARCH " + "NOT " * 100 + "ALL", "SEARCH SUBJECT", "SEARCH BODY",
                  "SEARCH SENTON 1-Foo-2000", "SEARCH TEXT"):
            _, r = c.cmd(q)
            assert " BAD " in r, (q, r)


MIXED = (b"From: x@example.org\nSubject: mixed\nDate: Tue, 1 Dec 2026 01:00:00 +0100\n"
         b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
         b"--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
         b"na=C3=AFve r=C3=A9sum=\n=C3=A9\n"
         b"--b\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n"
         b"PGI+WkVCUkEgY2Fm6TwvYj4=\n"
         b"--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
         b"c2VjcmV0d29yZA==\n"
         b"--b--\n")


def usearch(c, key, text):
    """SEARCH CHARSET UTF-8 key <text as a literal> (LITERAL+)."""
    data = text.encode()
    return search(c, "SEARCH CHARSET UTF-8 %s {%d+}\r\n%s" % (key, len(data), text))


def test_decoded_search(shared_imap):
    user = new_user(shared_imap)
    place_message(shared_imap, user,
                  b"From: =?UTF-8?B?Sm9zw6k=?= <jose@example.net>\nSubject: =?ISO-8859-1?Q?Caf=E9?= au\n"
                  b" =?UTF-8?Q?lait?=\nDate: Mon, 30 Nov 2026 23:30:00 -0500\n\nThe quick brown fox\n")
    place_message(shared_imap, user, MIXED)
    place_message(shared_imap, user, "From: y@example.org\nSubject: Ελληνικά ΚΑΛΗΜΕΡΑ\n"
                  "Content-Type: text/plain; charset=utf-8\n\nПривет МИР\n".encode())
    with shared_imap.imap(user) as c:
        c.ok("SELECT INBOX")
        assert usearch(c, "SUBJECT", "café") == [1]
        assert usearch(c, "SUBJECT", "CAFÉ AU LAIT") == [1]
        assert search(c, "SEARCH SUBJECT lait") == [1]
        assert usearch(c, "FROM", "josé") == [1]
        assert search(c, "SEARCH FROM JOSE@") == [1]
        assert usearch(c, "SUBJECT", "καλημερα") == [3]
        assert search(c, "SEARCH BODY QUICK") == [1]
        assert usearch(c, "BODY", "RÉSUMÉ") == [2]       # across a soft line break
        assert usearch(c, "BODY", "zebra café") == [2]   # base64, ISO-8859-1
        assert search(c, "SEARCH BODY secretword") == []   # not a text part
        assert usearch(c, "BODY", "мир") == [3]
        assert search(c, "SEARCH BODY mixed") == []        # the header is not the body
        assert search(c, "SEARCH TEXT mixed") == [2]
        assert usearch(c, "TEXT", "josé") == [1]
        assert search(c, "SEARCH TEXT fox") == [1]
        assert search(c, "SEARCH NOT BODY fox") == [2, 3]
        assert search(c, 'SEARCH CHARSET US-ASCII BODY "brown fox"') == [1]
        # the Date: field's own day, whatever its zone; no Date: matches none
        assert search(c, "SEARCH SENTON 30-Nov-2026") == [1]
        assert search(c, "SEARCH SENTON 1-Dec-2026") == [2]
        assert search(c, "SEARCH SENTBEFORE 1-Dec-2026") == [1]
        assert search(c, "SEARCH SENTSINCE 1-Dec-2026") == [2]
        assert search(c, "SEARCH NOT SENTSINCE 1-Jan-1990") == [3]
        # FETCH cached the part tree: the search reads it from the index
        c.ok("FETCH 1:* BODYSTRUCTURE")
        assert usearch(c, "BODY", "RÉSUMÉ") == [2]


def test_search_header_bounds(shared_imap):
    """A header key looks at the whole header however long (the server
    reads a header in 8 KB steps until its blank line), up to its 256 KB
    limit, and never at the body."""
    user = new_user(shared_imap)
    pad = "".join("X-Pad-%d: %s\n" % (i, "p" * 70) for i in range(300))     # about 24 KB
    place_message(shared_imap, user, msg("plain", extra=pad + "Subject: deep-needle\n"))
    place_message(shared_imap, user, msg("plain", body="Subject: deep-needle\n\nmore\n"))
    crlf = "From: a@example.org\r\nSubject: crlf\r\n\r\nSubject: deep-needle\r\n"
    place_message(shared_imap, user, crlf.encode())
    huge = "".join("X-Pad-%d: %s\n" % (i, "p" * 70) for i in range(4000))    # about 320 KB
    place_message(shared_imap, user, msg("plain", extra=huge + "Subject: deep-needle\n"))
    with shared_imap.imap(user) as c:
        c.ok("SELECT INBOX")
        assert search(c, "SEARCH SUBJECT deep-needle") == [1]
        assert search(c, "SEARCH SUBJECT crlf") == [3]
        assert search(c, "SEARCH SUBJECT plain") == [1, 2, 4]


def test_imaplib_search(shared_imap):
    user = new_user(shared_imap)
    for s in ("alpha", "beta", "alphabet"):
        place_message(shared_imap, user, msg(s))
    c = shared_imap.imaplib()
    c.login(user, PW)
    c.select("INBOX")
    typ, data = c.search(None, "SUBJECT", "alpha")
    assert typ == "OK" and data == [b"1 3"]
    typ, data = c.uid("SEARCH", "NOT", "SUBJECT", "alpha")
    assert data == [b"2"]
    c.logout()


def test_disconnect_during_search(shared_imap):
    user = new_user(shared_imap)
    for i in range(300):
        place_message(shared_imap, user, msg("m%d" % i))
    c = shared_imap.imap(user)
    c.ok("SELECT INBOX")
    c.send_line("a SEARCH SUBJECT nothing-matches")
    c.close()
    time.sleep(0.5)
    with shared_imap.imap(user) as c:
        c.ok("NOOP")


def test_esearch(shared_imap):
    """ESEARCH (RFC 4731): SEARCH RETURN (MIN MAX ALL COUNT), RETURN ()
    meaning ALL, UID SEARCH, no match, with MODSEQ; bad options BAD."""
    user = new_user(shared_imap)
    for s in ("alpha", "beta", "alpha2", "alpha3", "gamma", "alpha5"):
        place_message(shared_imap, user, msg(s))
    with shared_imap.imap(user) as c:
        assert "ESEARCH" in c.ok("CAPABILITY")[0].split()
        c.ok("SELECT INBOX")
        out = c.ok("SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT alpha")
        assert len(out) == 1 and re.fullmatch(r'\* ESEARCH \(TAG "t\d+"\) MIN 1 MAX 6 COUNT 4 ALL 1,3:4,6', out[0]), out
        out = c.ok("UID SEARCH RETURN () CHARSET UTF-8 SUBJECT alpha")
        assert re.fullmatch(r'\* ESEARCH \(TAG "t\d+"\) UID ALL 1,3:4,6', out[0]), out
        out = c.ok("SEARCH RETURN (COUNT) SUBJECT nothing")
        assert re.fullmatch(r'\* ESEARCH \(TAG "t\d+"\) COUNT 0', out[0]), out
        out = c.ok("SEARCH RETURN (MIN) SUBJECT nothing")
        assert re.fullmatch(r'\* ESEARCH \(TAG "t\d+"\)', out[0]), out
        out = c.ok("SEARCH RETURN (MAX) MODSEQ 1")
        assert re.fullmatch(r'\* ESEARCH \(TAG "t\d+"\) MAX 6 MODSEQ \d+', out[0]), out
        for bad in ("SEARCH RETURN (FOO) ALL", "SEARCH RETURN ALL", "SEARCH RETURN (MIN)"):
            _, r = c.cmd(bad)
            assert " BAD " in r, (bad, r)
