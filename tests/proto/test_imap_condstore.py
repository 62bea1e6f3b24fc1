"""IMAP CONDSTORE (RFC 7162 §3.1): the capability, ENABLE CONDSTORE and
SELECT (CONDSTORE), MODSEQ in FETCH, FETCH (CHANGEDSINCE), STORE
(UNCHANGEDSINCE) with [MODIFIED], MODSEQ in the FETCH answers of STORE
and in changes made by another session, SEARCH MODSEQ, STATUS
HIGHESTMODSEQ; bad modifiers BAD."""

import re

from obtest import new_user, place_message


def msg(n):
    return ("From: a@example.org\nSubject: m%d\n\nbody %d\n" % (n, n)).encode()


def modseq(line):
    return int(re.search(r"MODSEQ \((\d+)\)", line).group(1))


def highest(untagged):
    for line in untagged:
        m = re.search(r"\[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError("no HIGHESTMODSEQ in %r" % untagged)


def test_condstore(shared_imap):
    user = new_user(shared_imap)
    for i in range(3):
        place_message(shared_imap, user, msg(i))
    with shared_imap.imap(user) as c, shared_imap.imap(user) as other:
        caps = c.ok("CAPABILITY")[0].split()
        assert "CONDSTORE" in caps
        hm = highest(c.ok("SELECT INBOX (CONDSTORE)"))
        other.ok("SELECT INBOX")
        assert c.ok("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hm) == []
        out = c.ok("STORE 2 +FLAGS (\\Flagged)")
        assert re.fullmatch(r"\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)", out[0]), out
        m2 = modseq(out[0])
        assert m2 > hm
        assert c.ok("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hm) == [
            "* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ (%d))" % m2]
        assert c.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % m2) == []
        assert c.ok("FETCH 2 MODSEQ") == ["* 2 FETCH (MODSEQ (%d))" % m2]
        # conditional STORE: 2 changed after hm, so it is left alone
        untagged, tagged = c.cmd("STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % hm)
        assert re.match(r"t\d+ OK \[MODIFIED 2\]", tagged), tagged
        assert len(untagged) == 1 and untagged[0].startswith("* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (")
        m1 = modseq(untagged[0])
        assert m1 > m2
        assert c.ok("FETCH 2 FLAGS") == ["* 2 FETCH (FLAGS (\\Flagged \\Recent))"]
        _, tagged = c.cmd("UID STORE 1:3 (UNCHANGEDSINCE 0) FLAGS.SILENT ()")
        assert re.match(r"t\d+ OK \[MODIFIED 1:3\]|t\d+ OK \[MODIFIED 1,2,3\]", tagged), tagged
        untagged, _ = c.cmd("STORE 3 (UNCHANGEDSINCE %d) FLAGS.SILENT (\\Answered)" % m1)
        assert re.fullmatch(r"\* 3 FETCH \(MODSEQ \(\d+\)\)", untagged[0]), untagged
        m3 = modseq(untagged[0])
        # the modifier after the flag list, as imapflow sends it
        _, tagged = c.cmd("STORE 3 +FLAGS (\\Seen) (UNCHANGEDSINCE %d)" % m1)
        assert re.match(r"t\d+ OK \[MODIFIED 3\]", tagged), tagged
        # SEARCH MODSEQ, with and without an entry name
        assert c.ok("SEARCH MODSEQ %d" % m2) == ["* SEARCH 1 2 3 (MODSEQ %d)" % m3]
        assert c.ok('SEARCH MODSEQ "/flags/\\\\seen" all %d' % m1) == ["* SEARCH 1 3 (MODSEQ %d)" % m3]
        assert c.ok("UID SEARCH MODSEQ %d" % (m3 + 1)) == ["* SEARCH"]
        # another session's change comes with its MODSEQ
        out = other.ok("STORE 1 -FLAGS (\\Seen)")
        assert "MODSEQ" not in out[0]          # that session did not enable CONDSTORE
        untagged = c.ok("NOOP")
        assert len(untagged) == 1 and untagged[0].startswith("* 1 FETCH (FLAGS (\\Recent) MODSEQ (")
        m4 = modseq(untagged[0])
        assert m4 > m3
        c.ok("UNSELECT")
        st = c.ok("STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
        assert st == ['* STATUS "INBOX" (MESSAGES 3 HIGHESTMODSEQ %d)' % m4], st
        for bad in ("SELECT INBOX (FOO)", "SELECT INBOX CONDSTORE"):
            _, r = c.cmd(bad)
            assert " BAD " in r, (bad, r)
        c.ok("SELECT INBOX")
        for bad in ("STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)", "STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)",
                    "STORE 1 (UNCHANGEDSINCE 5)", "FETCH 1 FLAGS (CHANGEDSINCE)", "FETCH 1 FLAGS (CHANGEDSINCE -1)",
                    "FETCH 1 FLAGS (FOO 1)", "SEARCH MODSEQ", "SEARCH MODSEQ x", 'SEARCH MODSEQ "/flags/x" 5'):
            _, r = c.cmd(bad)
            assert " BAD " in r, (bad, r)


def test_enable_condstore(shared_imap):
    user = new_user(shared_imap)
    place_message(shared_imap, user, msg(1))
    with shared_imap.imap(user) as c:
        hm = highest(c.ok("SELECT INBOX"))
        out = c.ok("ENABLE CONDSTORE X-UNKNOWN")
        assert out == ["* ENABLED CONDSTORE", "* OK [HIGHESTMODSEQ %d] Highest" % hm], out
        assert c.ok("ENABLE CONDSTORE") == ["* ENABLED"]        # already on
        out = c.ok("FETCH 1 (BODY[])")  # \Seen set: FLAGS and MODSEQ reported
        assert re.search(r"FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)$", out[-1]), out
