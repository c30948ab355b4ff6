"""Visits on top of the small district (``tests/conftest.py``).

``visiting`` builds, in A1 曙光社区 (households 0–2 in building 1, 3–5 in building 2; two
residents each, ``resident`` persona = residents[0] in household 0)::

    household 0: 独居老人 — served by central household 1 → weekly plan, visitor ``central``
    household 1: the central household (member = residents[2], user ``central``)
    household 2: served by central household 1 → monthly plan, visitor ``central``
    group_a1 covers building 1; its leader is residents[4] (user ``leader``)
    branch_a1 covers 曙光小区; its secretary is residents[6] (user ``secretary``)

and in A2 宁国路社区 one 独居老人 household (0) served by a central household (residents[2],
user ``central_a2``), with its weekly plan. Plans come from ``services.visit_plans_generate``.
"""

import io
from dataclasses import dataclass
from datetime import datetime, time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from service_requests.models import Category
from tests.factories import (
    CentralHouseholdFactory,
    PartyBranchFactory,
    PartyGroupFactory,
    PartyMemberFactory,
    RoleFactory,
    UserFactory,
)
from visits import services
from visits.models import VisitPlan


def account_for(resident, username):
    """A resident-role user linked to ``resident`` (signs in with tests.factories.PASSWORD)."""
    user = UserFactory(username=username, name=resident.name)
    RoleFactory(user=user, resident=True, community=resident.community)
    resident.user = user
    resident.save(update_fields=["user"])
    return user


def local(day, hour=10, minute=0):
    """An aware datetime at ``hour:minute`` local time (Asia/Shanghai) on ``day``."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_default_timezone())


def png(name="visit.png", color=(30, 120, 200)):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@dataclass
class Visiting:
    branch: object
    group: object
    central_member: object
    central_household: object
    central: object  # user
    leader: object  # user
    secretary: object  # user
    alone: object  # household 0 of A1
    served: object  # household 2 of A1
    weekly: object  # VisitPlan
    monthly: object  # VisitPlan
    central_a2: object  # user
    alone_a2: object
    weekly_a2: object


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def visiting(district):
    a1, a2 = district.a1, district.a2
    branch = PartyBranchFactory(community=a1.community, name="曙光小区党支部", compounds=[a1.compound])
    group = PartyGroupFactory(branch=branch, name="曙光1栋党小组", buildings=[a1.buildings[0]])
    central_member = PartyMemberFactory(resident=a1.residents[2], branch=branch, group=group)
    leader_member = PartyMemberFactory(resident=a1.residents[4], branch=branch, group=group)
    secretary_member = PartyMemberFactory(resident=a1.residents[6], branch=branch)
    group.leader = leader_member
    group.save(update_fields=["leader"])
    branch.secretary = secretary_member
    branch.save(update_fields=["secretary"])
    alone, served = a1.households[0], a1.households[2]
    alone.lives_alone_elderly = True
    alone.save(update_fields=["lives_alone_elderly"])
    central_household = CentralHouseholdFactory(member=central_member, served_households=[alone, served])

    branch_a2 = PartyBranchFactory(community=a2.community, name="宁国小区党支部", compounds=[a2.compound])
    member_a2 = PartyMemberFactory(resident=a2.residents[2], branch=branch_a2)
    alone_a2 = a2.households[0]
    alone_a2.lives_alone_elderly = True
    alone_a2.save(update_fields=["lives_alone_elderly"])
    CentralHouseholdFactory(member=member_a2, served_households=[alone_a2])

    users = {
        "central": account_for(a1.residents[2], "central_a1"),
        "leader": account_for(a1.residents[4], "leader_a1"),
        "secretary": account_for(a1.residents[6], "branch_secretary_a1"),
        "central_a2": account_for(a2.residents[2], "central_a2"),
    }
    services.visit_plans_generate()
    plans = {(p.household_id, p.rule): p for p in VisitPlan.objects.all()}
    Rule = VisitPlan.Rule
    return Visiting(
        branch=branch,
        group=group,
        central_member=central_member,
        central_household=central_household,
        alone=alone,
        served=served,
        weekly=plans[(alone.pk, Rule.ALONE_ELDERLY_WEEKLY)],
        monthly=plans[(served.pk, Rule.CENTRAL_HOUSEHOLD_MONTHLY)],
        alone_a2=alone_a2,
        weekly_a2=plans[(alone_a2.pk, Rule.ALONE_ELDERLY_WEEKLY)],
        **users,
    )


@pytest.fixture
def need_category(db):
    parent = Category.objects.create(name="居家服务", code="home", order=1)
    return Category.objects.create(parent=parent, name="燃气维修", code="home-gas", accept_within_hours=4)


def staff_of(community, username):
    user = UserFactory(username=username)
    RoleFactory(user=user, kind=Role.Kind.STAFF, community=community)
    return user
