"""The visit API: plans and visits read restricted by scope, ``VisitRecordApi`` through the
service (404 outside scope, 400 with field errors, 201 with the visit), and the schema."""

from datetime import timedelta

import pytest
from django.utils import timezone

from service_requests.models import ServiceRequest
from visits import services
from visits.models import Purpose, Visit, VisitPlan

from .conftest import png

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/visit-plans/"
VISITS = "/api/v1/visits/"
RECORD = "/api/v1/visits/record/"


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_plans_are_restricted_by_scope(visiting, api_client_for, staff_a, staff_b, staff_other_street, resident):
    a1 = sorted([visiting.weekly.pk, visiting.monthly.pk])
    assert ids(api_client_for(staff_a).get(PLANS)) == a1
    assert ids(api_client_for(staff_b).get(PLANS)) == [visiting.weekly_a2.pk]
    assert ids(api_client_for(staff_other_street).get(PLANS)) == []
    assert ids(api_client_for(resident).get(PLANS)) == []
    # The visitor sees the plans they visit (and only those).
    assert ids(api_client_for(visiting.central).get(PLANS)) == a1
    assert ids(api_client_for(visiting.central_a2).get(PLANS)) == [visiting.weekly_a2.pk]
    assert api_client_for(staff_b).get(f"{PLANS}{visiting.weekly.pk}/").status_code == 404
    assert api_client_for(staff_b).get(f"{PLANS}999999/").status_code == 404


def test_plan_detail_and_filters(visiting, district, api_client_for, staff_a):
    client = api_client_for(staff_a)
    VisitPlan.objects.filter(pk=visiting.weekly.pk).update(next_due_on=timezone.localdate() - timedelta(days=1))
    row = client.get(f"{PLANS}{visiting.weekly.pk}/").json()
    assert {k: row[k] for k in ("household", "rule", "interval_days", "visitor_user", "overdue", "active")} == {
        "household": visiting.alone.pk,
        "rule": "alone_elderly_weekly",
        "interval_days": 7,
        "visitor_user": visiting.central.pk,
        "overdue": True,
        "active": True,
    }
    assert ids(client.get(PLANS, {"overdue": "true"})) == [visiting.weekly.pk]
    assert ids(client.get(PLANS, {"rule": "central_household_monthly"})) == [visiting.monthly.pk]
    assert ids(client.get(PLANS, {"community": district.a2.community.pk})) == []


def test_visits_are_restricted_by_scope(visiting, api_client_for, staff_a, staff_b, resident):
    visit = services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH)
    other = services.visit_record(by=visiting.central_a2, household=visiting.alone_a2, purpose=Purpose.SAFETY)
    assert ids(api_client_for(staff_a).get(VISITS)) == [visit.pk]
    assert ids(api_client_for(staff_b).get(VISITS)) == [other.pk]
    assert ids(api_client_for(visiting.central).get(VISITS)) == [visit.pk]
    assert ids(api_client_for(visiting.leader).get(VISITS)) == []
    assert ids(api_client_for(resident).get(VISITS)) == []
    assert api_client_for(staff_b).get(f"{VISITS}{visit.pk}/").status_code == 404


def test_record_api_with_a_found_need(visiting, api_client_for, need_category):
    response = api_client_for(visiting.central).post(
        RECORD,
        {
            "household": visiting.alone.pk,
            "purpose": "safety",
            "notes": "燃气灶打不着火",
            "need_category": need_category.pk,
            "need_description": "需要上门检修燃气灶",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    visit = Visit.objects.get()
    request = ServiceRequest.objects.get()
    assert (body["id"], body["request"], body["request_number"], body["plan"]) == (
        visit.pk,
        request.pk,
        request.number,
        visiting.weekly.pk,
    )
    assert request.channel == ServiceRequest.Channel.VISIT
    assert VisitPlan.objects.get(pk=visiting.weekly.pk).next_due_on == timezone.localdate() + timedelta(days=7)


def test_record_api_multipart_with_photo(visiting, api_client_for):
    response = api_client_for(visiting.central).post(
        RECORD, {"household": visiting.served.pk, "purpose": "health", "photo": png()}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert response.json()["photo_url"] == f"http://testserver/visits/{response.json()['id']}/photo/"


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"purpose": "party"}, {"purpose"}),
        ({"need_description": "没有分类"}, {"need_category"}),
        ({"need_category": 999999, "need_description": "x"}, {"need_category"}),
        ({"visited_at": "not a date"}, {"visited_at"}),
        ({"plan": "monthly"}, {"plan"}),
    ],
)
def test_record_api_bad_input_is_400_and_writes_nothing(visiting, api_client_for, payload, errors):
    data = {"household": visiting.alone.pk, "purpose": "health", **payload}
    if data.get("plan") == "monthly":
        data["plan"] = visiting.monthly.pk
    response = api_client_for(visiting.central).post(RECORD, data, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == errors
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("who", ["staff_b", "resident", "secretary"])
def test_record_api_outside_scope_is_404_and_writes_nothing(
    visiting, api_client_for, need_category, who, staff_b, resident
):
    user = {"staff_b": staff_b, "resident": resident, "secretary": visiting.secretary}[who]
    response = api_client_for(user).post(
        RECORD,
        {
            "household": visiting.alone.pk,
            "purpose": "health",
            "need_category": need_category.pk,
            "need_description": "不应写入",
        },
        format="json",
    )
    assert response.status_code == 404
    assert (Visit.objects.count(), ServiceRequest.objects.count()) == (0, 0)


def test_record_api_needs_authentication(visiting, client):
    response = client.post(RECORD, {"household": visiting.alone.pk, "purpose": "health"})
    assert response.status_code in (401, 403)
    assert Visit.objects.count() == 0


def test_schema_lists_the_visit_endpoints(admin_client):
    response = admin_client.get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    for path in ("/api/v1/visit-plans/", "/api/v1/visit-plans/{id}/", "/api/v1/visits/", "/api/v1/visits/record/"):
        assert f"{path}:" in body
    assert "VisitRecordInput" in body
