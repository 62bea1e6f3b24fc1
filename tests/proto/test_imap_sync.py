"""IMAP: changes by delivery and by other sessions reported as untagged
EXISTS/RECENT, FETCH FLAGS and EXPUNGE (never an EXPUNGE during FETCH,
STORE or SEARCH), and IDLE."""

import time

from obtest import deliver, new_user, place_message

MSG = b"Subject: s\n\nbody\n"


def test_delivery_during_session(shared_imap):
    user = new_user(shared_imap)
    place_message(shared_imap, user, MSG)
    with shared_imap.imap(user) as c:
        c.ok("SELECT INBOX")
        deliver(shared_imap, user, 2)
        untagged = c.ok("NOOP")
        assert untagged == ["* 3 EXISTS", "* 3 RECENT"], untagged    # the first one is ours too
        assert c.ok("NOOP") == []
        assert c.ok("FETCH 3 UID") == ["* 3 FETCH (UID 3)"]


def test_two_sessions_see_each_other(shared_imap):
    user = new_user(shared_imap)
    for _ in range(3):
        place_message(shared_imap, user, MSG)
    a, b = shared_imap.imap(user), shared_imap.imap(user)
    with a, b:
        a.ok("SELECT INBOX")
        b.ok("SELECT INBOX")
        a.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
        assert b.ok("NOOP") == ["* 2 FETCH (FLAGS (\\Seen))"]
        a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        a.ok("EXPUNGE")
        # no EXPUNGE before a FETCH or SEARCH: numbers stay as b knows them
        untagged = b.ok("FETCH 3 UID")
        assert untagged == ["* 3 FETCH (UID 3)"], untagged
        assert b.ok("SEARCH ALL") == ["* SEARCH 1 2 3"]
        assert b.ok("NOOP") == ["* 1 EXPUNGE"]
        assert b.ok("FETCH 1:* UID") == ["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)"]


def test_idle_sees_delivery_and_expunge(shared_imap):
    user = new_user(shared_imap)
    place_message(shared_imap, user, MSG)
    with shared_imap.imap(user) as c, shared_imap.imap(user) as other:
        c.ok("SELECT INBOX")
        c.send_line("i IDLE")
        assert c.read_line() == "+ idling"
        t0 = time.monotonic()
        deliver(shared_imap, user, 1)
        assert c.read_line(timeout=5) == "* 2 EXISTS"
        assert c.read_line(timeout=5) == "* 2 RECENT"
        assert time.monotonic() - t0 < 3
        other.ok("SELECT INBOX")
        other.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        other.ok("EXPUNGE")
        assert c.read_line(timeout=5) == "* 1 EXPUNGE"
        c.send_line("DONE")
        assert c.read_line() == "i OK IDLE terminated"
        c.ok("NOOP")
        c.send_line("j IDLE")
        c.read_line()
        c.send_line("NOPE")
        assert c.read_line().startswith("j BAD")


def test_imaplib_idle_capability(shared_imap):
    user = new_user(shared_imap)
    c = shared_imap.imaplib()
    c.login(user, "Pop3-pw-7#")
    caps = c.capability()[1][0].split()
    assert b"IDLE" in caps and b"MOVE" in caps
    c.logout()
