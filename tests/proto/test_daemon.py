"""The daemon: config errors, processes and privileges, supervision, signals,
listeners on two addresses, changes through the CLI without a restart."""

import os
import pwd
import signal
import socket
import subprocess
import time

import pytest

from conftest import ALICE, ALICE_PW, BOB, populate
from obtest import (IS_ROOT, ONEBOXD, SMTPClosed, SMTPRaw, make_message, proc_info,
                    wait_pids_gone)


# ---- config file errors ----

@pytest.mark.parametrize("line,key", [
    ("smtp_listen = 127.0.0.1:notaport", "smtp_listen"),
    ("smtp_listen = 127.0.0.1:70000", "smtp_listen"),
    ("log_level = chatty", "log_level"),
    ("no_such_key = 1", "no_such_key"),
    ("log_syslog = maybe", "log_syslog"),
])
def test_config_error_names_file_line_key(tmp_path, line, key):
    conf = tmp_path / "bad.conf"
    conf.write_text("# a comment\nhostname = mail.onebox.test\n\n%s\n" % line)
    p = subprocess.run([ONEBOXD, "-c", str(conf)], capture_output=True, text=True, timeout=20)
    assert p.returncode != 0, "bad config accepted: %r" % line
    want = "%s:4: %s: " % (conf, key)
    assert want in p.stderr, "stderr should contain %r:\n%s" % (want, p.stderr)


def test_config_missing_file(tmp_path):
    p = subprocess.run([ONEBOXD, "-c", str(tmp_path / "nope.conf")], capture_output=True,
                       text=True, timeout=20)
    assert p.returncode != 0 and "nope.conf" in p.stderr, p.stderr


# ---- processes ----

def classify(ob):
    out = {}
    for pid in ob.pids():
        info = proc_info(pid)
        if not info:
            continue
        comm, cmdline, uid = info
        if pid == ob.proc.pid:
            out.setdefault("master", []).append((pid, uid))
            continue
        for name in ("smtpd", "authd", "pamd", "pop3d"):
            if name in comm or name in cmdline:
                out.setdefault(name, []).append((pid, uid))
                break
        else:
            out.setdefault("other", []).append((pid, uid, comm, cmdline))
    return out


def wait_service(ob, name, exclude=(), timeout=3):
    deadline = time.monotonic() + timeout
    while True:
        procs = [p for p, _ in classify(ob).get(name, []) if p not in exclude]
        if procs:
            return procs
        if time.monotonic() > deadline:
            raise AssertionError("no %s process (besides %s) after %ss: %s" % (
                name, exclude, timeout, classify(ob)))
        time.sleep(0.05)


def test_processes_and_privileges(shared):
    procs = classify(shared)
    assert "smtpd" in procs, "no process named smtpd (comm or cmdline): %s" % procs
    assert "authd" in procs, "no process named authd (comm or cmdline): %s" % procs
    if IS_ROOT:
        svc_uid = pwd.getpwnam(shared.user).pw_uid
        assert procs["master"][0][1] == 0
        for pid, uid in procs["smtpd"]:
            assert uid == svc_uid, "smtpd pid %d runs as uid %s, not %s" % (pid, uid, shared.user)
        for pid, uid in procs["authd"]:
            assert uid == svc_uid, "authd runs as uid %s, not %s" % (uid, shared.user)
        assert "pamd" in procs, "no pamd process: %s" % procs
        for pid, uid in procs["pamd"]:
            assert uid == 0, "pamd runs as uid %s (PAM needs root)" % uid


@pytest.mark.parametrize("victim", ["smtpd", "authd", "pamd"])
def test_child_restarted(onebox, victim):
    old = wait_service(onebox, victim)
    master = onebox.proc.pid
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    new = wait_service(onebox, victim, exclude=old, timeout=3)
    took = time.monotonic() - t0
    assert took < 2.0, "%s restarted only after %.1fs" % (victim, took)
    assert onebox.running() and onebox.proc.pid == master, "master died"
    time.sleep(0.2)
    r, _ = onebox.send("a@example.org", ALICE)
    assert r.code == 250
    with onebox.submit_session(ALICE, ALICE_PW, "submissions") as c:
        assert c.cmd("MAIL FROM:<%s>" % ALICE).code == 250
    assert new



@pytest.mark.skipif(not IS_ROOT, reason="the bug needs a privilege drop (root)")
def test_services_die_with_killed_master(onebox_factory):
    """kill -9 of the master takes every service with it (PR_SET_PDEATHSIG
    must be armed after the privilege drop, which clears it), so a new
    oneboxd can bind the same ports at once."""
    ob = onebox_factory.make(listeners={r: ["127.0.0.1:0"] for r in
                                        ("smtp", "submission", "submissions", "pop3", "pop3s")})
    populate(ob)
    wait_service(ob, "smtpd")
    wait_service(ob, "pop3d")
    wait_service(ob, "authd")
    children = ob.child_pids()
    assert children
    os.kill(ob.proc.pid, signal.SIGKILL)
    ob.proc.wait(10)
    left = wait_pids_gone(children, 5)
    assert not left, "services outlived the master: %s" % [proc_info(p) for p in left]
    ob.start()
    r, _ = ob.send("a@example.org", ALICE)
    assert r.code == 250

def test_sigterm_clean_exit(onebox):
    pids = onebox.pids()
    rc = onebox.stop()
    assert rc == 0
    assert not wait_pids_gone(pids, 2)
    with pytest.raises(OSError):
        socket.create_connection(onebox.addr("smtp"), timeout=2)
    onebox.start()                      # and it starts again on the same data dir
    r, _ = onebox.send("a@example.org", ALICE)
    assert r.code == 250


# ---- SIGTERM during transactions ----

def test_sigterm_during_transactions(onebox):
    in_data = onebox.raw()
    in_data.ehlo()
    assert in_data.cmd("MAIL FROM:<a@example.org>").code == 250
    assert in_data.cmd("RCPT TO:<%s>" % ALICE).code == 250
    assert in_data.cmd("DATA").code == 354
    in_data.send(make_message(to=ALICE, subject="in flight", msgid="<inflight@test>") + "\r\n")
    idle = onebox.raw()
    idle.ehlo()
    in_mail = onebox.raw()
    in_mail.ehlo()
    assert in_mail.cmd("MAIL FROM:<a@example.org>").code == 250
    time.sleep(0.2)
    onebox.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    final = None
    try:
        in_data.send(b"last line\r\n.\r\n")
        final = in_data.reply(timeout=15)
    except (SMTPClosed, OSError):
        final = None
    assert final is None or final.code in (250, 421), "in-DATA session got %s" % final
    for name, c in (("idle", idle), ("in MAIL", in_mail)):
        try:
            r = c.reply(timeout=15)
            assert r.code == 421 and r.enhanced == "4.3.2", "%s session got %s" % (name, r)
        except SMTPClosed:
            raise AssertionError("%s session closed without a 421 4.3.2" % name)
    rc = onebox.proc.wait(30)
    assert rc == 0, "exit status %s after SIGTERM" % rc
    msgs = onebox.messages(ALICE)
    if final is not None and final.code == 250:
        assert len(msgs) == 1 and b"<inflight@test>" in msgs[0], "250'd message lost on SIGTERM"
    else:
        assert msgs == [], "message delivered although not acknowledged"
    for c in (in_data, idle, in_mail):
        c.close()


# ---- listeners ----

def refused(host, port):
    try:
        s = socket.create_connection((host, port), timeout=2)
    except OSError:
        return True
    s.close()
    return False


def test_two_listeners_public_private(onebox_factory):
    """smtp only on 127.0.0.1 (the 'public' card), submission only on 127.0.0.2 ('private')."""
    ob = onebox_factory.make(listeners={"smtp": ["127.0.0.1:0"],
                                        "submission": ["127.0.0.2:0"]})
    populate(ob)
    (h1, p1), (h2, p2) = ob.addr("smtp"), ob.addr("submission")
    assert refused("127.0.0.2", p1), "smtp port answers on 127.0.0.2"
    assert refused("127.0.0.1", p2), "submission port answers on 127.0.0.1"
    with SMTPRaw(h1, p1) as c:
        assert "AUTH" not in c.ehlo().text
    with SMTPRaw(h2, p2) as c:
        c.ehlo()
        c.starttls()
        assert "AUTH" in c.ehlo().text
        assert c.auth_plain(ALICE, ALICE_PW).code == 235


def test_several_addresses_one_service(onebox_factory):
    listeners = {"smtp": ["127.0.0.1:0", "127.0.0.2:0"]}
    if socket.has_ipv6:
        try:
            s = socket.socket(socket.AF_INET6)
            s.bind(("::1", 0))
            s.close()
            listeners["smtp"].append("[::1]:0")
        except OSError:
            pass
    ob = onebox_factory.make(listeners=listeners)
    populate(ob)
    for host, port in ob.listeners["smtp"]:
        with SMTPRaw(host, port) as c:
            c.ehlo()
            assert c.cmd("MAIL FROM:<a@example.org>").code == 250
            assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
            assert c.data(make_message(to=BOB)).code == 250
    msgs = ob.messages(BOB)
    assert len(msgs) == len(ob.listeners["smtp"])
    if any(h == "::1" for h, _ in ob.listeners["smtp"]):
        # RFC 5321 4.1.3: the client's IPv6 address as a literal [IPv6:...]
        assert any(b"([IPv6:::1])" in m for m in msgs), [m[:300] for m in msgs]


def occupied_port():
    """A loopback port held by another program's listening socket."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def test_web_port_taken_mail_runs(onebox_factory):
    """Another web server holds the https port: the mail services run, the log names the key."""
    holder, port = occupied_port()
    try:
        ob = onebox_factory.make(start=False, listeners={
            "smtp": ["127.0.0.1:0"], "imap": ["127.0.0.1:0"], "https": ["127.0.0.1:%d" % port]})
        del ob.listeners["https"]   # not ours: wait_ready must not probe it
        ob.start()
        populate(ob)
        ob.wait_log(r"https_listen 127\.0\.0\.1:%d: address in use; the admin page is off" % port)
        with SMTPRaw(*ob.addr("smtp")) as c:
            c.ehlo()
            assert c.cmd("MAIL FROM:<a@example.org>").code == 250
            assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
            assert c.data(make_message(to=BOB)).code == 250
        c = ob.imap(ALICE, ALICE_PW)
        c.close()
        assert ob.running()
    finally:
        holder.close()


def test_mail_port_taken_refuses_to_start(onebox_factory):
    """An MX that cannot bind its SMTP port says so and stops."""
    holder, port = occupied_port()
    try:
        ob = onebox_factory.make(start=False, listeners={"smtp": ["127.0.0.1:%d" % port]})
        ob.start(wait=False)
        assert ob.proc.wait(timeout=10) != 0
        ob.wait_log(r"smtp_listen: cannot listen on 127\.0\.0\.1:%d" % port)
    finally:
        holder.close()


# ---- CLI changes seen by the running daemon ----

def test_cli_change_without_restart(onebox):
    master, children = onebox.proc.pid, set(onebox.child_pids())
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        r = c.cmd("RCPT TO:<dave@local.test>")
        assert r.code == 550, r
        onebox.add_user("dave@local.test", "dave-pw")
        r = c.cmd("RCPT TO:<dave@local.test>")
        assert r.code == 250, "new user not seen in the same session: %s" % r
        assert c.data(make_message(to="dave@local.test")).code == 250
    assert len(onebox.messages("dave@local.test")) == 1
    onebox.set("max_recipients", "2")
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        assert c.cmd("RCPT TO:<%s>" % ALICE).code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        r = c.cmd("RCPT TO:<dave@local.test>")
        assert r.code == 452, "max_recipients=2 not applied at once: %s" % r
    onebox.cli("domain", "add", "other.test")
    onebox.add_user("eve@other.test", "eve-pw")
    assert onebox.send("a@example.org", "eve@other.test")[0].code == 250
    onebox.cli("user", "del", "eve@other.test")
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        assert c.cmd("RCPT TO:<eve@other.test>").code == 550
    assert onebox.proc.pid == master and set(onebox.child_pids()) == children, \
        "processes were restarted to pick up a DB change"


def test_passwd_change_at_once(onebox):
    onebox.cli("user", "passwd", ALICE, input="new-secret\n")
    with onebox.raw("submissions") as c:
        c.ehlo()
        assert c.auth_plain(ALICE, ALICE_PW).code == 535, "old password still works"
    with onebox.raw("submissions") as c:
        c.ehlo()
        assert c.auth_plain(ALICE, "new-secret").code == 235


def test_disabled_user_cannot_login(onebox):
    onebox.cli("user", "disable", ALICE)
    with onebox.raw("submissions") as c:
        c.ehlo()
        assert c.auth_plain(ALICE, ALICE_PW).code == 535


# ---- PAM ----

def status_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError("no Uid: line for %d" % pid)


@pytest.mark.skipif(not IS_ROOT, reason="needs the privilege drop (root)")
def test_authd_unprivileged_pamd_has_no_db(shared):
    """Root never reads what the service user writes: authd (which opens
    the DB) runs as the service user; pamd (root) has no DB file open."""
    svc_uid = pwd.getpwnam(shared.user).pw_uid
    for pid in wait_service(shared, "authd"):
        assert status_uid(pid) == [svc_uid] * 4, "authd %d: Uid %s" % (pid, status_uid(pid))
    pamd = wait_service(shared, "pamd")
    # make authd open the DB (a login), then look at pamd's descriptors
    with shared.raw("submissions") as c:
        c.ehlo()
        assert c.auth_plain(ALICE, ALICE_PW).code == 235
    for pid in pamd:
        assert status_uid(pid)[1] == 0
        fds = os.listdir("/proc/%d/fd" % pid)
        targets = [os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in fds]
        assert not [t for t in targets if shared.data_dir in t or ".db" in t], \
            "pamd %d has files open: %s" % (pid, targets)
        sockets = [t for t in targets if t.startswith("socket:")]
        assert len(sockets) == 1, "pamd should hold only its end of the pair: %s" % targets


def unix_user(name, password):
    subprocess.run(["userdel", name], capture_output=True)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    subprocess.run(["chpasswd"], input="%s:%s\n" % (name, password), text=True, check=True)
    return pwd.getpwnam(name).pw_uid


@pytest.mark.skipif(not IS_ROOT, reason="creating a Unix account needs root")
def test_pam_uid_below_first_valid_uid(onebox):
    """A Unix account below first_valid_uid cannot log in, even with the right
    password (pamd refuses it before PAM); `onebox user add` refuses it too."""
    name = "obu%d" % (os.getpid() % 100000)
    password = "Unix-pw-%d" % os.getpid()
    uid = unix_user(name, password)
    try:
        onebox.cli("domain", "add", "sys.test", "--system")
        addr = "%s@sys.test" % name
        onebox.cli("user", "add", addr, input="")
        with onebox.raw("submissions") as c:
            c.ehlo()
            assert c.auth_plain(addr, password).code == 235, "PAM login with the default first_valid_uid"
        # raise first_valid_uid above the account's uid: pamd is replaced on SIGHUP
        onebox.conf_extra["first_valid_uid"] = str(uid + 1)
        onebox.write_conf()
        start = len(onebox.log())
        onebox.reload()
        onebox.wait_log(r"pamd ready, first_valid_uid=%d" % (uid + 1), start=start)
        with onebox.raw("submissions") as c:
            c.ehlo()
            r = c.auth_plain(addr, password)
            assert r.code == 535, "uid %d < first_valid_uid %d must not log in: %s" % (uid, uid + 1, r)
        onebox.wait_log(r"pam login=<%s> .*refused: its uid is below first_valid_uid" % name)
        p = onebox.cli("user", "add", "other%s@sys.test" % name, input="", check=False)
        assert p.returncode == 1 and "no such Unix account" in p.stderr, p.stderr
        p = onebox.cli("user", "add", "root@sys.test", input="", check=False)
        assert p.returncode == 1 and "uid 0" in p.stderr, p.stderr
        onebox.cli("user", "del", addr)
        p = onebox.cli("user", "add", addr, input="", check=False)
        assert p.returncode == 1 and "below first_valid_uid" in p.stderr, p.stderr
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.mark.skipif(not IS_ROOT, reason="creating a Unix account needs root")
def test_pam_system_user(onebox):
    name = "obt%d" % (os.getpid() % 100000)
    password = "Unix-pw-%d" % os.getpid()
    unix_user(name, password)
    try:
        onebox.cli("domain", "add", "sys.test", "--system")
        addr = "%s@sys.test" % name
        with onebox.raw() as c:
            c.ehlo()
            c.cmd("MAIL FROM:<a@example.org>")
            if c.cmd("RCPT TO:<%s>" % addr).code != 250:
                onebox.cli("user", "add", addr, "--system-user", input="")  # mailbox record, no DB password
        with onebox.raw("submissions") as c:
            c.ehlo()
            r = c.auth_plain(addr, "wrong")
            assert r.code == 535, "PAM: wrong password -> %s" % r
        with onebox.raw("submissions") as c:
            c.ehlo()
            r = c.auth_plain(addr, password)
            assert r.code == 235, "PAM login of %s failed: %s\n(is /etc/pam.d/onebox installed?)" % (addr, r)
            assert c.cmd("MAIL FROM:<%s>" % addr).code == 250
            assert c.cmd("RCPT TO:<%s>" % addr).code == 250
            assert c.data(make_message(addr, addr)).code == 250
        assert len(onebox.messages(addr)) == 1
        st = os.stat(onebox.maildir(addr))
        assert st.st_uid == pwd.getpwnam(onebox.user).pw_uid, \
            "PAM user's mailbox must belong to the one storage user"
    finally:
        subprocess.run(["userdel", name], capture_output=True)


# ---- CLI exit codes ----

@pytest.mark.parametrize("args,rc", [
    (["domain", "add", "local.test"], 1),                 # duplicate
    (["user", "add", "x@unknown.test"], 1),               # unknown domain
    (["user", "add", "not-an-address"], 1),
    (["user", "add", ALICE], 1),                          # duplicate
    (["user", "del", "ghost@local.test"], 1),
    (["set", "max_recipients", "many"], 1),
    (["set", "no_such_setting", "1"], 1),
    (["set", "smtp_idle_timeout", "1"], 1),               # below its minimum (5)
    ([], 2),
    (["frobnicate"], 2),
    (["user"], 2),
])
def test_cli_errors(shared, args, rc):
    p = shared.cli(*args, input="pw\n", check=False)
    assert p.returncode == rc, "%s -> %d (want %d): %s" % (args, p.returncode, rc, p.stderr)
    assert p.stderr.strip(), "no message on stderr for %s" % args
    if rc == 1:
        assert len(p.stderr.strip().splitlines()) == 1, "want one clear line: %r" % p.stderr


def test_cli_lists_and_settings(shared):
    assert "local.test" in shared.cli("domain", "list").stdout
    out = shared.cli("user", "list").stdout
    assert ALICE in out and BOB in out, out
    assert shared.cli("get", "auth_fail_delay_ms").stdout.strip().endswith("0")
    settings = shared.cli("settings").stdout
    for key in ("max_message_size", "max_recipients", "smtp_max_connections", "trusted_networks",
                "auth_fail_delay_ms", "auth_max_failures", "auth_throttle_seconds"):
        assert key in settings, "%s missing from `onebox settings`" % key


def test_cli_domain_del_with_users_refused(shared):
    p = shared.cli("domain", "del", "local.test", check=False)
    assert p.returncode == 1, p
    assert "local.test" in shared.cli("domain", "list").stdout


# ---- the data directory: nothing the service user can plant makes root follow it ----

@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_data_dir_layout_and_planted_symlink_refused(onebox):
    import stat as st_
    data = onebox.data_dir
    pw = pwd.getpwnam(onebox.user)
    owner = {d: os.stat(os.path.join(data, d)).st_uid for d in ("", "db", "mail", "queue", "tls", "run")}
    assert owner[""] == 0 and owner["tls"] == 0 and owner["run"] == 0, owner
    assert owner["db"] == owner["mail"] == owner["queue"] == pw.pw_uid, owner
    assert not os.stat(data).st_mode & st_.S_IWOTH and not os.stat(data).st_mode & st_.S_IWGRP
    db_files = [f for f in os.listdir(os.path.join(data, "db")) if f.startswith("onebox.db")]
    assert db_files and all(os.stat(os.path.join(data, "db", f)).st_uid == pw.pw_uid for f in db_files)

    # A compromised service could only do this to a directory it owns; if it
    # could (old layout), the master must refuse rather than chown the target.
    onebox.stop()
    victim = os.path.join(onebox.dir, "victim")
    os.mkdir(victim, 0o700)
    os.rename(os.path.join(data, "queue"), os.path.join(data, "queue.old"))
    os.symlink(victim, os.path.join(data, "queue"))
    p = subprocess.run([ONEBOXD, "-c", onebox.conf_path], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "symlink is refused" in p.stderr, p.stderr
    assert os.stat(victim).st_uid == 0 and (os.stat(victim).st_mode & 0o777) == 0o700
    os.unlink(os.path.join(data, "queue"))
    os.rename(os.path.join(data, "queue.old"), os.path.join(data, "queue"))
