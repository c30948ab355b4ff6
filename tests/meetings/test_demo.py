"""The demo: 滨湖和园小区's renovation meetings, written by the services and idempotent.

Only the demo modules the meetings need are run (the registry, the party organisation, the
demo logins, the request categories and calendar), then the meetings' seed twice.
"""

import pytest
from django.db import transaction
from django.utils import timezone

from baohe.management.commands.seed_baohe import SeedContext
from communities.seed import demo as communities_demo
from meetings.models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam
from meetings.seed import demo
from partybuilding.seed import demo as party_demo
from service_requests.models import RequestEvent, ServiceRequest
from service_requests.seed import demo as requests_demo


def counts():
    return {
        "meetings": Meeting.objects.count(),
        "invitees": Invitee.objects.count(),
        "decisions": Decision.objects.count(),
        "items": ActionItem.objects.count(),
        "teams": SupervisionTeam.objects.count(),
        "inspections": Inspection.objects.count(),
        "requests": ServiceRequest.objects.count(),
        "events": RequestEvent.objects.count(),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = SeedContext()
        communities_demo.seed(ctx)
        party_demo.seed(ctx)
        requests_demo.seed_calendar()
        requests_demo.seed_categories()
        demo.seed(ctx)
        first = counts()
        demo.seed(SeedContext())
        yield first
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_demo_tells_the_article_and_is_idempotent(seeded):
    assert counts() == seeded
    meetings = list(Meeting.objects.order_by("scheduled_at"))
    assert [m.topic for m in meetings] == list(demo.TOPICS)
    assert {m.compound.name for m in meetings} == {"滨湖和园小区"}
    assert {m.status for m in meetings} == {Meeting.Status.MINUTES_RECORDED}
    assert [m.get_kind_display() for m in meetings] == ["座谈会", "座谈会", "协商议事会"]
    roles = set(Invitee.objects.filter(meeting=meetings[2]).values_list("role", flat=True))
    assert {"building_head", "party_member", "resident", "property_company"} <= roles

    third = meetings[2]
    decisions = list(third.decisions.order_by("order"))
    assert [d.text.split("：")[0] for d in decisions] == ["地下车库杂物清运", "公共设施改造"]
    team = SupervisionTeam.objects.get()
    assert team.name == "滨湖和园小区义务监督队" and team.members.count() >= 3
    assert {d.supervision_team for d in decisions} == {team}
    assert [i.ok for i in Inspection.objects.filter(decision=decisions[0]).order_by("inspected_at")] == [False, True]
    assert [i.ok for i in Inspection.objects.filter(decision=decisions[1]).order_by("inspected_at")] == [False, True]

    garage, facilities = third.requests.order_by("pk")
    assert garage.status == ServiceRequest.Status.RESOLVED
    assert garage.events.filter(kind=RequestEvent.Kind.RESOLVED).count() == 1
    assert facilities.status == ServiceRequest.Status.IN_PROGRESS
    assert facilities.events.filter(kind=RequestEvent.Kind.EXTENSION_APPROVED).count() == 1
    assert [i.is_done for i in ActionItem.objects.filter(decision=decisions[0])] == [True, True]
    assert [i.is_done for i in ActionItem.objects.filter(decision=decisions[1])] == [False, False]
    # The story's timeline: requests, then three meetings, then the work.
    assert garage.created_at < meetings[0].created_at < meetings[0].held_at < meetings[1].held_at < third.held_at
    assert third.held_at < garage.resolved_at
    # Numbered on the day it was filed, like the other demo requests.
    assert garage.number.startswith(f"BH-{timezone.localtime(garage.created_at):%Y%m%d}-")
