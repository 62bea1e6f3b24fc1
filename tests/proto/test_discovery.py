"""Discovery: Thunderbird autoconfig, Outlook Autodiscover (POX and JSON),
the Apple profile.  Answers are checked with xmllint (well-formed XML,
values by XPath); only our domains are answered, and an unknown mailbox in
one of them gets exactly the same answer as a real one."""

import json
import os
import re
import subprocess

import pytest

import httptest
from httptest import request, curl
from obtest import HOSTNAME

POX_REQ = ('<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="http://schemas.microsoft.com/'
           'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>%s</EMailAddress>'
           '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/'
           'responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>')

DISCOVERY_LISTENERS = dict(httptest.WEB_LISTENERS, submission=["127.0.0.1:0"],
                           submissions=["127.0.0.1:0"], pop3=["127.0.0.1:0"], pop3s=["127.0.0.1:0"],
                           imap=["127.0.0.1:0"], imaps=["127.0.0.1:0"])


@pytest.fixture(scope="module")
def disc():
    from conftest import _Instances
    inst = _Instances()
    ob = httptest.web_onebox(inst, listeners=DISCOVERY_LISTENERS)
    yield ob
    inst.teardown()


def xmllint_ok(data):
    p = subprocess.run(["xmllint", "--noout", "-"], input=data, capture_output=True)
    assert p.returncode == 0, p.stderr.decode() + data.decode()


SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


def xmllint_valid(data, *how):
    """xmllint --noout --nonet with a schema or DTD of tests/proto/schemas."""
    p = subprocess.run(["xmllint", "--noout", "--nonet"] + list(how) + ["-"], input=data,
                       capture_output=True)
    assert p.returncode == 0, p.stderr.decode() + data.decode()


def xpath(data, expr):
    p = subprocess.run(["xmllint", "--xpath", expr, "-"], input=data, capture_output=True)
    assert p.returncode == 0, (expr, p.stderr.decode(), data.decode())
    return p.stdout.decode().strip()


def mask(data):
    """The answer with its random UUIDs blanked (Apple profile)."""
    return re.sub(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}", b"UUID", data)


@pytest.mark.parametrize("path,https", [("/.well-known/autoconfig/mail/config-v1.1.xml", False),
                                        ("/.well-known/autoconfig/mail/config-v1.1.xml", True),
                                        ("/mail/config-v1.1.xml", False)])
def test_thunderbird_autoconfig(disc, path, https):
    p = curl(disc, "-i", "{base}" + path + "?emailaddress=alice%40local.test", https=https)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head      # not redirected, even over plain HTTP
    assert b"Content-Type: application/xml" in head
    xmllint_valid(body, "--schema", os.path.join(SCHEMAS, "autoconfig.xsd"))
    assert xpath(body, "string(/clientConfig/emailProvider/domain)") == "local.test"
    ports = {}
    for i in range(1, 7):
        t = xpath(body, "string((//incomingServer|//outgoingServer)[%d]/@type)" % i)
        if not t:
            break
        port = xpath(body, "string((//incomingServer|//outgoingServer)[%d]/port)" % i)
        sock = xpath(body, "string((//incomingServer|//outgoingServer)[%d]/socketType)" % i)
        host = xpath(body, "string((//incomingServer|//outgoingServer)[%d]/hostname)" % i)
        assert host == HOSTNAME
        ports.setdefault(t, []).append((int(port), sock))
    assert ports["imap"] == [(disc.port("imaps"), "SSL"), (disc.port("imap"), "STARTTLS")]
    assert ports["pop3"] == [(disc.port("pop3s"), "SSL"), (disc.port("pop3"), "STARTTLS")]
    assert ports["smtp"] == [(disc.port("submissions"), "SSL"), (disc.port("submission"), "STARTTLS")]
    assert xpath(body, "string(//incomingServer[1]/username)") == "%EMAILADDRESS%"


def test_autoconfig_by_host_name(disc):
    st, h, body = request(disc, "GET", "/mail/config-v1.1.xml", https=False,
                          headers={"Host": "autoconfig.LOCAL.test"})
    assert st == 200
    assert xpath(body, "string(/clientConfig/emailProvider/@id)") == "local.test"


def test_unknown_address_same_answer_foreign_domain_404(disc):
    path = "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress="
    real = request(disc, "GET", path + "alice%40local.test")
    ghost = request(disc, "GET", path + "nobody-here%40local.test")
    assert real[0] == ghost[0] == 200 and real[2] == ghost[2]
    for addr in ("x%40example.org", "not-an-address", "a%40%3Cscript%3E.test", ""):
        st, h, body = request(disc, "GET", path + addr)
        assert st == 404, addr
        assert b"<script>" not in body


@pytest.mark.parametrize("path", ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
                                  "/AutoDiscover/AutoDiscover.xml"])
def test_outlook_pox(disc, path):
    st, h, body = request(disc, "POST", path, body=(POX_REQ % "alice@local.test").encode(),
                          headers={"Content-Type": "text/xml"})
    assert st == 200, body
    assert h["content-type"].startswith("application/xml")
    xmllint_valid(body, "--schema", os.path.join(SCHEMAS, "autodiscover.xsd"))
    ns = "*[local-name()='%s']"
    acct = "/%s/%s/%s" % (ns % "Autodiscover", ns % "Response", ns % "Account")
    assert xpath(body, "string(%s/%s)" % (acct, ns % "AccountType")) == "email"
    protos = {}
    for i in (1, 2):
        p = "%s/%s[%d]" % (acct, ns % "Protocol", i)
        protos[xpath(body, "string(%s/%s)" % (p, ns % "Type"))] = (
            xpath(body, "string(%s/%s)" % (p, ns % "Server")),
            int(xpath(body, "string(%s/%s)" % (p, ns % "Port"))),
            xpath(body, "string(%s/%s)" % (p, ns % "SSL")),
            xpath(body, "string(%s/%s)" % (p, ns % "LoginName")))
    assert protos["IMAP"] == (HOSTNAME, disc.port("imaps"), "on", "alice@local.test")
    assert protos["SMTP"] == (HOSTNAME, disc.port("submissions"), "on", "alice@local.test")
    # an unknown mailbox of ours: the same, with its own login name
    st, h, ghost = request(disc, "POST", path, body=(POX_REQ % "ghost@local.test").encode())
    assert ghost == body.replace(b"alice@", b"ghost@")


@pytest.mark.parametrize("body,status", [(POX_REQ % "x@example.org", 404), (POX_REQ % "", 400),
                                         ("not xml at all", 400), (POX_REQ % "<b>@local.test", 400),
                                         (POX_REQ % "a&amp;b@local.test", 400)])
def test_outlook_pox_refusals(disc, body, status):
    st, h, data = request(disc, "POST", "/autodiscover/autodiscover.xml", body=body.encode())
    assert st == status, data


def test_outlook_pox_get_and_plain(disc):
    assert request(disc, "GET", "/autodiscover/autodiscover.xml")[0] == 405
    st, h, body = request(disc, "POST", "/autodiscover/autodiscover.xml", https=False,
                          body=(POX_REQ % "alice@local.test").encode())
    assert st == 308 and h["location"].startswith("https://")


def test_outlook_json(disc):
    p = curl(disc, "{base}/autodiscover/autodiscover.json?Email=alice%40local.test&Protocol=AutodiscoverV1")
    j = json.loads(p.stdout)
    assert j == {"Protocol": "AutodiscoverV1",
                 "Url": "https://%s:%d/autodiscover/autodiscover.xml" % (HOSTNAME, disc.port("https"))}
    st, h, body = request(disc, "GET", "/autodiscover/autodiscover.json/v1.0/alice@local.test?Protocol=AutodiscoverV1")
    assert st == 200 and json.loads(body) == j
    # Exchange protocols are refused, so Outlook does not set up an Exchange account
    for proto in ("Ews", "ActiveSync", "Rest"):
        st, h, body = request(disc, "GET", "/autodiscover/autodiscover.json?Email=alice%%40local.test&Protocol=%s" % proto)
        assert st == 400 and json.loads(body)["ErrorCode"] == "ProtocolNotSupported"
    st, h, body = request(disc, "GET", "/autodiscover/autodiscover.json?Email=a%40example.org&Protocol=AutodiscoverV1")
    assert st == 404


def test_apple_profile(disc):
    p = curl(disc, "-i", "{base}/apple/onebox.mobileconfig?emailaddress=alice%40local.test")
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"Content-Type: application/x-apple-aspen-config" in head
    assert b'attachment; filename="local.test.mobileconfig"' in head
    xmllint_valid(body, "--dtdvalid", os.path.join(SCHEMAS, "plist-1.0.dtd"))
    d = "/plist/dict/array/dict"

    def val(key, kind="string"):
        return xpath(body, "string(%s/key[.='%s']/following-sibling::%s[1])" % (d, key, kind))
    assert val("EmailAccountType") == "EmailTypeIMAP"
    assert val("IncomingMailServerHostName") == HOSTNAME
    assert val("IncomingMailServerPortNumber", "integer") == str(disc.port("imaps"))
    assert val("OutgoingMailServerPortNumber", "integer") == str(disc.port("submissions"))
    assert val("IncomingMailServerUsername") == "alice@local.test"
    for key in ("IncomingPassword", "OutgoingPassword"):
        assert xpath(body, "count(//key[.='%s'])" % key) == "0"
    assert val("OutgoingPasswordSameAsIncomingPassword", "true") == ""     # <true/> present
    assert xpath(body, "count(%s/key[.='OutgoingPasswordSameAsIncomingPassword']/following-sibling::*[1][self::true])" % d) == "1"
    ghost = curl(disc, "{base}/apple/onebox.mobileconfig?emailaddress=ghost%40local.test").stdout
    assert mask(ghost) == mask(body).replace(b"alice@", b"ghost@")
    assert request(disc, "GET", "/apple/onebox.mobileconfig?emailaddress=a%40example.org")[0] == 404
    # only over HTTPS
    assert request(disc, "GET", "/apple/onebox.mobileconfig?emailaddress=alice%40local.test",
                   https=False)[0] == 301


def test_without_imap_pop3_is_offered(onebox_factory):
    """An admin who turned IMAP off (empty imap_listen and imaps_listen):
    no mail program is sent to a port nobody serves; Outlook and Apple
    devices get POP3 instead."""
    listeners = {k: v for k, v in DISCOVERY_LISTENERS.items() if k not in ("imap", "imaps")}
    ob = httptest.web_onebox(onebox_factory, listeners=listeners)
    p = curl(ob, "{base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40local.test")
    assert xpath(p.stdout, "count(//incomingServer[@type='imap'])") == "0"
    assert xpath(p.stdout, "count(//incomingServer[@type='pop3'])") == "2"
    st, h, body = request(ob, "POST", "/autodiscover/autodiscover.xml",
                          body=(POX_REQ % "alice@local.test").encode())
    assert st == 200, body
    assert b"<Type>IMAP</Type>" not in body
    assert ("<Type>POP3</Type>\n        <Server>%s</Server>\n        <Port>%d</Port>"
            % (HOSTNAME, ob.port("pop3s"))).encode() in body
    p = curl(ob, "{base}/apple/onebox.mobileconfig?emailaddress=alice%40local.test")
    assert b"<string>EmailTypePOP</string>" in p.stdout
    assert ("<integer>%d</integer>" % ob.port("pop3s")).encode() in p.stdout
