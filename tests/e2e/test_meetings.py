"""Consultation meetings (协商议事) in a real browser.

* desktop: 曙光社区's staff plan a meeting from two residents' requests, record who came, try
  to record the minutes with a past due date (the error shows on the field), record them with
  two decisions and their action items, confirm the items done and see both requests resolved
  (the request page shows the resolution); staff of another community get a 404.
* phone: the meeting page on a phone screen (no sideways scrolling).
* the demo: 滨湖和园小区's third meeting (decisions, action items, supervision) as the street
  official of 滨湖世纪社区 sees it.

Screenshots: tests/e2e/screenshots/meetings-*.png.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.models import ActionItem, Meeting
from service_requests.models import RequestEvent, ServiceRequest
from service_requests.services import request_submit
from tests.factories import PASSWORD, CategoryFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def requests_a1(district, resident, staff_a):
    """Two open requests in 曙光小区: one the resident filed, one staff entered for a neighbour."""
    category = CategoryFactory(name="意见建议", code="e2e-suggestion", resolve_within_days=10)
    tree = district.a1
    garage = request_submit(
        by=resident,
        category=category,
        description="地下车库堆满旧自行车和杂物，占用车位，希望统一清理。",
        compound=tree.compound,
        building=tree.buildings[0],
        household=tree.households[0],
    )
    head = tree.residents[6]
    lights = request_submit(
        by=staff_a,
        category=category,
        description="小区东门到 2 栋的路灯坏了好几盏，晚上出行不安全。",
        compound=tree.compound,
        building=tree.buildings[1],
        household=tree.households[3],
        contact_name=head.name,
        contact_mobile=head.mobile,
    )
    return garage, lights


def logout(page):
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()


def assert_no_horizontal_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


def test_staff_plan_a_meeting_from_requests_and_resolve_them(
    requests_a1, staff_b, desktop_page, live_server, login, shot
):
    page = desktop_page
    garage, lights = requests_a1
    login(page, live_server, "staff_a", PASSWORD)

    # The sidebar leads to 协商议事; the list is empty.
    with page.expect_navigation():
        page.locator("#sidebar").get_by_role("link", name="协商议事").click()
    assert page.locator("main h1").inner_text().strip() == "协商议事"
    assert page.get_by_test_id("meetings").locator("tbody tr").inner_text().strip() == "暂无符合条件的会议"

    # --- plan the meeting from the two requests ---------------------------------------------------
    with page.expect_navigation():
        page.get_by_test_id("new-meeting").click()
    choices = page.get_by_test_id("request-choices")
    assert choices.locator("input[type=checkbox]").count() == 2
    choices.get_by_label(garage.number, exact=False).check()
    choices.get_by_label(lights.number, exact=False).check()
    page.locator("#id_compound").select_option(label="曙光社区 · 曙光小区")
    page.get_by_label("议题").fill("曙光小区车库清理和路灯维修协商议事会")
    held = timezone.localtime() - timedelta(hours=3)
    page.get_by_label("会议时间").fill(held.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("地点").fill("曙光社区党群服务中心二楼会议室")
    page.get_by_label("议程").fill("一、通报车库和路灯情况；二、听取居民意见；三、协商表决")
    page.get_by_label("其他参会人员").fill("娄某 志愿者")
    shot(page, "meetings-01-plan")
    with page.expect_navigation():
        page.get_by_test_id("save-meeting").click()
    meeting = Meeting.objects.get()
    assert page.url == f"{live_server.url}{meeting.get_absolute_url()}"
    assert page.get_by_test_id("meeting-topic").inner_text() == "曙光小区车库清理和路灯维修协商议事会"
    assert "已创建会议" in page.locator(".alert-success").inner_text()
    listed = page.get_by_test_id("meeting-requests")
    for request in (garage, lights):
        row = listed.locator(f"[data-request='{request.number}']")
        assert row.locator("[data-status]").get_attribute("data-status") == "in_progress"

    # --- who came ---------------------------------------------------------------------------------
    invitees = page.get_by_test_id("invitees").locator("input[type=checkbox]")
    count = invitees.count()
    assert count == meeting.invitees.count() >= 3
    for index in range(count - 1):
        invitees.nth(index).check()
    with page.expect_navigation():
        page.get_by_test_id("save-attendance").click()
    assert "已记录到会情况" in page.locator(".alert-success").inner_text()
    assert page.locator("main [data-status]").first.get_attribute("data-status") == "held"
    shot(page, "meetings-02-held")

    # --- the minutes: first with a due date in the past ----------------------------------------------
    with page.expect_navigation():
        page.get_by_test_id("record-minutes").click()
    page.get_by_label("会议纪要").fill("到会居民一致同意限期清理车库杂物，路灯由物业更换。")
    rows = page.get_by_test_id("decision-row")
    first, second = rows.nth(0), rows.nth(1)
    first.get_by_label("决议内容").fill("地下车库杂物限期清运")
    first.get_by_label("落实事项").fill("入户劝导并组织清运")
    first.get_by_label("负责人").select_option(label="曙光社区网格员")
    first.get_by_label("完成期限").fill((timezone.localdate() - timedelta(days=1)).isoformat())
    first.get_by_label(lights.number).uncheck()
    second.get_by_label("决议内容").fill("更换损坏路灯")
    second.get_by_label("负责单位").fill("和美物业")
    second.get_by_label("完成期限").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    second.get_by_label(garage.number).uncheck()
    with page.expect_navigation():
        page.get_by_test_id("save-minutes").click()
    error = page.locator("[data-field-error='decisions-0-due_on']")
    assert error.inner_text() == "完成期限不能早于今天。"
    shot(page, "meetings-03-minutes-error")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD and not ActionItem.objects.exists()

    first = page.get_by_test_id("decision-row").nth(0)
    first.get_by_label("完成期限").fill((timezone.localdate() + timedelta(days=3)).isoformat())
    shot(page, "meetings-04-minutes")
    with page.expect_navigation():
        page.get_by_test_id("save-minutes").click()
    assert "已记录会议纪要：2 项决议，2 个落实事项。" in page.locator(".alert-success").inner_text()
    decisions = page.get_by_test_id("decision")
    assert decisions.count() == 2
    assert page.get_by_test_id("items-progress").inner_text() == "0 / 2 项已完成"
    shot(page, "meetings-05-decisions")

    # --- confirm the items done: each request is resolved once all its items are ----------------------
    item = decisions.nth(0).get_by_test_id("action-item")
    item.get_by_placeholder("完成情况（可选）").fill("已清运旧自行车 30 辆")
    with page.expect_navigation():
        item.get_by_test_id("complete-action").click()
    message = page.locator(".alert-success").inner_text()
    assert f"诉求 {garage.number} 的决议事项已全部完成，已办结并进入回访。" in message
    listed = page.get_by_test_id("meeting-requests")
    assert listed.locator(f"[data-request='{garage.number}'] [data-status]").get_attribute("data-status") == "resolved"
    assert (
        listed.locator(f"[data-request='{lights.number}'] [data-status]").get_attribute("data-status") == "in_progress"
    )
    with page.expect_navigation():
        page.get_by_test_id("decision").nth(1).get_by_test_id("complete-action").click()
    assert f"诉求 {lights.number}" in page.locator(".alert-success").inner_text()
    statuses = page.get_by_test_id("meeting-requests").locator("[data-status]")
    assert [statuses.nth(i).get_attribute("data-status") for i in range(2)] == ["resolved", "resolved"]
    assert page.get_by_test_id("items-progress").inner_text() == "2 / 2 项已完成"
    shot(page, "meetings-06-resolved")
    for request in (garage, lights):
        request.refresh_from_db()
        assert request.status == ServiceRequest.Status.RESOLVED
        assert request.events.filter(kind=RequestEvent.Kind.RESOLVED).count() == 1

    # The request's own page shows the resolution the meeting's work produced.
    with page.expect_navigation():
        page.get_by_test_id("meeting-requests").get_by_role("link", name=garage.number).click()
    assert "决议事项已全部完成" in page.locator("main").inner_text()
    shot(page, "meetings-07-request-resolved")

    # The meetings list shows the progress.
    page.goto(f"{live_server.url}/meetings/")
    row = page.get_by_test_id("meetings").locator(f"[data-meeting='{meeting.pk}']")
    assert "2 / 2 已完成" in row.inner_text()
    shot(page, "meetings-08-list")
    logout(page)

    # --- another community's staff: the meeting is not there for them -------------------------------
    login(page, live_server, "staff_b", PASSWORD)
    response = page.goto(f"{live_server.url}{meeting.get_absolute_url()}")
    assert response.status == 404
    assert "曙光小区车库清理" not in page.content()
    shot(page, "meetings-09-out-of-scope-404")


def test_meeting_page_on_a_phone(requests_a1, staff_a, phone_page, live_server, login, shot):
    from meetings import services

    garage, lights = requests_a1
    tree_compound = garage.compound
    meeting = services.meeting_create(
        by=staff_a,
        community=tree_compound.community,
        compound=tree_compound,
        topic="曙光小区车库清理协商议事会",
        scheduled_at=timezone.now() - timedelta(hours=2),
        place="曙光社区党群服务中心",
        requests=[garage, lights],
        invitees=[{"role": "property_company", "name": "和美物业"}],
    )
    services.meeting_record_minutes(
        meeting=meeting,
        by=staff_a,
        minutes="形成一项决议。",
        decisions=[
            {
                "text": "地下车库杂物限期清运",
                "action_items": [
                    {"owner": staff_a, "due_on": timezone.localdate(), "requests": [garage, lights], "task": "组织清运"}
                ],
            }
        ],
    )
    page = phone_page
    login(page, live_server, "staff_a", PASSWORD)
    page.goto(f"{live_server.url}{meeting.get_absolute_url()}")
    assert page.get_by_test_id("meeting-topic").inner_text() == "曙光小区车库清理协商议事会"
    assert page.get_by_test_id("complete-action").is_visible()
    assert_no_horizontal_scroll(page)
    shot(page, "meetings-10-phone-detail")
    page.goto(f"{live_server.url}/meetings/")
    assert page.get_by_test_id("meetings").locator("tbody tr[data-meeting]").count() == 1
    # The wide table scrolls inside its card: the topic keeps a readable width.
    assert page.locator("td.col-topic").bounding_box()["width"] >= 200
    assert_no_horizontal_scroll(page)
    shot(page, "meetings-11-phone-list")
    page.goto(f"{live_server.url}/meetings/actions/")
    assert page.get_by_test_id("actions").locator("tbody tr[data-action]").count() == 1
    assert_no_horizontal_scroll(page)
    shot(page, "meetings-12-phone-actions")


def test_the_demo_meetings_of_binhu_heyuan(demo, desktop_page, live_server, login, shot):
    from accounts.seed.demo import PASSWORD as DEMO_PASSWORD

    third = Meeting.objects.get(topic="环境综合提升改造第三次座谈会：改造方案表决和分工")
    assert Meeting.objects.filter(compound=third.compound).count() == 3
    page = desktop_page
    login(page, live_server, "street_binhu", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/meetings/?community={third.community_id}")
    assert page.get_by_test_id("meetings").locator("tbody tr[data-meeting]").count() == 3
    shot(page, "meetings-13-demo-list")
    page.goto(f"{live_server.url}{third.get_absolute_url()}")
    decisions = page.get_by_test_id("decision")
    assert decisions.count() == 2
    assert "地下车库杂物清运" in decisions.nth(0).inner_text()
    assert "公共设施改造" in decisions.nth(1).inner_text()
    assert page.get_by_test_id("team-name").first.inner_text().startswith("滨湖和园小区义务监督队")
    assert page.get_by_test_id("inspection").count() == 4
    # The official reads; only the community's staff confirm items.
    assert page.get_by_test_id("complete-action").count() == 0
    statuses = page.get_by_test_id("meeting-requests").locator("[data-status]")
    assert sorted(statuses.nth(i).get_attribute("data-status") for i in range(statuses.count())) == [
        "in_progress",
        "resolved",
    ]
    shot(page, "meetings-14-demo-third-meeting")
