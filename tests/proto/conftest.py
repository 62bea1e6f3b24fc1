"""Fixtures for the protocol tests (see obtest.py for the harness itself).

  onebox          a fresh instance per test: domain local.test, users
                  alice@ and bob@ (passwords ALICE_PW / BOB_PW),
                  auth_fail_delay_ms = 0; listeners smtp, submission and
                  submissions on 127.0.0.1 high ports.
  shared_onebox   the same, one per test module, for tests that change nothing.
  onebox_factory  make(**Onebox kwargs) -> a started, unpopulated instance;
                  populate(ob) adds the default domain and users;
                  make_pop3(**kw) -> started and populated, with POP3
                  listeners (kw as for make, e.g. conf_extra).
  pop3_onebox     like onebox, with listeners smtp, pop3 and pop3s.
  shared_pop3     the same, one per test module (tests there make their own
                  users with obtest.new_user so that they do not meet).
  imap_onebox     like onebox, with listeners smtp, imap and imaps
                  (onebox_factory.make_imap(**kw) for custom ones).
  shared_imap     the same, one per test module (tests make their own users).

Every instance is stopped at teardown (SIGTERM, exit status 0 checked, then
kill -9 of anything left); a sanitizer report in its log fails the test.  The
log tail of each instance is attached to a failing test's report.  Set
ONEBOX_KEEP=1 to keep the temporary directories (under /tmp/onebox-tests).
"""

import os

import pytest

import obtest
from obtest import Onebox

ALICE = "alice@local.test"
BOB = "bob@local.test"
ALICE_PW = "Alice-pw-1!"
BOB_PW = "Bob-pw-2?"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "root: needs root (skipped otherwise)")
    config.addinivalue_line("markers", "no_build: runs without a built oneboxd")


def pytest_collection_modifyitems(config, items):
    missing = [p for p in (obtest.ONEBOXD, obtest.ONEBOX) if not os.access(p, os.X_OK)]
    if not missing:
        return
    skip = pytest.mark.skip(reason="not built: %s (run ./configure && make, or set ONEBOX_BUILD)"
                            % ", ".join(missing))
    for item in items:
        if "no_build" not in item.keywords:
            item.add_marker(skip)


def populate(ob):
    ob.add_domain("local.test")
    ob.add_user(ALICE, ALICE_PW)
    ob.add_user(BOB, BOB_PW)
    ob.set("auth_fail_delay_ms", "0")
    return ob


POP3_LISTENERS = {"smtp": ["127.0.0.1:0"], "pop3": ["127.0.0.1:0"], "pop3s": ["127.0.0.1:0"]}


IMAP_LISTENERS = {"smtp": ["127.0.0.1:0"], "imap": ["127.0.0.1:0"], "imaps": ["127.0.0.1:0"]}


class _Instances:
    def __init__(self):
        self.all = []

    def make(self, start=True, **kw):
        ob = Onebox(**kw)
        self.all.append(ob)
        if start:
            ob.start()
        return ob

    def make_pop3(self, **kw):
        kw.setdefault("listeners", POP3_LISTENERS)
        return populate(self.make(**kw))

    def make_imap(self, **kw):
        kw.setdefault("listeners", IMAP_LISTENERS)
        return populate(self.make(**kw))

    def teardown(self):
        errors = []
        for ob in self.all:
            try:
                ob.close()
            except AssertionError as e:
                errors.append(str(e))
            reports = ob.sanitizer_reports()
            if reports:
                errors.append("sanitizer report (%s) in %s:\n%s" % (
                    ", ".join(reports), ob.log_path, ob.log_tail(150)))
        if not os.environ.get("ONEBOX_KEEP") and not errors:
            for ob in self.all:
                ob.cleanup_files()
        if errors:
            pytest.fail("onebox teardown: " + "\n\n".join(errors), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for inst in getattr(item, "_onebox_instances", []):
            for ob in inst.all:
                rep.sections.append(("oneboxd log %s" % ob.log_path, ob.log_tail(60)))


def _register(request, inst):
    lst = getattr(request.node, "_onebox_instances", [])
    lst.append(inst)
    request.node._onebox_instances = lst


@pytest.fixture
def onebox_factory(request):
    inst = _Instances()
    _register(request, inst)
    yield inst
    inst.teardown()


@pytest.fixture
def onebox(onebox_factory):
    return populate(onebox_factory.make())


@pytest.fixture
def pop3_onebox(onebox_factory):
    return onebox_factory.make_pop3()


def _module_instance(make):
    inst = _Instances()
    ob = make(inst)
    yield ob
    inst.teardown()


def _attach(request, ob):
    """ob (a module-wide instance), with its log attached to failing tests' reports."""
    holder = _Instances()
    holder.all.append(ob)
    _register(request, holder)
    assert ob.running(), "shared instance died; log:\n" + ob.log_tail()
    return ob


@pytest.fixture(scope="module")
def shared_onebox():
    yield from _module_instance(lambda inst: populate(inst.make(name="shared")))


@pytest.fixture
def shared(shared_onebox, request):
    """shared_onebox, with its log attached to failing tests' reports."""
    return _attach(request, shared_onebox)


@pytest.fixture(scope="module")
def shared_pop3_onebox():
    yield from _module_instance(lambda inst: inst.make_pop3(name="pop3"))


@pytest.fixture
def shared_pop3(shared_pop3_onebox, request):
    """shared_pop3_onebox, with its log attached to failing tests' reports."""
    return _attach(request, shared_pop3_onebox)


@pytest.fixture
def imap_onebox(onebox_factory):
    return onebox_factory.make_imap()


@pytest.fixture(scope="module")
def shared_imap_onebox():
    yield from _module_instance(lambda inst: inst.make_imap(name="imap"))


@pytest.fixture
def shared_imap(shared_imap_onebox, request):
    """shared_imap_onebox, with its log attached to failing tests' reports."""
    return _attach(request, shared_imap_onebox)
