"""The volunteer API: registry CRUD, the workflow endpoints, bad input (400 with field errors,
never 500), the export, and the OpenAPI schema."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from volunteers.models import Activity, PointsEntry, ServiceHours, Signup, TeamMembership, Volunteer

from .factories import ActivityFactory, ServiceHoursFactory, SignupFactory

pytestmark = pytest.mark.django_db


def test_resident_signs_up_waits_and_is_promoted_through_the_api(vol, resident, member_b, resident_b, api_client_for):
    url = f"/api/v1/activities/{vol.activity_a1.pk}/signup/"
    assert api_client_for(resident).post(url, {}, format="json").json()["status"] == "confirmed"
    assert api_client_for(member_b).post(url, {}, format="json").json()["status"] == "confirmed"

    response = api_client_for(resident_b).post(url, {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["waitlist_position"], body["volunteer"]) == ("waitlisted", 1, vol.v3.pk)

    again = api_client_for(resident_b).post(url, {}, format="json")
    assert again.status_code == 409
    assert again.json() == {"detail": f"{vol.v3} 已报名「{vol.activity_a1.title}」。", "code": "already_signed_up"}

    response = api_client_for(member_b).post(f"/api/v1/activities/{vol.activity_a1.pk}/cancel/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["signup"]["status"] == "cancelled"
    assert [s["volunteer"] for s in response.json()["promoted"]] == [vol.v3.pk]

    detail = api_client_for(resident).get(f"/api/v1/activities/{vol.activity_a1.pk}/").json()
    assert (detail["confirmed_count"], detail["waitlist_count"], detail["places_left"]) == (2, 0, 0)


def test_staff_signs_up_and_cancels_a_named_volunteer(vol, staff_a, api_client_for):
    client = api_client_for(staff_a)
    response = client.post(f"/api/v1/activities/{vol.activity_a1.pk}/signup/", {"volunteer": vol.v4.pk}, format="json")
    assert response.status_code == 201
    signup_id = response.json()["id"]

    response = client.post(f"/api/v1/activities/{vol.activity_a1.pk}/cancel/", {"signup": signup_id}, format="json")
    assert response.status_code == 200
    assert Signup.objects.get(pk=signup_id).status == Signup.Status.CANCELLED


def test_signup_bad_input_is_400(vol, staff_a, api_client_for):
    client = api_client_for(staff_a)
    response = client.post(f"/api/v1/activities/{vol.activity_a1.pk}/signup/", {"volunteer": "abc"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["volunteer"]
    response = client.post(f"/api/v1/activities/{vol.activity_a1.pk}/signup/", {"volunteer": vol.vb1.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["volunteer"]
    response = client.post(f"/api/v1/activities/{vol.activity_a1.pk}/cancel/", {"signup": "x"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["signup"]
    assert client.post("/api/v1/activities/999999/signup/", {}, format="json").status_code == 404
    assert not Signup.objects.exists()


def test_check_in_and_bulk_approval_through_the_api(vol, staff_a, resident, api_client_for, settings):
    settings.VOLUNTEER_POINTS_PER_HOUR = 10
    starts = timezone.now() - datetime.timedelta(minutes=20)
    activity = ActivityFactory(
        project=vol.project_a1,
        team=vol.team_a1,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=100),
        signup_deadline=starts - datetime.timedelta(hours=1),
    )
    signups = [SignupFactory(activity=activity, volunteer=v) for v in (vol.v1, vol.v2)]
    client = api_client_for(staff_a)

    response = api_client_for(resident).post(f"/api/v1/signups/{signups[0].pk}/check-in/")
    assert response.status_code == 403
    hour_ids = []
    for signup in signups:
        response = client.post(f"/api/v1/signups/{signup.pk}/check-in/")
        assert response.status_code == 200
        body = response.json()
        assert body["already"] is False
        assert (body["hours"]["hours"], body["hours"]["status"]) == ("1.67", "pending")
        hour_ids.append(body["hours"]["id"])
    assert client.post(f"/api/v1/signups/{signups[0].pk}/check-in/").json()["already"] is True

    assert (
        api_client_for(resident).post("/api/v1/service-hours/approve/", {"ids": hour_ids}, format="json").status_code
        == 403
    )
    response = client.post("/api/v1/service-hours/approve/", {"ids": hour_ids}, format="json")
    assert response.status_code == 200
    assert response.json() == {"done": hour_ids, "skipped": [], "hours": "3.34", "points": "33.40"}
    assert sum(p.points for p in PointsEntry.objects.all()) == Decimal("33.40")

    response = client.get(f"/api/v1/volunteers/{vol.v1.pk}/")
    assert (response.json()["approved_hours"], response.json()["points_balance"]) == ("1.67", "16.70")
    mine = api_client_for(resident).get("/api/v1/points/").json()
    assert [row["points"] for row in mine["results"]] == ["16.70"]


def test_review_bad_input_is_400_and_outsiders_404(vol, staff_a, api_client_for):
    row = ServiceHoursFactory(volunteer=vol.v1, project=vol.project_a1)
    other = ServiceHoursFactory(volunteer=vol.vb1, project=vol.project_a2)
    client = api_client_for(staff_a)
    for body in ({}, {"ids": []}, {"ids": ["x"]}, {"ids": [0]}, {"ids": "1"}):
        response = client.post("/api/v1/service-hours/approve/", body, format="json")
        assert response.status_code == 400, body
        assert list(response.json()) == ["ids"]
    response = client.post("/api/v1/service-hours/reject/", {"ids": [row.pk]}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["reason"]
    response = client.post("/api/v1/service-hours/approve/", {"ids": [row.pk, other.pk]}, format="json")
    assert response.status_code == 404
    assert ServiceHours.objects.filter(status="pending").count() == 2


def test_staff_records_hours_through_the_api(vol, district, staff_a, api_client_for):
    client = api_client_for(staff_a)
    body = {
        "volunteer": vol.v2.pk,
        "project": vol.project_a1.pk,
        "served_on": str(timezone.localdate()),
        "hours": "0.75",
        "households": [district.a1.households[0].pk],
        "note": "午餐送餐上门",
    }
    response = client.post("/api/v1/service-hours/", body, format="json")
    assert response.status_code == 201
    assert (response.json()["hours"], response.json()["households"]) == ("0.75", [district.a1.households[0].pk])

    bad = {**body, "hours": "25", "served_on": "2026-13-01", "households": [district.a2.households[0].pk]}
    response = client.post("/api/v1/service-hours/", bad, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"hours", "served_on", "households"}
    response = client.post("/api/v1/service-hours/", {**body, "project": None}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["project"]


def test_activity_crud_goes_through_the_service(vol, full_capacity_activity, staff_a, resident, api_client_for):
    client = api_client_for(staff_a)
    url = f"/api/v1/activities/{full_capacity_activity.pk}/"
    response = client.patch(url, {"capacity": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {"capacity": ["已有 2 人报名，名额不能少于 2。"]}

    response = client.patch(url, {"capacity": 3}, format="json")
    assert response.status_code == 200
    assert (response.json()["confirmed_count"], response.json()["waitlist_count"]) == (3, 0)

    assert api_client_for(resident).patch(url, {"capacity": 9}, format="json").status_code == 403
    assert api_client_for(resident).post("/api/v1/activities/", {}, format="json").status_code == 403


@pytest.fixture
def full_capacity_activity(vol):
    activity = vol.activity_a1
    SignupFactory(activity=activity, volunteer=vol.v1)
    SignupFactory(activity=activity, volunteer=vol.v2)
    SignupFactory(activity=activity, volunteer=vol.v3, status=Signup.Status.WAITLISTED)
    return activity


def test_create_activity_bad_input(vol, staff_a, api_client_for):
    start = timezone.now() + datetime.timedelta(days=4)
    body = {
        "project": vol.project_a1.pk,
        "title": "义诊",
        "place": "服务站",
        "starts_at": start.isoformat(),
        "ends_at": (start - datetime.timedelta(hours=1)).isoformat(),
        "signup_deadline": (start + datetime.timedelta(hours=1)).isoformat(),
        "capacity": 0,
        "visibility": "team",
    }
    response = api_client_for(staff_a).post("/api/v1/activities/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"capacity": ["请确保该值大于或者等于 1。"]}
    response = api_client_for(staff_a).post("/api/v1/activities/", {**body, "capacity": 5}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "ends_at": ["结束时间必须晚于开始时间。"],
        "signup_deadline": ["报名截止时间不能晚于开始时间。"],
        "team": ["仅本队可见的活动必须指定组织队伍。"],
    }
    response = api_client_for(staff_a).post(
        "/api/v1/activities/", {**body, "project": vol.project_a2.pk, "capacity": 5}, format="json"
    )
    assert response.status_code == 400 and "project" in response.json()
    assert Activity.objects.filter(title="义诊").count() == 0


def test_team_join_and_volunteer_register(vol, district, resident_b, staff_a, api_client_for):
    response = api_client_for(resident_b).post(f"/api/v1/volunteer-teams/{vol.team_a1.pk}/join/", {}, format="json")
    assert response.status_code == 201
    assert TeamMembership.objects.filter(team=vol.team_a1, volunteer=vol.v3).exists()
    again = api_client_for(resident_b).post(f"/api/v1/volunteer-teams/{vol.team_a1.pk}/join/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_member"

    record = district.a1.residents[9]
    response = api_client_for(staff_a).post(
        "/api/v1/volunteers/", {"resident": record.pk, "skills": "维修"}, format="json"
    )
    assert response.status_code == 201
    assert Volunteer.objects.get(resident=record).skills == "维修"
    response = api_client_for(staff_a).post(
        "/api/v1/volunteers/", {"resident": district.a2.residents[9].pk}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["resident"]


def test_export_endpoint(vol, staff_a, resident, api_client_for):
    row = ServiceHoursFactory(
        volunteer=vol.v1, project=vol.project_a1, team=vol.team_a1, hours="2.25", status=ServiceHours.Status.APPROVED
    )
    client = api_client_for(staff_a)
    response = client.get("/api/v1/service-hours/export/", {"year": row.served_on.year})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == ("曙光社区", "邻里守望志愿服务队")
    assert rows[1][1 + row.served_on.month] == 2.25
    assert client.get("/api/v1/service-hours/export/", {"year": "abc"}).status_code == 400
    assert client.get("/api/v1/service-hours/export/", {"year": "2026", "community": "x"}).status_code == 400
    assert api_client_for(resident).get("/api/v1/service-hours/export/").status_code == 403


def test_openapi_schema_lists_the_endpoints(admin_client):
    response = admin_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/volunteer-teams/",
        "/api/v1/volunteer-teams/{team_pk}/join/",
        "/api/v1/service-projects/",
        "/api/v1/activities/",
        "/api/v1/activities/{id}/",
        "/api/v1/activities/{activity_pk}/signup/",
        "/api/v1/activities/{activity_pk}/cancel/",
        "/api/v1/signups/",
        "/api/v1/signups/{signup_pk}/check-in/",
        "/api/v1/service-hours/",
        "/api/v1/service-hours/approve/",
        "/api/v1/service-hours/reject/",
        "/api/v1/service-hours/export/",
        "/api/v1/volunteers/",
        "/api/v1/points/",
        "/api/v1/backbone-targets/",
        "/api/v1/backbone-progress/",
        "/api/v1/training-courses/",
        "/api/v1/training-sessions/",
        "/api/v1/training-attendances/",
    ):
        assert path in paths, path
