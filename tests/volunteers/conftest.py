"""Volunteer service on top of the small district (``tests/conftest.py``).

``vol`` builds::

    A1 曙光社区 (street A): project_a1 (红管家); team_a1 of 曙光小区 with members v1, v2 (v1 leads);
        activity_a1: public, community-wide, capacity 2, in three days;
        compound_activity_a1: public, for 曙光小区 only;
        private_a1: private to team_a1.
        v1 = the ``resident`` persona (A1 household 0), v2/v3/v4 other A1 residents (v3, v4 in no team).
    A2 宁国路社区 (street A): project_a2, activity_a2 (public), private_a2 (private to team_a2), vb1 an A2 volunteer.

``resident_b`` (v3's user), ``member_b`` (v2's user, in team_a1), ``resident_a2``: more signed-in residents.
"""

from dataclasses import dataclass

import pytest

from accounts.models import Role
from tests.factories import RoleFactory, UserFactory
from volunteers.models import Activity

from .factories import (
    ActivityFactory,
    ServiceProjectFactory,
    TeamMembershipFactory,
    VolunteerFactory,
    VolunteerTeamFactory,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Vol:
    project_a1: object
    team_a1: object
    v1: object
    v2: object
    v3: object
    v4: object
    activity_a1: object
    compound_activity_a1: object
    private_a1: object
    project_a2: object
    team_a2: object
    vb1: object
    activity_a2: object
    private_a2: object


def user_for(record, username):
    user = UserFactory(username=username, name=record.name, mobile=record.mobile)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, kind=Role.Kind.RESIDENT, community=record.community)
    return user


@pytest.fixture
def vol(district, resident):
    a1, a2 = district.a1, district.a2
    project_a1 = ServiceProjectFactory(community=a1.community, name="红管家")
    team_a1 = VolunteerTeamFactory(community=a1.community, compound=a1.compound, name="邻里守望志愿服务队")
    v1 = VolunteerFactory(resident=a1.residents[0])  # the ``resident`` persona
    v2 = VolunteerFactory(resident=a1.residents[2])
    v3 = VolunteerFactory(resident=a1.residents[4])
    v4 = VolunteerFactory(resident=a1.residents[6])
    TeamMembershipFactory(team=team_a1, volunteer=v1)
    TeamMembershipFactory(team=team_a1, volunteer=v2)
    team_a1.leader = v1
    team_a1.save(update_fields=["leader"])
    project_a2 = ServiceProjectFactory(community=a2.community, name="红管家")
    team_a2 = VolunteerTeamFactory(community=a2.community, name="宁国路志愿服务队")
    vb1 = VolunteerFactory(resident=a2.residents[0])
    TeamMembershipFactory(team=team_a2, volunteer=vb1)
    return Vol(
        project_a1=project_a1,
        team_a1=team_a1,
        v1=v1,
        v2=v2,
        v3=v3,
        v4=v4,
        activity_a1=ActivityFactory(project=project_a1, team=team_a1, title="楼道清洁日", capacity=2),
        compound_activity_a1=ActivityFactory(project=project_a1, compound=a1.compound, title="曙光小区义剪"),
        private_a1=ActivityFactory(
            project=project_a1, team=team_a1, title="队员培训", visibility=Activity.Visibility.TEAM
        ),
        project_a2=project_a2,
        team_a2=team_a2,
        vb1=vb1,
        activity_a2=ActivityFactory(project=project_a2, title="宁国路义诊"),
        private_a2=ActivityFactory(
            project=project_a2, team=team_a2, title="宁国路队员培训", visibility=Activity.Visibility.TEAM
        ),
    )


@pytest.fixture
def resident_b(district):
    """Another signed-in resident of A1 (household 2; with ``vol`` that is v3, in no team)."""
    return user_for(district.a1.residents[4], "resident_b")


@pytest.fixture
def member_b(district):
    """A signed-in resident of A1 (household 1; with ``vol`` that is v2, a member of team_a1)."""
    return user_for(district.a1.residents[2], "member_b")


@pytest.fixture
def resident_a2(district):
    """A signed-in resident of A2."""
    return user_for(district.a2.residents[2], "resident_a2")
