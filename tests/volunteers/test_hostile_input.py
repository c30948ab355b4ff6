"""Hostile GET parameters on the volunteer pages, the Excel export and the API (rule 4): every
parameter is read through a declared form, FilterSet or serializer (``baohe.query``).

Pages and the page export answer with the bad filter ignored and a notice naming it; the API
answers 400 with the parameter named in DRF field errors. Never a 500.
"""

from io import BytesIO

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.hostile import HOSTILE as BASE_HOSTILE
from tests.hostile import HOSTILE_CHOICES, not_refused, notice

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
# Values none of the id or year parameters accept ("²".isdigit() is true; int("١٢") is 12).
HOSTILE = [*BASE_HOSTILE, "1 2", " "]
HOSTILE_YEARS = [*HOSTILE, "1999", "2101", "10000", str(2**63)]
OFFSET_TOO_FAR = "1217-10-28T13:12:37+16:11"
HOSTILE_DATETIMES = [
    OFFSET_TOO_FAR,
    "2024-01-01T00:00:00+16:00",  # a real date, an offset PostgreSQL refuses
    "2024-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59-15:59",  # past the last date once in UTC
    "0001-01-01T00:00:00+00:00",
    "1217-10-28T13:12:37",
    "2024-13-01T00:00:00",
    *HOSTILE,
    "x" * 100,
]
HOSTILE_DATES = ["0001-01-01", "1217-10-28", "9999-12-31", "2024-02-30", *HOSTILE, "x" * 100]


def notices(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- staff lists: a bad value is ignored, with a notice ----------------------------------------------------
LISTS = [
    ("activities", "activities"),
    ("teams", "teams"),
    ("projects", "projects"),
    ("volunteers", "volunteers"),
    ("hours", "rows"),
]


@pytest.mark.parametrize(("page", "rows"), LISTS)
@pytest.mark.parametrize("value", HOSTILE)
def test_lists_ignore_a_bad_community(page, rows, value, vol, street_official_a, client_for):
    client = client_for(street_official_a)
    url = reverse(f"volunteers:{page}")
    everything = [row.pk for row in client.get(url).context[rows]]

    response = client.get(url, {"community": value})

    assert response.status_code == 200
    assert response.context["selected_community"] is None
    assert [row.pk for row in response.context[rows]] == everything
    assert notice("社区") in response.content.decode()


def test_activities_literal_superscript_two(vol, staff_a, client_for):
    response = client_for(staff_a).get("/volunteers/?community=%C2%B2")

    assert response.status_code == 200
    assert notice("社区") in response.content.decode()


def test_a_community_outside_scope_is_ignored_with_a_notice(vol, district, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:teams"), {"community": district.a2.community.pk})

    assert [team.pk for team in response.context["teams"]] == [vol.team_a1.pk]
    assert "社区不存在或不在您的范围内。" in response.content.decode()


def test_a_good_community_filters_without_a_notice(vol, district, street_official_a, client_for):
    response = client_for(street_official_a).get(reverse("volunteers:teams"), {"community": district.a2.community.pk})

    assert [team.pk for team in response.context["teams"]] == [vol.team_a2.pk]
    assert notice("社区") not in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE_CHOICES)
def test_activities_ignore_a_bad_when(value, vol, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:activities"), {"when": value})

    assert response.status_code == 200
    assert response.context["when"] == "upcoming"
    assert notice("时间") in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE_CHOICES)
def test_hours_ignore_a_bad_status(value, vol, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:hours"), {"status": value})

    assert response.status_code == 200
    assert response.context["status"] == "pending"
    assert notice("状态") in response.content.decode()


def test_hours_status_all_lists_every_status(vol, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:hours"), {"status": "all"})

    assert response.context["status"] == ""
    assert notice("状态") not in response.content.decode()


@pytest.mark.parametrize("value", ["\x00", "\x01", "a\x1bb", "x" * 101])
def test_volunteers_ignore_a_bad_name(value, vol, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:volunteers"), {"q": value})

    assert response.status_code == 200
    assert response.context["q"] == ""
    assert len(response.context["volunteers"]) == 4
    assert notice("姓名") in response.content.decode()


def test_pagination_links_carry_only_parsed_values(vol, district, street_official_a, client_for):
    url = reverse("volunteers:activities")
    response = client_for(street_official_a).get(url, {"community": "²\x00", "when": "past", "junk": "\x01"})

    assert response.context["page_query"] == "when=past&"
    response = client_for(street_official_a).get(url, {"community": district.a2.community.pk})
    assert response.context["page_query"] == f"community={district.a2.community.pk}&when=upcoming&"


@pytest.mark.parametrize("page", [page for page, _rows in LISTS])
def test_lists_bad_page_is_the_first_page(page, vol, staff_a, client_for):
    """``?page=`` (``baohe.views.PagedListView``): junk is the first page, never 404 or 500."""
    client = client_for(staff_a)
    pages = {}
    for value in HOSTILE:
        response = client.get(reverse(f"volunteers:{page}"), {"page": value})
        pages[value] = (response.status_code, response.context["page_obj"].number)

    assert set(pages.values()) == {(200, 1)}, pages


# --- the page export: a bad value is ignored, with a notice ------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE_YEARS)
def test_export_ignores_a_bad_year(value, vol, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:hours_export"), {"year": value})

    assert response.status_code == 200
    assert f"-{YEAR}.xlsx" in response["Content-Disposition"]
    load_workbook(BytesIO(response.content))
    assert [n for n in notices(response) if n.startswith(notice("年度"))]


@pytest.mark.parametrize("value", HOSTILE)
def test_export_ignores_a_bad_community(value, vol, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:hours_export"), {"community": value, "year": YEAR})

    assert response.status_code == 200
    assert [n for n in notices(response) if n.startswith(notice("社区"))]


def test_export_notice_shows_on_the_next_page(vol, staff_a, client_for):
    client = client_for(staff_a)
    client.get(reverse("volunteers:hours_export"), {"year": "¹²"})

    assert notice("年度") in client.get(reverse("volunteers:hours")).content.decode()


# --- the API export: 400 with the parameter named ----------------------------------------------------------
def test_api_export_refuses_a_bad_year(vol, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), "/api/v1/service-hours/export/", "year", HOSTILE_YEARS) == {}


def test_api_export_refuses_a_bad_community(vol, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), "/api/v1/service-hours/export/", "community", HOSTILE) == {}


def test_api_export_400_is_drf_field_errors(vol, staff_a, api_client_for):
    response = api_client_for(staff_a).get("/api/v1/service-hours/export/?year=%C2%B9%C2%B2&community=%C2%B2")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"year", "community"}
    assert all(isinstance(messages, list) and all(isinstance(m, str) for m in messages) for messages in body.values())


def test_api_export_community_outside_scope_is_404(vol, district, staff_a, api_client_for):
    response = api_client_for(staff_a).get("/api/v1/service-hours/export/", {"community": district.a2.community.pk})

    assert response.status_code == 404
    assert "detail" in response.json()


# --- API lists (FilterSets): 400 with the parameter named --------------------------------------------------
ID_FILTERS = [
    ("volunteers", "street"),
    ("volunteers", "community"),
    ("volunteers", "team"),
    ("volunteer-teams", "compound"),
    ("service-projects", "community"),
    ("activities", "project"),
    ("activities", "team"),
    ("activities", "compound"),
    ("signups", "activity"),
    ("signups", "volunteer"),
    ("service-hours", "volunteer"),
    ("service-hours", "project"),
    ("service-hours", "activity"),
    ("service-hours", "team"),
    ("service-hours", "household"),
    ("points", "volunteer"),
]


@pytest.mark.parametrize(("endpoint", "name"), ID_FILTERS)
def test_id_filters_refuse_bad_values(endpoint, name, vol, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), f"/api/v1/{endpoint}/", name, HOSTILE) == {}


@pytest.mark.parametrize("name", ["starts_before", "starts_after"])
def test_activity_datetime_filters_refuse_bad_values(name, vol, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), "/api/v1/activities/", name, HOSTILE_DATETIMES) == {}


def test_offset_beyond_postgres_is_400_not_500(vol, staff_a, api_client_for):
    """Once "time zone displacement out of range" from PostgreSQL."""
    response = api_client_for(staff_a).get("/api/v1/activities/?starts_before=1217-10-28T13:12:37%2B16:11")

    assert response.status_code == 400
    assert list(response.json()) == ["starts_before"]


def test_good_datetimes_filter(vol, staff_a, api_client_for):
    client = api_client_for(staff_a)
    starts = vol.activity_a1.starts_at

    later = client.get("/api/v1/activities/", {"starts_after": (starts).isoformat()}).json()["results"]
    earlier = client.get("/api/v1/activities/", {"starts_before": "2000-01-01T00:00:00+15:59"}).json()["results"]
    assert vol.activity_a1.pk in [row["id"] for row in later]
    assert earlier == []


@pytest.mark.parametrize("name", ["served_after", "served_before"])
def test_hours_date_filters_refuse_bad_values(name, vol, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), "/api/v1/service-hours/", name, HOSTILE_DATES) == {}


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [("service-projects", "kind"), ("activities", "visibility"), ("signups", "status"), ("service-hours", "status")],
)
def test_choice_filters_refuse_bad_values(endpoint, name, vol, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), f"/api/v1/{endpoint}/", name, HOSTILE_CHOICES) == {}


@pytest.mark.parametrize(("endpoint", "name"), [("volunteers", "name"), ("volunteer-teams", "name")])
def test_name_filters_refuse_control_characters(endpoint, name, vol, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), f"/api/v1/{endpoint}/", name, ["\x00", "\x01", "a\x1bb"]) == {}


# --- a form's redirect target ------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:alert(1)", "\x00"])
def test_review_goes_back_only_to_this_site(target, vol, staff_a, client_for):
    response = client_for(staff_a).post(reverse("volunteers:hours_review"), {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:hours")


# --- the schema tells the truth ----------------------------------------------------------------------------
def test_export_400_is_documented_as_field_errors(admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    responses = schema["paths"]["/api/v1/service-hours/export/"]["get"]["responses"]
    ref = responses["400"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert set(component["properties"]) == {"year", "community"}
    assert all(p == {"type": "array", "items": {"type": "string"}} for p in component["properties"].values())
    assert {"403", "404"} <= set(responses)


def test_new_team_answers_its_member_count(district, staff_a, api_client_for):
    body = {"community": district.a1.community.pk, "name": "楼道互助队"}
    response = api_client_for(staff_a).post("/api/v1/volunteer-teams/", body, format="json")

    assert response.status_code == 201
    assert response.json()["member_count"] == 0


# --- posted ids ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["x", "²", "١٢", "-1", "0", "\x00"])
def test_check_in_refuses_a_bad_signup_id(value, vol, staff_a, client_for):
    """Once ``int("x")`` in the service: a 500."""
    url = reverse("volunteers:activity_check_in", args=[vol.activity_a1.pk])
    response = client_for(staff_a).post(url, {"signups": [value]})

    assert response.status_code == 302
    assert notices(response) == ["编号必须是整数。"]
