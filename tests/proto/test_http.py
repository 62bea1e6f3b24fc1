"""The HTTP service: security headers, the redirect to HTTPS, limits, TLS
(the mail services' certificate, TLS 1.2+, SIGHUP reload), bad input."""

import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest

import httptest
from httptest import request, curl
from obtest import HOSTNAME, make_cert

CSP_MUST = ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"]


@pytest.fixture(scope="module")
def web_shared():
    from conftest import _Instances
    inst = _Instances()
    ob = httptest.web_onebox(inst)
    yield ob
    inst.teardown()


def check_security_headers(h, https):
    csp = h.get("content-security-policy", "")
    for part in CSP_MUST:
        assert part in csp, csp
    assert "unsafe-inline" not in csp and "http" not in csp, csp
    assert h.get("x-content-type-options") == "nosniff"
    assert h.get("referrer-policy") == "no-referrer"
    assert ("strict-transport-security" in h) == https


@pytest.mark.parametrize("path,status", [("/", 303), ("/admin/login", 200), ("/no/such/page", 404),
                                         ("/static/onebox.css", 200)])
def test_security_headers_https(web_shared, path, status):
    st, h, body = request(web_shared, "GET", path)
    assert st == status
    check_security_headers(h, True)


def test_error_page_is_html_and_escaped(web_shared):
    st, h, body = request(web_shared, "GET", "/<script>alert(1)</script>")
    assert st == 404
    assert h["content-type"].startswith("text/html")
    assert b"<script>alert" not in body


def test_plain_http_redirects_to_https(web_shared):
    st, h, body = request(web_shared, "GET", "/some/page", https=False,
                          headers={"Host": "mail.example.test"})
    assert st == 301
    assert h["location"] == "https://mail.example.test:%d/some/page" % web_shared.port("https")
    check_security_headers(h, False)
    # a Host header that is not a plain host name is not repeated
    st, h, body = request(web_shared, "GET", "/x", https=False, headers={"Host": "evil\"<x>"})
    assert h["location"] == "https://%s:%d/x" % (HOSTNAME, web_shared.port("https"))
    # the query goes along, encoded again
    st, h, body = request(web_shared, "GET", "/p?emailaddress=a%40b.test&x=%3C%20", https=False,
                          headers={"Host": "h.test"})
    assert h["location"] == "https://h.test:%d/p?emailaddress=a%%40b.test&x=%%3C%%20" % web_shared.port("https")
    # curl follows it to the page
    p = curl(web_shared, "-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}",
             "{base}/", https=False)
    assert p.stdout.decode().startswith("200 https://"), p.stdout + p.stderr


def test_method_not_allowed(web_shared):
    st, h, body = request(web_shared, "DELETE", "/")
    assert st == 405
    check_security_headers(h, True)
    st, h, body = request(web_shared, "POST", "/static/onebox.css", body=b"")
    assert st == 405 and h["allow"] == "GET, HEAD"
    st, h, body = request(web_shared, "GET", "/autodiscover/autodiscover.xml")
    assert st == 405 and h["allow"] == "POST"


def test_body_too_large(web_shared):
    st, h, body = request(web_shared, "POST", "/", body=b"a" * 100000,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 413
    check_security_headers(h, True)


def test_too_many_headers(web_shared):
    headers = {"X-H%d" % i: "v" for i in range(100)}
    st, h, body = request(web_shared, "GET", "/", headers=headers)
    assert st == 431
    check_security_headers(h, True)


def test_huge_header_refused(web_shared):
    """A 200 KB header is refused (libmicrohttpd answers and closes while
    the client may still be sending, so the client sees either the error
    status or the connection cut); the server goes on serving."""
    import http.client
    try:
        st, h, body = request(web_shared, "GET", "/", headers={"X-Big": "a" * 200000})
        assert st in (400, 413, 431)
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        pass
    assert request(web_shared, "GET", "/static/onebox.css")[0] == 200


def raw_exchange(ob, raw, timeout=10):
    host, port = ob.addr("http")
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(raw)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        pass
    s.close()
    return data


@pytest.mark.parametrize("raw", [b"GET /\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a\r\nBad header\r\n\r\n",
                                 b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
                                 b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
def test_bad_requests_answered_4xx(web_shared, raw):
    data = raw_exchange(web_shared, raw)
    assert data.startswith(b"HTTP/1.") and data[9:10] == b"4", data[:200]
    assert request(web_shared, "GET", "/static/onebox.css")[0] == 200


def test_unsupported_version_505(web_shared):
    assert raw_exchange(web_shared, b"GET / HTTP/9.9\r\n\r\n").startswith(b"HTTP/1.1 505")


@pytest.mark.parametrize("raw", [b"\x00\x01\x02garbage\r\n\r\n", b"GET\r\n\r\n", b"GARBAGE\r\n\r\n"])
def test_not_http_closed(web_shared, raw):
    """Not a request line at all: libmicrohttpd closes (or waits for the
    idle timeout) without an answer; the service lives on."""
    data = raw_exchange(web_shared, raw, timeout=3)
    assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:200]
    assert request(web_shared, "GET", "/static/onebox.css")[0] == 200


def test_tls12_only_and_mail_certificate(web_shared):
    host, port = web_shared.addr("https")
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (host, port), "-tls1_1",
                        "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"", capture_output=True, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert "Protocol  : TLSv1.1" not in out or "Cipher is (NONE)" in out, out
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            assert t.version() in ("TLSv1.2", "TLSv1.3")
            der = t.getpeercert(binary_form=True)
    with open(os.path.join(web_shared.data_dir, "tls", "cert.pem")) as f:
        assert ssl.DER_cert_to_PEM_cert(der).split("-----")[2].split() == f.read().split("-----")[2].split()


def https_cert_cn(ob):
    host, port = ob.addr("https")
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (host, port)], input=b"",
                       capture_output=True, timeout=30)
    return p.stdout.decode("utf-8", "replace")


def test_sighup_reloads_https_certificate(onebox_factory):
    ob = onebox_factory.make(start=False, listeners=httptest.WEB_LISTENERS)
    d = ob.dir
    cert, key = make_cert(d, "first.onebox.test", "first")
    ob.tls_cert, ob.tls_key = cert, key
    ob.write_conf()
    ob.start()
    assert "CN = first.onebox.test" in https_cert_cn(ob)
    cert2, key2 = make_cert(d, "second.onebox.test", "second")
    shutil.copy(cert2, cert)
    shutil.copy(key2, key)
    ob.reload()
    deadline = time.monotonic() + 5
    while "CN = second.onebox.test" not in https_cert_cn(ob):
        assert time.monotonic() < deadline, "SIGHUP did not load the new certificate on HTTPS"
        time.sleep(0.2)


def test_connection_limit_per_ip(onebox_factory):
    ob = httptest.web_onebox(onebox_factory)
    ob.set("http_max_connections_per_ip", "2")
    host, port = ob.addr("http")
    held = [socket.create_connection((host, port), timeout=5) for _ in range(2)]
    time.sleep(0.3)
    s = socket.create_connection((host, port), timeout=5)
    data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 503"), data
    s.close()
    for h in held:
        h.close()


def test_idle_client_cut(onebox_factory):
    ob = httptest.web_onebox(onebox_factory)
    ob.set("http_idle_timeout", "2")
    host, port = ob.addr("https")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=10))
    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")     # never finished
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLError):
        pass
    assert time.monotonic() - t0 < 6
    s.close()


def test_keepalive_many_requests(web_shared):
    c = httptest.connect(web_shared)
    for _ in range(20):
        c.request("GET", "/static/onebox.css")
        r = c.getresponse()
        assert r.status == 200 and b"onebox" in r.read()
    c.close()
