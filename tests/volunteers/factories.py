"""Factories for volunteer service and the 千万工程 additions (kept here, beside their tests)."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from partybuilding.models import Attendance, BackboneTarget, Course, TrainingSession
from tests.factories import CommunityFactory, ResidentFactory, StreetFactory
from volunteers.models import Activity, ServiceHours, ServiceProject, Signup, TeamMembership, Volunteer, VolunteerTeam


class VolunteerFactory(DjangoModelFactory):
    class Meta:
        model = Volunteer

    resident = factory.SubFactory(ResidentFactory)
    skills = "理发、陪聊"


class VolunteerTeamFactory(DjangoModelFactory):
    class Meta:
        model = VolunteerTeam

    community = factory.SubFactory(CommunityFactory)
    compound = None
    name = factory.Sequence(lambda n: f"志愿服务队{n}")


class TeamMembershipFactory(DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(VolunteerTeamFactory)
    volunteer = factory.SubFactory(VolunteerFactory)


class ServiceProjectFactory(DjangoModelFactory):
    class Meta:
        model = ServiceProject

    community = factory.SubFactory(CommunityFactory)
    kind = ServiceProject.Kind.RED_STEWARD
    name = factory.Sequence(lambda n: f"红管家{n}")
    description = "楼道清洁、环境整治"


def _soon(days=3, hour=9):
    base = timezone.localtime() + datetime.timedelta(days=days)
    return base.replace(hour=hour, minute=0, second=0, microsecond=0)


class ActivityFactory(DjangoModelFactory):
    """An upcoming public activity (in three days, 9:00–11:00), sign-ups open until the day before."""

    class Meta:
        model = Activity

    project = factory.SubFactory(ServiceProjectFactory)
    team = None
    compound = None
    title = factory.Sequence(lambda n: f"楼道清洁日{n}")
    place = "党群服务站"
    starts_at = factory.LazyFunction(_soon)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    signup_deadline = factory.LazyAttribute(lambda o: o.starts_at - datetime.timedelta(days=1))
    capacity = 10
    visibility = Activity.Visibility.PUBLIC


class SignupFactory(DjangoModelFactory):
    class Meta:
        model = Signup

    activity = factory.SubFactory(ActivityFactory)
    volunteer = factory.SubFactory(VolunteerFactory)
    status = Signup.Status.CONFIRMED
    queued_at = factory.LazyFunction(timezone.now)


class ServiceHoursFactory(DjangoModelFactory):
    """Pending hours on a project (no activity)."""

    class Meta:
        model = ServiceHours

    volunteer = factory.SubFactory(VolunteerFactory)
    project = factory.SubFactory(ServiceProjectFactory)
    served_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    hours = "1.50"
    status = ServiceHours.Status.PENDING


class BackboneTargetFactory(DjangoModelFactory):
    class Meta:
        model = BackboneTarget

    street = factory.SubFactory(StreetFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    party_quota = 10
    mass_quota = 100


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = Course

    name = factory.Sequence(lambda n: f"协商议事规则{n}")
    hours = "2.0"


class TrainingSessionFactory(DjangoModelFactory):
    class Meta:
        model = TrainingSession

    course = factory.SubFactory(CourseFactory)
    street = factory.SubFactory(StreetFactory)
    community = None
    starts_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=10))
    place = "街道社区治理学院"


class AttendanceFactory(DjangoModelFactory):
    class Meta:
        model = Attendance

    session = factory.SubFactory(TrainingSessionFactory)
    backbone = None
    attended = True
