"""IMAP folders: LIST/LSUB (INBOX and Maildir++ sub-folders, separator
"/", modified UTF-7, \\HasChildren/\\HasNoChildren, special-use flags on
the standard folders), CREATE, DELETE, RENAME (also of INBOX), SUBSCRIBE,
UNSUBSCRIBE, STATUS; SELECT/EXAMINE, CLOSE, UNSELECT, CHECK."""

import os
import re
import subprocess

from obtest import deliver, new_user

PW = "Pop3-pw-7#"


def listing(lines):
    """{name: set(attributes)} from untagged LIST/LSUB lines."""
    out = {}
    for ln in lines:
        m = re.match(r'\* (?:LIST|LSUB) \(([^)]*)\) "/" "?(.*?)"?$', ln)
        assert m, ln
        out[m.group(2)] = set(m.group(1).split())
    return out


def test_list_standard_folders(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        got = listing(c.ok('LIST "" "*"'))
        assert list(got) == ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]
        assert got["INBOX"] == {"\\HasNoChildren"}
        for name in ("Archive", "Drafts", "Junk", "Sent", "Trash"):
            assert got[name] == {"\\HasNoChildren", "\\" + name}, (name, got[name])
        assert c.ok('LIST "" ""') == ['* LIST (\\Noselect) "/" ""']
        assert listing(c.ok('LIST "" "inbox"')) == {"INBOX": {"\\HasNoChildren"}}
        assert set(listing(c.ok('LIST (SPECIAL-USE) "" "*"'))) == {"Archive", "Drafts", "Junk", "Sent", "Trash"}


def test_create_hierarchy_and_wildcards(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        c.ok('CREATE "Work/2024/Q1"')
        c.ok('CREATE "Dr. Who"')
        _, r = c.cmd('CREATE "Work"')
        assert "[ALREADYEXISTS]" in r, r
        got = listing(c.ok('LIST "" "*"'))
        assert got["Work"] == {"\\HasChildren"} and got["Work/2024"] == {"\\HasChildren"}
        assert got["Work/2024/Q1"] == {"\\HasNoChildren"} and "Dr. Who" in got
        assert set(listing(c.ok('LIST "" "%"'))) == {"INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash",
                                                     "Work", "Dr. Who"}
        assert set(listing(c.ok('LIST "Work/" "%"'))) == {"Work/2024"}
        assert set(listing(c.ok('LIST "" "Work/%/Q*"'))) == {"Work/2024/Q1"}
    md = shared_imap.maildir(user)
    assert os.path.isdir(os.path.join(md, ".Work.2024.Q1", "cur"))
    assert os.path.isdir(os.path.join(md, ".Dr\\2e Who", "cur"))


def test_mutf7_names(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        c.ok('CREATE "Entw&APw-rfe"')
        assert "Entw&APw-rfe" in listing(c.ok('LIST "" "*"'))
        for bad in ('"A&B"', '"&Jjo"', '"caf\xc3\xa9"'.encode("latin-1").decode("utf-8", "replace")):
            _, r = c.cmd("CREATE " + bad)
            assert " NO " in r or " BAD " in r, (bad, r)
        for bad in ('"a//b"', '"/a"', '"a*"', '"x%"'):
            _, r = c.cmd("CREATE " + bad)
            assert " NO [CANNOT]" in r, (bad, r)


def test_delete_and_rename(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        c.ok('CREATE "A/B"')
        _, r = c.cmd('DELETE "A"')
        assert "[INUSE]" in r, r
        c.ok('RENAME "A" "C"')
        got = listing(c.ok('LIST "" "*"'))
        assert "C/B" in got and "A" not in got and "A/B" not in got
        c.ok('DELETE "C/B"')
        c.ok('DELETE "C"')
        _, r = c.cmd('DELETE "C"')
        assert "[NONEXISTENT]" in r, r
        _, r = c.cmd('DELETE "INBOX"')
        assert " NO " in r, r
        _, r = c.cmd('RENAME "Sent" "Drafts"')
        assert "[ALREADYEXISTS]" in r, r


def test_rename_inbox_moves_messages(shared_imap):
    user = new_user(shared_imap)
    deliver(shared_imap, user, 2)
    with shared_imap.imap(user) as c:
        c.ok('RENAME "INBOX" "Old"')
        st = c.ok('STATUS "Old" (MESSAGES)')
        assert st == ['* STATUS "Old" (MESSAGES 2)'], st
        st = c.ok('STATUS "INBOX" (MESSAGES)')
        assert st == ['* STATUS "INBOX" (MESSAGES 0)'], st


def test_subscriptions(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        assert set(listing(c.ok('LSUB "" "*"'))) == {"INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"}
        c.ok('CREATE "News"')
        c.ok('SUBSCRIBE "News"')
        c.ok('UNSUBSCRIBE "Junk"')
        subs = set(listing(c.ok('LSUB "" "*"')))
        assert "News" in subs and "Junk" not in subs
        c.ok('CREATE "Gone"')
        c.ok('SUBSCRIBE "Gone"')
        c.ok('DELETE "Gone"')
        assert listing(c.ok('LSUB "" "G*"')) == {"Gone": {"\\Noselect"}}
        got = listing(c.ok('LIST "" "*" RETURN (SUBSCRIBED)'))
        assert "\\Subscribed" in got["News"] and "\\Subscribed" not in got["Junk"]
        assert set(listing(c.ok('LIST (SUBSCRIBED) "" "N*"'))) == {"News"}


def test_status(shared_imap):
    user = new_user(shared_imap)
    deliver(shared_imap, user, 3)
    with shared_imap.imap(user) as c:
        st = c.ok('STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT HIGHESTMODSEQ SIZE)')
        m = re.match(r'\* STATUS "INBOX" \(MESSAGES 3 UIDNEXT 4 UIDVALIDITY (\d+) UNSEEN 3 RECENT 3 '
                     r'HIGHESTMODSEQ (\d+) SIZE (\d+)\)$', st[0])
        assert m, st
        files = shared_imap.message_files(user)
        assert int(m.group(3)) == sum(os.path.getsize(f) + open(f, "rb").read().count(b"\n") for f in files)
        _, r = c.cmd('STATUS "Nope" (MESSAGES)')
        assert "[NONEXISTENT]" in r, r
        _, r = c.cmd('STATUS INBOX (BOGUS)')
        assert " BAD " in r, r


def test_select_examine_close_unselect(shared_imap):
    user = new_user(shared_imap)
    deliver(shared_imap, user, 2)
    with shared_imap.imap(user) as c:
        _, r = c.cmd("CLOSE")
        assert " BAD " in r and "No mailbox selected" in r, r
        untagged, r = c.cmd("EXAMINE INBOX")
        assert "OK [READ-ONLY]" in r
        assert "* 2 EXISTS" in untagged and "* 2 RECENT" in untagged
        assert "* OK [PERMANENTFLAGS ()] Flags permitted" in untagged
        untagged, r = c.cmd("SELECT INBOX")
        assert "OK [READ-WRITE]" in r, r
        assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)" in untagged
        assert "* 2 EXISTS" in untagged and "* 2 RECENT" in untagged
        assert "* OK [UNSEEN 1] First unseen" in untagged
        assert any(re.match(r"\* OK \[UIDVALIDITY \d+\]", x) for x in untagged)
        assert "* OK [UIDNEXT 3] Predicted next UID" in untagged
        c.ok("CHECK")
        c.ok("UNSELECT")
        _, r = c.cmd("CHECK")
        assert " BAD " in r
        untagged = c.ok("SELECT INBOX")
        assert "* 0 RECENT" in untagged       # the first SELECT took them
        c.ok("CLOSE")
        _, r = c.cmd('SELECT "Nope"')
        assert "[NONEXISTENT]" in r, r
    with shared_imap.imap(user) as c:
        assert "* 0 RECENT" in c.ok("SELECT INBOX")


def test_imaplib_folders(shared_imap):
    user = new_user(shared_imap)
    deliver(shared_imap, user, 1)
    c = shared_imap.imaplib(tls="imaps")
    c.login(user, PW)
    typ, data = c.list()
    assert typ == "OK" and any(b'"Sent"' in d for d in data)
    assert c.create("Projects/Alpha")[0] == "OK"
    assert c.select("Projects/Alpha")[0] == "OK"
    typ, data = c.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    typ, data = c.status("INBOX", "(MESSAGES UNSEEN)")
    assert data == [b'"INBOX" (MESSAGES 1 UNSEEN 1)']
    c.close()
    c.logout()


def test_curl_list(shared_imap):
    user = new_user(shared_imap)
    host, port = shared_imap.addr("imap")
    p = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", "--max-time", "15",
                        "imap://%s:%d/" % (host, port), "-u", "%s:%s" % (user, PW)],
                       capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert b'* LIST (\\HasNoChildren \\Sent) "/" "Sent"' in p.stdout, p.stdout


def test_outlook_and_apple_names_land_in_standard_folders(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        _, r = c.cmd('CREATE "Sent Items"')
        assert "[ALREADYEXISTS]" in r, r
        m = b"Subject: x\r\n\r\nbody\r\n"
        c.send(b'a APPEND "Deleted Items" {%d+}\r\n' % len(m) + m + b"\r\n")
        _, r = c.tagged("a")
        assert " OK " in r, r
        assert c.ok('STATUS "Deleted Messages" (MESSAGES)') == ['* STATUS "Deleted Messages" (MESSAGES 1)']
        assert c.ok('STATUS "Trash" (MESSAGES)') == ['* STATUS "Trash" (MESSAGES 1)']
        c.ok('SELECT "Junk Email"')
        c.ok('SELECT "INBOX"')
        got = listing(c.ok('LIST "" "*"'))
        assert "Sent Items" not in got and "Deleted Items" not in got and "Junk Email" not in got
    # a folder of that very name made before keeps its own
    user = new_user(shared_imap)
    md = shared_imap.maildir(user)
    with shared_imap.imap(user) as c:
        pass
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, ".Sent Items", sub))
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam(shared_imap.user)
        for root, dirs, _ in os.walk(os.path.join(md, ".Sent Items")):
            os.chown(root, pw.pw_uid, pw.pw_gid)
    with shared_imap.imap(user) as c:
        assert "Sent Items" in listing(c.ok('LIST "" "*"'))
        c.ok('SELECT "Sent Items"')


def test_parallel_first_logins(shared_imap):
    """A mail program's first start opens several connections at once:
    every one of those first logins gets the mailbox, none gets NO
    [UNAVAILABLE] from the standard folders being made by another (the
    subscriptions file was written through one shared temporary name)."""
    import threading
    errors = []

    def login(user):
        try:
            c = shared_imap.imap(user)
            c.ok('LIST "" "*"')
            c.close()
        except Exception as e:      # noqa: BLE001 - reported below
            errors.append(repr(e))
    for _round in range(3):
        user = new_user(shared_imap)
        threads = [threading.Thread(target=login, args=(user,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        with shared_imap.imap(user) as c:
            subs = listing(c.ok('LSUB "" "*"'))
            assert set(subs) == {"INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"}, subs
        md = shared_imap.maildir(user)
        assert [f for f in os.listdir(md) if f.startswith("subscriptions.")] == []
