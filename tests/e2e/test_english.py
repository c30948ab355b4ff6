"""The portal in English, in a real browser, on the seeded demo district (issue 15).

Staff of 清华社区 switch the language from the user menu and walk the request page, the queue
and the inbox; the request page's irreversible step (办结) asks first and says so in English.
The district official, in the same browser, opens the dashboard. On every page, the Chinese
left is user data only (tests/english.py: places, people, what was written), never ours:
labels, buttons, category names, stored notification and timeline texts, dates.
"""

import pytest

from accounts.seed.demo import PASSWORD
from service_requests.models import ServiceRequest
from tests.english import chinese_of_ours, user_data_runs

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def no_chinese_of_ours(page, allowed, name):
    found = chinese_of_ours(page.content(), allowed)
    assert found == {}, f"{name}: {found}"


def test_staff_and_official_walk_the_portal_in_english(seeded, desktop_page, live_server, login, shot):
    page = desktop_page
    # The search boxes' example query ("e.g. 5栋 漏水") stays Chinese in English on purpose, in
    # every translation of it: it is what one types to find building 5's leaks in this
    # district's data, which is Chinese. "5栋" is a building's name already; "漏水" is allowed here.
    allowed = user_data_runs() | {"漏水"}
    request = (
        ServiceRequest.objects.filter(
            compound__community__name="清华社区", status=ServiceRequest.Status.IN_PROGRESS, extension_until=None
        )
        .order_by("pk")
        .first()
    )

    login(page, live_server, "staff_qinghua", PASSWORD)
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_test_id("language-switch").click()
    assert page.locator("html").get_attribute("lang") == "en"

    # The request page: English category, English timeline, verbs on the steps.
    page.goto(f"{live_server.url}/requests/{request.pk}/")
    assert page.get_by_text(request.category.name_en).count() > 0
    panel = page.locator("details[data-step='resolve']")
    summary = panel.locator("summary")
    assert summary.inner_text().strip() == "Resolve"
    no_chinese_of_ours(page, allowed, "request")
    shot(page, "english-01-request")
    # 办结 asks first; the question is English and comes from the workflow table.
    summary.click()
    panel.locator("textarea[name$=message]").fill("The drain was cleared and checked.")
    with page.expect_navigation():
        panel.locator("button[data-action=resolve]").click()
    assert page.dialogs == ["Once resolved, the resident is asked to rate it, and this cannot be undone. Resolve it?"]
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.RESOLVED

    page.goto(f"{live_server.url}/requests/queue/")
    no_chinese_of_ours(page, allowed, "queue")
    shot(page, "english-02-queue")

    page.goto(f"{live_server.url}/notifications/")
    no_chinese_of_ours(page, allowed, "inbox")
    assert page.get_by_test_id("inbox").get_by_text("New request").count() > 0
    shot(page, "english-03-inbox")

    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    login(page, live_server, "district", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("[data-charts-ready='1']")
    assert page.locator("html").get_attribute("lang") == "en"
    no_chinese_of_ours(page, allowed, "dashboard")
    assert page.get_by_text("Building party group", exact=True).count() == 1
    shot(page, "english-04-dashboard")
