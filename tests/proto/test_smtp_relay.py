"""No open relay: the classic tricks, from an untrusted client, a trusted
network and an authenticated submission client (issue §4, §5)."""

import os

import pytest

from conftest import ALICE, ALICE_PW, _Instances, populate

TRUSTED_SRC = "127.0.0.3"


@pytest.fixture(scope="module")
def relay_ob():
    inst = _Instances()
    ob = populate(inst.make(name="relay"))
    ob.set("trusted_networks", TRUSTED_SRC + "/32")
    yield ob
    inst.teardown()


def session(ob, ctx):
    if ctx == "untrusted":
        c = ob.raw()
        c.ehlo()
        sender = "someone@example.org"
    elif ctx == "trusted":
        c = ob.raw(source=TRUSTED_SRC)
        c.ehlo()
        sender = "someone@example.org"
    else:
        c = ob.submit_session(ALICE, ALICE_PW)
        sender = ALICE
    r = c.cmd("MAIL FROM:<%s>" % sender)
    assert r.code == 250, "MAIL in %s session: %s" % (ctx, r)
    return c


# (id, RCPT argument, allowed codes, enhanced code or None)
TRICKS = [
    ("remote", "<user@remote.test>", {554}, "5.7.1"),
    ("remote-mixed-case", "<User@Remote.TEST>", {554}, "5.7.1"),
    ("subdomain-of-local", "<user@sub.local.test>", {554}, "5.7.1"),
    ("local-as-prefix", "<user@local.test.remote.test>", {554}, "5.7.1"),
    ("localhost", "<user@localhost>", {554}, "5.7.1"),
    ("percent-hack", "<user%remote.test@local.test>", {550}, "5.1.1"),
    ("percent-hack-user", "<alice%remote.test@local.test>", {550}, "5.1.1"),
    ("source-route", "<@local.test:user@remote.test>", {554}, "5.7.1"),
    ("source-route-multi", "<@local.test,@local.test:user@remote.test>", {554}, "5.7.1"),
    ("quoted", '<"user@remote.test"@local.test>', {550}, None),
    ("quoted-user", '<"alice@remote.test"@local.test>', {550}, None),
    ("bang-path", "<remote.test!user@local.test>", {550}, None),
    ("bang-path-user", "<remote.test!alice@local.test>", {550}, None),
    ("trailing-dot", "<user@remote.test.>", {501}, None),
    ("ip-literal", "<user@[127.0.0.1]>", {554}, "5.7.1"),
    ("ip-literal-user", "<alice@[127.0.0.1]>", {554}, "5.7.1"),
    ("ip-literal-v6", "<alice@[IPv6:::1]>", {554}, "5.7.1"),
    ("double-at", "<user@remote.test@local.test>", {501, 550}, None),
    ("double-at-2", "<alice@local.test@remote.test>", {501, 554}, None),
    ("no-brackets", "user@remote.test", {501, 554}, None),
    ("space-after-colon", " <user@remote.test>", {501, 554}, None),
]

# foreign domains a trusted or authenticated client may send to (queued);
# the others (localhost, address literals, bad syntax) stay refused for all
RELAYABLE = {"remote", "remote-mixed-case", "subdomain-of-local", "local-as-prefix", "source-route",
             "source-route-multi", "no-brackets", "space-after-colon"}


@pytest.mark.parametrize("ctx", ["untrusted", "trusted", "authenticated"])
@pytest.mark.parametrize("name,rcpt,codes,enh", TRICKS, ids=[t[0] for t in TRICKS])
def test_relay_trick_refused(relay_ob, ctx, name, rcpt, codes, enh):
    relayable = name in RELAYABLE and ctx != "untrusted"
    with session(relay_ob, ctx) as c:
        r = c.cmd("RCPT TO:" + rcpt)
        if relayable:
            # a client that may relay sends to a foreign domain through the queue
            # (or a syntax error where the parser is strict)
            assert r.code == 250 or (r.code in codes and r.code != 554), "%s: RCPT TO:%s -> %s" % (ctx, rcpt, r)
            return
        assert r.code != 250 and r.code != 251, "RELAY ACCEPTED (%s): RCPT TO:%s -> %s" % (ctx, rcpt, r)
        assert r.code in codes, "%s: RCPT TO:%s -> %s (want %s)" % (ctx, rcpt, r, codes)
        if enh:
            assert r.enhanced == enh, "%s: RCPT TO:%s -> %s (want %s)" % (ctx, rcpt, r, enh)
        # and a DATA after it must not open a transaction
        r = c.cmd("DATA")
        assert r.code in (503, 554), "DATA after refused RCPT: %s" % r


@pytest.mark.parametrize("ctx", ["trusted", "authenticated"])
def test_remote_accepted_for_relay(relay_ob, ctx):
    """A client that may relay gets its foreign recipient queued: 250 at RCPT, no 451 any more."""
    with session(relay_ob, ctx) as c:
        r = c.cmd("RCPT TO:<user@remote.test>")
        assert r.code == 250, r


def test_untrusted_remote_is_relay_denied(relay_ob):
    with session(relay_ob, "untrusted") as c:
        r = c.cmd("RCPT TO:<user@remote.test>")
        assert r.code == 554 and r.enhanced == "5.7.1", r


@pytest.mark.parametrize("rcpt", ["<ALICE@LOCAL.TEST>", "<Alice@local.test>", "<alice@Local.Test>",
                                  "<@remote.test:alice@local.test>"])
def test_local_variants_delivered_to_alice(relay_ob, rcpt):
    """Mixed case is the same user; a source route is ignored (RFC 5321 §3.6)."""
    before = len(relay_ob.messages(ALICE))
    with session(relay_ob, "untrusted") as c:
        r = c.cmd("RCPT TO:" + rcpt)
        assert r.code == 250, "RCPT TO:%s -> %s" % (rcpt, r)
        assert c.data("Subject: case\r\n\r\nx\r\n").code == 250
    assert len(relay_ob.messages(ALICE)) == before + 1
    for odd in (("local.test", "ALICE"), ("LOCAL.TEST", "ALICE"), ("Local.Test", "alice")):
        assert not os.path.exists(os.path.join(relay_ob.data_dir, "mail", *odd)), \
            "mail stored under a non-normalised path %s" % "/".join(odd)
