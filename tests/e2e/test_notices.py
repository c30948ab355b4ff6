"""通知公告 in a real browser on a phone, on the seeded demo district (the first "Done when" of
issue 16): 清华社区's staff publish a confirmation-required notice to 和谐5栋 with a photo; the
demo resident sees it on their home page and confirms it (我已知晓); the central household that
serves them (given an account here, as registering with their mobile number would) marks a
household without an account 已传达到户; the staff see coverage 2 of N for 和谐5栋 with the
households not reached named."""

import io

import pytest
from PIL import Image

from accounts.models import Role, User
from accounts.seed.demo import DEMO_RESIDENT_USERNAME, PASSWORD
from communities.models import Building, Household, Resident
from communities.seed.demo import HARMONY_NAME, QINGHUA
from notices.models import Notice, Receipt
from partybuilding.models import CentralHousehold

pytestmark = pytest.mark.e2e

TITLE = "和谐5栋二次供水水箱清洗停水通知"


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def photo_file():
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 200)).save(buffer, format="JPEG")
    return {"name": "notice.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def assert_no_horizontal_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


def sign_out(page):
    page.context.clear_cookies()


def central_household_login(household):
    """An account for the central household serving ``household`` (the demo resident's)."""
    central = CentralHousehold.objects.filter(served_households=household).select_related("member__resident").first()
    resident = central.member.resident
    user = User.objects.create_user(
        username="central_harmony", password=PASSWORD, name=resident.name, mobile=resident.mobile
    )
    Role.objects.create(user=user, kind=Role.Kind.RESIDENT, community=resident.community)
    resident.user = user
    resident.save(update_fields=["user"])
    return central


def test_confirmation_notice_reaches_every_home_of_harmony_5(seeded, phone_page, live_server, login, shot):
    page = phone_page
    harmony = Building.objects.select_related("compound").get(compound__name=QINGHUA, name=HARMONY_NAME)
    households = Household.objects.filter(building=harmony, archived_at__isnull=True).count()
    demo = Resident.objects.select_related("household").get(user__username=DEMO_RESIDENT_USERNAME)
    central = central_household_login(demo.household)

    # 1. Staff publish to 和谐5栋, 需确认, with a photo.
    login(page, live_server, "staff_qinghua", PASSWORD)
    page.goto(f"{live_server.url}/notices/")
    with page.expect_navigation():
        page.get_by_test_id("new-notice").click()
    page.locator("#id_audience").select_option("building")
    page.locator("#id_building").select_option(str(harmony.pk))
    page.locator("#id_title").fill(TITLE)
    page.locator("#id_body").fill("12月10日9:00至15:00清洗二次供水水箱，期间停水，请提前储水。\n不便之处，敬请谅解。")
    page.locator("#id_images").set_input_files(photo_file())
    page.locator("#id_requires_confirmation").check()
    assert_no_horizontal_scroll(page)
    shot(page, "notices-01-publish-form-phone")
    with page.expect_navigation():
        page.get_by_test_id("publish").click()
    notice = Notice.objects.get(title=TITLE)
    assert page.url == f"{live_server.url}/notices/{notice.pk}/coverage/"
    assert (notice.audience, notice.building_id, notice.requires_confirmation) == ("building", harmony.pk, True)
    assert notice.households_total == households
    assert f"送达 {households} 户" in page.locator(".alert-success").inner_text()
    shot(page, "notices-02-published-coverage")
    sign_out(page)

    # 2. The resident sees it on the home page and confirms.
    login(page, live_server, demo.mobile, PASSWORD)
    page.goto(f"{live_server.url}/")
    latest = page.get_by_test_id("latest-notices")
    item = latest.get_by_test_id("notice-item").filter(has_text=TITLE)
    assert "待确认" in item.inner_text()
    assert latest.get_by_test_id("to-confirm").inner_text() == "1 条待确认"
    assert_no_horizontal_scroll(page)
    shot(page, "notices-03-resident-home")
    with page.expect_navigation():
        item.click()
    assert page.get_by_test_id("notice").locator("h1").inner_text().strip() == TITLE
    image = page.get_by_test_id("notice").locator("img")
    image.evaluate("img => img.decode()")  # once the image has arrived (the page is shown before it)
    assert image.evaluate("img => img.naturalWidth") == 800
    with page.expect_navigation():
        page.get_by_test_id("confirm").click()
    assert page.get_by_test_id("confirmed").is_visible()
    receipt = Receipt.objects.get(notice=notice, household=demo.household)
    assert receipt.confirmed_at is not None and receipt.read_at is not None
    assert_no_horizontal_scroll(page)
    shot(page, "notices-04-resident-confirmed")
    sign_out(page)

    # 3. The central household marks a household without an account 已传达到户.
    login(page, live_server, "central_harmony", PASSWORD)
    page.goto(f"{live_server.url}/notices/")
    with page.expect_navigation():
        page.get_by_test_id("relay-notice").filter(has_text=TITLE).click()
    assert page.url == f"{live_server.url}/notices/{notice.pk}/relay/"
    without_account = page.get_by_test_id("relay-row").filter(has_text="无账号").first
    household_id = int(without_account.get_attribute("data-household"))
    shot(page, "notices-05-relay-list")
    with page.expect_navigation():
        without_account.get_by_test_id("relay").click()
    row = page.locator(f'[data-testid=relay-row][data-household="{household_id}"]')
    assert row.get_by_test_id("relay-state").inner_text() == "已传达到户"
    relayed = Receipt.objects.get(notice=notice, household_id=household_id)
    assert relayed.relayed_by.username == "central_harmony"
    assert not Resident.objects.filter(household_id=household_id, user__isnull=False).exists()
    # Looking at the relay list read nothing for the central household's own home.
    assert Receipt.objects.get(notice=notice, household=central.household).read_at is None
    assert_no_horizontal_scroll(page)
    shot(page, "notices-06-relayed")
    sign_out(page)

    # 4. Staff see coverage 2 of N for 和谐5栋, with the households not reached named.
    login(page, live_server, "staff_qinghua", PASSWORD)
    page.goto(f"{live_server.url}/notices/{notice.pk}/coverage/")
    row = page.locator(f'[data-testid=coverage-row][data-building="{harmony.pk}"]')
    assert row.get_by_test_id("coverage-ratio").inner_text() == f"2 / {households}"
    assert page.locator("[data-total=reached]").inner_text() == "2"
    missing = page.locator(f'[data-testid=not-reached][data-building="{harmony.pk}"]').inner_text()
    not_reached = Receipt.objects.filter(notice=notice, read_at__isnull=True, relayed_at__isnull=True)
    assert not_reached.count() == households - 2
    shown = page.locator(f'[data-testid=not-reached][data-building="{harmony.pk}"] [data-household]')
    assert sorted(int(pk) for pk in shown.evaluate_all("els => els.map(e => e.dataset.household)")) == sorted(
        not_reached.values_list("household_id", flat=True)
    )
    assert household_id not in [r.household_id for r in not_reached]
    assert demo.household_id not in [r.household_id for r in not_reached]
    head = Resident.objects.filter(household=central.household, relation=Resident.Relation.HEAD).first()
    if head is not None:
        assert head.name in missing
    assert_no_horizontal_scroll(page)
    shot(page, "notices-07-coverage-2-of-n")
