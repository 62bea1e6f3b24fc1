"""The admin pages through http.client: domains, users (search, paging,
password, quota, enable/disable), aliases; form errors; every field's input
shown escaped; the CLI and the pages see each other's changes."""

import re

import pytest

import httptest
from httptest import Admin

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture
def admin(onebox_factory):
    ob = httptest.web_onebox(onebox_factory, listeners=dict(httptest.WEB_LISTENERS,
                                                            submissions=["127.0.0.1:0"]))
    httptest.add_admin(ob)
    a = Admin(ob)
    assert a.login()[0] == 303
    return a


def post(a, path, **form):
    form.setdefault("csrf", a.csrf(path))
    return a.req("POST", path, form)


def no_markup_from_input(body):
    assert b"<script>alert" not in body and b"<img src=x" not in body, body
    assert b"&lt;script&gt;" in body or b"&lt;img" in body or b"&#39;" in body or b"&quot;" in body


def test_domains_add_delete(admin):
    st, h, body = post(admin, "/admin/domains", action="add", name="Example.ORG")
    assert st == 303 and h["location"] == "/admin/domains?ok=domain-added"
    st, h, body = admin.req("GET", h["location"])
    assert b"The domain was added." in body and b"<td>example.org</td>" in body
    assert "example.org" in admin.ob.cli("domain", "list").stdout      # the CLI sees it
    st, h, body = post(admin, "/admin/domains", action="add", name="example.org")
    assert st == 400 and b"already exists" in body and b'role="alert"' in body
    st, h, body = post(admin, "/admin/domains", action="del", name="local.test", password=httptest.ADMIN_PW)
    assert st == 400 and b"delete them first" in body            # it has users
    # deleting asks for the admin's own password again
    for pw in ("", "wrong"):
        st, h, body = post(admin, "/admin/domains", action="del", name="example.org", password=pw)
        assert st == 400 and b"enter your own admin password" in body
    assert "example.org" in admin.ob.cli("domain", "list").stdout
    st, h, body = post(admin, "/admin/domains", action="del", name="example.org", password=httptest.ADMIN_PW)
    assert st == 303
    assert "example.org" not in admin.ob.cli("domain", "list").stdout


@pytest.mark.parametrize("name", ["bad domain", "-x.test", XSS, "a" * 300])
def test_domain_form_errors_escaped(admin, name):
    st, h, body = post(admin, "/admin/domains", action="add", name=name)
    assert st == 400 and b"not a valid domain name" in body
    if name == XSS:
        no_markup_from_input(body)


def test_users_add_and_manage(admin):
    ob = admin.ob
    st, h, body = post(admin, "/admin/users", action="add", address="carol@local.test",
                       password="Carol-pw-1", quota="10M")
    assert st == 303, body
    assert "carol@local.test\t10M\tenabled\tpassword" in ob.cli("user", "list").stdout
    # the new user logs in over SMTP AUTH at once
    import obtest
    c = obtest.SMTPRaw(*ob.addr("submissions"), tls=True)
    c.ehlo()
    assert c.auth_plain("carol@local.test", "Carol-pw-1").code == 235
    c.close()
    st, h, body = post(admin, "/admin/users", action="passwd", address="carol@local.test", password="New-pw-2")
    assert st == 303
    c = obtest.SMTPRaw(*ob.addr("submissions"), tls=True)
    c.ehlo()
    assert c.auth_plain("carol@local.test", "New-pw-2").code == 235
    c.close()
    assert post(admin, "/admin/users", action="quota", address="carol@local.test", quota="1G")[0] == 303
    assert post(admin, "/admin/users", action="disable", address="carol@local.test")[0] == 303
    assert "carol@local.test\t1G\tdisabled" in ob.cli("user", "list").stdout
    st, h, body = admin.req("GET", "/admin/users?q=carol")
    assert b"<td>carol@local.test</td>" in body and b"alice@" not in body
    assert post(admin, "/admin/users", action="enable", address="carol@local.test")[0] == 303
    # a change by the CLI shows on the page at once
    ob.cli("user", "quota", "carol@local.test", "5M")
    st, h, body = admin.req("GET", "/admin/users?q=carol")
    assert b"<td>5M</td>" in body


@pytest.mark.parametrize("form,msg", [
    (dict(action="add", address="nobody", password="x"), b"not a valid address"),
    (dict(action="add", address="x@elsewhere.test", password="x"), b"domain elsewhere.test does not exist"),
    (dict(action="add", address="d@local.test", password=""), b"empty password"),
    (dict(action="add", address="d@local.test", password="x", quota="lots"), b"not a size"),
    (dict(action="add", address="alice@local.test", password="x"), b"already exists"),
    (dict(action="quota", address="alice@local.test", quota=XSS), b"not a size"),
    (dict(action="add", address=XSS, password="x"), b"not a valid address"),
    (dict(action="launch", address="a@local.test"), b"Unknown action"),
])
def test_user_form_errors(admin, form, msg):
    st, h, body = post(admin, "/admin/users", **form)
    assert st == 400 and msg in body, body
    if XSS in form.values():
        no_markup_from_input(body)


def test_users_paging(admin):
    for i in range(55):
        admin.ob.cli("user", "add", "u%02d@local.test" % i, input="pw\n")
    st, h, body = admin.req("GET", "/admin/users?q=u")
    assert b"50 of 55 users shown" in body and b"Next page" in body
    st, h, body = admin.req("GET", "/admin/users?q=u&page=2")
    assert b"5 of 55 users shown" in body and b"Previous page" in body
    st, h, body = admin.req("GET", "/admin/users?q=%s&page=x" % "%3Cscript%3E")
    assert st == 200 and b"0 of 0 users shown" in body and b"<script>" not in body


def test_aliases(admin):
    st, h, body = post(admin, "/admin/aliases", action="add", alias="sales@local.test",
                       target="alice@local.test")
    assert st == 303
    assert "sales@local.test" in admin.ob.cli("alias", "list").stdout
    st, h, body = post(admin, "/admin/aliases", action="add", alias="sales@local.test", target=XSS)
    assert st == 400 and b"not a valid address" in body
    no_markup_from_input(body)
    st, h, body = post(admin, "/admin/aliases", action="del", alias="sales@local.test",
                       target="alice@local.test")
    assert st == 303
    assert "sales@local.test" not in admin.ob.cli("alias", "list").stdout


def test_stored_markup_shown_escaped(admin):
    """A value stored by the CLI (a quoted local part may hold < and ") is
    escaped on every page that lists it."""
    admin.ob.cli("alias", "add", '"<b>x\\"y"@local.test', "alice@local.test")
    st, h, body = admin.req("GET", "/admin/aliases")
    assert b"<b>x" not in body and b"&lt;b&gt;x" in body


def test_pages_need_login_and_token(admin):
    for path in ("/admin/domains", "/admin/users", "/admin/aliases"):
        st, h, body = httptest.request(admin.ob, "GET", path)
        assert st == 303 and h["location"] == "/admin/login"
        st, h, body = admin.req("POST", path, {"action": "add", "name": "x.test"})
        assert st == 403
    assert "x.test" not in admin.ob.cli("domain", "list").stdout


def test_dashboard(admin):
    st, h, body = admin.req("GET", "/admin/")
    assert st == 200
    text = body.decode()
    assert re.search(r"<td>https_listen</td><td>127.0.0.1:\d+</td><td class=\"notice\">up</td>", text)
    assert "Domains: 1" in text and "Users: 2" in text
    assert "MB free of" in text and "expires in" in text
