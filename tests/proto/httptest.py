"""HTTP helpers for the web tests (test_http*.py, test_admin*.py).

  web_onebox(factory, **kw)  an instance with http and https listeners on
                             127.0.0.1 high ports (plus smtp), populated
  request(ob, method, path, https=True, headers=None, body=None)
                             -> (status, headers dict lower-case, body bytes),
                             through http.client (no redirects followed)
  curl(ob, *args, https=True) -> CompletedProcess: the real curl, with the
                             URL base of the instance as {base}
"""

import http.client
import re
import urllib.parse
import ssl
import subprocess

from conftest import populate

WEB_LISTENERS = {"smtp": ["127.0.0.1:0"], "http": ["127.0.0.1:0"], "https": ["127.0.0.1:0"]}


def web_onebox(factory, **kw):
    kw.setdefault("listeners", WEB_LISTENERS)
    return populate(factory.make(**kw))


def base(ob, https=True, host="127.0.0.1"):
    role = "https" if https else "http"
    return "%s://%s:%d" % (role, host, ob.port(role))


def _ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(ob, https=True, timeout=10):
    role = "https" if https else "http"
    host, port = ob.addr(role)
    if https:
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=_ctx())
    return http.client.HTTPConnection(host, port, timeout=timeout)


def request(ob, method, path, https=True, headers=None, body=None):
    c = connect(ob, https)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def curl(ob, *args, https=True, check=False, timeout=30):
    cmd = ["curl", "-sS", "-k", "--noproxy", "*"] + [a.replace("{base}", base(ob, https)) for a in args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, check=check)


def set_cookie_value(headers):
    return headers.get("set-cookie", "")


ADMIN = "boss"
ADMIN_PW = "Boss-pw-9#"


def add_admin(ob, name=ADMIN, password=ADMIN_PW):
    ob.cli("admin", "add", name, input=password + "\n")


def cookie_value(set_cookie, name):
    m = re.search(r"(?:^|[;,]\s*)%s=([^;]*)" % re.escape(name), set_cookie or "")
    return m.group(1) if m else None


class Admin:
    """A browser-like client of the admin page (cookies kept by hand)."""

    def __init__(self, ob):
        self.ob = ob
        self.cookies = {}

    def req(self, method, path, form=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        st, rh, data = request(self.ob, method, path, headers=h, body=body)
        sc = rh.get("set-cookie")
        if sc:
            name, _, rest = sc.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in sc:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return st, rh, data

    def login(self, name=ADMIN, password=ADMIN_PW):
        st, h, body = self.req("GET", "/admin/login")
        assert st == 200, body
        pre = re.search(rb'name="pre" value="([0-9a-f]+)"', body).group(1).decode()
        return self.req("POST", "/admin/login", {"pre": pre, "name": name, "password": password})

    def csrf(self, path="/admin/"):
        st, h, body = self.req("GET", path)
        assert st == 200, (st, body[:300])
        return re.search(rb'name="csrf" value="([0-9a-f]+)"', body).group(1).decode()
