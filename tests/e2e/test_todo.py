"""我的待办, the approvals list and 督办 in a real browser, on the seeded demo district (issue 15).

Staff sign in and land on 我的待办, where a request filed a moment ago is the first row under
待签收. The secretary approves an extension from the approvals list. The district official
lands on their 待办 (overdue in the district), 督办 an overdue request of 清华苑 with a note and a
new date; the secretary sees it on their 待办 and in the request's timeline; the community's
dashboard counts it (督办件数).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role, User
from accounts.seed.demo import PASSWORD
from communities.models import Resident
from communities.seed.demo import HARMONY_NAME, QINGHUA
from service_requests import services
from service_requests.models import RequestEvent, ServiceRequest
from service_requests.selectors import leaf_categories


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def count_of(page, key):
    return int(page.locator(f"[data-count='{key}']").inner_text())


def test_todo_approvals_and_supervision(seeded, desktop_page, phone_page, live_server, login, shot):
    now = timezone.now()
    staff = User.objects.get(username="staff_qinghua")
    community_id = Role.objects.get(user=staff, kind=Role.Kind.STAFF).community_id
    resident = Resident.objects.select_related("user", "household__building", "household__compound").get(
        user__isnull=False, household__building__name=HARMONY_NAME, household__compound__name=QINGHUA
    )
    new = services.request_submit(
        by=resident.user,
        category=leaf_categories().order_by("pk").first(),
        description="5栋门口的路灯不亮了。",
        compound=resident.household.compound,
        building=resident.household.building,
        household=resident.household,
    )
    handling = ServiceRequest.objects.filter(
        community_id=community_id, status__in=("accepted", "in_progress"), extension_until=None
    )
    extended = handling.filter(resolve_due_at__gt=now).order_by("pk").first()
    services.request_extension_request(
        request=extended, by=staff, until=extended.resolve_due_at + timedelta(days=5), reason="需要等物业采购配件"
    )
    overdue = handling.filter(resolve_due_at__lt=now).exclude(pk=extended.pk).order_by("pk").first()
    assert overdue is not None and overdue.supervise_due_at is None

    # --- staff land on 我的待办; the new request is the first row under 待签收 --------------------------
    desk = desktop_page
    login(desk, live_server, "staff_qinghua", PASSWORD)
    assert desk.url == f"{live_server.url}/todo/"
    first = desk.locator("[data-rows='requests.to_accept'] li a").first
    assert first.inner_text().startswith(new.number)
    assert count_of(desk, "requests.to_accept") >= 1
    shot(desk, "todo-01-staff-landing")
    with desk.expect_navigation():
        first.click()
    assert desk.url == f"{live_server.url}{new.get_absolute_url()}"

    # --- the secretary approves the extension from the approvals list ------------------------------
    secretary = phone_page  # the secretary on a phone: the list must work there too
    login(secretary, live_server, "secretary_qinghua", PASSWORD)
    assert secretary.url == f"{live_server.url}/todo/"
    assert count_of(secretary, "requests.extensions") >= 1
    with secretary.expect_navigation():
        secretary.locator("[data-todo='requests.extensions'] a[data-testid=todo-link]").click()
    row = secretary.locator(f"[data-testid='decide-{extended.number}']")
    row.locator("input[name=extension-note]").fill("同意，请按新期限办结")
    shot(secretary, "todo-02-secretary-approvals")
    with secretary.expect_navigation():
        row.locator("button[data-action=approve]").click()
    assert f"{extended.number}：已批准延期。" in secretary.locator(".alert").first.inner_text()
    assert secretary.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    extended.refresh_from_db()
    assert (extended.extension_count, extended.extension_until) == (1, None)
    shot(secretary, "todo-03-secretary-approved")

    # --- the district official lands on their 待办 and 督办 the overdue request ---------------------
    official_page = desk
    official_page.get_by_test_id("user-menu").click()
    with official_page.expect_navigation():
        official_page.get_by_role("button", name="退出登录").click()
    login(official_page, live_server, "district", PASSWORD)
    assert official_page.url == f"{live_server.url}/todo/"
    assert count_of(official_page, "requests.overdue") >= 1
    assert official_page.locator("#sidebar").get_by_text("代录诉求").count() == 0
    shot(official_page, "todo-04-official-landing")
    official_page.goto(f"{live_server.url}{overdue.get_absolute_url()}")
    panel = official_page.locator("details[data-step=supervise]")
    panel.locator("summary").click()
    due = timezone.localtime(now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    panel.locator("input[name=supervise-due_at]").fill(due)
    panel.locator("textarea[name=supervise-note]").fill("已超期，请社区三日内办结并回复居民。")
    with official_page.expect_navigation():
        panel.locator("button[data-action=supervise]").click()
    assert official_page.locator("[data-testid=supervised-badge]").is_visible()
    shot(official_page, "todo-05-official-supervised")
    event = RequestEvent.objects.get(request=overdue, kind="supervised")
    assert "已超期，请社区三日内办结并回复居民。" in event.message

    # --- the secretary sees it on their 待办 and in the timeline -----------------------------------
    secretary.goto(f"{live_server.url}/todo/")
    assert count_of(secretary, "requests.supervised") >= 1
    with secretary.expect_navigation():
        secretary.locator("[data-todo='requests.supervised'] a[data-testid=todo-link]").click()
    assert secretary.locator(f"tr[data-number='{overdue.number}']").count() == 1
    secretary.goto(f"{live_server.url}{overdue.get_absolute_url()}")
    step = secretary.locator("[data-event=supervised]")
    assert "已超期，请社区三日内办结并回复居民。" in step.inner_text()
    step.scroll_into_view_if_needed()
    shot(secretary, "todo-06-secretary-timeline")

    # --- the dashboard counts it -----------------------------------------------------------------
    official_page.goto(f"{live_server.url}/dashboard/community/{community_id}/")
    tile = official_page.locator("[data-testid=kpi-supervised] .stat-value")
    assert int(tile.inner_text()) >= 1
    shot(official_page, "todo-07-dashboard")
    with official_page.expect_navigation():
        tile.locator("a").click()
    assert overdue.number in official_page.locator("table").inner_text()
