"""The registry in a real browser, on the seeded demo district (``seed_baohe``).

Each test seeds the demo data itself: ``transactional_db`` flushes the database after every
test, so the journeys are kept to a few long tests rather than many short ones.

* desktop: the district official walks 包河区 → 滨湖世纪社区 → 清华社区 → 清华园小区 → 和谐5栋 →
  a household and back up by the breadcrumbs; 清华社区's staff edits a household (a valid save
  and an invalid one), then reveals a resident's number with a reason (one audit line); another
  community's staff gets a 404 for 清华园小区.
* phone: the demo resident signs in with their mobile and sees who serves their building,
  then switches the portal to English and back (in the menu); 清华社区's staff finds the sidebar behind the
  menu button.
"""

import re

import pytest
from django.urls import reverse

from accounts.seed.demo import PASSWORD
from baohe.models import AuditEntry
from communities.models import Building, Community, Compound, Household, Resident, Street
from communities.seed.demo import HARMONY_NAME, QINGHUA

pytestmark = pytest.mark.e2e

MASKED_MOBILE = re.compile(r"^\d{3}\*{4}\d{4}$")


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def number(text):
    """A stat card's value as an int (``intcomma`` may group thousands)."""
    return int(re.sub(r"[^\d]", "", text))


def heading(page):
    return page.locator("main h1").first


def logout(page):
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()


def open_link(page, name, *, within=None):
    """Click the link named exactly ``name`` (inside ``within`` if given) and wait for the page."""
    scope = within if within is not None else page.locator("main")
    with page.expect_navigation():
        scope.get_by_role("link", name=name, exact=True).first.click()


def land_on_todo_and_open_registry(page, live_server):
    """Staff land on 我的待办 after signing in; the sidebar's 辖区浏览 opens the widest level they see."""
    assert page.url == f"{live_server.url}{reverse('todo')}"
    assert heading(page).inner_text().strip() == "我的待办"
    with page.expect_navigation():
        page.locator("#sidebar").get_by_role("link", name="辖区浏览").click()


def assert_no_horizontal_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


def test_staff_walk_edit_and_scope(seeded, desktop_page, live_server, login, shot):
    page = desktop_page
    harmony = Building.objects.select_related("compound__community__street__district").get(
        compound__name=QINGHUA, name=HARMONY_NAME
    )
    compound = harmony.compound
    community = compound.community
    street = community.street
    district = street.district

    # 清华社区's staff land on 我的待办; they see only their community, so 辖区浏览 opens it.
    login(page, live_server, "staff_qinghua", PASSWORD)
    land_on_todo_and_open_registry(page, live_server)
    assert page.url == f"{live_server.url}{community.get_absolute_url()}"
    assert heading(page).inner_text() == "清华社区"
    shot(page, "00-staff-landing")
    logout(page)

    # --- the district official walks down the tree -----------------------------------------
    login(page, live_server, "district", PASSWORD)
    land_on_todo_and_open_registry(page, live_server)
    assert page.url == f"{live_server.url}{district.get_absolute_url()}"
    assert heading(page).inner_text() == "包河区"
    totals = page.get_by_test_id("totals")
    assert number(totals.locator("[data-count=community]").inner_text()) == Community.objects.count() == 56
    assert number(totals.locator("[data-count=compound]").inner_text()) == Compound.objects.count() == 139
    assert number(totals.locator("[data-count=household]").inner_text()) == Household.objects.count()
    assert number(totals.locator("[data-count=resident]").inner_text()) == Resident.objects.count()
    street_rows = page.locator("main table tbody tr")
    assert street_rows.count() == 13 == Street.objects.count()
    assert street_rows.filter(has_text="滨湖世纪社区").count() == 1
    shot(page, "01-district")

    open_link(page, "滨湖世纪社区")
    assert page.url == f"{live_server.url}{street.get_absolute_url()}"
    assert heading(page).inner_text() == "滨湖世纪社区"
    assert page.locator("main table tbody tr").count() == street.communities.count() == 6
    shot(page, "02-street")

    open_link(page, "清华社区")
    assert page.url == f"{live_server.url}{community.get_absolute_url()}"
    assert heading(page).inner_text() == "清华社区"
    shot(page, "03-community")

    open_link(page, QINGHUA)
    assert page.url == f"{live_server.url}{compound.get_absolute_url()}"
    assert heading(page).inner_text() == QINGHUA
    assert page.locator("main table tbody tr").count() == compound.buildings.count() == 12
    shot(page, "04-compound")

    # The building row's link reads "5栋（和谐5栋）".
    building_row = page.locator("main table tbody tr").filter(has_text=HARMONY_NAME)
    open_link(page, harmony.label, within=building_row)
    assert page.url == f"{live_server.url}{harmony.get_absolute_url()}"
    assert heading(page).inner_text() == f"{QINGHUA} · {harmony.label}"
    household_rows = page.get_by_test_id("households").locator("tbody tr")
    assert household_rows.count() == harmony.households.count() > 0
    addresses = household_rows.locator("td:first-child a").all_inner_texts()
    assert sorted(addresses) == sorted(h.address for h in harmony.households.all())
    shot(page, "05-building")

    # Back up by the breadcrumbs: 包河区 › 滨湖世纪社区 › 清华社区 › 清华园小区 › 5栋（和谐5栋）.
    crumbs = page.locator("nav[aria-label=breadcrumb] .breadcrumb-item")
    assert crumbs.all_inner_texts() == ["包河区", "滨湖世纪社区", "清华社区", QINGHUA, harmony.label]
    open_link(page, "包河区", within=page.locator("nav[aria-label=breadcrumb]"))
    assert page.url == f"{live_server.url}{district.get_absolute_url()}"
    logout(page)

    # --- 清华社区's staff edits a household of 和谐5栋 -----------------------------------------
    household = harmony.households.filter(lives_alone_elderly=False).order_by("unit", "room").first()
    original_note = household.note
    login(page, live_server, "staff_qinghua", PASSWORD)
    page.goto(f"{live_server.url}{harmony.get_absolute_url()}")
    open_link(page, household.address, within=page.get_by_test_id("households"))
    assert page.url == f"{live_server.url}{household.get_absolute_url()}"
    assert page.get_by_test_id("residents").locator("tbody tr").count() == household.residents.count()
    shot(page, "06-household")

    with page.expect_navigation():
        page.get_by_role("link", name="编辑住户").click()
    assert page.url == f"{live_server.url}{household.get_absolute_url()}edit/"
    page.get_by_label("独居老人", exact=True).check()
    note = "e2e：子女在外地，每周电话问候一次"
    page.get_by_label("备注", exact=True).fill(note)
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    assert page.url == f"{live_server.url}{household.get_absolute_url()}"
    success = page.locator(".alert-success")
    assert success.count() == 1
    assert success.inner_text().startswith("已保存住户")
    header = page.locator("main h1").locator("..")
    assert header.locator(".badge", has_text="独居老人").is_visible()
    assert page.locator("main p.text-muted", has_text=note).is_visible()
    household.refresh_from_db()
    assert household.lives_alone_elderly is True
    assert household.note == note != original_note
    shot(page, "07-household-saved")

    # An invalid unit: the form comes back with the field's error and nothing is written.
    with page.expect_navigation():
        page.get_by_role("link", name="编辑住户").click()
    page.locator("#id_unit").fill("99")
    page.get_by_label("备注", exact=True).fill("不应保存的备注")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    assert page.url == f"{live_server.url}{household.get_absolute_url()}edit/"
    error = page.locator("[data-field-error=unit]")
    assert error.is_visible()
    assert f"只有 {harmony.units} 个单元" in error.inner_text()
    assert page.locator("#id_unit").input_value() == "99"
    assert page.locator(".alert-success").count() == 0
    shot(page, "08-household-invalid")
    saved_unit = household.unit
    household.refresh_from_db()
    assert (household.unit, household.note, household.lives_alone_elderly) == (saved_unit, note, True)

    # --- a resident's numbers: masked, then revealed once with a reason (one audit line) -------
    record = next(r for r in household.residents.order_by("pk") if r.mobile and r.id_number)
    page.goto(f"{live_server.url}{record.get_absolute_url()}")
    assert MASKED_MOBILE.match(page.get_by_test_id("mobile").inner_text())
    assert record.mobile not in page.content() and record.id_number not in page.content()
    page.get_by_label("查看原因").select_option("visit")
    with page.expect_navigation():
        page.get_by_role("button", name="查看完整号码").click()
    assert page.get_by_test_id("mobile").inner_text() == record.mobile
    assert page.get_by_test_id("id-number").inner_text() == record.id_number
    assert "入户走访核实" in page.get_by_test_id("revealed-note").inner_text()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VIEW_PERSONAL)
    assert (entry.user.username, entry.object_id, entry.reason) == ("staff_qinghua", str(record.pk), "visit")
    shot(page, "08b-resident-number-revealed")
    page.goto(f"{live_server.url}{record.get_absolute_url()}")
    assert record.mobile not in page.content()
    logout(page)

    # --- another community's staff: 清华园小区 is outside their scope -------------------------
    login(page, live_server, "staff_other", PASSWORD)
    land_on_todo_and_open_registry(page, live_server)
    assert "万慈社区" in heading(page).inner_text()
    response = page.goto(f"{live_server.url}{compound.get_absolute_url()}")
    assert response.status == 404
    assert QINGHUA not in page.content()
    shot(page, "09-out-of-scope-404")


def test_secretary_finds_a_reveal_in_the_audit_log(seeded, desktop_page, live_server, login, shot):
    """A staff member reveals a resident's full numbers with a reason; a minute later the
    community secretary opens 审计日志 and finds it with the actor, the record, the reason and
    the client address."""
    page = desktop_page
    record = (
        Resident.objects.filter(household__building__compound__name=QINGHUA).exclude(mobile="").order_by("pk").first()
    )

    login(page, live_server, "staff_qinghua", PASSWORD)
    page.goto(f"{live_server.url}{record.get_absolute_url()}")
    page.get_by_label("查看原因").select_option("visit")
    with page.expect_navigation():
        page.get_by_role("button", name="查看完整号码").click()
    assert page.get_by_test_id("mobile").inner_text() == record.mobile
    logout(page)

    login(page, live_server, "secretary_qinghua", PASSWORD)
    with page.expect_navigation():
        page.locator("nav").get_by_role("link", name="审计日志").click()
    assert heading(page).inner_text() == "审计日志"
    page.locator("select[name=action]").select_option("view_personal")
    with page.expect_navigation():
        page.get_by_test_id("audit-filters").get_by_role("button", name="筛选").click()
    rows = page.get_by_test_id("audit-entry")
    assert rows.count() == 1
    entry = rows.nth(0)
    assert entry.get_by_test_id("audit-actor").inner_text() == "staff_qinghua"
    assert entry.get_by_test_id("audit-record").inner_text() == f"{record.name} 居民 #{record.pk}"
    assert entry.get_by_test_id("audit-action").inner_text() == "查看完整个人信息"
    assert entry.get_by_test_id("audit-reason").inner_text() == "入户走访核实"
    assert entry.get_by_test_id("audit-ip").inner_text() == "127.0.0.1"
    shot(page, "10-audit-log-secretary")


def test_phone_resident_my_building_language_and_staff_menu(seeded, phone_page, live_server, login, shot):
    page = phone_page
    record = (
        Resident.objects.select_related("user", "household__building__head")
        .filter(household__building__compound__name=QINGHUA, household__building__name=HARMONY_NAME)
        .get(user__isnull=False)
    )
    assert record.user.mobile == record.mobile  # signs in with it; the username is opaque

    login(page, live_server, record.mobile, PASSWORD)
    assert page.url == f"{live_server.url}{reverse('communities:my_building')}"
    assert heading(page).inner_text().strip() == "我的楼栋"
    card = page.get_by_test_id("my-household")
    assert card.count() == 1
    assert f"{QINGHUA} · 5栋（{HARMONY_NAME}）" in card.inner_text()
    assert record.household.address in card.inner_text()

    servers = page.get_by_test_id("servers").locator(".person-card")
    roles = servers.locator(".server-role").all_inner_texts()
    names = servers.locator(".fw-semibold").all_inner_texts()
    mobiles = servers.get_by_test_id("server-mobile").all_inner_texts()
    assert roles, "nobody listed as serving the resident's building"
    # The building head comes first; the seed gives 和谐5栋 a head and a party group leader,
    # and picks a resident served by a central household.
    head = record.household.building.head
    assert head is not None
    assert (roles[0], names[0]) == ("楼栋长", head.name)
    assert "党小组长" in roles
    assert "党员中心户" in roles
    for role, mobile in zip(roles, mobiles, strict=True):
        assert MASKED_MOBILE.match(mobile.strip()), f"{role}: phone {mobile!r} is not masked"
    assert record.mobile not in page.content()

    # The phone layout: no staff sidebar, no sideways scrolling.
    assert page.locator("#sidebar").count() == 0
    assert_no_horizontal_scroll(page)
    shot(page, "10-resident-my-building")

    # The language switch, in the menu (no longer the top bar's first button).
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert not page.get_by_role("button", name="English").is_visible()
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url == f"{live_server.url}{reverse('communities:my_building')}"
    assert_no_horizontal_scroll(page)
    shot(page, "11-resident-english")
    page.get_by_test_id("user-menu").click()
    assert page.get_by_role("button", name="中文").is_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    logout(page)

    # Staff on a phone land on 我的待办; on their community's page the sidebar is an off-canvas
    # menu behind the top bar's button, and the wide count table does not widen the page.
    login(page, live_server, "staff_qinghua", PASSWORD)
    assert page.url == f"{live_server.url}{reverse('todo')}"
    assert heading(page).inner_text().strip() == "我的待办"
    community = Community.objects.get(name="清华社区")
    page.goto(f"{live_server.url}{community.get_absolute_url()}")
    assert heading(page).inner_text() == "清华社区"
    sidebar = page.locator("#sidebar")
    assert not sidebar.is_visible()
    assert_no_horizontal_scroll(page)
    shot(page, "12-staff-phone-community")
    page.locator("button[data-bs-target='#sidebar']").click()
    # Bootstrap slides the menu in (.showing) and then marks it .show: wait for the end.
    page.locator("#sidebar.show:not(.showing)").wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('sidebar').getBoundingClientRect().left >= 0")
    assert sidebar.get_by_role("link", name="辖区浏览").is_visible()
    shot(page, "13-staff-phone-menu")


def test_phone_resident_downloads_their_data(seeded, phone_page, live_server, login, shot, tmp_path):
    """我的信息 (issue 12): the demo resident opens it from 我的楼栋 on a phone, downloads the Excel
    copy, and the file opens with openpyxl with their own record in it (numbers masked)."""
    from openpyxl import load_workbook

    from baohe.masking import mask_mobile
    from baohe.models import AuditEntry

    record = Resident.objects.select_related("user").get(
        user__isnull=False, household__building__name=HARMONY_NAME, household__compound__name=QINGHUA
    )
    page = phone_page
    login(page, live_server, record.mobile, PASSWORD)
    with page.expect_navigation():
        page.get_by_test_id("my-data-link").click()
    assert heading(page).inner_text().strip() == "我的信息"
    residence = page.locator("[data-section='residence']")
    assert record.name in residence.inner_text()
    assert mask_mobile(record.mobile) in residence.inner_text()
    assert record.mobile not in page.content() and record.id_number not in page.content()
    assert_no_horizontal_scroll(page)
    shot(page, "14-resident-my-data")

    with page.expect_download() as caught:
        page.get_by_test_id("download-xlsx").click()
    path = tmp_path / "my-data.xlsx"
    caught.value.save_as(path)
    book = load_workbook(path)
    sheet = book["居民登记"]
    assert (sheet["A1"].value, sheet["A2"].value, sheet["B2"].value) == (
        "姓名",
        record.name,
        mask_mobile(record.mobile),
    )
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DATA_DOWNLOAD, user=record.user).count() == 1
