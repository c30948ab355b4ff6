"""四美一好 in a real browser on the seeded demo (issue 18): 清华社区's staff score one more building
of 清华园 in the open 2026 Q4 round (five criteria and a photo), the secretary approves the round,
and the badge shows on the building pages (staff, desktop) and — with 和谐5栋's from Q3 — on the
demo resident's home and the 清华园 compound board beside the 物业费缴纳率 trend (phone)."""

import io
from decimal import Decimal

import pytest
from PIL import Image

from accounts.seed.demo import DEMO_RESIDENT_USERNAME, PASSWORD
from communities.models import Building
from communities.seed.demo import HARMONY_NAME, QINGHUA
from ratings.models import BuildingRating, Criterion, RatingRound

pytestmark = pytest.mark.e2e

HIGH = {"environment": "96", "neighbourhood": "92", "family": "90", "volunteering": "88", "service": "95"}
# (96×25 + 92×25 + 90×15 + 88×15 + 95×20) / 100 = 92.70


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def photo_file():
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (60, 160, 90)).save(buffer, format="JPEG")
    return {"name": "stairwell.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def assert_no_horizontal_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


def test_badge_from_scoring_to_the_compound_board(seeded, desktop_page, phone_page, live_server, login, shot):
    harmony = Building.objects.select_related("compound").get(compound__name=QINGHUA, name=HARMONY_NAME)
    current = RatingRound.objects.get(community=harmony.community, year=2026, quarter=4)
    scored = set(BuildingRating.objects.filter(round=current).values_list("building_id", flat=True))
    badged = set(BuildingRating.objects.filter(passed=True).values_list("building_id", flat=True))
    building = Building.objects.filter(compound=harmony.compound).exclude(pk__in=scored | badged).order_by("pk").first()
    codes = dict(Criterion.objects.values_list("code", "pk"))

    # Staff score the building in the open round.
    page = desktop_page
    login(page, live_server, "staff_qinghua", PASSWORD)
    page.goto(f"{live_server.url}/ratings/")
    page.get_by_role("link", name="2026年第4季度").click()
    page.locator(f"[data-testid=rating-row][data-building='{building.pk}'] [data-testid=rate-link]").click()
    form = page.get_by_test_id("rating-form")
    for code, value in HIGH.items():
        form.locator(f"input[name=score_{codes[code]}]").fill(value)
    form.locator("input[name=representatives]").fill("8")
    form.locator("textarea[name=note]").fill("楼道堆物已全部清理，党员中心户每周入户。")
    form.get_by_test_id("photo-album").set_input_files(photo_file())
    shot(page, "ratings-01-score-form")
    with page.expect_navigation():
        form.get_by_test_id("save-rating").click()
    row = page.locator(f"[data-testid=rating-row][data-building='{building.pk}']")
    assert row.get_by_test_id("rating-score").inner_text() == "92.70"
    assert page.get_by_test_id("approve").count() == 0  # staff do not approve
    rating = BuildingRating.objects.get(round=current, building=building)
    assert rating.score == Decimal("92.70") and rating.photos.count() == 1 and rating.passed is None
    shot(page, "ratings-02-round-scored")

    # The secretary approves.
    page.context.clear_cookies()
    login(page, live_server, "secretary_qinghua", PASSWORD)
    page.goto(f"{live_server.url}{current.get_absolute_url()}")
    with page.expect_navigation():
        page.get_by_test_id("approve").click()
    assert page.get_by_test_id("round-status").inner_text() == "已审定"
    rating.refresh_from_db()
    assert rating.passed is True
    shot(page, "ratings-03-approved")

    # The badge on the building pages.
    page.goto(f"{live_server.url}/registry/building/{building.pk}/")
    assert page.get_by_test_id("merit-badge").inner_text().strip() == "2026 四美一好楼栋"
    shot(page, "ratings-04-building-page")
    page.goto(f"{live_server.url}/registry/building/{harmony.pk}/")
    assert page.get_by_test_id("merit-badge").count() == 1

    # The resident of 和谐5栋 on a phone: their home and the compound board.
    phone = phone_page
    login(phone, live_server, DEMO_RESIDENT_USERNAME, PASSWORD)
    phone.goto(f"{live_server.url}/registry/my-building/")
    assert "2026 四美一好楼栋" in phone.get_by_test_id("my-household").first.inner_text()
    assert_no_horizontal_scroll(phone)
    shot(phone, "ratings-05-home-phone")
    phone.goto(f"{live_server.url}/requests/board/{harmony.compound_id}/")
    section = phone.get_by_test_id("board-merit")
    badges = section.get_by_test_id("board-badges").inner_text()
    assert harmony.label in badges and building.label in badges
    assert "91.50%（2026-11）" in section.get_by_test_id("fee-latest").inner_text()
    assert section.locator("meter").count() == 11
    assert "楼道堆物" not in phone.locator("body").inner_text()  # notes stay with the staff
    assert_no_horizontal_scroll(phone)
    section.scroll_into_view_if_needed()
    shot(phone, "ratings-06-board-phone")
