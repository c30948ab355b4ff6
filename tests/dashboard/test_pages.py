"""The dashboard pages themselves: the period filter, links behind the numbers, the ranking's
sort, the Excel exports of every table and list, and sections whose data is not there yet."""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from dashboard import exports, tables
from dashboard.places import Period

TABLES = list(tables.BUILDERS)


def test_the_period_filter(story, district_official, client_for):
    client = client_for(district_official)
    default = client.get("/dashboard/")
    assert default.context["period"] == Period.last_months(today=default.context["dashboard"].today)
    assert (f"{default.context['period'].start:%Y-%m}", f"{default.context['period'].end:%Y-%m}") == (
        "2024-05",
        "2025-04",
    )
    march = client.get("/dashboard/?from=2025-03-15&to=2025-03-02")  # days allowed: whole months used
    assert march.context["period"].label == "2025年3月"
    assert march.context["kpis"][0]["cell"].value == 8
    for query in ("from=2025-04&to=2025-03", "from=nonsense", "from=2020-01&to=2025-04"):
        response = client.get(f"/dashboard/?{query}")
        assert response.status_code == 200
        assert response.context["period_error"]
        assert response.context["period"] == default.context["period"]


def test_every_number_on_the_page_links_to_its_list(story, district, district_official, client_for):
    response = client_for(district_official).get(f"/dashboard/street/{district.street_a.pk}/?from=2025-03&to=2025-04")
    page = response.content.decode()
    base = f"/dashboard/street/{district.street_a.pk}/list"
    for metric in ("received", "accepted_on_time", "solved", "resolved_on_time", "satisfied", "overdue", "returned"):
        assert f'href="{base}/{metric}/?from=2025-03&amp;to=2025-04"' in page, metric
    for kind in ("branches", "households_uncovered", "visit_plans", "volunteers", "backbones_party"):
        assert f"{base}/{kind}/?from=2025-03&amp;to=2025-04" in page, kind
    for built in response.context["tables"].values():
        ranked = built.name in ("top_compounds", "children")
        for row in built.rows:
            for index, cell in enumerate(row):
                if cell.kind == "text" or cell.value is None or (ranked and index == 0):
                    continue  # labels, "—" and rank numbers
                assert cell.url, (built.name, row)
    # The ranking links each community to its own dashboard and each number to that community's list.
    a1 = district.a1.community.pk
    assert f'href="/dashboard/community/{a1}/?from=2025-03&amp;to=2025-04"' in page
    assert f'href="/dashboard/community/{a1}/list/received/?from=2025-03&amp;to=2025-04"' in page


@pytest.mark.parametrize("sort", ["received", "satisfaction_rate", "overdue", "bogus"])
def test_the_ranking_sorts_by_each_rate(story, district, district_official, client_for, sort):
    client = client_for(district_official)
    table = client.get(f"/dashboard/street/{district.street_a.pk}/table/children/?from=2025-03&to=2025-04&sort={sort}")
    rows = table.json()["rows"]
    names = [row[1]["value"] for row in rows]
    # A1 has 9 requests and 4 overdue, A2 has r4 (overdue, nothing rated).
    expected = {
        "received": ["曙光社区", "宁国路社区"],
        "satisfaction_rate": ["曙光社区", "宁国路社区"],  # A2 has no rating: "—" goes last
        "overdue": ["曙光社区", "宁国路社区"],
        "bogus": ["宁国路社区", "曙光社区"],  # unknown: the response rate (A2 1/1, A1 6/9)
    }[sort]
    assert names == expected
    assert [row[0]["value"] for row in rows] == [1, 2]


@pytest.mark.parametrize("name", TABLES)
def test_every_table_exports_to_excel(story, district, district_official, client_for, name):
    client = client_for(district_official)
    base = f"/dashboard/community/{district.a1.community.pk}/table/{name}/?from=2025-03&to=2025-04"
    response = client.get(f"{base}&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX
    assert "filename*=utf-8''" in response["Content-Disposition"].lower()
    sheet = load_workbook(BytesIO(response.content)).active
    table = client.get(base).json()
    assert sheet["A1"].value == table["title"]
    assert sheet["A2"].value.startswith("曙光社区 · 2025年3月 至 2025年4月")
    assert [c.value for c in sheet[3]][: len(table["columns"])] == table["columns"]
    assert sheet["A3"].font.bold
    data = [list(row[: len(table["columns"])]) for row in sheet.iter_rows(min_row=4, values_only=True)]
    data = data[: len(table["rows"])] if table["rows"] else data[:1]
    if table["rows"]:
        first = [c["value"] for c in table["rows"][0]]
        assert [
            float(v) if isinstance(v, str) and c["kind"] == "hours" else v
            for v, c in zip(first, table["rows"][0], strict=True)
        ] == [
            float(v) if isinstance(v, str) and c["kind"] == "hours" else v
            for v, c in zip(data[0], table["rows"][0], strict=True)
        ]
    else:
        assert data[0][0] == "暂无数据"


def test_lists_export_to_excel(story, district, district_official, client_for):
    client = client_for(district_official)
    url = "/dashboard/list/received/?from=2025-03&to=2025-04"
    listed = client.get(url).context["count"]
    response = client.get(f"{url}&format=xlsx")
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet["A1"].value == "受理诉求"
    assert [c.value for c in sheet[3]] == ["编号", "分类", "小区", "状态", "提交时间"]
    numbers = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert len(numbers) == listed == 11
    assert set(numbers) == {r.number for r in story.requests.values()}


def test_sections_without_data_show_no_data(story, district, district_official, client_for):
    # Visits and volunteers are read straight from their apps (the dashboard is the top floor):
    # their cards are always there, with zeros when nothing was recorded; a section with no
    # rows at all (no categories in a month without requests) says "暂无数据".
    response = client_for(district_official).get("/dashboard/?from=2025-05&to=2025-05")
    assert response.status_code == 200
    tables = response.context["tables"]
    assert tables["visits"].available is True
    assert tables["volunteers"].available is True
    assert [row[1].value for row in tables["visits"].rows] == [0, 0, 0, None, 0]
    assert [row[1].value for row in tables["volunteers"].rows] == [0, 0, 0, 0, 0]
    assert tables["categories"].rows == []
    page = response.content.decode()
    categories_card = page[page.index('data-testid="table-categories"') :]
    assert "暂无数据" in categories_card[: categories_card.index('<div class="card h-100')]
    visits_card = page[page.index('data-testid="table-visits"') :]
    assert "暂无数据" not in visits_card[: visits_card.index("</table>")]


def test_chart_data(story, district, district_official, client_for):
    data = client_for(district_official).get("/dashboard/chart-data/?from=2025-03&to=2025-04").json()
    assert data["trend"]["labels"][-2:] == ["2025-03", "2025-04"]
    assert data["trend"]["received"][-2:] == [8, 3]
    assert data["trend"]["urls"][-1] == "/dashboard/list/received/?from=2025-04&to=2025-04"
    assert data["categories"]["names"] == ["物业服务", "环境卫生"]
    assert data["categories"]["received"] == [8, 3]  # G1: r1 r2 r5 r6 r7 r9 r10 r11; G2: r3 r4 r8
    assert data["children"]["names"] == ["芜湖路街道", "望湖城街道"]
    assert data["children"]["received"] == [10, 1]
    assert data["children"]["response_rate"] == [60.0, 100.0]
