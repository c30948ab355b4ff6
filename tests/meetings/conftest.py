"""Meetings on top of the small district (``tests/conftest.py``).

``world`` gives, in A1 曙光社区 (曙光小区), two open requests: ``garage`` filed by the
``resident`` persona (submitted) and ``lights`` entered by ``staff_a`` on behalf of a
neighbour (submitted), plus ``other`` in A2 宁国路社区 entered by ``staff_b``. Helpers plan a
meeting from requests and record its minutes through the services, as the pages do.
"""

import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from meetings import services
from meetings.models import Invitee, SupervisionTeam
from service_requests.services import request_submit
from tests.factories import CategoryFactory, RoleFactory, UserFactory


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def local(day, hour=10, minute=0):
    """An aware datetime at ``hour:minute`` local time (Asia/Shanghai) on ``day``."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_default_timezone())


def png(name="inspection.png", color=(30, 120, 200)):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def category(db):
    return CategoryFactory(name="意见建议", code="t-suggestion", accept_within_hours=24, resolve_within_days=10)


@pytest.fixture
def street_staff_a(district):
    user = UserFactory(username="street_staff_a", name="芜湖路街道工作人员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


def file_request(tree, category, *, by, household=0, description="地下车库堆满杂物，希望清理。", resident_user=None):
    household = tree.households[household]
    head = tree.residents[tree.households.index(household) * 2]
    options = {}
    if by.is_portal_staff:
        options = {"resident_user": resident_user, "contact_name": head.name, "contact_mobile": head.mobile}
    return request_submit(
        by=by,
        category=category,
        description=description,
        compound=tree.compound,
        building=household.building,
        household=household,
        **options,
    )


@dataclass
class World:
    district: object
    garage: object
    lights: object
    other: object


@pytest.fixture
def world(district, resident, staff_a, staff_b, category):
    garage = file_request(district.a1, category, by=resident, household=0)
    lights = file_request(district.a1, category, by=staff_a, household=3, description="小区路灯坏了好几盏。")
    other = file_request(district.a2, category, by=staff_b, household=0, description="宁国小区的事。")
    return World(district=district, garage=garage, lights=lights, other=other)


def plan(world, by, *, requests=None, scheduled_at=None, **options):
    """A meeting for 曙光小区 from the given requests (default: garage and lights)."""
    tree = world.district.a1
    requests = [world.garage, world.lights] if requests is None else requests
    return services.meeting_create(
        by=by,
        community=tree.community,
        compound=tree.compound,
        topic=options.pop("topic", "曙光小区环境整治协商议事会"),
        kind=options.pop("kind", "council"),
        scheduled_at=scheduled_at or timezone.now() - timedelta(hours=2),
        place=options.pop("place", "曙光社区党群服务中心"),
        agenda=options.pop("agenda", "一、通报情况；二、协商表决"),
        requests=requests,
        invitees=options.pop(
            "invitees",
            [
                {"role": Invitee.Role.RESIDENT, "resident": tree.residents[0], "name": ""},
                {"role": Invitee.Role.BUILDING_HEAD, "resident": tree.residents[6], "name": ""},
                {"role": Invitee.Role.PROPERTY_COMPANY, "resident": None, "name": "和美物业"},
            ],
        ),
        **options,
    )


def two_decisions(world, owner, *, due_on=None, team=None):
    """Decision 1 → an item for both requests (owner: a user); decision 2 → an item for ``lights`` only (the property company)."""
    due_on = due_on or timezone.localdate() + timedelta(days=7)
    return [
        {
            "text": "地下车库杂物限期清运",
            "supervision_team": team,
            "action_items": [
                {
                    "task": "入户劝导并组织清运",
                    "owner": owner,
                    "owner_label": "",
                    "due_on": due_on,
                    "requests": [world.garage, world.lights],
                }
            ],
        },
        {
            "text": "更换损坏路灯",
            "supervision_team": team,
            "action_items": [
                {"task": "", "owner": None, "owner_label": "和美物业", "due_on": due_on, "requests": [world.lights]}
            ],
        },
    ]


def team_for(district, by, members=(1, 2)):
    tree = district.a1
    team = SupervisionTeam(
        community=tree.community, compound=tree.compound, name="曙光小区义务监督队", leader=tree.residents[6]
    )
    return services.supervision_team_save(instance=team, by=by, members=[tree.residents[i] for i in members])
