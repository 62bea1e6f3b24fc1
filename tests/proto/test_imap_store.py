"""IMAP STORE / UID STORE (FLAGS, +FLAGS, -FLAGS, .SILENT; flags kept in
the Maildir file names), EXPUNGE, UID EXPUNGE, CLOSE, COPY / UID COPY,
MOVE / UID MOVE (durable before OK, [TRYCREATE]), read-only EXAMINE."""

import os

from obtest import new_user, place_message

PW = "Pop3-pw-7#"
MSG = b"Subject: s\n\nbody\n"


def selected(ob, n, mailbox="INBOX"):
    user = new_user(ob)
    for _ in range(n):
        place_message(ob, user, MSG)
    c = ob.imap(user)
    c.ok("SELECT " + mailbox)
    return user, c


def names(ob, user, folder=""):
    d = os.path.join(ob.maildir(user), folder)
    return sorted(os.listdir(os.path.join(d, "cur")) + os.listdir(os.path.join(d, "new")))


def test_store_flags(shared_imap):
    user, c = selected(shared_imap, 3)
    with c:
        assert c.ok("STORE 1 +FLAGS (\\Seen \\Flagged)") == ["* 1 FETCH (FLAGS (\\Seen \\Flagged \\Recent))"]
        assert c.ok("STORE 1 -FLAGS \\Flagged") == ["* 1 FETCH (FLAGS (\\Seen \\Recent))"]
        assert c.ok("UID STORE 2 FLAGS (\\Answered \\Draft)") == [
            "* 2 FETCH (UID 2 FLAGS (\\Answered \\Draft \\Recent))"]
        assert c.ok("STORE 3 +FLAGS.SILENT (\\Deleted)") == []
        files = names(shared_imap, user)
        assert [f.split(":2,")[1] for f in files] == ["S", "DR", "T"], files
    # the flags persist in a new session
    with shared_imap.imap(user) as c:
        c.ok("SELECT INBOX")
        got = c.ok("FETCH 1:* FLAGS")
        assert got == ["* 1 FETCH (FLAGS (\\Seen))", "* 2 FETCH (FLAGS (\\Answered \\Draft))",
                       "* 3 FETCH (FLAGS (\\Deleted))"], got


def test_keywords(shared_imap):
    user, c = selected(shared_imap, 3)
    with c:
        # a new keyword is announced with FLAGS and PERMANENTFLAGS
        assert c.ok("STORE 1:2 +FLAGS.SILENT ($Junk)") == [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk \\*)] Flags permitted"]
        assert c.ok("STORE 2 +FLAGS (\\Seen NonJunk)")[-1] == "* 2 FETCH (FLAGS (\\Seen \\Recent $Junk NonJunk))"
        assert c.ok("STORE 1 -FLAGS ($junk)") == ["* 1 FETCH (FLAGS (\\Recent))"]
        assert c.ok("SEARCH KEYWORD $Junk") == ["* SEARCH 2"]
        assert c.ok("SEARCH UNKEYWORD NonJunk") == ["* SEARCH 1 3"]
        assert c.ok("SEARCH KEYWORD Nothing") == ["* SEARCH"]
        assert sorted(f.split(":2,")[-1] for f in names(shared_imap, user) if ":2," in f) == ["", "", "Sab"]
        c.ok("COPY 2 Archive")
        _, r = c.cmd("STORE 1 +FLAGS (bad]kw)")
        assert " BAD " in r, r
    # kept in the file names, seen by a new session, kept by COPY
    with shared_imap.imap(user) as c:
        untagged = c.ok("SELECT INBOX")
        assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk NonJunk)" in untagged
        assert c.ok("FETCH 2 FLAGS") == ["* 2 FETCH (FLAGS (\\Seen $Junk NonJunk))"]
        c.ok("SELECT Archive")
        assert c.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS (\\Seen $Junk NonJunk))"]


def test_keyword_seen_by_other_session(shared_imap):
    user, a = selected(shared_imap, 1)
    with a, shared_imap.imap(user) as b:
        b.ok("SELECT INBOX")
        a.ok("STORE 1 +FLAGS.SILENT (Later)")
        untagged = b.ok("NOOP")
        assert "* 1 FETCH (FLAGS (Later))" in untagged, untagged
        assert any(x.startswith("* FLAGS (") and "Later" in x for x in untagged), untagged


def test_keyword_limit(shared_imap):
    user, c = selected(shared_imap, 1)
    with c:
        for i in range(26):
            c.ok("STORE 1 +FLAGS.SILENT (k%d)" % i)
        _, r = c.cmd("STORE 1 +FLAGS.SILENT (one-too-many)")
        assert "NO [LIMIT]" in r, r


def test_store_bad(shared_imap):
    _, c = selected(shared_imap, 1)
    with c:
        for line in ("STORE 1 +FLAGS (\\Recent)", "STORE 1 BOGUS (\\Seen)", "STORE 1 +FLAGS (\\Bogus)",
                     "STORE 2 +FLAGS (\\Seen)", "STORE 1 FLAGS"):
            _, r = c.cmd(line)
            assert " BAD " in r, (line, r)
        c.ok("EXAMINE INBOX")
        _, r = c.cmd("STORE 1 +FLAGS (\\Seen)")
        assert "NO [READ-ONLY]" in r, r


def test_expunge_and_uid_expunge(shared_imap):
    user, c = selected(shared_imap, 5)
    with c:
        c.ok("STORE 2,4,5 +FLAGS.SILENT (\\Deleted)")
        assert c.ok("UID EXPUNGE 4:5") == ["* 5 EXPUNGE", "* 4 EXPUNGE"]
        assert c.ok("EXPUNGE") == ["* 2 EXPUNGE"]
        assert c.ok("FETCH 1:* UID") == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)"]
        assert len(names(shared_imap, user)) == 2


def test_close_expunges_silently(shared_imap):
    user, c = selected(shared_imap, 2)
    with c:
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        assert c.ok("CLOSE") == []
        assert len(names(shared_imap, user)) == 1


def test_copy_and_move(shared_imap):
    user, c = selected(shared_imap, 3)
    with c:
        c.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
        c.ok("COPY 1:2 Archive")
        assert len(names(shared_imap, user, ".Archive")) == 2
        assert len(names(shared_imap, user)) == 3
        assert c.ok("UID MOVE 3 Trash")[-1] == "* 3 EXPUNGE"
        assert len(names(shared_imap, user)) == 2
        _, r = c.cmd("COPY 1 Nope")
        assert "NO [TRYCREATE]" in r, r
        assert c.ok('STATUS Archive (MESSAGES)') == ['* STATUS "Archive" (MESSAGES 2)']
        c.ok("SELECT Archive")
        # copies keep their flags (not \\Recent yet: they land in cur/)
        assert c.ok("FETCH 1:* FLAGS") == ["* 1 FETCH (FLAGS (\\Flagged))", "* 2 FETCH (FLAGS ())"]
        c.ok("SELECT Trash")
        assert c.ok("FETCH 1 BODY.PEEK[TEXT]")[0].endswith("body\r\n)")


def test_uidplus_copyuid_and_appenduid(shared_imap):
    import re
    user, c = selected(shared_imap, 3)
    with c:
        _, r = c.cmd("UID COPY 2:3 Archive")
        m = re.match(r"t\d+ OK \[COPYUID (\d+) 2,3 1,2\] UID COPY completed$", r)
        assert m, r
        untagged, r = c.cmd("UID MOVE 1 Archive")
        assert untagged[0] == "* OK [COPYUID %s 1 3] Moved" % m.group(1), untagged
        assert untagged[1] == "* 1 EXPUNGE" and "OK UID MOVE completed" in r
        c.send(b"a APPEND Archive {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
        _, r = c.tagged("a")
        assert r == "a OK [APPENDUID %s 4] APPEND completed" % m.group(1), r


def test_imaplib_store_expunge(shared_imap):
    user = new_user(shared_imap)
    for _ in range(2):
        place_message(shared_imap, user, MSG)
    c = shared_imap.imaplib()
    c.login(user, PW)
    c.select("INBOX")
    assert c.store("1", "+FLAGS", "\\Deleted")[0] == "OK"
    typ, data = c.expunge()
    assert typ == "OK" and data == [b"1"]
    c.logout()
