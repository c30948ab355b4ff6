"""The strict headers in a real browser (issue 11): every role's main pages work under the
Content-Security-Policy with 0 violations (the conftest listens on every page and fails the
test otherwise), and carry the headers.

* phone: a resident's home, the submit form (photo input), their request and its timeline.
* desktop, staff (demo 清华社区): the queue's filters submit on change (static JS, no
  onchange=), the on-behalf form reloads the buildings of the chosen compound (htmx, no eval),
  "select all" on the hours list, "add a row" on the meeting minutes.
* desktop, the district official: the dashboard's three ECharts charts drawn from the JSON
  endpoint, a tooltip shown (drawn on the canvas: ECharts' HTML tooltip writes style="").
* desktop: Swagger UI at /api/docs/ as staff (a visitor is sent to the login page), and the
  Django admin as the administrator (index, a list, a change form, an add form).

Headers checked on each navigation: a CSP with this response's nonce on the page's scripts,
Permissions-Policy, Referrer-Policy, and ``Cache-Control: no-store`` for a signed-in user.
HSTS is absent: the tests run with the development defaults (DEBUG unset, plain http).
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.seed.demo import PASSWORD
from communities.models import Community, Resident
from communities.seed.demo import HARMONY_NAME, QINGHUA
from meetings import services as meeting_services
from tests.e2e.conftest import _CSP_VIOLATIONS, csp_violations, settled
from tests.factories import PASSWORD as PERSONA_PASSWORD

pytestmark = pytest.mark.e2e

NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'")


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def assert_headers(page, response, *, signed_in=True):
    """The response's headers, and the nonce on every <script> of the page it drew."""
    assert response is not None and response.ok, response and response.status
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    nonce = NONCE.search(policy).group(1)
    scripts = page.locator("script")
    assert scripts.count() >= 3
    for index in range(scripts.count()):
        # The nonce attribute is hidden from the DOM after parsing; the property keeps it.
        assert scripts.nth(index).evaluate("s => s.nonce") == nonce
    features = headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in features
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers
    if signed_in:
        assert "no-store" in headers["cache-control"]
    return nonce


def goto(page, url):
    response = page.goto(url)
    settled(page)
    return response


def test_a_resident_on_a_phone(seeded, phone_page, live_server, login, shot):
    page = phone_page
    resident = Resident.objects.select_related("user").get(
        user__isnull=False, household__building__name=HARMONY_NAME, household__compound__name=QINGHUA
    )
    login(page, live_server, resident.user.username, PASSWORD)

    home = goto(page, f"{live_server.url}/")
    assert_headers(page, home)
    submit = goto(page, f"{live_server.url}{reverse('service_requests:submit')}")
    first_nonce = assert_headers(page, submit)
    # Photos are chosen with plain file inputs (拍照 hands over to the phone's camera app through
    # ``capture``, 相册 to its gallery): the camera permission stays off.
    assert page.locator("input[type=file][name=photos]").count() == 2
    assert page.locator("input[type=file][name=photos][capture=environment]").count() == 1
    shot(page, "headers-01-resident-submit")
    mine = goto(page, f"{live_server.url}{reverse('service_requests:mine')}")
    assert assert_headers(page, mine) != first_nonce  # a fresh nonce per page
    link = page.locator("main a.request-card").first
    if link.count():
        with page.expect_navigation() as navigation:
            link.click()
        assert_headers(page, navigation.value)
    shot(page, "headers-02-resident-request")


def test_staff_pages_work_without_inline_script(seeded, desktop_page, live_server, login, shot):
    page = desktop_page
    staff = User.objects.get(username="staff_qinghua")
    login(page, live_server, "staff_qinghua", PASSWORD)

    # The queue: choosing a category submits the filter (data-autosubmit, static/js/portal.js).
    queue = goto(page, f"{live_server.url}{reverse('service_requests:queue')}")
    assert_headers(page, queue)
    categories = page.get_by_test_id("queue-filter").locator("select[name=category]")
    chosen = categories.locator("option").nth(1).get_attribute("value")
    with page.expect_navigation() as navigation:
        categories.select_option(chosen)
    assert f"category={chosen}" in page.url
    assert_headers(page, navigation.value)
    shot(page, "headers-03-queue")

    # On behalf of a resident: the chosen compound's buildings come in by htmx (hx-trigger from:).
    entry = goto(page, f"{live_server.url}{reverse('service_requests:new')}?on_behalf=1")
    assert_headers(page, entry)
    buildings = page.locator("#id_building option")
    before = buildings.count()
    page.locator("#id_compound").select_option(index=1)
    # A function, not an expression string: Playwright would eval() a string, which the CSP refuses.
    page.wait_for_function("() => document.querySelectorAll('#id_building option').length > 1")
    assert buildings.count() > before

    # Volunteer hours waiting for review: "select all" ticks every row (data-select-all).
    hours = goto(page, f"{live_server.url}{reverse('volunteers:hours')}")
    assert_headers(page, hours)
    boxes = page.locator("input[name=ids]")
    if boxes.count():
        page.get_by_test_id("select-all").check()
        assert boxes.evaluate_all("bs => bs.every(b => b.checked)")
        page.get_by_test_id("select-all").uncheck()
        assert boxes.evaluate_all("bs => bs.every(b => !b.checked)")

    # The minutes of a planned meeting: "再加一行" adds a decision row from the <template>.
    community = Community.objects.get(compounds__name=QINGHUA)
    meeting = meeting_services.meeting_create(
        by=staff,
        community=community,
        topic="楼道堆物整治协商会",
        scheduled_at=timezone.now() + timedelta(days=1),
        place="社区党群服务中心",
    )
    minutes = goto(page, f"{live_server.url}{reverse('meetings:minutes', args=[meeting.pk])}")
    assert_headers(page, minutes)
    rows = page.get_by_test_id("decision-row")
    count = rows.count()
    page.locator("#add-decision").click()
    assert rows.count() == count + 1
    assert page.locator("#id_decisions-TOTAL_FORMS").input_value() == str(count + 1)
    rows.nth(count).get_by_label("决议内容").fill("楼道杂物一周内清理")
    shot(page, "headers-04-minutes")


def test_the_dashboard_draws_its_charts_under_the_policy(seeded, desktop_page, live_server, login, shot):
    page = desktop_page
    login(page, live_server, "district", PASSWORD)

    response = goto(page, f"{live_server.url}{reverse('dashboard:home')}")
    page.wait_for_selector("[data-charts-ready='1']")
    assert_headers(page, response)
    for chart in ("chart-trend", "chart-categories", "chart-children"):
        assert page.get_by_test_id(chart).locator("canvas").count() >= 1, chart
    # A tooltip on the trend chart: drawn on the canvas, nothing inline.
    box = page.get_by_test_id("chart-trend").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__cspViolations.length") == 0
    shot(page, "headers-05-dashboard")


def test_api_docs_for_staff_under_the_policy(district, staff_a, desktop_page, live_server, login, shot):
    page = desktop_page
    page.goto(f"{live_server.url}/api/docs/")
    assert "/accounts/login/" in page.url and "next=/api/docs/" in page.url

    login(page, live_server, "staff_a", PERSONA_PASSWORD)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert response.ok
    assert "no-store" in response.headers["cache-control"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "和美社区 API" in page.locator(".swagger-ui .info .title").inner_text()
    operation = page.locator(".opblock").first
    operation.locator(".opblock-summary").click()
    page.wait_for_selector(".opblock-body")
    shot(page, "headers-06-api-docs")


def test_the_admin_under_the_policy(district, admin_user, desktop_page, live_server, login, shot):
    page = desktop_page
    login(page, live_server, "admin", PERSONA_PASSWORD)

    for path in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{admin_user.pk}/change/",
        "/admin/communities/compound/add/",
        "/admin/service_requests/category/add/",
    ):
        response = goto(page, f"{live_server.url}{path}")
        assert response.ok, path
        headers = response.headers
        assert "unsafe-inline" not in headers["content-security-policy"], path
        assert "no-store" in headers["cache-control"], path
        assert "camera=()" in headers["permissions-policy"], path
    shot(page, "headers-07-admin")


def test_the_listener_reports_what_the_browser_refuses(district, desktop_page, live_server):
    """The conftest's listener sees a refused inline script and style attribute (so a clean run
    means something); cleared here so this test's teardown passes."""
    page = desktop_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true";
            document.body.appendChild(script);
            const box = document.createElement("div");
            box.innerHTML = '<span style="color: red">x</span>';
            document.body.appendChild(box);
        }"""
    )
    page.wait_for_timeout(300)

    assert page.evaluate("window.__inlineRan") is None
    refused = {v["directive"] for v in csp_violations(page)}
    assert {"script-src-elem", "style-src-attr"} <= refused, refused
    reported = {v.get("directive") for v in _CSP_VIOLATIONS}
    assert {"script-src-elem", "style-src-attr"} <= reported, _CSP_VIOLATIONS
    _CSP_VIOLATIONS.clear()
