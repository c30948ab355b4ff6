"""The inbox and the notification preferences in a real browser (small fixed district).

* desktop: 曙光社区's staff member has three unread notifications (two new requests and a
  deadline warning) and one read one: the bell in the navigation bar shows 3; the inbox lists
  them newest first, unread in bold; opening one goes to its request and the bell shows 2;
  "mark all read" empties the counter; the preferences page shows the staff defaults (inbox
  and the daily digest) and, as the account has no mobile number, no SMS switch but the reason;
  email is switched on and saved.
* phone: the resident sees the bell with 1 (their request was accepted), reads it in the
  inbox, and finds SMS switched on by default on the preferences page.
* after an outage: five requests passed their accept deadline while the worker was down; the
  secretary gets one notification naming them (not five), it opens the overdue queue with the
  five, and a request's timeline shows "overdue, the secretary was told" as an internal step.
"""

import re

import pytest
from django.utils import timezone

from notifications.models import Notification, Preference
from service_requests.reminders import scan_deadlines
from service_requests.services import request_accept, request_submit
from tests.clocks import make_due
from tests.factories import PASSWORD, CategoryFactory

pytestmark = pytest.mark.e2e


def badge(page):
    """The unread counter in the navigation bar, or None when there is none."""
    counter = page.get_by_test_id("unread-count")
    return counter.inner_text() if counter.count() else None


def top(page):
    page.evaluate("() => window.scrollTo(0, 0)")


def assert_no_horizontal_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


@pytest.fixture
def inbox_world(district, resident, staff_a, secretary_a):
    category = CategoryFactory(
        parent__name="公共设施", name="楼道照明", code="e2e-light", accept_within_hours=4, resolve_within_days=3
    )
    home = district.a1.households[0]
    first = request_submit(
        by=resident,
        category=category,
        description="2栋3单元楼道灯坏了，晚上很黑。",
        compound=district.a1.compound,
        building=home.building,
        household=home,
    )
    second = request_submit(
        by=resident, category=category, description="小区东门路灯不亮。", compound=district.a1.compound
    )
    # The first request's 75% warning falls due: the scan tells the community's staff.
    make_due(first, "accept_warn_at")
    scan_deadlines()
    # One older notice that staff_a has read already.
    read = Notification.objects.create(
        recipient=staff_a, kind="test", title="系统维护通知：本周六 22:00 暂停服务一小时", dedupe_key="e2e:read"
    )
    Notification.objects.filter(pk=read.pk).update(
        created_at=timezone.now() - timezone.timedelta(days=2), read_at=timezone.now()
    )
    return {"first": first, "second": second}


def test_staff_inbox_counter_mark_all_read_and_preferences(inbox_world, desktop_page, live_server, login, shot):
    page = desktop_page
    first = inbox_world["first"]
    login(page, live_server, "staff_a", PASSWORD)
    assert badge(page) == "3"
    assert page.get_by_role("link", name="消息 3 条未读").is_visible()  # its name: what it shows, and more

    with page.expect_navigation():
        page.get_by_test_id("inbox-link").click()
    assert page.url == f"{live_server.url}/notifications/"
    rows = page.locator("[data-notification]")
    titles = [t.strip() for t in rows.locator(".text-break").all_inner_texts()]
    assert len(titles) == 4
    assert titles[0].startswith(f"诉求 {first.number} 即将超过签收时限（")
    assert set(titles[1:3]) == {
        f"新诉求 {first.number}：公共设施 / 楼道照明",
        f"新诉求 {inbox_world['second'].number}：公共设施 / 楼道照明",
    }
    assert titles[3] == "系统维护通知：本周六 22:00 暂停服务一小时"
    assert rows.locator(".fw-bold").count() == 3
    assert page.get_by_test_id("inbox-unread").inner_text() == "3 条未读"
    shot(page, "notifications-01-staff-inbox")

    # Opening the warning goes to its request and marks it read.
    with page.expect_navigation():
        rows.first.locator("a").click()
    assert page.url == f"{live_server.url}/requests/{first.pk}/"
    assert badge(page) == "2"
    top(page)
    shot(page, "notifications-02-opened-request")

    with page.expect_navigation():
        page.get_by_test_id("inbox-link").click()
    with page.expect_navigation():
        page.get_by_test_id("mark-all-read").click()
    assert badge(page) is None
    assert page.get_by_role("alert").inner_text().strip() == "已将 2 条通知标为已读。"
    assert page.locator("[data-notification] .fw-bold").count() == 0
    assert page.get_by_test_id("mark-all-read").count() == 0
    shot(page, "notifications-03-all-read")

    # Preferences: staff default to the inbox and the daily digest. staff_a has an email address
    # but no mobile number, so SMS is not offered at all, and the page says why.
    with page.expect_navigation():
        page.get_by_role("link", name="通知设置").click()
    assert page.locator("input[name=daily_digest]").is_checked()
    assert not page.locator("input[name=email]").is_checked()
    assert page.locator("input[name=sms]").count() == 0
    reasons = [t.strip() for t in page.get_by_test_id("channel-unavailable").all_inner_texts()]
    assert reasons == ["您的账号没有手机号，不能接收短信通知。"]
    assert page.get_by_test_id("defaults-note").inner_text() == "当前为工作人员默认设置：站内消息加每日汇总邮件。"
    page.locator("input[name=email]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    assert "通知设置已保存。" in page.get_by_role("alert").inner_text()
    assert page.locator("input[name=email]").is_checked()
    saved = Preference.objects.get(user__username="staff_a")
    assert (saved.email, saved.sms, saved.daily_digest) == (True, False, True)
    shot(page, "notifications-04-staff-preferences")


def test_resident_on_a_phone_reads_the_inbox_and_sees_sms_on(
    inbox_world, resident, staff_a, phone_page, live_server, login, shot
):
    page = phone_page
    request_accept(request=inbox_world["first"], by=staff_a)
    login(page, live_server, resident.username, PASSWORD)
    assert badge(page) == "1"
    top(page)
    shot(page, "notifications-05-phone-resident-bell")

    with page.expect_navigation():
        page.get_by_test_id("inbox-link").click()
    assert_no_horizontal_scroll(page)
    title = page.locator("[data-notification] .text-break").first.inner_text()
    assert title == f"您的诉求 {inbox_world['first'].number} 已被社区签收。"
    shot(page, "notifications-06-phone-inbox")

    with page.expect_navigation():
        page.get_by_role("link", name="通知设置").click()
    assert_no_horizontal_scroll(page)
    assert page.locator("input[name=sms]").is_checked()
    assert not page.locator("input[name=email]").is_checked()
    assert not page.locator("input[name=daily_digest]").is_checked()
    help_text = page.locator("input[name=sms] ~ .form-text").inner_text()
    assert re.fullmatch(r"发送到 139\*{4}\d{4}。", help_text), help_text
    shot(page, "notifications-07-phone-preferences")


def test_after_an_outage_the_secretary_reads_one_notice_for_five_overdue_requests(
    district, resident, secretary_a, desktop_page, live_server, login, shot
):
    category = CategoryFactory(
        parent__name="公共设施", name="电梯故障", code="e2e-lift", accept_within_hours=4, resolve_within_days=3
    )
    requests = [
        request_submit(by=resident, category=category, description=f"{n}号楼电梯停运。", compound=district.a1.compound)
        for n in range(1, 6)
    ]
    Notification.objects.all().delete()  # the "new request" notices: not what this is about
    for request in requests:
        make_due(request, "accept_due_at", ago=timezone.timedelta(hours=2))
    assert scan_deadlines()["accept.overdue"] == 5
    page = desktop_page
    login(page, live_server, "secretary_a", PASSWORD)
    assert badge(page) == "1"
    with page.expect_navigation():
        page.get_by_test_id("inbox-link").click()
    rows = page.locator("[data-notification]")
    assert rows.count() == 1
    assert rows.first.locator(".text-break").inner_text().startswith("5 件诉求已超过签收时限，仍未签收：")
    shot(page, "notifications-08-secretary-one-notice-for-five")

    with page.expect_navigation():
        rows.first.locator("a").click()
    assert page.url == f"{live_server.url}/requests/queue/?due=overdue"
    listed = page.content()
    assert all(request.number in listed for request in requests)
    shot(page, "notifications-09-overdue-queue")

    with page.expect_navigation():
        page.goto(f"{live_server.url}{requests[0].get_absolute_url()}")
    overdue = page.locator('[data-event="overdue"]')
    assert overdue.count() == 1
    assert "超过签收时限，已通知社区书记。" in overdue.inner_text()
    assert "内部，居民不可见" in overdue.inner_text()
    overdue.scroll_into_view_if_needed()
    shot(page, "notifications-10-timeline-overdue")
