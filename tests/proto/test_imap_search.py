"""IMAP SEARCH / UID SEARCH: ALL, sets, UID, flag keys, NEW/OLD/RECENT,
LARGER/SMALLER, BEFORE/ON/SINCE, HEADER/SUBJECT/FROM/TO/CC (case-
insensitive, folded headers), NOT/OR/lists, CHARSET; BODY/TEXT answered
NO until the full-text index exists; bad keys BAD."""

import os
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
        for q in ("SEARCH BODY x", "SEARCH TEXT x", "SEARCH SENTSINCE 1-Jan-2000"):
            _, r = c.cmd(q)
            assert " NO " in r and "not supported yet" in r, (q, r)
        for q in ("SEARCH BOGUS", "SEARCH LARGER x", "SEARCH SINCE 32-Foo-2000", "SEARCH OR SEEN",
                  "SEARCH ()", "SEARCH " + "NOT " * 100 + "ALL", "SEARCH SUBJECT"):
            _, r = c.cmd(q)
            assert " BAD " in r, (q, r)


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
