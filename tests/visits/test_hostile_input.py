"""Hostile input on the visit pages and API (rule 4): a page ignores a bad query parameter with a
notice naming it and still answers 200; a bad posted id or time changes nothing; the API answers
400 naming the field; never a 500. The ``visiting`` world is costly to build, so each test tries
every hostile value on one world (the failing value is named in the assertion)."""

import pytest
from django.urls import reverse

from tests.hostile import BAD_DATETIMES, HOSTILE, noticed
from visits import services
from visits.models import Purpose, Visit, VisitPlan


def pks(rows):
    return [row.pk for row in rows]


# --- pages --------------------------------------------------------------------------------------------
def test_my_visits_ignore_junk_for_all_with_a_notice(visiting, client_for):
    client = client_for(visiting.central)
    for value in HOSTILE:
        response = client.get(reverse("visits:mine"), {"all": value})
        assert (response.status_code, response.context["show_all"]) == (200, False), value
        assert noticed(response, "全部") is (value != "0"), value  # "0" is a plain no


def test_the_record_form_ignores_a_bad_plan_with_a_notice(visiting, client_for):
    client, url = client_for(visiting.central), reverse("visits:record", args=[visiting.alone.pk])
    for value in HOSTILE:
        response = client.get(url, {"plan": value})
        assert response.status_code == 200, value
        assert noticed(response, "走访计划"), value
        assert response.context["plan"] is None, value


@pytest.mark.parametrize("values", [HOSTILE, ["other household"]], ids=["hostile", "other-household"])
def test_recording_with_a_bad_plan_changes_nothing(visiting, client_for, values):
    client, url = client_for(visiting.central), reverse("visits:record", args=[visiting.alone.pk])
    for value in values:
        plan = visiting.monthly.pk if value == "other household" else value
        response = client.post(url, {"purpose": Purpose.HEALTH, "plan": plan})
        assert response.status_code == 400, value
        assert 'data-field-error="plan"' in response.content.decode(), value
    assert not Visit.objects.exists()


def test_recording_at_a_time_postgresql_cannot_take_changes_nothing(visiting, client_for):
    client, url = client_for(visiting.central), reverse("visits:record", args=[visiting.alone.pk])
    for value in BAD_DATETIMES:
        response = client.post(url, {"purpose": Purpose.HEALTH, "visited_at": value})
        assert response.status_code == 400, value
        assert list(response.context["form"].errors) == ["visited_at"], value
    assert not Visit.objects.exists()


def test_coverage_ignores_a_bad_community_with_a_notice(visiting, client_for, staff_a):
    client = client_for(staff_a)
    for value in HOSTILE:
        response = client.get(reverse("visits:coverage"), {"community": value})
        assert response.status_code == 200, value
        assert noticed(response, "社区"), value
        assert response.context["selected_community"] is None, value


@pytest.mark.parametrize(("param", "label"), [("community", "社区"), ("compound", "小区"), ("page", "页码")])
def test_the_overdue_list_ignores_a_bad_value_with_a_notice(visiting, client_for, staff_a, param, label):
    client = client_for(staff_a)
    expected = pks(client.get(reverse("visits:overdue")).context["plans"])
    for value in HOSTILE:
        response = client.get(reverse("visits:overdue"), {param: value})
        assert response.status_code == 200, value
        assert noticed(response, label), value
        assert (response.context["selected_community"], response.context["compound"]) == (None, None), value
        assert pks(response.context["plans"]) == expected, value


@pytest.mark.parametrize(
    ("param", "label"), [("community", "社区"), ("compound", "小区"), ("household", "住户"), ("page", "页码")]
)
def test_the_visit_list_ignores_a_bad_value_with_a_notice(visiting, client_for, staff_a, param, label):
    services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH)
    client = client_for(staff_a)
    for value in HOSTILE:
        response = client.get(reverse("visits:list"), {param: value})
        assert response.status_code == 200, value
        assert noticed(response, label), value
        assert len(response.context["visits"]) == 1, value


def test_the_visit_list_ignores_junk_for_needs_with_a_notice(visiting, client_for, staff_a):
    client = client_for(staff_a)
    for value in HOSTILE:
        response = client.get(reverse("visits:list"), {"needs": value})
        assert response.status_code == 200, value
        assert noticed(response, "发现需求") is (value != "0"), value


def test_generating_for_a_community_that_does_not_parse_is_not_found(visiting, client_for, staff_a):
    before = list(VisitPlan.objects.order_by("pk").values_list("pk", "active", "next_due_on"))
    client = client_for(staff_a)
    for value in HOSTILE:
        assert client.post(reverse("visits:generate"), {"community": value}).status_code == 404, value
    assert list(VisitPlan.objects.order_by("pk").values_list("pk", "active", "next_due_on")) == before


def test_generating_for_ones_own_community_still_works(visiting, district, client_for, staff_a):
    community = district.a1.community.pk
    response = client_for(staff_a).post(reverse("visits:generate"), {"community": community})
    assert (response.status_code, response.url) == (302, f"{reverse('visits:coverage')}?community={community}")


# --- API ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/visits/", "community"),
        ("/api/v1/visits/", "compound"),
        ("/api/v1/visits/", "household"),
        ("/api/v1/visits/", "plan"),
        ("/api/v1/visit-plans/", "community"),
        ("/api/v1/visit-plans/", "household"),
    ],
)
def test_api_refuses_a_bad_id_naming_the_field(visiting, api_client_for, staff_a, path, param):
    client = api_client_for(staff_a)
    for value in HOSTILE:
        response = client.get(path, {param: value})
        assert (response.status_code, list(response.json())) == (400, [param]), value


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/visits/", "has_request"),
        ("/api/v1/visit-plans/", "active"),
        ("/api/v1/visit-plans/", "overdue"),
        ("/api/v1/visit-plans/", "mine"),
    ],
)
def test_api_refuses_a_bad_yes_no_naming_the_field(visiting, api_client_for, staff_a, path, param):
    client = api_client_for(staff_a)
    for value in ["²", "-1", "2", "1e5", "\x00", "maybe"]:
        response = client.get(path, {param: value})
        assert (response.status_code, list(response.json())) == (400, [param]), value


@pytest.mark.parametrize("param", ["visited_before", "visited_after"])
def test_api_refuses_a_date_time_postgresql_cannot_take(visiting, api_client_for, staff_a, param):
    client = api_client_for(staff_a)
    for value in BAD_DATETIMES:
        response = client.get("/api/v1/visits/", {param: value})
        assert (response.status_code, list(response.json())) == (400, [param]), value


def test_api_still_filters_by_a_date_time_with_an_offset(visiting, api_client_for, staff_a):
    visit = services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH)
    moment = visit.visited_at.astimezone().isoformat()
    client = api_client_for(staff_a)
    assert client.get("/api/v1/visits/", {"visited_after": moment}).json()["count"] == 1
    assert client.get("/api/v1/visits/", {"visited_before": moment}).json()["count"] == 0


def test_api_refuses_a_bad_due_date(visiting, api_client_for, staff_a):
    client = api_client_for(staff_a)
    for value in ["2025-02-30", "0000-01-01", "²"]:
        response = client.get("/api/v1/visit-plans/", {"due_before": value})
        assert (response.status_code, list(response.json())) == (400, ["due_before"]), value


@pytest.mark.parametrize("field", ["household", "plan"])
def test_api_recording_refuses_a_bad_id(visiting, api_client_for, field):
    client = api_client_for(visiting.central)
    for value in HOSTILE:
        data = {"household": visiting.alone.pk, "purpose": Purpose.HEALTH, field: value}
        response = client.post("/api/v1/visits/record/", data, format="json")
        assert (response.status_code, list(response.json())) == (400, [field]), value
    assert not Visit.objects.exists()


def test_api_recording_refuses_a_bad_time(visiting, api_client_for):
    client = api_client_for(visiting.central)
    for value in BAD_DATETIMES:
        data = {"household": visiting.alone.pk, "purpose": Purpose.HEALTH, "visited_at": value}
        response = client.post("/api/v1/visits/record/", data, format="json")
        assert (response.status_code, list(response.json())) == (400, ["visited_at"]), value
    assert not Visit.objects.exists()
