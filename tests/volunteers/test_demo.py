"""The demo (``seed_baohe``) gains volunteer teams, projects, activities with sign-ups and
hours, and the 千万工程's targets and training; running it again adds nothing."""

from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum
from django.utils import timezone

from partybuilding.models import Attendance, Backbone, BackboneTarget, Course, TrainingSession
from volunteers.models import (
    Activity,
    PointsEntry,
    ServiceHours,
    ServiceProject,
    Signup,
    TeamMembership,
    Volunteer,
    VolunteerTeam,
    points_per_hour,
)

MODELS = (
    ServiceProject,
    VolunteerTeam,
    Volunteer,
    TeamMembership,
    Activity,
    Signup,
    ServiceHours,
    PointsEntry,
    BackboneTarget,
    Course,
    TrainingSession,
    Attendance,
)


def counts(run):
    return {model.__name__: run[model._meta.label] for model in MODELS}


# One copy of the demo (seeded twice, tests/demo_db.py) for the whole module, on one xdist worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group(__name__)]


@pytest.fixture(scope="module")
def seeded(demo_module):
    return demo_module


def test_seed_twice_adds_nothing(seeded):
    first = counts(seeded.first)
    assert counts(seeded.second) == first
    assert first == {model.__name__: model.objects.count() for model in MODELS}
    assert first["ServiceProject"] == 56 * 6
    assert first["Activity"] == 56 * 6
    assert first["VolunteerTeam"] >= 56 + 6
    assert first["Signup"] > 1000 and first["ServiceHours"] > 1000


def test_taihu_has_four_teams_one_of_them_neighbourhood_watch(seeded):
    names = set(VolunteerTeam.objects.filter(compound__name="太湖新村").values_list("name", flat=True))
    assert len(names) == 4
    assert "邻里守望志愿服务队" in names
    assert VolunteerTeam.objects.filter(compound__name="滨湖和园小区", name="滨湖和园义务监督队").exists()
    for team in VolunteerTeam.objects.annotate(n=Count("memberships")):
        assert team.n >= 1
        assert team.leader_id in set(team.memberships.values_list("volunteer_id", flat=True))


def test_projects_and_activities_are_consistent(seeded):
    kinds = set(ServiceProject.objects.values_list("name", flat=True))
    assert kinds == {"红管家", "一米阳光", "四美一好", "配餐上门", "快乐学堂", "家庭医生"}
    for activity in Activity.objects.annotate(
        confirmed=Count("signups", filter=Q(signups__status="confirmed")),
        waiting=Count("signups", filter=Q(signups__status="waitlisted")),
    ):
        assert activity.confirmed <= activity.capacity
        assert activity.waiting == 0 or activity.confirmed == activity.capacity
        assert activity.community_id == activity.project.community_id
    assert Activity.objects.filter(visibility="team").count() == 56
    assert Signup.objects.filter(status="waitlisted").exists()


def test_points_match_approved_hours(seeded):
    approved = ServiceHours.objects.filter(status="approved")
    assert PointsEntry.objects.count() == approved.count()
    total_hours = approved.aggregate(s=Sum("hours"))["s"]
    total_points = PointsEntry.objects.aggregate(s=Sum("points"))["s"]
    assert Decimal(total_points).quantize(Decimal("0.01")) == (Decimal(total_hours) * points_per_hour()).quantize(
        Decimal("0.01")
    )
    assert ServiceHours.objects.filter(households__isnull=False, project__kind="meal_delivery").exists()
    assert ServiceHours.objects.filter(households__isnull=False, project__kind="family_doctor").exists()


def test_backbone_targets_add_up_to_the_article(seeded):
    year = Backbone.objects.order_by("-year").values_list("year", flat=True).first()
    targets = BackboneTarget.objects.filter(year=year).aggregate(p=Sum("party_quota"), m=Sum("mass_quota"))
    assert targets == {"p": 1000, "m": 10000}
    assert BackboneTarget.objects.filter(year=year).count() == 13
    assert Attendance.objects.filter(backbone__year=year, attended=True).exists()


def test_the_demo_resident_volunteers(seeded):
    from volunteers.seed.demo import demo_resident

    record = demo_resident()
    volunteer = Volunteer.objects.get(resident=record)
    assert volunteer.memberships.filter(team__name="清华园一米阳光志愿服务队").exists()
    assert PointsEntry.objects.filter(volunteer=volunteer).exists()
    upcoming = Signup.objects.filter(volunteer=volunteer, activity__starts_at__gt=timezone.now())
    assert not upcoming.exists()  # the resident journey signs up
