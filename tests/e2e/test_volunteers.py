"""Volunteer service in a real browser, on the seeded demo district (``seed_baohe``).

* phone: the demo resident (和谐5栋) opens 志愿活动 from their building page, sees their
  points, signs up for the last place of an activity, joins the waitlist of a full one, is
  promoted when someone cancels (and told in the inbox), and cancels a sign-up.
* desktop: 清华社区's staff check volunteers in on the check-in sheet, approve the hours in
  bulk, see the points balance and download the Excel export, which agrees with the hours;
  the household page shows the services it received; another community's staff get 404;
  the district official sees 千万工程 progress per street against the targets.
"""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from accounts.seed.demo import PASSWORD
from communities.seed.demo import QINGHUA
from partybuilding.models import Backbone, BackboneTarget
from volunteers import services
from volunteers.models import Activity, PointsEntry, ServiceHours, ServiceProject, Signup, Volunteer, VolunteerTeam
from volunteers.seed.demo import demo_resident

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def heading(page):
    return page.locator("main h1").first


def assert_no_horizontal_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


def click_and_wait(page, locator):
    with page.expect_navigation():
        locator.click()


def alert_text(page):
    return page.locator("main .alert").first.inner_text().strip()


def test_phone_resident_signs_up_waits_is_promoted_and_cancels(seeded, phone_page, live_server, login, shot):
    page = phone_page
    record = demo_resident()
    user = record.user
    volunteer = Volunteer.objects.get(resident=record)
    staff = User.objects.get(username="staff_qinghua")
    community = record.community
    last_place = Activity.objects.get(community=community, title="四美一好楼栋环境整治")
    assert Signup.objects.filter(activity=last_place, status="confirmed").count() == last_place.capacity - 1
    # A small activity that is already full: the resident will wait for it.
    project = ServiceProject.objects.get(community=community, kind=ServiceProject.Kind.SUNSHINE)
    team = VolunteerTeam.objects.get(compound__name=QINGHUA)
    starts = (timezone.localtime() + datetime.timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    full = Activity.objects.create(
        project=project,
        team=team,
        compound=record.household.compound,
        title="一米阳光·周末陪老人下棋",
        place="和谐5栋楼下活动室",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        signup_deadline=starts - datetime.timedelta(hours=6),
        capacity=1,
    )
    other = team.memberships.exclude(volunteer=volunteer).select_related("volunteer").first().volunteer
    services.signup_create(activity_id=full.pk, by=staff, volunteer=other)
    points_before = PointsEntry.objects.filter(volunteer=volunteer).aggregate(s=Sum("points"))["s"]

    login(page, live_server, user.username, PASSWORD)
    assert page.url == f"{live_server.url}{reverse('communities:my_building')}"
    click_and_wait(page, page.get_by_test_id("volunteer-link"))
    assert page.url == f"{live_server.url}{reverse('volunteers:my_home')}"
    assert heading(page).inner_text().strip() == "志愿活动"
    assert page.get_by_test_id("points").inner_text() == f"{Decimal(points_before):.2f}"
    cards = page.get_by_test_id("open-activities").locator(".activity-card")
    titles = cards.evaluate_all("cards => cards.map(c => c.dataset.title)")
    assert last_place.title in titles and full.title in titles
    # The team-private activity of the resident's own team is listed; other communities' are not.
    assert "志愿服务队队员培训" in titles
    assert all(
        Activity.objects.filter(pk=int(pk), community=community).exists()
        for pk in cards.evaluate_all("cards => cards.map(c => c.dataset.activity)")
    )
    assert page.locator("#sidebar").count() == 0
    assert_no_horizontal_scroll(page)
    shot(page, "vol-01-resident-activities")

    # The last place.
    click_and_wait(page, cards.filter(has_text=last_place.title))
    assert (
        page.get_by_test_id("places")
        .inner_text()
        .startswith(f"已报名 {last_place.capacity - 1} / 名额 {last_place.capacity}")
    )
    click_and_wait(page, page.get_by_role("button", name="我要报名"))
    assert alert_text(page).startswith("报名成功")
    assert "您已报名" in page.get_by_test_id("my-signup").inner_text()
    assert (
        page.get_by_test_id("places")
        .inner_text()
        .startswith(f"已报名 {last_place.capacity} / 名额 {last_place.capacity}")
    )
    assert Signup.objects.get(activity=last_place, volunteer=volunteer).status == Signup.Status.CONFIRMED
    assert_no_horizontal_scroll(page)
    shot(page, "vol-02-resident-signed-up")

    # A full activity: the waitlist.
    page.goto(f"{live_server.url}{reverse('volunteers:my_activity', args=[full.pk])}")
    click_and_wait(page, page.get_by_role("button", name="名额已满，候补报名"))
    assert alert_text(page) == "名额已满，您已进入候补第 1 位。有人取消时会按顺序递补并通知您。"
    assert "您在候补第 1 位" in page.get_by_test_id("my-signup").inner_text()
    shot(page, "vol-03-resident-waitlisted")

    # The other volunteer cancels; the resident is promoted and told.
    other_signup = Signup.objects.get(activity=full, volunteer=other)
    _cancelled, promoted = services.signup_cancel(signup_id=other_signup.pk, by=staff)
    assert [s.volunteer_id for s in promoted] == [volunteer.pk]
    page.reload()
    assert "您已报名" in page.get_by_test_id("my-signup").inner_text()
    assert page.get_by_test_id("unread-count").is_visible()
    shot(page, "vol-04-resident-promoted")
    click_and_wait(page, page.get_by_test_id("inbox-link"))
    assert page.locator("main").get_by_text(f"候补成功：{full.title}").first.is_visible()
    shot(page, "vol-05-resident-inbox")

    # Cancel the first sign-up; the list shows what is left.
    page.goto(f"{live_server.url}{reverse('volunteers:my_activity', args=[last_place.pk])}")
    click_and_wait(page, page.get_by_role("button", name="取消报名"))
    assert alert_text(page) == "已取消报名。"
    assert Signup.objects.get(activity=last_place, volunteer=volunteer).status == Signup.Status.CANCELLED
    page.goto(f"{live_server.url}{reverse('volunteers:my_hours')}")
    assert (
        page.get_by_test_id("my-totals").locator("[data-total=points]").inner_text() == f"{Decimal(points_before):.2f}"
    )
    assert_no_horizontal_scroll(page)
    shot(page, "vol-06-resident-hours")

    # Teams: the resident's own, and the community's others to join.
    click_and_wait(page, page.get_by_test_id("my-volunteer-nav").get_by_role("link", name="服务队"))
    assert page.get_by_test_id("my-teams").get_by_text(team.name).is_visible()
    other_team = page.get_by_test_id("other-teams").locator("[data-team]").first
    name = other_team.locator(".fw-semibold").inner_text()
    click_and_wait(page, other_team.get_by_role("button", name="加入"))
    assert alert_text(page) == f"您已加入 {name}。"
    assert page.get_by_test_id("my-teams").get_by_text(name).is_visible()
    assert_no_horizontal_scroll(page)
    shot(page, "vol-07-resident-teams")


def test_staff_check_in_approve_export_and_scope(seeded, desktop_page, live_server, login, shot, tmp_path):
    page = desktop_page
    team = VolunteerTeam.objects.get(compound__name=QINGHUA)
    project = ServiceProject.objects.get(community=team.community, kind=ServiceProject.Kind.RED_STEWARD)
    starts = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(minutes=45)
    activity = Activity.objects.create(
        project=project,
        team=team,
        compound=team.compound,
        title="和谐5栋楼道清洁",
        place="和谐5栋",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1, minutes=40),
        signup_deadline=starts - datetime.timedelta(hours=2),
        capacity=4,
    )
    members = [m.volunteer for m in team.memberships.select_related("volunteer__resident").order_by("pk")[:5]]
    for position, member in enumerate(members):
        Signup.objects.create(
            activity=activity,
            volunteer=member,
            status=Signup.Status.CONFIRMED if position < 4 else Signup.Status.WAITLISTED,
            queued_at=starts - datetime.timedelta(days=2, minutes=-position),
        )
    balances = {
        m.pk: PointsEntry.objects.filter(volunteer=m).aggregate(s=Sum("points"))["s"] or Decimal(0) for m in members
    }

    login(page, live_server, "staff_qinghua", PASSWORD)
    click_and_wait(page, page.locator("#sidebar").get_by_role("link", name="志愿服务"))
    assert page.url == f"{live_server.url}{reverse('volunteers:activities')}"
    row = page.get_by_test_id("activities").locator(f"tr[data-activity='{activity.pk}']")
    assert "4 / 4" in row.inner_text()
    shot(page, "vol-10-staff-activities")

    click_and_wait(page, row.get_by_role("link", name=activity.title))
    sheet = page.get_by_test_id("check-in-sheet")
    assert sheet.locator("tbody tr").count() == 4
    assert page.get_by_test_id("waitlist").locator("li").count() == 1
    # Tick three of the four and check them in.
    for member in members[:3]:
        sheet.locator(f"tr[data-volunteer='{member.resident.name}'] input[name=signups]").check()
    click_and_wait(page, page.get_by_role("button", name="签到所选"))
    assert alert_text(page) == "已签到 3 人，服务时长已登记，待审核。"
    states = sheet.get_by_test_id("check-in-state").all_inner_texts()
    assert sum("未签到" in s for s in states) == 1
    shot(page, "vol-11-staff-check-in")
    hours = list(ServiceHours.objects.filter(activity=activity).order_by("pk"))
    assert [h.hours for h in hours] == [Decimal("1.67")] * 3
    assert all(h.status == ServiceHours.Status.PENDING for h in hours)

    # Approve the three in bulk.
    page.goto(f"{live_server.url}{reverse('volunteers:hours')}")
    table = page.get_by_test_id("hours")
    for row in hours:
        table.locator(f"tr[data-hours='{row.pk}'] input[name=ids]").check()
    click_and_wait(page, page.get_by_role("button", name="审核通过所选"))
    assert alert_text(page) == "已审核通过 3 条，共 5.01 小时，积分已发放。"
    shot(page, "vol-12-staff-approved")
    for member in members[:3]:
        balance = PointsEntry.objects.filter(volunteer=member).aggregate(s=Sum("points"))["s"]
        assert balance == balances[member.pk] + Decimal("16.70")

    # The volunteer's page shows the same balance.
    page.goto(f"{live_server.url}{reverse('volunteers:volunteer', args=[members[0].pk])}")
    expected = balances[members[0].pk] + Decimal("16.70")
    assert page.get_by_test_id("totals").locator("[data-total=points]").inner_text() == f"{expected:.2f}"
    shot(page, "vol-13-staff-volunteer")

    # The Excel export agrees with the approved hours, per team and month, to the hundredth.
    page.goto(f"{live_server.url}{reverse('volunteers:hours')}?status=approved")
    with page.expect_download() as download:
        page.get_by_test_id("export-form").get_by_role("button").click()
    path = tmp_path / "hours.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    month = timezone.localdate().month
    year = timezone.localdate().year
    sheet_rows = {(r[0], r[1]): r for r in rows[1:]}
    cell = sheet_rows[(team.community.name, team.name)][1 + month]
    db = ServiceHours.objects.filter(
        team=team, status="approved", served_on__year=year, served_on__month=month
    ).aggregate(s=Sum("hours"))["s"]
    assert abs(Decimal(str(cell)) - db) < Decimal("0.005")
    total = sheet_rows[("合计", None)][14]
    all_db = ServiceHours.objects.filter(community=team.community, status="approved", served_on__year=year).aggregate(
        s=Sum("hours")
    )["s"]
    assert abs(Decimal(str(total)) - all_db) < Decimal("0.005")

    # A household's page: the services it received.
    served = (
        ServiceHours.objects.filter(community=team.community, project__kind="meal_delivery")
        .values_list("households", flat=True)
        .first()
    )
    page.goto(f"{live_server.url}{reverse('communities:household', args=[served])}")
    ledger = page.get_by_test_id("household-services")
    ledger.wait_for(state="visible")  # loaded into the page by htmx
    assert ledger.locator("tbody tr[data-kind=meal_delivery]").count() >= 1
    shot(page, "vol-14-household-ledger")

    # Teams and the academy.
    page.goto(f"{live_server.url}{reverse('volunteers:team', args=[team.pk])}")
    assert page.get_by_test_id("members").locator("tbody tr").count() == team.memberships.count()
    shot(page, "vol-16-staff-team")
    page.goto(f"{live_server.url}{reverse('partybuilding:backbone_training')}")
    session_link = page.get_by_test_id("sessions").locator("tbody a").first
    click_and_wait(page, session_link)
    assert page.get_by_test_id("roster").locator("tbody tr").count() >= 1
    shot(page, "vol-17-staff-academy-session")

    # Another community's staff: the activity is not there for them.
    page.get_by_test_id("user-menu").click()
    click_and_wait(page, page.get_by_role("button", name="退出登录"))
    login(page, live_server, "staff_other", PASSWORD)
    response = page.goto(f"{live_server.url}{reverse('volunteers:activity', args=[activity.pk])}")
    assert response.status == 404
    assert activity.title not in page.content()
    page.get_by_test_id("user-menu").click()
    click_and_wait(page, page.get_by_role("button", name="退出登录"))

    # The district official: 千万工程 progress per street against this year's targets.
    login(page, live_server, "district", PASSWORD)
    year = Backbone.objects.order_by("-year").values_list("year", flat=True).first()
    page.goto(f"{live_server.url}{reverse('partybuilding:backbones')}?year={year}")
    progress = page.get_by_test_id("progress")
    assert progress.locator("tbody tr").count() == 13
    for target in BackboneTarget.objects.filter(year=year).select_related("street")[:3]:
        cells = progress.locator(f"tr[data-street='{target.street_id}']")
        party = Backbone.objects.filter(street=target.street, year=year, kind="party").count()
        assert cells.locator("[data-cell=party]").inner_text() == str(party)
        assert cells.locator("[data-cell=party_quota]").inner_text() == str(target.party_quota)
    shot(page, "vol-15-backbone-progress")
