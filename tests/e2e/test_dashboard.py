"""The dashboards in a real browser, on the seeded demo district (``seed_baohe``).

* desktop: the district official opens 数据看板, drills 包河区 → 滨湖世纪社区 → 清华社区 →
  清华园小区 through the rankings, opens the list behind a number (as many rows as the
  number says), exports a table to Excel (a real download, read back with openpyxl), and
  asks for a monthly report: the page shows its progress while the worker builds it, then
  the download. 滨湖世纪社区's official lands on their street and gets 404 for another.
* phone: the district dashboard on a phone screen (no sideways scrolling of the page).
"""

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from accounts.seed.demo import PASSWORD
from communities.models import Community, Compound, Street
from communities.seed.demo import QINGHUA
from dashboard.models import ReportJob
from dashboard.tasks import generate_monthly_report

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


@pytest.fixture
def queued(monkeypatch):
    """Report jobs are handed to "the worker" (this test) instead of the broker."""
    jobs = []
    monkeypatch.setattr("dashboard.reports.enqueue_on_commit", lambda task, job_id: jobs.append(job_id))
    return jobs


def number(text):
    return int(re.sub(r"[^\d]", "", text))


def heading(page):
    return page.locator("main h1").first


def charts_ready(page):
    page.wait_for_selector("[data-charts-ready='1']")
    page.wait_for_timeout(200)


def drill(page, name):
    """Open the dashboard of ``name`` from the ranking table."""
    with page.expect_navigation():
        page.get_by_test_id("table-children").get_by_role("link", name=name, exact=True).click()
    charts_ready(page)


def logout(page):
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()


def test_official_drills_down_exports_and_gets_the_monthly_report(
    seeded, queued, desktop_page, live_server, login, shot, tmp_path
):
    page = desktop_page
    compound = Compound.objects.select_related("community__street").get(name=QINGHUA)
    community, street = compound.community, compound.community.street

    login(page, live_server, "district", PASSWORD)
    page.get_by_role("link", name="数据看板").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    charts_ready(page)
    assert heading(page).inner_text() == "包河区"
    ranking = page.get_by_test_id("table-children")
    assert ranking.locator("tbody tr").count() == Street.objects.count() == 13
    assert page.locator("#chart-trend canvas").count() == 1
    assert page.locator("#chart-categories canvas").count() == 1
    district_received = number(page.get_by_test_id("kpi-received").locator(".stat-value").inner_text())
    assert district_received > 0
    shot(page, "dashboard-01-district")

    # Sort the ranking by 满意率.
    with page.expect_navigation():
        ranking.get_by_test_id("sort-satisfaction_rate").click()
    assert "sort=satisfaction_rate" in page.url
    charts_ready(page)

    drill(page, street.name)
    assert page.url.startswith(f"{live_server.url}/dashboard/street/{street.pk}/")
    assert heading(page).inner_text() == street.name
    assert page.get_by_test_id("table-children").locator("tbody tr").count() == street.communities.count()
    shot(page, "dashboard-02-street")

    drill(page, community.name)
    assert page.url.startswith(f"{live_server.url}/dashboard/community/{community.pk}/")
    assert heading(page).inner_text() == community.name
    shot(page, "dashboard-03-community")

    drill(page, QINGHUA)
    assert page.url.startswith(f"{live_server.url}/dashboard/compound/{compound.pk}/")
    assert heading(page).inner_text() == QINGHUA
    crumbs = page.get_by_test_id("dashboard-breadcrumbs").locator(".breadcrumb-item")
    assert crumbs.all_inner_texts()[1:] == ["包河区", street.name, community.name, QINGHUA]
    shot(page, "dashboard-04-compound")

    # The number and the list behind it.
    received = page.get_by_test_id("kpi-received").locator(".stat-value a")
    shown = number(received.inner_text())
    assert shown > 0
    with page.expect_navigation():
        received.click()
    assert number(page.get_by_test_id("list-count").inner_text()) == shown
    rows = page.get_by_test_id("list-table").locator("tbody tr")
    assert rows.count() == min(shown, 50)
    shot(page, "dashboard-05-list")
    page.go_back()
    charts_ready(page)

    # Export the category table: a real download, read back.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-categories").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = Path(tmp_path) / "categories.xlsx"
    download.save_as(path)
    sheet = load_workbook(path).active
    assert sheet["A1"].value == "分类统计"
    assert sheet["A3"].value == "分类"
    categories = page.get_by_test_id("table-categories").locator("tbody tr")
    first = categories.first.locator("td").all_inner_texts()
    assert [sheet["A4"].value, sheet["B4"].value] == [first[0], number(first[1])]

    # The monthly report of the district: queued, built by the worker, downloaded.
    page.goto(f"{live_server.url}/dashboard/")
    card = page.get_by_test_id("report-card")
    month = card.locator("input[name=month]").input_value()
    with page.expect_navigation():
        card.get_by_test_id("report-submit").click()
    job = ReportJob.objects.get()
    assert queued == [job.pk]
    assert page.url == f"{live_server.url}/dashboard/reports/{job.pk}/"
    assert page.get_by_test_id("report-progress").get_attribute("data-status") == "pending"
    shot(page, "dashboard-06-report-queued")
    generate_monthly_report(job.pk)  # the worker
    page.wait_for_selector("[data-testid=report-download]", timeout=10_000)
    assert page.get_by_test_id("report-progress").get_attribute("data-status") == "done"
    shot(page, "dashboard-07-report-done")
    with page.expect_download() as download_info:
        page.get_by_test_id("report-download").click()
    report = Path(tmp_path) / "report.xlsx"
    download_info.value.save_as(report)
    book = load_workbook(report)
    assert book.sheetnames[:4] == ["说明", "组织覆盖", "诉求办理", "近12个月趋势"]
    year, mon = (int(part) for part in month.split("-"))
    assert book["说明"]["A1"].value == f"包河区 月度报表（{year}年{mon}月）"
    logout(page)

    # A street official lands on their street; another street is not found.
    login(page, live_server, "street_binhu", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/")
    charts_ready(page)
    assert page.url.startswith(f"{live_server.url}/dashboard/street/{street.pk}/")
    assert heading(page).inner_text() == street.name
    shot(page, "dashboard-08-street-official")
    other = Street.objects.exclude(pk=street.pk).order_by("code").first()
    response = page.goto(f"{live_server.url}/dashboard/street/{other.pk}/")
    assert response.status == 404
    other_community = Community.objects.exclude(street=street).order_by("code").first()
    assert page.goto(f"{live_server.url}/dashboard/community/{other_community.pk}/").status == 404


def test_phone_dashboard(seeded, phone_page, live_server, login, shot):
    page = phone_page
    login(page, live_server, "district", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/")
    charts_ready(page)
    assert heading(page).inner_text() == "包河区"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"
    shot(page, "dashboard-09-phone")
