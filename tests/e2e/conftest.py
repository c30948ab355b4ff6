"""End-to-end fixtures: Debian's Chromium driven by Playwright against a live server.

Every test here runs against ``live_server`` with ``transactional_db`` (the data a test
creates must be committed for the server thread to see it). Pages: ``desktop_page``
(1366×900) and ``phone_page`` (390×844, touch, 2× pixels); ``shot(page, name)`` saves a
full-page screenshot to ``tests/e2e/screenshots/<name>.png`` (git-ignored);
``login(page, live_server, username, password)`` signs in through ``/accounts/login/`` and, for
staff, the code page (the code computed with pyotp from the user's authenticator, as the app on
their phone would; tests/signin.py).

Content-Security-Policy: every browser context listens for violations (a
``securitypolicyviolation`` listener added by ``add_init_script`` on every document, kept in
``window.__cspViolations`` and reported to the test; Chromium's console messages about the
Content Security Policy or the Permissions-Policy header too). A test during which any
occurred fails at teardown with the violated directive, the blocked source and the page
(``_no_csp_violations``).
"""

import os
from pathlib import Path

import pytest

from tests.signin import totp_code, totp_device

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# database access from the test body ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(autouse=True)
def _e2e_live_server(live_server, transactional_db):
    """All e2e tests need the live server and committed (transactional) data."""


def _new_page(browser, **context_options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context_options)
    context.set_default_timeout(15_000)
    _watch_csp(context)
    page = context.new_page()
    # An irreversible step asks first (data-confirm, static/js/forms.js): the person says yes,
    # and the question is kept for the test to read (page.dialogs).
    page.dialogs = []

    def answer(dialog):
        page.dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    return context, page


# --- a page whose fragments are in --------------------------------------------------------------
# Every request htmx makes by itself when a page loads (``hx-trigger="load"``: the user's menu on a
# cached page, a household's sections, the similar requests on the form) starts while the page is
# parsed; after the load event, these marks are gone once each answer is swapped in and settled.
HTMX_SETTLED = """() => !document.querySelector(
  '[hx-trigger="load"], .htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"""


def settled(page):
    """Wait for the page's load event and for the fragments htmx loads by itself. (Playwright's
    ``networkidle`` waits for half a second with no request at all, on every page.)"""
    page.wait_for_load_state("load")
    page.wait_for_function(HTMX_SETTLED)


# --- Content-Security-Policy violations --------------------------------------------------------
CSP_LISTENER = """
(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    const record = {
      directive: event.effectiveDirective || event.violatedDirective,
      blocked: event.blockedURI,
      source: event.sourceFile ? event.sourceFile + ":" + event.lineNumber : "",
      sample: event.sample,
      page: document.location.href,
    };
    window.__cspViolations.push(record);
    if (window.__baoheCspViolation) { window.__baoheCspViolation(record); }
  }, true);
})();
"""
_CSP_VIOLATIONS = []  # what the contexts of the running test reported


def _watch_csp(context):
    """Report every CSP violation (and Permissions-Policy header error) in ``context``'s pages."""
    context.expose_binding("__baoheCspViolation", lambda source, record: _CSP_VIOLATIONS.append(record))
    context.add_init_script(CSP_LISTENER)

    def console(message):
        if "Content Security Policy" in message.text or "Permissions-Policy" in message.text:
            page = message.page.url if message.page else ""
            _CSP_VIOLATIONS.append({"console": message.text, "page": page})

    context.on("console", console)


def csp_violations(page):
    """The violations the current document of ``page`` recorded (``window.__cspViolations``)."""
    return page.evaluate("window.__cspViolations || []")


@pytest.fixture(autouse=True)
def _no_csp_violations():
    """Fail the test (at teardown) when a page broke the Content-Security-Policy."""
    _CSP_VIOLATIONS.clear()
    yield
    if _CSP_VIOLATIONS:
        lines = []
        for v in _CSP_VIOLATIONS:
            if "console" in v:
                lines.append(f"console: {v['console']} (page {v['page']})")
            else:
                lines.append(
                    f"{v['directive']} refused {v['blocked'] or 'inline'}"
                    f"{' from ' + v['source'] if v['source'] else ''}"
                    f"{' sample ' + repr(v['sample']) if v['sample'] else ''} (page {v['page']})"
                )
        found = list(_CSP_VIOLATIONS)
        _CSP_VIOLATIONS.clear()
        pytest.fail(f"{len(found)} CSP violation(s) or policy header error(s):\n" + "\n".join(lines), pytrace=False)


@pytest.fixture
def desktop_page(browser):
    context, page = _new_page(browser, viewport={"width": 1366, "height": 900})
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context, page = _new_page(
        browser,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    yield page
    context.close()


@pytest.fixture
def shot():
    """``shot(page, name)``: save a full-page screenshot as screenshots/<name>.png and return its path."""

    def take(page, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login():
    """``login(page, live_server, username, password)``: sign in through the login form, then the
    second step when it appears (staff without an authenticator get one first)."""

    def sign_in(page, live_server, username, password):
        page.goto(f"{live_server.url}/accounts/login/")
        form = page.locator("form").filter(has=page.locator("input[name=password]"))
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        with page.expect_navigation():
            form.locator("[type=submit]").first.click()
        if "/accounts/login/" in page.url:
            raise AssertionError(f"login as {username!r} failed: still on {page.url}")
        if "/accounts/two-factor/" in page.url:
            enter_second_factor(page, username)
        return page

    return sign_in


def enter_second_factor(page, username):
    """On the code page (or the enrolment page, after giving the user an authenticator), enter a
    fresh code for ``username``'s authenticator."""
    from accounts.models import User

    user = User.objects.get(username=username)
    if "/accounts/two-factor/setup/" in page.url:
        totp_device(user)
        page.reload()
    form = page.get_by_test_id("otp-form")
    form.locator("input[name=code]").fill(totp_code(totp_device(user)))
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    if "/accounts/two-factor/" in page.url:
        raise AssertionError(f"second step for {username!r} failed: still on {page.url}")
