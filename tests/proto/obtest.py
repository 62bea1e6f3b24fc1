"""obtest - the protocol-test harness: one real onebox instance per object.

An `Onebox` owns a temporary directory (config file, data dir, log), starts
`oneboxd -c onebox.conf` in the foreground from $ONEBOX_BUILD (default
<repo>/build), runs the `onebox` CLI against the same config, and knows its
listeners.  Everything it starts is stopped in `close()`, also when a test
fails.  Nothing here touches the network beyond loopback: the config points
dns_servers at a dead loopback port unless a test passes its own.

Also here: `LineClient`, a line-level client with timeouts everywhere, and
on it `SMTPRaw` and `POP3Raw` for tests that need exact control
(pipelining, long lines, half-sent DATA, exact bytes of RETR); helpers to
build messages and TLS contexts, make users and put mail in their Maildirs.
"""

import base64
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("ONEBOX_BUILD") or os.path.join(REPO, "build"))
ONEBOXD = os.path.join(BUILD, "oneboxd")
ONEBOX = os.path.join(BUILD, "onebox")
TEST_BASE = os.environ.get("ONEBOX_TEST_BASE", "/tmp/onebox-tests")
HOSTNAME = "mail.onebox.test"
IS_ROOT = os.geteuid() == 0
DEAD_DNS = "127.0.0.1:9"        # discard port: nothing answers DNS there

# Roles that speak SMTP in clear text first, and the implicit-TLS ones.
PLAIN_SMTP_ROLES = ("smtp", "submission")
TLS_SMTP_ROLES = ("submissions",)
ALL_ROLES = ("smtp", "submission", "submissions", "imap", "imaps",
             "pop3", "pop3s", "http", "https")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "ERROR: UndefinedBehaviorSanitizer")


def service_user():
    """The unprivileged user the services run as in tests."""
    if IS_ROOT:
        try:
            pwd.getpwnam("onebox")
            return "onebox"
        except KeyError:
            return "nobody"
    return pwd.getpwuid(os.getuid()).pw_name


_used_ports = set()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host="127.0.0.1"):
    """A free port OUTSIDE the ephemeral range: a client's connect() can then
    never pick it as its own source port (which, while the daemon is down
    between a kill and a restart, could make a self-connected socket that
    holds the port and stops the restarted daemon from binding it)."""
    import random
    lo, hi = _ephemeral_range()
    candidates = (range(10000, lo) if lo - 10000 > 2000 else range(hi + 1, 65535))
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        port = random.choice(candidates)
        if port in _used_ports:
            continue
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port found outside the ephemeral range")


def fmt_addr(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def client_tls_context(minimum=None, maximum=None):
    """TLS client context for the self-signed certificate (no verification)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


def make_message(sender="sender@example.org", to="alice@local.test", subject="test",
                 body="Hello.\n", msgid=None, extra_headers=()):
    """A small RFC 5322 message as str with CRLF line ends."""
    msgid = msgid or "<%s@test.onebox>" % secrets.token_hex(8)
    lines = ["From: <%s>" % sender, "To: <%s>" % to, "Subject: %s" % subject,
             "Message-ID: %s" % msgid, "Date: Mon, 01 Jan 2024 00:00:00 +0000"]
    lines += list(extra_headers)
    text = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
    return text


QUEUED_RE = re.compile(r"queued as (\S+)")


class Reply:
    def __init__(self, code, lines):
        self.code = code
        self.lines = lines

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def enhanced(self):
        """The enhanced status code (e.g. '5.1.1') of the first line, or None."""
        if not self.lines:
            return None
        m = re.match(r"\d\d\d[ -](\d\.\d{1,3}\.\d{1,3})\b", self.lines[0])
        return m.group(1) if m else None

    def __repr__(self):
        return "Reply(%r)" % self.lines

    def __str__(self):
        return self.text


class Closed(Exception):
    """The server closed the connection while a reply was awaited."""


class SMTPClosed(Closed):
    pass


class POP3Closed(Closed):
    pass


class LineClient:
    """A line-level client over TCP, plain or implicit TLS; every read has a
    timeout so that no test hangs.  The base of SMTPRaw and POP3Raw (and of
    an IMAP client: send_line for tagged commands, read_bytes for literals).

    Lines end at EOL (LF here, a lone CR LF in subclasses that want bare LF
    kept inside a line); read_line drops the EOL and, for LF, one CR before
    it.  Bytes read past a line stay in self.buf for the next read."""

    EOL = b"\n"
    closed_exc = Closed

    def __init__(self, host, port, timeout=10, tls=False, source=None):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""
        if tls:
            self.wrap_tls()

    # ---- TLS ----
    def wrap_tls(self, ctx=None):
        """TLS handshake on the connection now (implicit TLS, or after the
        server agreed to STARTTLS); no plaintext may be left unread."""
        if self.buf:
            raise AssertionError("plaintext bytes buffered across STARTTLS: %r" % self.buf)
        ctx = ctx or client_tls_context()
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)

    def request_tls(self):
        """Ask for TLS with the protocol's command; subclasses define it."""
        raise NotImplementedError

    def starttls(self, ctx=None):
        """request_tls(), then the handshake; returns the server's answer."""
        answer = self.request_tls()
        self.wrap_tls(ctx)
        return answer

    # ---- writing ----
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def send_line(self, line):
        """line plus CR LF."""
        self.send(line + ("\r\n" if isinstance(line, str) else b"\r\n"))

    # ---- reading ----
    def _fill(self, deadline):
        """One recv into self.buf; raises on timeout and on EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no answer from server; have %r" % self.buf[-200:])
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except ssl.SSLZeroReturnError:
            chunk = b""
        if not chunk:
            raise self.closed_exc("connection closed by server; partial %r" % self.buf[-200:])
        self.buf += chunk

    def _deadline(self, timeout):
        return time.monotonic() + (timeout or self.timeout)

    def read_until(self, pred, timeout=None):
        """Read until pred(buf) returns a length n (not None); take and
        return the first n bytes."""
        deadline = self._deadline(timeout)
        while True:
            n = pred(self.buf)
            if n is not None:
                out, self.buf = self.buf[:n], self.buf[n:]
                return out
            self._fill(deadline)

    def read_raw_line(self, timeout=None):
        """The next line as bytes, without its end."""
        def upto_eol(buf):
            i = buf.find(self.EOL)
            return None if i < 0 else i + len(self.EOL)
        line = self.read_until(upto_eol, timeout)[:-len(self.EOL)]
        return line[:-1] if self.EOL == b"\n" and line.endswith(b"\r") else line

    def read_line(self, timeout=None):
        return self.read_raw_line(timeout).decode("utf-8", "replace")

    def read_bytes(self, n, timeout=None):
        """Exactly n bytes (an IMAP literal after its {n} line)."""
        return self.read_until(lambda buf: n if len(buf) >= n else None, timeout)

    def expect(self, pattern, timeout=None):
        """The next line, which must match the regex pattern at its start."""
        line = self.read_line(timeout)
        assert re.match(pattern, line), "expected /%s/, got %r" % (pattern, line)
        return line

    def is_closed(self, timeout=3.0):
        """True if the server closes the connection (EOF or reset) within
        timeout; data that arrives meanwhile is kept in self.buf."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return False
            except (ConnectionResetError, ssl.SSLError, OSError):
                return True
            if not data:
                return True
            self.buf += data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class SMTPRaw(LineClient):
    """Line-level SMTP client: replies as Reply(code, lines)."""

    closed_exc = SMTPClosed

    def __init__(self, host, port, timeout=10, tls=False, source=None, read_banner=True):
        super().__init__(host, port, timeout=timeout, tls=tls, source=source)
        self.banner = self.reply() if read_banner else None

    def cmd(self, line):
        """Send one command line and return its Reply."""
        self.send_line(line)
        return self.reply()

    def reply(self, timeout=None):
        lines = []
        while True:
            line = self.read_line(timeout)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        m = re.match(r"(\d\d\d)", lines[-1])
        assert m, "malformed SMTP reply %r" % lines
        return Reply(int(m.group(1)), lines)

    def ehlo(self, name="client.example.org"):
        r = self.cmd("EHLO " + name)
        assert r.code == 250, "EHLO failed: %s" % r
        return r

    def request_tls(self):
        r = self.cmd("STARTTLS")
        assert r.code == 220, "STARTTLS refused: %s" % r
        return r

    def is_closed(self, timeout=2.0):
        return super().is_closed(timeout)

    def auth_plain(self, user, password):
        tok = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
        return self.cmd("AUTH PLAIN " + tok)

    def data(self, message):
        """DATA + dot-stuffed message + '.'; returns the final Reply."""
        r = self.cmd("DATA")
        assert r.code == 354, "DATA not accepted: %s" % r
        if isinstance(message, str):
            message = message.encode("utf-8")
        message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not message.endswith(b"\r\n"):
            message += b"\r\n"
        stuffed = re.sub(rb"(?m)^\.", b"..", message)
        self.send(stuffed + b".\r\n")
        return self.reply(timeout=30)


class POP3Raw(LineClient):
    """Line-level POP3 client.  Lines end at CR LF exactly (a bare LF stays
    inside a line: tests look at the bytes)."""

    EOL = b"\r\n"
    closed_exc = POP3Closed

    def __init__(self, host, port, tls=False, timeout=10, read_greeting=True):
        super().__init__(host, port, timeout=timeout, tls=tls)
        self.greeting = self.read_line() if read_greeting else None

    # the names the POP3 tests use
    def rawline(self, timeout=None):
        return self.read_raw_line(timeout)

    def line(self, timeout=None):
        return self.read_line(timeout)

    def cmd(self, line):
        """Send one command; the first line of the answer."""
        self.send_line(line)
        return self.read_line()

    def multi_raw(self, timeout=None):
        """The body of a multi-line answer, as sent (stuffed, CRLF), without
        the final '.' line.  Linear in the size: big messages are fine."""
        deadline = self._deadline(timeout)
        if self.buf.startswith(b".\r\n"):
            self.buf = self.buf[3:]
            return b""
        acc = bytearray(b"\r\n" + self.buf)     # a leading CRLF: "." may come first
        self.buf = b""
        start = 0
        while True:
            end = acc.find(b"\r\n.\r\n", start)
            if end >= 0:
                self.buf = bytes(acc[end + 5:])
                return bytes(acc[2:end + 2])
            start = max(0, len(acc) - 4)
            self._fill(deadline)
            acc += self.buf
            self.buf = b""

    def multi(self, first_cmd, timeout=None):
        """Send a command; returns (first line, [unstuffed lines]) or (line, None) on -ERR."""
        first = self.cmd(first_cmd)
        if not first.startswith("+OK"):
            return first, None
        raw = self.multi_raw(timeout)
        lines = raw.split(b"\r\n")[:-1] if raw else []
        return first, [ln[1:] if ln.startswith(b".") else ln for ln in lines]

    def login(self, user, password):
        r = self.cmd("USER " + user)
        assert r.startswith("+OK"), r
        r = self.cmd("PASS " + password)
        assert r.startswith("+OK"), r
        return r

    def request_tls(self):
        r = self.cmd("STLS")
        assert r.startswith("+OK"), r
        return r

    def stls(self):
        return self.starttls()


class IMAPClosed(Closed):
    pass


class IMAPRaw(LineClient):
    """Line-level IMAP client.  Lines end at CR LF exactly.  cmd() tags a
    command and returns (untagged lines, tagged line); literals in answers
    are read whole and kept inside the line (as bytes in raw mode)."""

    EOL = b"\r\n"
    closed_exc = IMAPClosed

    def __init__(self, host, port, tls=False, timeout=10, read_greeting=True):
        super().__init__(host, port, timeout=timeout, tls=tls)
        self.n = 0
        self.greeting = self.read_line() if read_greeting else None

    def next_tag(self):
        self.n += 1
        return "t%d" % self.n

    def read_response(self, timeout=None):
        """One response line with any literals it announces, as bytes."""
        out = b""
        while True:
            line = self.read_raw_line(timeout)
            out += line
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                return out
            out += b"\r\n" + self.read_bytes(int(m.group(1)), timeout)

    def tagged(self, tag, timeout=None):
        """Read until the tagged answer of tag: (untagged, tagged) as str."""
        untagged = []
        while True:
            line = self.read_response(timeout).decode("utf-8", "replace")
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def cmd(self, line, timeout=None):
        tag = self.next_tag()
        self.send_line("%s %s" % (tag, line))
        return self.tagged(tag, timeout)

    def ok(self, line, timeout=None):
        """cmd() that must answer OK; returns the untagged lines."""
        untagged, tagged = self.cmd(line, timeout)
        assert re.match(r"t\d+ OK", tagged), "%s -> %s" % (line, tagged)
        return untagged

    def login(self, user, password):
        return self.ok('LOGIN "%s" "%s"' % (user, password))

    def request_tls(self):
        _, r = self.cmd("STARTTLS")
        assert " OK" in r, r
        return r


class Onebox:
    """One onebox instance: config, data dir, daemon process, CLI."""

    def __init__(self, name="ob", listeners=None, dns_servers=DEAD_DNS, conf_extra=None,
                 tls_cert="", tls_key=""):
        os.makedirs(TEST_BASE, exist_ok=True)
        os.chmod(TEST_BASE, 0o755)
        self.dir = os.path.join(TEST_BASE, "%s-%s" % (name, secrets.token_hex(4)))
        os.mkdir(self.dir)
        os.chmod(self.dir, 0o755)
        self.data_dir = os.path.join(self.dir, "data")
        os.mkdir(self.data_dir, 0o755)
        self.user = service_user()
        if IS_ROOT:
            pw = pwd.getpwnam(self.user)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        self.conf_path = os.path.join(self.dir, "onebox.conf")
        self.log_path = os.path.join(self.dir, "oneboxd.log")
        self.tag = "onebox-test-" + secrets.token_hex(6)
        if listeners is None:
            listeners = {r: ["127.0.0.1:0"] for r in ("smtp", "submission", "submissions")}
        # Resolve port 0 to free ports now so the config is final.
        self.listeners = {}
        for role, addrs in listeners.items():
            out = []
            for a in addrs:
                host, port = a.rsplit(":", 1)
                host = host.strip("[]")
                port = int(port) or free_port(host)
                out.append((host, port))
            self.listeners[role] = out
        self.dns_servers = dns_servers
        self.conf_extra = dict(conf_extra or {})
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.proc = None
        self.write_conf()

    # ---- config and CLI ----
    def conf_text(self):
        kv = {
            "hostname": HOSTNAME,
            "data_dir": self.data_dir,
            "user": self.user,
            "log_level": "debug",
            "log_syslog": "no",
            "tls_cert": self.tls_cert,
            "tls_key": self.tls_key,
            "dns_servers": self.dns_servers,
        }
        for role in ALL_ROLES:
            kv[role + "_listen"] = " ".join(fmt_addr(h, p) for h, p in self.listeners.get(role, []))
        kv.update(self.conf_extra)
        lines = ["# written by tests/proto/obtest.py"]
        lines += ["%s = %s" % (k, v) for k, v in kv.items()]
        return "\n".join(lines) + "\n"

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            f.write(self.conf_text())

    def env(self):
        env = dict(os.environ)
        env["ONEBOX_TEST_TAG"] = self.tag
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        return env

    def cli(self, *args, input=None, check=True, timeout=30):
        """Run `onebox -c CONF args...`; returns CompletedProcess (text)."""
        cmd = [ONEBOX, "-c", self.conf_path] + [str(a) for a in args]
        p = subprocess.run(cmd, input=input if input is not None else "", capture_output=True,
                           text=True, timeout=timeout, env=self.env())
        if check:
            assert p.returncode == 0, "%s -> exit %d\nstdout: %s\nstderr: %s" % (
                " ".join(cmd[3:]), p.returncode, p.stdout, p.stderr)
        return p

    def add_domain(self, name, system=False):
        self.cli("domain", "add", name, *(["--system"] if system else []))

    def add_user(self, address, password, quota=None):
        extra = ["--quota", quota] if quota else []
        self.cli("user", "add", address, *extra, input=password + "\n")

    def set(self, key, value):
        self.cli("set", key, value)

    # ---- daemon ----
    def start(self, wait=True, timeout=15):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        assert os.access(ONEBOXD, os.X_OK), "no daemon binary at %s (build first)" % ONEBOXD
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([ONEBOXD, "-c", self.conf_path], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, env=self.env(),
                                     start_new_session=True)
        log.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=15):
        """Wait until every listener answers (SMTP banner / TLS handshake / TCP)."""
        deadline = time.monotonic() + timeout
        for role, addrs in self.listeners.items():
            for host, port in addrs:
                last = None
                while True:
                    if not self.running():
                        raise AssertionError("oneboxd exited with %s while starting; log:\n%s" % (
                            self.proc.returncode, self.log_tail()))
                    try:
                        self._probe(role, host, port)
                        break
                    except Exception as e:  # noqa: BLE001 - retry until deadline
                        last = e
                    if time.monotonic() > deadline:
                        raise AssertionError("%s listener %s:%d not ready after %ss: %r\nlog:\n%s" % (
                            role, host, port, timeout, last, self.log_tail()))
                    time.sleep(0.05)

    def _probe(self, role, host, port):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect((host, port))
            if role in TLS_SMTP_ROLES:
                s = client_tls_context().wrap_socket(s, server_hostname=HOSTNAME)
            if role in PLAIN_SMTP_ROLES + TLS_SMTP_ROLES:
                data = s.recv(512)
                assert data.startswith(b"220"), "banner %r" % data
                s.sendall(b"QUIT\r\n")
        finally:
            s.close()

    def pids(self):
        """Master pid plus all its descendants (and anything carrying our env tag)."""
        found = []
        if self.running():
            todo = [self.proc.pid]
            while todo:
                pid = todo.pop()
                if pid in found:
                    continue
                found.append(pid)
                todo.extend(children_of(pid))
        for pid in tagged_pids(self.tag):
            if pid not in found:
                found.append(pid)
        return found

    def child_pids(self):
        return [p for p in self.pids() if not self.proc or p != self.proc.pid]

    def stop(self, sig=signal.SIGTERM, timeout=20, expect_rc=0):
        """Signal the master, wait for it and every child; check the exit code."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        pids = self.pids()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9_all()
            raise AssertionError("oneboxd did not stop within %ss after %s; log:\n%s" % (
                timeout, signal.Signals(sig).name, self.log_tail()))
        left = wait_pids_gone(pids, 5)
        if left:
            self.kill9_all(extra=left)
            raise AssertionError("processes %s still alive after the master exited" % left)
        if expect_rc is not None:
            assert rc == expect_rc, "oneboxd exit status %s (expected %s); log:\n%s" % (
                rc, expect_rc, self.log_tail())
        return rc

    def kill9_all(self, extra=()):
        """kill -9 the master and every child at once; wait until all are gone."""
        pids = set(self.pids()) | set(extra)
        if self.running():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        # children forked between the listing and the kill carry our tag
        for pid in tagged_pids(self.tag):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        left = wait_pids_gone(pids | set(tagged_pids(self.tag)), 10)
        assert not left, "processes %s survived kill -9" % left

    def restart(self, wait=True):
        if self.running():
            self.stop()
        return self.start(wait=wait)

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def close(self):
        """Stop everything (teardown); raises if the stop was not clean."""
        try:
            if self.running():
                self.stop()
        finally:
            if self.proc is not None:
                try:
                    self.kill9_all()
                except AssertionError:
                    pass

    def cleanup_files(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- observation ----
    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=80):
        return "\n".join(self.log().splitlines()[-n:])

    def sanitizer_reports(self):
        text = self.log()
        return [m for m in SANITIZER_MARKERS if m in text]

    def wait_log(self, pattern, timeout=5, start=0):
        """Wait until regex pattern appears in the log (from offset start); return the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.log(), start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError("log has no /%s/ after %ss; tail:\n%s" % (
                    pattern, timeout, self.log_tail()))
            time.sleep(0.05)

    def addr(self, role="smtp", i=0):
        return self.listeners[role][i]

    def port(self, role="smtp", i=0):
        return self.listeners[role][i][1]

    def maildir(self, address):
        local, domain = address.rsplit("@", 1)
        return os.path.join(self.data_dir, "mail", domain.lower(), local.lower())

    def message_files(self, address):
        md = self.maildir(address)
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(md, sub)
            if os.path.isdir(d):
                out += sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith("."))
        return out

    def messages(self, address):
        """Contents (bytes) of the files in new/ and cur/ of address's INBOX."""
        out = []
        for p in self.message_files(address):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, address, n, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(address)
            if len(msgs) >= n or time.monotonic() > deadline:
                return msgs
            time.sleep(0.05)

    # ---- clients ----
    def raw(self, role="smtp", i=0, **kw):
        host, port = self.addr(role, i)
        return SMTPRaw(host, port, tls=role in TLS_SMTP_ROLES, **kw)

    def pop3(self, user=None, password=None, tls="stls", **kw):
        """POP3Raw, TLS up (tls: "stls", "pop3s" or "none"), logged in if
        user is given (password default NEW_USER_PW)."""
        host, port = self.addr("pop3s" if tls == "pop3s" else "pop3")
        c = POP3Raw(host, port, tls=tls == "pop3s", **kw)
        assert c.greeting.startswith("+OK"), c.greeting
        if tls == "stls":
            c.stls()
        if user:
            c.login(user, password or NEW_USER_PW)
        return c

    def imap(self, user=None, password=None, tls="starttls", **kw):
        """IMAPRaw, TLS up (tls: "starttls", "imaps" or "none"), logged in
        if user is given (password default NEW_USER_PW)."""
        host, port = self.addr("imaps" if tls == "imaps" else "imap")
        c = IMAPRaw(host, port, tls=tls == "imaps", **kw)
        assert c.greeting.startswith("* OK"), c.greeting
        if tls == "starttls":
            c.starttls()
        if user:
            c.login(user, password or NEW_USER_PW)
        return c

    def imaplib(self, tls="starttls", timeout=10):
        """A Python imaplib client (IMAP4 with STARTTLS, IMAP4_SSL, or plain)."""
        import imaplib
        if tls == "imaps":
            host, port = self.addr("imaps")
            return imaplib.IMAP4_SSL(host, port, ssl_context=client_tls_context(), timeout=timeout)
        host, port = self.addr("imap")
        c = imaplib.IMAP4(host, port, timeout=timeout)
        if tls == "starttls":
            c.starttls(ssl_context=client_tls_context())
        return c

    def smtplib(self, role="smtp", i=0, timeout=10):
        import smtplib
        host, port = self.addr(role, i)
        if role in TLS_SMTP_ROLES:
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=client_tls_context())
        return smtplib.SMTP(host, port, timeout=timeout)

    def submit_session(self, user, password, role="submission"):
        """SMTPRaw on a submission port, TLS up, EHLO done, authenticated."""
        c = self.raw(role)
        c.ehlo()
        if role == "submission":
            c.starttls()
            c.ehlo()
        r = c.auth_plain(user, password)
        assert r.code == 235, "AUTH failed for %s: %s" % (user, r)
        return c

    def send(self, sender, rcpts, message=None, role="smtp"):
        """One transaction on a fresh connection; returns (final Reply, queue id or None)."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        message = message or make_message(sender or "x@example.org", rcpts[0])
        with self.raw(role) as c:
            c.ehlo()
            r = c.cmd("MAIL FROM:<%s>" % sender)
            assert r.code == 250, "MAIL: %s" % r
            for rc in rcpts:
                r = c.cmd("RCPT TO:<%s>" % rc)
                assert r.code == 250, "RCPT %s: %s" % (rc, r)
            r = c.data(message)
            m = QUEUED_RE.search(r.text)
            c.cmd("QUIT")
            return r, (m.group(1) if m else None)


NEW_USER_PW = "Pop3-pw-7#"


def new_user(ob, password=NEW_USER_PW, _n=itertools.count(1)):
    """A fresh mailbox on ob (so tests on a shared instance do not meet)."""
    addr = "p%d@local.test" % next(_n)
    ob.add_user(addr, password)
    return addr


def deliver(ob, rcpt, n=1, body=None, subject="pop3 test"):
    """n messages over SMTP; waits until they are in the Maildir."""
    have = len(ob.message_files(rcpt))
    for i in range(n):
        ob.send("sender@example.org", rcpt,
                make_message(to=rcpt, subject="%s %d" % (subject, i),
                             body=body if body is not None else "Message %d.\n" % i))
    got = ob.wait_messages(rcpt, have + n)
    assert len(got) >= have + n, "delivery of %d messages to %s incomplete" % (n, rcpt)


def place_message(ob, rcpt, data, _n=itertools.count(1)):
    """Put data (LF line ends) straight into rcpt's new/ as a delivered file
    would be named; returns the unique base.  For big or many messages."""
    md = ob.maildir(rcpt)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    t = time.time()
    base = "%d.M%06dP%dQ%d.placed" % (int(t), int((t - int(t)) * 1e6), os.getpid(), next(_n))
    name = "%s,S=%d,W=%d" % (base, len(data), len(data) + data.count(b"\n"))
    tmp = os.path.join(md, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    if IS_ROOT:
        pw = pwd.getpwnam(ob.user)
        for p in (md, os.path.dirname(md), os.path.join(md, "tmp"), os.path.join(md, "new"),
                  os.path.join(md, "cur"), tmp):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    os.rename(tmp, os.path.join(md, "new", name))
    return base


def service_pid(ob, comm):
    """The pid of ob's child process named comm (e.g. "pop3d")."""
    for pid in ob.child_pids():
        info = proc_info(pid)
        if info and info[0] == comm:
            return pid
    raise AssertionError("no %s process" % comm)


def children_of(pid):
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def tagged_pids(tag):
    """Pids whose environment carries ONEBOX_TEST_TAG=tag (forks inherit it)."""
    needle = ("ONEBOX_TEST_TAG=%s" % tag).encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read()
            with open("/proc/%s/stat" % d) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env.split(b"\0") and state != "Z":
            out.append(int(d))
    return out


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def wait_pids_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if pid_alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def proc_info(pid):
    """(comm, cmdline, real uid) of a process, or None."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        uid = None
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    uid = int(line.split()[2])      # effective uid
        return comm, cmdline, uid
    except OSError:
        return None


def make_cert(dirpath, cn, name="cert"):
    """Self-signed EC certificate for cn; returns (cert_path, key_path)."""
    cert = os.path.join(dirpath, name + ".pem")
    key = os.path.join(dirpath, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                    "-subj", "/CN=" + cn, "-addext", "subjectAltName=DNS:" + cn,
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o644)     # readable by the unprivileged service user in tests
    return cert, key
