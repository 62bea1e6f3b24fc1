"""TLS: STARTTLS (smtplib and openssl s_client), implicit TLS, TLS 1.2+ only,
the self-signed certificate, STARTTLS command injection, SIGHUP reload."""

import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import ALICE
from obtest import HOSTNAME, SMTPClosed, client_tls_context, make_cert, make_message


def der_info(der):
    """subject + subjectAltName text of a DER certificate."""
    p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-ext",
                        "subjectAltName"], input=der, capture_output=True, check=True)
    return p.stdout.decode()


def peer_cert(host, port, starttls=True):
    s = socket.create_connection((host, port), timeout=10)
    f = s.makefile("rb")
    if starttls:
        assert f.readline().startswith(b"220")
        s.sendall(b"EHLO x\r\n")
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                break
        s.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220")
    t = client_tls_context().wrap_socket(s, server_hostname=HOSTNAME)
    der = t.getpeercert(binary_form=True)
    version = t.version()
    t.close()
    return der, version


def s_client(args, stdin=b"QUIT\r\n", timeout=30):
    # -ign_eof: otherwise s_client treats a line starting with Q as "quit" and
    # closes before the server's reply
    p = subprocess.run(["openssl", "s_client", "-ign_eof"] + args, input=stdin, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def test_starttls_smtplib(shared):
    with shared.smtplib() as s:
        s.ehlo()
        assert s.has_extn("starttls")
        code, _ = s.starttls(context=client_tls_context())
        assert code == 220
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3"), s.sock.version()
        s.ehlo()
        assert not s.has_extn("starttls")
        assert s.sendmail("t@example.org", [ALICE], make_message(to=ALICE)) == {}


def test_starttls_reply(shared):
    with shared.raw() as c:
        c.ehlo()
        r = c.cmd("STARTTLS")
        assert r.code == 220 and r.enhanced == "2.0.0", r
        c.wrap_tls()
        c.ehlo()
        r = c.cmd("STARTTLS")
        assert r.code in (503, 454, 502), "STARTTLS twice: %s" % r


@pytest.mark.parametrize("role", ["smtp", "submission"])
def test_openssl_s_client_starttls(shared, role):
    host, port = shared.addr(role)
    rc, out = s_client(["-connect", "%s:%d" % (host, port), "-starttls", "smtp", "-brief"],
                       stdin=b"EHLO x\r\nQUIT\r\n")
    assert "Protocol version: TLSv1.3" in out or "Protocol version: TLSv1.2" in out, out
    assert "221" in out, "no QUIT reply through s_client:\n" + out


def test_openssl_s_client_implicit(shared):
    host, port = shared.addr("submissions")
    rc, out = s_client(["-connect", "%s:%d" % (host, port), "-brief"], stdin=b"EHLO x\r\nQUIT\r\n")
    assert "220 " + HOSTNAME in out, out
    assert "AUTH" in out, "AUTH should be offered on 465:\n" + out


def test_tls12_accepted(shared):
    host, port = shared.addr("submissions")
    ctx = client_tls_context(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    with ctx.wrap_socket(socket.create_connection((host, port), timeout=10)) as t:
        assert t.version() == "TLSv1.2"
        assert t.recv(100).startswith(b"220")


def tls11_client_works():
    """Sanity: can this machine's client speak TLS 1.1 at all? (else the refusal proves nothing)"""
    import tempfile
    d = tempfile.mkdtemp()
    try:
        cert, key = make_cert(d, "tls11.test")
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(cert, key)
        sctx.minimum_version = ssl.TLSVersion.TLSv1_1
        sctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen()
        ok = []

        def serve():
            c, _ = ls.accept()
            try:
                sctx.wrap_socket(c, server_side=True).close()
            except (ssl.SSLError, OSError):
                c.close()
        th = threading.Thread(target=serve)
        th.start()
        try:
            t = tls11_ctx().wrap_socket(socket.create_connection(ls.getsockname(), timeout=5))
            ok.append(t.version())
            t.close()
        except (ssl.SSLError, OSError):
            pass
        th.join(5)
        ls.close()
        return ok == ["TLSv1.1"]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def tls11_ctx():
    ctx = client_tls_context(ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


@pytest.mark.parametrize("role", ["smtp", "submissions"])
def test_tls11_refused(shared, role):
    if not tls11_client_works():
        pytest.skip("this machine's OpenSSL client cannot speak TLS 1.1")
    host, port = shared.addr(role)
    s = socket.create_connection((host, port), timeout=10)
    if role == "smtp":
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO x\r\n")
        while f.readline()[3:4] == b"-":
            pass
        s.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220")
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        t = tls11_ctx().wrap_socket(s, server_hostname=HOSTNAME)
        raise AssertionError("TLS 1.1 handshake accepted: %s" % t.version())
    s.close()
    # the same with openssl s_client
    args = ["-connect", "%s:%d" % (host, port), "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]
    if role == "smtp":
        args += ["-starttls", "smtp"]
    rc, out = s_client(args)
    assert "Protocol  : TLSv1.1" not in out or "Cipher is (NONE)" in out, out


def test_self_signed_cert_names_hostname(shared):
    der, _ = peer_cert(*shared.addr("smtp"))
    info = der_info(der)
    assert "CN = " + HOSTNAME in info or "CN=" + HOSTNAME in info, info
    assert "DNS:" + HOSTNAME in info, info
    der2, _ = peer_cert(*shared.addr("submissions"), starttls=False)
    assert der2 == der, "465 and 25 serve different certificates"
    tls_dir = os.path.join(shared.data_dir, "tls")
    assert os.path.isdir(tls_dir) and os.listdir(tls_dir), "no self-signed cert under data_dir/tls/"


def test_starttls_injection(shared):
    """Commands pipelined after STARTTLS in clear text must not run inside TLS (CVE-2011-0411)."""
    with shared.raw() as c:
        c.ehlo()
        c.send(b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
        r = c.reply()
        if r.code != 220:
            return                              # refused the pipelined STARTTLS: fine
        c.buf = b""
        try:
            c.wrap_tls()
        except (ssl.SSLError, OSError):
            return                              # dropped the connection: fine
        try:
            r = c.cmd("EHLO x")
        except (SMTPClosed, ssl.SSLError, OSError):
            return
        assert r.code == 250 and len(r.lines) > 1, "first reply inside TLS is not the EHLO's: %s" % r
        r = c.cmd("RCPT TO:<%s>" % ALICE)
        assert r.code == 503, "the injected MAIL FROM was executed: %s" % r


def test_sighup_reloads_certificate(onebox_factory):
    ob = onebox_factory.make(start=False)
    d = ob.dir
    cert, key = make_cert(d, "first.onebox.test", "first")
    ob.tls_cert, ob.tls_key = os.path.join(d, "live.pem"), os.path.join(d, "live.key")
    shutil.copy(cert, ob.tls_cert)
    shutil.copy(key, ob.tls_key)
    os.chmod(ob.tls_key, 0o644)
    ob.write_conf()
    ob.start()
    der, _ = peer_cert(*ob.addr("smtp"))
    assert "first.onebox.test" in der_info(der)
    cert2, key2 = make_cert(d, "second.onebox.test", "second")
    shutil.copy(cert2, ob.tls_cert + ".new")
    shutil.copy(key2, ob.tls_key + ".new")
    os.chmod(ob.tls_key + ".new", 0o644)
    os.rename(ob.tls_cert + ".new", ob.tls_cert)
    os.rename(ob.tls_key + ".new", ob.tls_key)
    ob.reload()
    deadline = time.monotonic() + 5
    while True:
        # A connection accepted by the retiring smtpd in the moment of the
        # handover is told "421 shutting down" (idle sessions are not kept
        # across a reload): a client reconnects, and so does this one.
        try:
            der, _ = peer_cert(*ob.addr("smtp"))
        except (OSError, AssertionError):
            der = None
        if der and "second.onebox.test" in der_info(der):
            break
        assert time.monotonic() < deadline, "SIGHUP did not load the new certificate"
        time.sleep(0.2)
    for role in ("submission",):
        der, _ = peer_cert(*ob.addr(role))
        assert "second.onebox.test" in der_info(der), role
    der, _ = peer_cert(*ob.addr("submissions"), starttls=False)
    assert "second.onebox.test" in der_info(der), "465 still serves the old certificate"
    assert ob.running(), "master died on SIGHUP"


def test_sighup_bad_config_keeps_running(onebox):
    """A broken config on SIGHUP is reported and the daemon keeps serving the old one."""
    with open(onebox.conf_path, "a") as f:
        f.write("smtp_listen = 127.0.0.1:notaport\n")
    onebox.reload()
    time.sleep(1)
    assert onebox.running(), "daemon exited on a SIGHUP with a bad config"
    with onebox.raw() as c:
        c.ehlo()
    onebox.write_conf()
