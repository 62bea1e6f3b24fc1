"""Admin accounts and the login: `onebox admin`, the session cookie's
flags, CSRF tokens, admin_networks, the login throttle, HTTPS only."""

import re
import sqlite3
import os

import pytest

import httptest
from httptest import Admin, ADMIN, ADMIN_PW, request


@pytest.fixture
def web(onebox_factory):
    ob = httptest.web_onebox(onebox_factory)
    httptest.add_admin(ob)
    return ob


def test_cli_admin_add_list_del(web):
    assert web.cli("admin", "list").stdout.split() == [ADMIN]
    p = web.cli("admin", "add", ADMIN, input="x\n", check=False)
    assert p.returncode == 1 and "already exists" in p.stderr
    p = web.cli("admin", "add", "bad name<", input="x\n", check=False)
    assert p.returncode == 1 and "admin name" in p.stderr
    p = web.cli("admin", "add", "other", input="\n", check=False)
    assert p.returncode == 1 and "empty password" in p.stderr
    web.cli("admin", "add", "other", input="Other-pw-1\n")
    db = sqlite3.connect(os.path.join(web.data_dir, "db", "onebox.db"))
    h = db.execute("SELECT pwhash FROM admins WHERE name = 'other'").fetchone()[0]
    assert h.startswith("$y$")                  # yescrypt, never the password
    assert "Other-pw-1" not in h
    assert web.cli("admin", "list").stdout.split() == [ADMIN, "other"]
    web.cli("admin", "del", "other")
    assert web.cli("admin", "list").stdout.split() == [ADMIN]
    p = web.cli("admin", "del", "other", check=False)
    assert p.returncode == 1 and "does not exist" in p.stderr


def test_login_cookie_flags_and_logout(web):
    a = Admin(web)
    st, h, body = a.login(password="wrong")
    assert st == 401 and b"Wrong admin name or password" in body
    assert "onebox_admin" not in a.cookies
    st, h, body = a.login()
    assert st == 303 and h["location"] == "/admin/"
    sc = h["set-cookie"]
    assert sc.startswith("onebox_admin=")
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/admin", "Max-Age=3600"):
        assert flag in sc, sc
    st, h, body = a.req("GET", "/admin/")
    assert st == 200 and b"Dashboard" in body and b"Log out boss" in body
    # the DB holds a hash of the cookie, not the cookie
    db = sqlite3.connect(os.path.join(web.data_dir, "db", "onebox.db"))
    ids = [r[0] for r in db.execute("SELECT id FROM admin_sessions")]
    assert ids and a.cookies["onebox_admin"] not in ids
    csrf = a.csrf()
    st, h, body = a.req("POST", "/admin/logout", {"csrf": csrf})
    assert st == 303 and "Max-Age=0" in h["set-cookie"]
    a.cookies["onebox_admin"] = ids[0]
    assert a.req("GET", "/admin/")[0] == 303         # the session is gone


def test_session_length_setting(web):
    web.set("admin_session_minutes", "5")
    st, h, body = Admin(web).login()
    assert "Max-Age=300" in h["set-cookie"]


def test_no_session_redirects_to_login(web):
    st, h, body = request(web, "GET", "/admin/")
    assert st == 303 and h["location"] == "/admin/login"
    st, h, body = request(web, "GET", "/admin/", headers={"Cookie": "onebox_admin=" + "a" * 64})
    assert st == 303


def test_csrf_token_required(web):
    a = Admin(web)
    a.login()
    for form in ({}, {"csrf": ""}, {"csrf": "0" * 64}):
        st, h, body = a.req("POST", "/admin/logout", form)
        assert st == 403 and b"did not come from this page" in body, form
    assert a.req("GET", "/admin/")[0] == 200         # still logged in
    st, h, body = a.req("POST", "/admin/logout", {"csrf": a.csrf()})
    assert st == 303


def test_login_form_needs_its_cookie(web):
    a = Admin(web)
    st, h, body = a.req("POST", "/admin/login", {"pre": "1" * 64, "name": ADMIN, "password": ADMIN_PW})
    assert st == 403 and "onebox_admin" not in a.cookies


def test_admin_networks_refusal(web):
    web.set("admin_networks", "10.0.0.0/8")
    st, h, body = request(web, "GET", "/admin/login")
    assert st == 403 and b"not offered on this network" in body
    st, h, body = request(web, "GET", "/admin/")
    assert st == 403
    st, h, body = request(web, "GET", "/")
    assert st == 200 and b"/admin" not in body        # the public card never offers it
    assert "admin page refused address=127.0.0.1" in web.log()
    web.set("admin_networks", "127.0.0.1/32")
    assert request(web, "GET", "/admin/login")[0] == 200


def test_admin_page_not_on_plain_http(web):
    st, h, body = request(web, "GET", "/admin/login", https=False)
    assert st == 301 and h["location"].startswith("https://")


def test_login_throttled(web):
    web.set("auth_max_failures", "3")
    a = Admin(web)
    for _ in range(3):
        assert a.login(password="nope")[0] == 401
    st, h, body = a.login()
    assert st == 429 and b"Too many failed logins" in body
    assert "onebox_admin" not in a.cookies


def test_deleted_admin_logged_out(web):
    a = Admin(web)
    a.login()
    assert a.req("GET", "/admin/")[0] == 200
    web.cli("admin", "del", ADMIN)
    assert a.req("GET", "/admin/")[0] == 303


def test_login_name_escaped(web):
    a = Admin(web)
    st, h, body = a.login(name='"><script>alert(1)</script>', password="x")
    assert st == 401
    assert b"<script>alert(1)" not in body and b"&lt;script&gt;" in body


def test_session_survives_reload(web):
    a = Admin(web)
    a.login()
    web.reload()
    import time
    deadline = time.monotonic() + 5
    while True:
        try:
            if a.req("GET", "/admin/")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_failed_login_delayed_without_blocking(web):
    """auth_fail_delay_ms applies to admin logins; meanwhile httpd serves others."""
    import threading
    import time
    web.set("auth_fail_delay_ms", "1500")
    a = Admin(web)
    result = {}

    def bad():
        t0 = time.monotonic()
        result["status"] = a.login(password="wrong")[0]
        result["took"] = time.monotonic() - t0
    t = threading.Thread(target=bad)
    t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    assert request(web, "GET", "/static/onebox.css")[0] == 200
    assert time.monotonic() - t0 < 0.5
    t.join(10)
    assert result["status"] == 401 and result["took"] >= 1.4
    t0 = time.monotonic()
    assert Admin(web).login()[0] == 303
    assert time.monotonic() - t0 < 1.0          # a good login is not delayed


def test_sigterm_during_delay(web):
    """A stop while a failed login waits: httpd resumes it and exits cleanly."""
    import threading
    import time
    web.set("auth_fail_delay_ms", "5000")
    a = Admin(web)
    def bad():
        try:
            a.login(password="wrong")
        except OSError:
            pass                                 # cut by the stop: fine
    t = threading.Thread(target=bad)
    t.daemon = True
    t.start()
    time.sleep(1)
    web.stop()                                   # exit status 0 checked
    t.join(10)


def test_login_hash_off_the_loop(web):
    """The password check (yescrypt) runs in a worker thread: while a burst of
    logins is being checked, httpd answers other requests at once."""
    import threading
    import time
    n = 12
    # attempts in flight count against the throttle until they are decided
    web.set("auth_max_failures", "100")
    web.set("auth_max_failures_per_user", "100")
    clients = [Admin(web) for _ in range(n)]
    pres = []
    for a in clients:
        st, h, body = a.req("GET", "/admin/login")
        pres.append(re.search(rb'name="pre" value="([0-9a-f]+)"', body).group(1).decode())
    t0 = time.monotonic()
    assert clients[0].req("POST", "/admin/login",
                          {"pre": pres[0], "name": ADMIN, "password": ADMIN_PW})[0] == 303
    one = time.monotonic() - t0                  # a whole login, hash included
    results = []

    def login(a, pre):
        results.append(a.req("POST", "/admin/login", {"pre": pre, "name": ADMIN, "password": ADMIN_PW})[0])
    threads = [threading.Thread(target=login, args=(a, p)) for a, p in zip(clients[1:], pres[1:])]
    for t in threads:
        t.start()
    time.sleep(one / 2)
    waits = []
    while any(t.is_alive() for t in threads) and len(waits) < 20:
        t0 = time.monotonic()
        assert request(web, "GET", "/static/onebox.css")[0] == 200
        waits.append(time.monotonic() - t0)
    for t in threads:
        t.join(20)
    assert results == [303] * (n - 1)
    waits.sort()
    # on the loop, each GET waited for the hashes queued before it
    assert waits and waits[len(waits) // 2] < one * 2, (one, waits)
