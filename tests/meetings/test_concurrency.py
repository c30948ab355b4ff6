"""Simultaneous meeting steps on PostgreSQL (ARCHITECTURE rule 2): the last two items of a request
finished at the same moment resolve it once; an item is completed once; minutes are recorded
once; two scans at once remind once.

``select_for_update`` is a no-op on SQLite, which serialises whole transactions instead, so
these tests only mean something on PostgreSQL and are skipped elsewhere.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from baohe.exceptions import Conflict
from meetings import reminders, services
from meetings.models import ActionItem, Decision, Meeting
from notifications.models import Notification
from service_requests.models import RequestEvent, ServiceRequest

from .conftest import local, plan

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (select_for_update) need PostgreSQL; set DATABASE_URL=postgres://… to run",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(count, work):
    """Run ``work(i)`` in ``count`` threads released at the same instant; returns (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, [None] * count

    def target(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - every outcome is collected and asserted below
            errors[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def items_for_one_request(world, staff, count):
    """A meeting whose ``count`` decisions each have one item answering the garage request."""
    meeting = plan(world, staff, requests=[world.garage])
    due = timezone.localdate() + timedelta(days=3)
    services.meeting_record_minutes(
        meeting=meeting,
        by=staff,
        minutes="纪要",
        decisions=[
            {"text": f"决议{i}", "action_items": [{"owner": staff, "due_on": due, "requests": [world.garage]}]}
            for i in range(count)
        ],
    )
    return list(ActionItem.objects.filter(decision__meeting=meeting).order_by("pk"))


def test_the_last_items_finished_together_resolve_the_request_once(world, staff_a, secretary_a):
    items = items_for_one_request(world, staff_a, 6)
    people = [staff_a.pk, secretary_a.pk]

    def complete(i):
        by = User.objects.get(pk=people[i % 2])
        return services.action_item_complete(item=ActionItem.objects.get(pk=items[i].pk), by=by)

    results, errors = run_together(len(items), complete)
    assert errors == [None] * len(items)
    resolved = [r for _item, requests in results for r in requests]
    assert [r.pk for r in resolved] == [world.garage.pk]
    world.garage.refresh_from_db()
    assert world.garage.status == ServiceRequest.Status.RESOLVED
    assert RequestEvent.objects.filter(request=world.garage, kind=RequestEvent.Kind.RESOLVED).count() == 1
    assert ActionItem.objects.filter(done_at=None).count() == 0


def test_an_item_completed_by_many_at_once_is_completed_once(world, staff_a):
    item = items_for_one_request(world, staff_a, 1)[0]

    def complete(_i):
        return services.action_item_complete(
            item=ActionItem.objects.get(pk=item.pk), by=User.objects.get(pk=staff_a.pk)
        )

    results, errors = run_together(10, complete)
    assert len([r for r in results if r is not None]) == 1
    conflicts = [e for e in errors if e is not None]
    assert len(conflicts) == 9 and all(isinstance(e, Conflict) and e.code == "already_done" for e in conflicts)
    assert RequestEvent.objects.filter(request=world.garage, kind=RequestEvent.Kind.RESOLVED).count() == 1


def test_minutes_recorded_at_once_are_recorded_once(world, staff_a):
    meeting = plan(world, staff_a)
    due = timezone.localdate() + timedelta(days=3)

    def record(i):
        return services.meeting_record_minutes(
            meeting=Meeting.objects.get(pk=meeting.pk),
            by=User.objects.get(pk=staff_a.pk),
            minutes=f"纪要 {i}",
            decisions=[{"text": f"决议 {i}", "action_items": [{"owner": staff_a, "due_on": due}]}],
        )

    results, errors = run_together(5, record)
    assert len([r for r in results if r is not None]) == 1
    assert all(isinstance(e, Conflict) for e in errors if e is not None)
    assert Decision.objects.filter(meeting=meeting).count() == 1


def test_scans_at_once_remind_once(world, staff_a):
    now = local(timezone.localdate(), 10)
    meetings = [
        plan(world, staff_a, requests=[], topic=f"会议{i}", scheduled_at=now - timedelta(days=4)) for i in range(5)
    ]

    results, errors = run_together(4, lambda _i: reminders.scan_meeting_reminders(now=now))
    assert errors == [None] * 4
    assert sum(r["minutes_3"] for r in results) == len(meetings)
    assert Notification.objects.filter(kind="meeting.minutes_missing").count() == len(meetings)
