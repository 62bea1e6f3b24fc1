"""The admin page in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by python3-selenium.  An admin logs in, looks at the
dashboard, adds a domain and a user, meets a form error on bad input, and
the new user then reads mail over POP3.  Screenshots of every page are saved
in the test's tmp dir (printed on failure; kept by pytest's tmp_path).

Chromium is started so that it talks to nothing but the onebox on
127.0.0.1: no background services, no DNS (host-resolver-rules), no proxy.
"""

import os
import poplib
import ssl

import pytest

import httptest

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"



class LoopbackService(Service):
    """chromedriver reached at 127.0.0.1, not "localhost": selenium would
    resolve that name, and a machine without an /etc/hosts entry for it
    (a minimal container) would ask its DNS resolver."""

    @property
    def service_url(self):
        return "http://127.0.0.1:%d" % self.port

    def is_connectable(self):
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False


pytestmark = pytest.mark.skipif(not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
                                reason="chromium and chromium-driver are needed (tests/setup-deps.sh)")


@pytest.fixture
def browser(tmp_path):
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--ignore-certificate-errors", "--no-proxy-server", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-domain-reliability", "--disable-extensions",
                "--metrics-recording-only", "--window-size=1000,900",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--user-data-dir=%s" % (tmp_path / "chromium")):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=LoopbackService(CHROMEDRIVER, log_path=str(tmp_path / "chromedriver.log")),
                           options=opts)
    drv.set_page_load_timeout(30)
    drv.shots = tmp_path
    yield drv
    drv.quit()


def click(drv, how, what):
    """Click and wait for the next page (the old one goes stale)."""
    old = drv.find_element(By.TAG_NAME, "html")
    drv.find_element(how, what).click()
    WebDriverWait(drv, 20).until(EC.staleness_of(old))


def shot(drv, name):
    path = os.path.join(str(drv.shots), name + ".png")
    drv.save_screenshot(path)
    assert os.path.getsize(path) > 1000
    print("screenshot:", path)


@pytest.fixture
def web(onebox_factory):
    ob = httptest.web_onebox(onebox_factory, listeners=dict(httptest.WEB_LISTENERS,
                                                            pop3s=["127.0.0.1:0"]))
    httptest.add_admin(ob)
    return ob


def test_admin_in_browser(web, browser):
    base = httptest.base(web)
    d = browser
    d.get(base + "/")                            # redirected to the login page
    assert d.current_url == base + "/admin/login"
    shot(d, "01-login")
    # keyboard only: the name field has the focus, Tab to the password, Enter
    active = d.switch_to.active_element
    assert active.get_attribute("id") == "name"
    active.send_keys(httptest.ADMIN, Keys.TAB)
    old = d.find_element(By.TAG_NAME, "html")
    d.switch_to.active_element.send_keys(httptest.ADMIN_PW, Keys.ENTER)
    WebDriverWait(d, 20).until(EC.staleness_of(old))
    assert d.current_url == base + "/admin/"
    assert d.find_element(By.TAG_NAME, "h1").text == "Dashboard"
    cookie = d.get_cookie("onebox_admin")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert d.execute_script("return document.cookie").find("onebox_admin") < 0   # not readable by script
    shot(d, "02-dashboard")

    click(d, By.LINK_TEXT, "Domains")
    d.find_element(By.ID, "domain-name").send_keys("shop.test")
    click(d, By.XPATH, "//button[text()='Add domain']")
    assert "The domain was added." in d.page_source
    assert d.find_element(By.XPATH, "//td[text()='shop.test']")
    shot(d, "03-domain-added")
    # bad input: the form error is shown, named to the field, and escaped
    d.find_element(By.ID, "domain-name").send_keys("<b>not a domain")
    click(d, By.XPATH, "//button[text()='Add domain']")
    err = d.find_element(By.ID, "form-error")
    assert "not a valid domain name" in err.text and "<b>" in err.text
    assert err.get_attribute("role") == "alert"
    assert d.find_element(By.ID, "domain-name").get_attribute("aria-describedby") == "form-error"
    assert not d.find_elements(By.XPATH, "//main//b")
    shot(d, "04-domain-error")

    click(d, By.LINK_TEXT, "Users")
    d.find_element(By.ID, "user-address").send_keys("dave@shop.test")
    d.find_element(By.ID, "user-password").send_keys("Dave-pw-7")
    d.find_element(By.ID, "user-quota").send_keys("20M")
    click(d, By.XPATH, "//button[text()='Add user']")
    assert "The user was added." in d.page_source
    assert d.find_element(By.XPATH, "//td[text()='dave@shop.test']")
    shot(d, "05-user-added")
    d.find_element(By.ID, "user-address").send_keys("eve@shop.test")
    d.find_element(By.ID, "user-password").send_keys("x")
    d.find_element(By.ID, "user-quota").send_keys("a lot")
    click(d, By.XPATH, "//button[text()='Add user']")
    assert "not a size" in d.find_element(By.ID, "form-error").text
    assert d.find_element(By.ID, "user-address").get_attribute("value") == "eve@shop.test"
    shot(d, "06-user-error")

    # a phone-sized screen: the table rows stack, nothing needs sideways scrolling
    d.set_window_size(390, 844)
    d.get(base + "/admin/users")
    assert d.execute_script("return document.documentElement.scrollWidth") <= 420
    shot(d, "07-users-phone")

    # the new user reads mail over POP3 at once
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    p = poplib.POP3_SSL(*web.addr("pop3s"), context=ctx, timeout=10)
    p.user("dave@shop.test")
    assert p.pass_("Dave-pw-7").startswith(b"+OK")
    p.quit()
    click(d, By.XPATH, "//button[starts-with(text(), 'Log out')]")
    assert d.current_url == base + "/admin/login"
