"""Query counts stay flat (rule 7): every volunteer and 千万工程 list page and API list costs
the same number of queries with 2 rows as with 20.

Each scenario builds ``rows`` rows of what the page lists (on top of the ``vol`` fixture) and
returns who asks and the URL; the pinned number is what the request costs. A page that
needs more with 20 rows than with 2 has an N+1 query.
"""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from partybuilding.models import Backbone
from tests.factories import BackboneFactory, CommunityFactory, CompoundFactory, ResidentFactory, StreetFactory
from tests.signin import verified_login
from volunteers.models import PointsEntry, ServiceHours, Signup

from .factories import (
    ActivityFactory,
    AttendanceFactory,
    BackboneTargetFactory,
    CourseFactory,
    ServiceHoursFactory,
    ServiceProjectFactory,
    SignupFactory,
    TeamMembershipFactory,
    TrainingSessionFactory,
    VolunteerFactory,
    VolunteerTeamFactory,
)

pytestmark = pytest.mark.django_db

ROWS = pytest.mark.parametrize("rows", [2, 20])


def new_volunteer(community):
    compound = community.compounds.first()
    from tests.factories import BuildingFactory, HouseholdFactory

    building = BuildingFactory(compound=compound)
    return VolunteerFactory(resident=ResidentFactory(household=HouseholdFactory(building=building)))


def hours_rows(vol, district, rows, **extra):
    created = []
    for i in range(rows):
        volunteer = new_volunteer(district.a1.community)
        row = ServiceHoursFactory(volunteer=volunteer, project=vol.project_a1, team=vol.team_a1, **extra)
        row.households.set([district.a1.households[i % 6]])
        created.append(row)
    return created


def approve_all(rows):
    for row in rows:
        row.status = ServiceHours.Status.APPROVED
        row.save(update_fields=["status"])
        PointsEntry.objects.create(
            volunteer=row.volunteer, hours=row, points=Decimal(str(row.hours)) * 10, reason="测试"
        )


# --- scenarios: (persona, url, api) -----------------------------------------------------------------
def activities_page(vol, district, rows, p):
    for _ in range(rows):
        activity = ActivityFactory(project=vol.project_a1, team=vol.team_a1, compound=district.a1.compound)
        SignupFactory(activity=activity, volunteer=vol.v1)
    return p.staff_a, reverse("volunteers:activities"), False


def activity_detail(vol, district, rows, p):
    starts = timezone.now() - datetime.timedelta(minutes=30)
    activity = ActivityFactory(
        project=vol.project_a1,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        signup_deadline=starts - datetime.timedelta(hours=1),
        capacity=rows,
    )
    for i in range(rows + 2):
        signup = SignupFactory(
            activity=activity,
            volunteer=new_volunteer(district.a1.community),
            status=Signup.Status.CONFIRMED if i < rows else Signup.Status.WAITLISTED,
        )
        if i % 2 == 0 and i < rows:
            signup.checked_in_at = timezone.now()
            signup.save(update_fields=["checked_in_at"])
            ServiceHoursFactory(volunteer=signup.volunteer, project=vol.project_a1, activity=activity, signup=signup)
    return p.staff_a, reverse("volunteers:activity", args=[activity.pk]), False


def teams_page(vol, district, rows, p):
    for _ in range(rows):
        team = VolunteerTeamFactory(community=district.a1.community, compound=district.a1.compound)
        membership = TeamMembershipFactory(team=team, volunteer=new_volunteer(district.a1.community))
        team.leader = membership.volunteer
        team.save(update_fields=["leader"])
    return p.staff_a, reverse("volunteers:teams"), False


def team_detail(vol, district, rows, p):
    for _ in range(rows):
        TeamMembershipFactory(team=vol.team_a1, volunteer=new_volunteer(district.a1.community))
        ActivityFactory(project=vol.project_a1, team=vol.team_a1)
    return p.staff_a, reverse("volunteers:team", args=[vol.team_a1.pk]), False


def projects_page(vol, district, rows, p):
    for _ in range(rows):
        project = ServiceProjectFactory(community=district.a1.community, owner=vol.team_a1)
        ActivityFactory(project=project)
    return p.staff_a, reverse("volunteers:projects"), False


def volunteers_page(vol, district, rows, p):
    approve_all(hours_rows(vol, district, rows))
    return p.staff_a, reverse("volunteers:volunteers"), False


def volunteer_detail(vol, district, rows, p):
    created = [ServiceHoursFactory(volunteer=vol.v2, project=vol.project_a1) for _ in range(rows)]
    approve_all(created)
    return p.staff_a, reverse("volunteers:volunteer", args=[vol.v2.pk]), False


def hours_page(vol, district, rows, p):
    hours_rows(vol, district, rows)
    return p.staff_a, reverse("volunteers:hours"), False


def household_page(vol, district, rows, p):
    household = district.a1.households[0]
    for _ in range(rows):
        ServiceHoursFactory(volunteer=vol.v2, project=vol.project_a1, team=vol.team_a1).households.set([household])
    return p.staff_a, reverse("volunteers:household_services", args=[household.pk]), False


def my_home(vol, district, rows, p):
    for _ in range(rows):
        activity = ActivityFactory(project=vol.project_a1, team=vol.team_a1, compound=district.a1.compound)
        SignupFactory(activity=activity, volunteer=vol.v2)
    SignupFactory(activity=vol.activity_a1, volunteer=vol.v1)
    return p.resident, reverse("volunteers:my_home"), False


def my_hours(vol, district, rows, p):
    approve_all([ServiceHoursFactory(volunteer=vol.v1, project=vol.project_a1) for _ in range(rows)])
    return p.resident, reverse("volunteers:my_hours"), False


def my_teams(vol, district, rows, p):
    for _ in range(rows):
        team = VolunteerTeamFactory(community=district.a1.community)
        membership = TeamMembershipFactory(team=team, volunteer=new_volunteer(district.a1.community))
        team.leader = membership.volunteer
        team.save(update_fields=["leader"])
    return p.resident, reverse("volunteers:my_teams"), False


def backbones_by_street(district, rows):
    year = timezone.localdate().year
    for _ in range(rows):
        street = StreetFactory(district=district.district)
        community = CommunityFactory(street=street)
        compound = CompoundFactory(community=community)
        from tests.factories import BuildingFactory, HouseholdFactory

        household = HouseholdFactory(building=BuildingFactory(compound=compound))
        BackboneTargetFactory(street=street, year=year)
        backbone = BackboneFactory(resident=ResidentFactory(household=household), kind=Backbone.Kind.MASS)
        AttendanceFactory(session=TrainingSessionFactory(street=street), backbone=backbone)


def backbone_progress(vol, district, rows, p):
    backbones_by_street(district, rows)
    return p.district_official, reverse("partybuilding:backbones"), False


def backbone_street(vol, district, rows, p):
    street = district.street_a
    BackboneTargetFactory(street=street)
    for _ in range(rows):
        community = CommunityFactory(street=street)
        compound = CompoundFactory(community=community)
        from tests.factories import BuildingFactory, HouseholdFactory

        household = HouseholdFactory(building=BuildingFactory(compound=compound))
        BackboneFactory(resident=ResidentFactory(household=household))
    return p.street_official_a, reverse("partybuilding:backbone_street", args=[street.pk]), False


def training_page(vol, district, rows, p):
    for _ in range(rows):
        session = TrainingSessionFactory(street=district.street_a, course=CourseFactory())
        AttendanceFactory(
            session=session, backbone=BackboneFactory(resident=ResidentFactory(household=district.a1.households[0]))
        )
    return p.staff_a, reverse("partybuilding:backbone_training"), False


def session_page(vol, district, rows, p):
    session = TrainingSessionFactory(street=district.street_a, community=district.a1.community)
    for i in range(rows):
        backbone = BackboneFactory(resident=ResidentFactory(household=district.a1.households[i % 6]))
        if i % 2:
            AttendanceFactory(session=session, backbone=backbone)
    return p.staff_a, reverse("partybuilding:backbone_session", args=[session.pk]), False


def api_list(build, path, persona="staff_a"):
    def scenario(vol, district, rows, p):
        build(vol, district, rows, p)
        return getattr(p, persona), path, True

    return scenario


def build_activities(vol, district, rows, p):
    for _ in range(rows):
        SignupFactory(activity=ActivityFactory(project=vol.project_a1), volunteer=vol.v1)


def build_teams(vol, district, rows, p):
    for _ in range(rows):
        TeamMembershipFactory(team=VolunteerTeamFactory(community=district.a1.community), volunteer=vol.v3)


def build_projects(vol, district, rows, p):
    for _ in range(rows):
        ServiceProjectFactory(community=district.a1.community)


def build_hours(vol, district, rows, p):
    approve_all(hours_rows(vol, district, rows))


def build_signups(vol, district, rows, p):
    for _ in range(rows):
        SignupFactory(activity=vol.activity_a1, volunteer=new_volunteer(district.a1.community))


def build_targets(vol, district, rows, p):
    for _ in range(rows):
        BackboneTargetFactory(street=StreetFactory(district=district.district))


def build_courses(vol, district, rows, p):
    for _ in range(rows):
        CourseFactory()


def build_sessions(vol, district, rows, p):
    for _ in range(rows):
        TrainingSessionFactory(street=district.street_a, community=district.a1.community)


def build_attendances(vol, district, rows, p):
    session = TrainingSessionFactory(street=district.street_a)
    for i in range(rows):
        AttendanceFactory(
            session=session, backbone=BackboneFactory(resident=ResidentFactory(household=district.a1.households[i % 6]))
        )


# name → (scenario, pinned queries; session, user, roles and the inbox count are 3–4 of them,
# and a staff page 1 more: the verified second-factor device, django-otp's OTPMiddleware)
SCENARIOS = {
    "page:activities": (activities_page, 8),
    "page:activity-detail": (activity_detail, 9),
    "page:teams": (teams_page, 8),
    "page:team-detail": (team_detail, 10),
    "page:projects": (projects_page, 9),
    "page:volunteers": (volunteers_page, 8),
    "page:volunteer-detail": (volunteer_detail, 11),
    "page:hours": (hours_page, 8),
    "page:household-services": (household_page, 8),
    "page:my-home": (my_home, 10),
    "page:my-hours": (my_hours, 10),
    "page:my-teams": (my_teams, 8),
    "page:backbones": (backbone_progress, 10),
    "page:backbone-street": (backbone_street, 13),
    "page:training": (training_page, 10),
    "page:training-session": (session_page, 9),
    "api:activities": (api_list(build_activities, "/api/v1/activities/"), 3),
    "api:activities-resident": (api_list(build_activities, "/api/v1/activities/", "resident"), 4),
    "api:volunteer-teams": (api_list(build_teams, "/api/v1/volunteer-teams/"), 3),
    "api:service-projects": (api_list(build_projects, "/api/v1/service-projects/"), 3),
    "api:volunteers": (api_list(build_hours, "/api/v1/volunteers/"), 3),
    "api:signups": (api_list(build_signups, "/api/v1/signups/"), 3),
    "api:service-hours": (api_list(build_hours, "/api/v1/service-hours/"), 4),
    "api:points": (api_list(build_hours, "/api/v1/points/"), 3),
    "api:backbone-targets": (api_list(build_targets, "/api/v1/backbone-targets/", "district_official"), 3),
    "api:backbone-progress": (
        api_list(
            lambda vol, district, rows, p: backbones_by_street(district, rows),
            "/api/v1/backbone-progress/",
            "district_official",
        ),
        4,
    ),
    "api:training-courses": (api_list(build_courses, "/api/v1/training-courses/"), 3),
    "api:training-sessions": (api_list(build_sessions, "/api/v1/training-sessions/"), 3),
    "api:training-attendances": (api_list(build_attendances, "/api/v1/training-attendances/"), 3),
}


class Personas:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


@pytest.fixture
def personas(resident, staff_a, street_official_a, district_official):
    return Personas(
        resident=resident, staff_a=staff_a, street_official_a=street_official_a, district_official=district_official
    )


@ROWS
@pytest.mark.parametrize("name", SCENARIOS)
def test_query_count_is_flat(vol, district, personas, name, rows, django_assert_max_num_queries):
    scenario, pinned = SCENARIOS[name]
    user, url, is_api = scenario(vol, district, rows, personas)
    if is_api:
        client = APIClient()
        client.force_authenticate(user=user)
    else:
        client = verified_login(Client(), user)
    with django_assert_max_num_queries(pinned):
        response = client.get(url)
    assert response.status_code == 200
    if is_api and "results" in response.json():
        assert response.json()["count"] >= rows
