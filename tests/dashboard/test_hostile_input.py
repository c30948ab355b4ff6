"""Hostile query input on the dashboard (rule 4): a page ignores a bad parameter with a notice and
still answers 200; a bad month shows the last twelve months and says so; the Excel exports and the
JSON behind the charts still answer 200; never a 500. Each test tries every hostile value (named
in the assertion) on one set of fixtures."""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from dashboard import exports
from dashboard.models import ReportJob
from dashboard.places import Period
from tests.hostile import HOSTILE, noticed

BAD_MONTHS = [*HOSTILE, "0001-01", "0000-00", "9999-12", "1999-12", "2101-01", "2025-13", "2025-06-31", "2" * 40]


def is_xlsx(response):
    return (
        response.status_code == 200
        and response["Content-Type"] == exports.XLSX
        and load_workbook(BytesIO(response.content))
    )


@pytest.fixture
def official(district_official, client_for):
    return client_for(district_official)


@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/list/received/"])
def test_a_bad_month_shows_the_last_twelve_months_and_says_so(official, path, param):
    default = Period.last_months()
    for value in BAD_MONTHS:
        response = official.get(path, {param: value})
        assert response.status_code == 200, value
        assert response.context["period_error"], value
        assert response.context["period"] == default, value


def test_the_years_at_the_edges_of_the_window_still_answer(official):
    for query in ({"from": "2000-01", "to": "2000-01"}, {"from": "2096-01", "to": "2100-12"}):
        response = official.get("/dashboard/", query)
        assert (response.status_code, response.context["period_error"]) == (200, None), query
        assert official.get("/dashboard/chart-data/", query).status_code == 200, query


def test_the_page_ignores_a_bad_sort_with_a_notice(official):
    for value in HOSTILE:
        response = official.get("/dashboard/", {"sort": value})
        assert response.status_code == 200, value
        assert noticed(response, "排序"), value
        assert response.context["sort"] == "response_rate", value


@pytest.mark.parametrize("param", ["year", "month", "community", "category", "page", "cursor"])
def test_the_page_answers_parameters_it_does_not_read(official, param):
    for value in HOSTILE:
        assert official.get("/dashboard/", {param: value}).status_code == 200, value


@pytest.mark.parametrize("param", ["from", "to", "sort", "format"])
def test_the_chart_data_and_tables_answer_json_for_bad_values(official, param):
    for value in BAD_MONTHS:
        assert official.get("/dashboard/chart-data/", {param: value}).status_code == 200, value
        response = official.get("/dashboard/table/children/", {param: value})
        assert (response.status_code, response["Content-Type"]) == (200, "application/json"), value
        assert response.json()["name"] == "children", value


@pytest.mark.parametrize("param", ["from", "to", "sort"])
def test_a_table_still_exports_to_excel_with_bad_values(official, param):
    for value in BAD_MONTHS:
        assert is_xlsx(official.get("/dashboard/table/children/", {param: value, "format": "xlsx"})), value


@pytest.mark.parametrize(("param", "label"), [("category", "分类"), ("page", "页码"), ("format", "格式")])
def test_a_list_ignores_a_bad_value_with_a_notice(official, district, param, label):
    for path in ("/dashboard/list/received/", f"/dashboard/street/{district.street_a.pk}/list/received/"):
        for value in HOSTILE:
            response = official.get(path, {param: value})
            assert response.status_code == 200, (path, value)
            assert noticed(response, label), (path, value)
            assert response.context["category"] is None, (path, value)


@pytest.mark.parametrize("param", ["category", "from", "to", "page"])
def test_a_list_still_exports_to_excel_with_bad_values(official, param):
    for value in HOSTILE:
        assert is_xlsx(official.get("/dashboard/list/received/", {param: value, "format": "xlsx"})), value


def test_a_report_for_a_month_out_of_range_is_refused(official):
    for value in BAD_MONTHS:
        response = official.post("/dashboard/reports/", {"month": value, "place": "district"})
        assert response.status_code == 400, value
        assert "month" in response.context["form"].errors, value
    assert not ReportJob.objects.exists()
