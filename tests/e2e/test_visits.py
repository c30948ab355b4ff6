"""Home visits in a real browser, on the seeded demo district (``seed_baohe``).

* phone: 和谐5栋's central household (given an account here: ``central_harmony``) opens 我的走访 — the visits due this
  week, the two-days-overdue 独居老人 first — records the visit on the phone form with a photo
  and a need found on the visit; the visit is saved, the weekly plan is due again in seven
  days, and a request with channel "visit" is opened and linked to the visit.
* desktop: 清华社区's staff opens 走访 from the sidebar, sees 清华园小区's coverage row (独居老人户,
  plans, visits in the last 30 days, overdue now, all matching the database), drills down to
  the overdue list and records nothing; another community's staff gets a 404 for that list
  and no 清华园小区 row; the district official sees every compound of the district.
"""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from accounts.models import Role, User
from accounts.seed.demo import PASSWORD
from communities.models import Building, Compound, Household
from communities.seed.demo import HARMONY_NAME, QINGHUA
from partybuilding.models import CentralHousehold
from service_requests.models import Category, ServiceRequest
from visits import services
from visits.models import Visit, VisitPlan

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def number(text):
    return int(re.sub(r"[^\d]", "", text))


def assert_no_horizontal_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


def photo_file():
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (210, 180, 140)).save(buffer, format="JPEG")
    return {"name": "visit.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def top(page):
    """Scroll to the top so the sticky navigation bar is not painted in the middle of a full-page shot."""
    page.evaluate("() => window.scrollTo(0, 0)")


def logout(page):
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()


def central_household_login():
    """An account for the central household of 和谐5栋 that serves its 独居老人 (the demo keeps the
    registry's one resident login, so the test gives the party member theirs, as registering
    with their mobile number would), and its plans re-generated so that they name it."""
    harmony = Building.objects.get(compound__name=QINGHUA, name=HARMONY_NAME)
    central = (
        CentralHousehold.objects.filter(household__building=harmony, served_households__lives_alone_elderly=True)
        .select_related("member__resident")
        .order_by("pk")
        .first()
    )
    resident = central.member.resident
    user = User.objects.create_user(
        username="central_harmony", password=PASSWORD, name=resident.name, mobile=resident.mobile
    )
    Role.objects.create(user=user, kind=Role.Kind.RESIDENT, community=resident.community)
    resident.user = user
    resident.save(update_fields=["user"])
    services.visit_plans_generate(community=resident.community)
    return user


def test_central_household_records_a_visit_with_a_need_on_a_phone(seeded, phone_page, live_server, login, shot):
    page = phone_page
    today = timezone.localdate()
    user = central_household_login()
    weekly = list(VisitPlan.objects.filter(visitor_user=user, rule=VisitPlan.Rule.ALONE_ELDERLY_WEEKLY).order_by("pk"))
    assert len(weekly) >= 1
    # One 独居老人 visit is two days overdue, another (if any) due tomorrow.
    VisitPlan.objects.filter(pk=weekly[0].pk).update(next_due_on=today - timedelta(days=2))
    VisitPlan.objects.filter(pk__in=[p.pk for p in weekly[1:]]).update(next_due_on=today + timedelta(days=1))
    weekly = VisitPlan.objects.select_related("household__building").get(pk=weekly[0].pk)
    assert weekly.household.lives_alone_elderly and weekly.household.building.name == HARMONY_NAME
    due = list(
        VisitPlan.objects.filter(visitor_user=user, active=True, next_due_on__lt=today + timedelta(days=7)).order_by(
            "next_due_on", "id"
        )
    )
    assert weekly in due

    login(page, live_server, "central_harmony", PASSWORD)
    page.goto(f"{live_server.url}/visits/mine/")
    assert page.locator("main h1").inner_text().strip() == "我的走访"
    cards = page.get_by_test_id("due-visit")
    assert cards.count() == len(due)
    assert [int(pk) for pk in cards.evaluate_all("els => els.map(e => e.dataset.plan)")] == [p.pk for p in due]
    card = page.locator(f'[data-testid=due-visit][data-plan="{weekly.pk}"]')
    assert card.get_by_test_id("due-text").inner_text() == "已逾期 2 天"
    assert "独居老人" in card.inner_text()
    overdue = sum(1 for p in due if p.next_due_on < today)
    assert (
        page.get_by_test_id("due-summary").inner_text().strip()
        == f"本周应走访 {len(due)} 户，其中 {overdue} 户已逾期。"
    )
    assert page.locator("#sidebar").count() == 0
    assert_no_horizontal_scroll(page)
    shot(page, "visits-01-mine-phone")

    # 记录走访: the phone form.
    with page.expect_navigation():
        card.get_by_test_id("record-visit").click()
    assert page.url == f"{live_server.url}/visits/record/{weekly.household_id}/?plan={weekly.pk}"
    assert weekly.household.address in page.get_by_test_id("visit-household").inner_text()
    assert page.locator("#need-fields").is_hidden()
    assert_no_horizontal_scroll(page)
    shot(page, "visits-02-record-form")

    category = (
        Category.objects.filter(code="property-utilities").first()
        or Category.objects.filter(is_active=True, children__isnull=True, parent__isnull=False)
        .order_by("order", "id")
        .first()
    )
    page.get_by_text("安全隐患提醒到家", exact=True).click()
    page.locator("#id_notes").fill("老人精神不错。厨房燃气灶打不着火，老人这几天不敢做饭。")
    page.locator("#id_photo").set_input_files(photo_file())
    page.get_by_label("走访中发现需求，提交诉求").check()
    assert page.locator("#need-fields").is_visible()
    page.locator("#id_need_category").select_option(str(category.pk))
    page.locator("#id_need_description").fill("独居老人家中燃气灶打不着火，请物业尽快上门检修。")
    assert_no_horizontal_scroll(page)
    top(page)
    shot(page, "visits-03-record-filled")
    requests_before = ServiceRequest.objects.count()
    with page.expect_navigation():
        page.get_by_test_id("save-visit").click()

    visit = Visit.objects.select_related("request").filter(visitor=user).latest("id")
    assert page.url == f"{live_server.url}{visit.get_absolute_url()}"
    request = visit.request
    assert ServiceRequest.objects.count() == requests_before + 1
    assert (visit.household_id, visit.plan_id, visit.purpose, visit.on_time) == (
        weekly.household_id,
        weekly.pk,
        "safety",
        False,
    )
    assert bool(visit.photo)
    assert (request.channel, request.category, request.household_id, request.status) == (
        ServiceRequest.Channel.VISIT,
        category,
        weekly.household_id,
        ServiceRequest.Status.SUBMITTED,
    )
    weekly.refresh_from_db()
    assert weekly.next_due_on == today + timedelta(days=7)
    success = page.locator(".alert-success")
    assert f"发现的需求已提交为诉求 {request.number}" in success.inner_text()
    assert request.number in page.get_by_test_id("visit-request").inner_text()
    assert page.get_by_test_id("next-due").inner_text() == weekly.next_due_on.isoformat()
    photo = page.locator("img.visit-photo")
    photo.evaluate("img => img.decode()")  # once the photo has arrived (the page is shown before it)
    assert photo.evaluate("img => img.naturalWidth") == 640
    assert_no_horizontal_scroll(page)
    shot(page, "visits-04-visit-saved")

    # Back on 我的走访 the household is no longer due this week; the visit is listed as recent.
    page.goto(f"{live_server.url}/visits/mine/")
    assert page.locator(f'[data-testid=due-visit][data-plan="{weekly.pk}"]').count() == 0
    assert page.get_by_test_id("due-visit").count() == len(due) - 1
    assert request.number in page.get_by_test_id("recent-visits").inner_text()
    shot(page, "visits-05-mine-after")


def test_staff_coverage_and_overdue_drill_down(seeded, desktop_page, live_server, login, shot):
    page = desktop_page
    today = timezone.localdate()
    compound = Compound.objects.select_related("community").get(name=QINGHUA)
    community = compound.community

    login(page, live_server, "staff_qinghua", PASSWORD)
    with page.expect_navigation():
        page.locator("#sidebar").get_by_role("link", name="走访").click()
    assert page.url == f"{live_server.url}/visits/coverage/"
    rows = page.get_by_test_id("coverage").locator("tbody tr")
    assert rows.count() == Compound.objects.filter(community=community).count()
    row = page.locator(f'[data-testid=coverage] tr[data-compound="{compound.pk}"]')
    plans = VisitPlan.objects.filter(compound=compound, active=True)
    since = timezone.now() - timedelta(days=30)
    visits = Visit.objects.filter(compound=compound, visited_at__gte=since)
    expected = {
        "flagged": Household.objects.filter(compound=compound, lives_alone_elderly=True).count(),
        "plans": plans.count(),
        "visits": visits.count(),
        "overdue": plans.filter(next_due_on__lt=today).count(),
    }
    seen = {key: number(row.locator(f"[data-col={key}]").inner_text()) for key in expected}
    assert seen == expected
    assert expected["flagged"] > 0 and expected["visits"] > 0 and expected["overdue"] > 0
    assert number(row.locator("[data-col=on_time]").inner_text().split("(")[0]) == visits.filter(on_time=True).count()
    assert "清华社区" in page.get_by_test_id("rounds").inner_text()
    top(page)
    shot(page, "visits-10-coverage-staff")

    with page.expect_navigation():
        row.get_by_test_id("overdue-link").click()
    assert page.url == f"{live_server.url}/visits/coverage/overdue/?compound={compound.pk}"
    overdue_rows = page.get_by_test_id("overdue").locator("tbody tr")
    assert overdue_rows.count() == min(expected["overdue"], 50)
    first = plans.filter(next_due_on__lt=today).order_by("next_due_on", "id").first()
    assert overdue_rows.first.get_attribute("data-plan") == str(first.pk)
    shot(page, "visits-11-overdue-list")
    logout(page)

    # Another community's staff: no 清华园小区 row, and its overdue list is not found.
    login(page, live_server, "staff_other", PASSWORD)
    page.goto(f"{live_server.url}/visits/coverage/")
    assert QINGHUA not in page.get_by_test_id("coverage").inner_text()
    response = page.goto(f"{live_server.url}/visits/coverage/overdue/?compound={compound.pk}")
    assert response.status == 404
    logout(page)

    # The district official sees every compound of the district, read-only.
    login(page, live_server, "district", PASSWORD)
    page.goto(f"{live_server.url}/visits/coverage/")
    assert page.get_by_test_id("coverage").locator("tbody tr").count() == Compound.objects.count() == 139
    totals = page.get_by_test_id("coverage-totals")
    assert (
        number(totals.locator("[data-total=flagged]").inner_text())
        == Household.objects.filter(lives_alone_elderly=True).count()
    )
    assert (
        number(totals.locator("[data-total=overdue]").inner_text())
        == VisitPlan.objects.filter(active=True, next_due_on__lt=today).count()
    )
    assert page.get_by_test_id("generate-plans").count() == 0
    shot(page, "visits-12-coverage-district")
