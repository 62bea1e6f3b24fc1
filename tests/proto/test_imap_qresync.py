"""IMAP QRESYNC (RFC 7162 §3.2): ENABLE QRESYNC, SELECT (QRESYNC (uidvalidity
modseq [known-uids])) with VANISHED (EARLIER) and the flag changes since,
UID FETCH (CHANGEDSINCE m VANISHED), VANISHED instead of EXPUNGE (own
expunges and other sessions'), UID in unsolicited FETCH, [CLOSED]; bad
parameters BAD."""

import re

from obtest import new_user, place_message


def msg(n):
    return ("From: a@example.org\nSubject: m%d\n\nbody %d\n" % (n, n)).encode()


def select_info(untagged):
    uv = int(next(re.search(r"UIDVALIDITY (\d+)", l).group(1) for l in untagged if "UIDVALIDITY" in l))
    hm = int(next(re.search(r"HIGHESTMODSEQ (\d+)", l).group(1) for l in untagged if "HIGHESTMODSEQ" in l))
    return uv, hm


def test_qresync(shared_imap):
    user = new_user(shared_imap)
    for i in range(5):
        place_message(shared_imap, user, msg(i))
    with shared_imap.imap(user) as a, shared_imap.imap(user) as b:
        assert "QRESYNC" in a.ok("CAPABILITY")[0].split()
        _, r = a.cmd("SELECT INBOX (QRESYNC (1 1))")
        assert " BAD " in r and "ENABLE QRESYNC" in r, r
        assert a.ok("ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        uv, hm0 = select_info(a.ok("SELECT INBOX"))
        b.ok("SELECT INBOX")
        b.ok("STORE 2 +FLAGS (\\Seen)")
        b.ok("STORE 4 +FLAGS (\\Deleted)")
        assert b.ok("EXPUNGE") == ["* 4 EXPUNGE"]        # b did not enable QRESYNC
        untagged = sorted(a.ok("NOOP"))
        assert len(untagged) == 2 and untagged[1] == "* VANISHED 4", untagged
        assert re.fullmatch(r"\* 2 FETCH \(UID 2 FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)", untagged[0]), untagged

    with shared_imap.imap(user) as c:
        c.ok("ENABLE QRESYNC")
        out = c.ok("SELECT INBOX (QRESYNC (%d %d))" % (uv, hm0))
        assert "* VANISHED (EARLIER) 4" in out, out
        fetches = [l for l in out if " FETCH " in l]
        assert len(fetches) == 1 and re.fullmatch(r"\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)",
                                                  fetches[0]), out
        assert out.index("* VANISHED (EARLIER) 4") > out.index(next(l for l in out if "HIGHESTMODSEQ" in l))
        # known UIDs limit both
        out = c.ok("SELECT INBOX (QRESYNC (%d %d 1,3))" % (uv, hm0))
        assert out[0] == "* OK [CLOSED] Previous mailbox closed"
        assert not any("VANISHED" in l or " FETCH " in l for l in out), out
        out = c.ok("SELECT INBOX (QRESYNC (%d %d 1:5 (1,2 1,2)))" % (uv, hm0))
        assert "* VANISHED (EARLIER) 4" in out
        # another UIDVALIDITY: the client's cache is worthless, nothing is resynced
        out = c.ok("SELECT INBOX (QRESYNC (%d %d))" % (uv + 1, hm0))
        assert not any("VANISHED" in l or " FETCH " in l for l in out), out
        out = c.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hm0)
        assert out[0] == "* VANISHED (EARLIER) 4" and len(out) == 2, out
        assert re.fullmatch(r"\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)", out[1]), out
        assert c.ok("UID FETCH 5 (FLAGS) (VANISHED CHANGEDSINCE %d)" % hm0) == []
        out = c.ok("STORE 1 +FLAGS (\\Deleted)")   # a flag change names its UID
        assert re.fullmatch(r"\* 1 FETCH \(UID 1 FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)", out[0]), out
        assert c.ok("EXPUNGE") == ["* VANISHED 1"]
        for bad in ("FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", "UID FETCH 1:* FLAGS (VANISHED)",
                    "UID FETCH 1:* FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)", "SELECT INBOX (QRESYNC (0 1))",
                    "SELECT INBOX (QRESYNC (1))", "SELECT INBOX (QRESYNC (1 x))", "SELECT INBOX (QRESYNC)",
                    "SELECT INBOX (QRESYNC (1 2 0:x))"):
            _, r = c.cmd(bad)
            assert " BAD " in r, (bad, r)
