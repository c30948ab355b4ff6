"""The demo: 滨湖和园小区's renovation meetings, written by the services and idempotent.

On a copy of the whole demo (``demo``: ``seed_baohe`` run twice, tests/demo_db.py), the meetings'
seed runs once more, with a fresh context, and adds nothing.
"""

from django.utils import timezone

from baohe.management.commands.seed_baohe import SeedContext
from meetings.models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam
from meetings.seed import demo as demo_seed
from service_requests.models import RequestEvent, ServiceRequest


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


def test_the_demo_tells_the_article_and_is_idempotent(demo):
    seeded = counts()
    demo_seed.seed(SeedContext())  # again, with a fresh context, on the whole demo
    assert counts() == seeded
    meetings = list(Meeting.objects.order_by("scheduled_at"))
    assert [m.topic for m in meetings] == list(demo_seed.TOPICS)
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
