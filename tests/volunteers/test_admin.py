"""The Django admin for volunteer service and the 千万工程 additions: every changelist and add
page opens, approval goes through the service (points once), and an activity saved in the
admin promotes from its waitlist."""

import pytest
from django.urls import reverse
from django.utils import timezone

from partybuilding.models import Attendance, BackboneTarget, Course, TrainingSession
from volunteers.models import Activity, PointsEntry, ServiceHours, ServiceProject, Signup, Volunteer, VolunteerTeam

from .factories import ServiceHoursFactory, SignupFactory

pytestmark = pytest.mark.django_db

MODELS = (
    Volunteer,
    VolunteerTeam,
    ServiceProject,
    Activity,
    Signup,
    ServiceHours,
    PointsEntry,
    BackboneTarget,
    Course,
    TrainingSession,
)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_pages_open(vol, admin_client, model):
    meta = model._meta
    assert admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")).status_code == 200
    add = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    assert add.status_code == (403 if model is Signup else 200)


def test_admin_approve_action_earns_points_once(vol, admin_client):
    rows = [ServiceHoursFactory(volunteer=vol.v2, project=vol.project_a1, hours="1.20") for _ in range(2)]
    url = reverse("admin:volunteers_servicehours_changelist")
    data = {"action": "approve", "_selected_action": [r.pk for r in rows]}
    assert admin_client.post(url, data).status_code == 302
    assert admin_client.post(url, data).status_code == 302
    assert PointsEntry.objects.count() == 2
    assert sum(p.points for p in PointsEntry.objects.all()) == 24
    change = admin_client.get(reverse("admin:volunteers_servicehours_change", args=[rows[0].pk]))
    assert 'name="hours"' not in change.content.decode()  # approved hours are read-only


def test_admin_capacity_rules(vol, admin_client):
    activity = vol.activity_a1  # capacity 2
    for volunteer in (vol.v1, vol.v2):
        SignupFactory(activity=activity, volunteer=volunteer)
    SignupFactory(activity=activity, volunteer=vol.v3, status=Signup.Status.WAITLISTED)
    url = reverse("admin:volunteers_activity_change", args=[activity.pk])
    data = {
        "project": activity.project_id,
        "team": activity.team_id,
        "title": activity.title,
        "place": activity.place,
        "starts_at_0": timezone.localtime(activity.starts_at).strftime("%Y-%m-%d"),
        "starts_at_1": timezone.localtime(activity.starts_at).strftime("%H:%M:%S"),
        "ends_at_0": timezone.localtime(activity.ends_at).strftime("%Y-%m-%d"),
        "ends_at_1": timezone.localtime(activity.ends_at).strftime("%H:%M:%S"),
        "signup_deadline_0": timezone.localtime(activity.signup_deadline).strftime("%Y-%m-%d"),
        "signup_deadline_1": timezone.localtime(activity.signup_deadline).strftime("%H:%M:%S"),
        "visibility": "public",
    }
    response = admin_client.post(url, {**data, "capacity": 1})
    assert response.status_code == 200
    assert "已有 2 人报名，名额不能少于 2。" in response.content.decode()
    response = admin_client.post(url, {**data, "capacity": 3})
    assert response.status_code == 302
    assert Signup.objects.get(activity=activity, volunteer=vol.v3).status == Signup.Status.CONFIRMED
    assert Attendance.objects.count() == 0
