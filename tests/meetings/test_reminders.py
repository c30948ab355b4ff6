"""The meeting scan: minutes reminders at 3 and 7 days once each, action items due, quiet hours."""

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings import reminders, services
from meetings.models import ActionItem, Meeting
from meetings.tasks import scan_meeting_reminders
from notifications.models import Notification

from .conftest import local, plan, two_decisions


@pytest.fixture
def now():
    """10:00 yesterday, local time: inside the hours the scan sends, and always in the past (the
    services refuse a meeting "held" later than the real clock, whatever hour the suite runs)."""
    return local(timezone.localdate() - timedelta(days=1), 10)


def minutes_notes(meeting):
    return list(
        Notification.objects.filter(kind="meeting.minutes_missing", dedupe_key__startswith=f"meeting:{meeting.pk}:")
        .order_by("id")
        .values_list("recipient__username", "dedupe_key")
    )


def scan(now, times=2):
    results = [reminders.scan_meeting_reminders(now=now) for _ in range(times)]
    return results[0]


def test_missing_minutes_are_reminded_at_3_and_7_days_once_each(world, staff_a, now):
    meeting = plan(world, staff_a, scheduled_at=now - timedelta(hours=3))
    services.meeting_record_attendance(meeting=meeting, by=staff_a, attended=[], held_at=now - timedelta(hours=2))

    assert scan(now) == {"minutes_7": 0, "minutes_3": 0, "action_due": 0}
    Meeting.objects.filter(pk=meeting.pk).update(held_at=now - timedelta(days=3) + timedelta(minutes=1))
    assert scan(now)["minutes_3"] == 0
    assert minutes_notes(meeting) == []

    Meeting.objects.filter(pk=meeting.pk).update(held_at=now - timedelta(days=3, hours=1))
    assert scan(now, times=3) == {"minutes_7": 0, "minutes_3": 1, "action_due": 0}
    assert minutes_notes(meeting) == [("staff_a", f"meeting:{meeting.pk}:minutes:3")]
    note = Notification.objects.get(dedupe_key=f"meeting:{meeting.pk}:minutes:3")
    assert note.title == "会议「曙光小区环境整治协商议事会」召开已 3 天，纪要尚未记录"
    assert note.link == f"/meetings/{meeting.pk}/"

    Meeting.objects.filter(pk=meeting.pk).update(held_at=now - timedelta(days=6, hours=23))
    assert scan(now)["minutes_7"] == 0
    Meeting.objects.filter(pk=meeting.pk).update(held_at=now - timedelta(days=7, hours=1))
    assert scan(now, times=3) == {"minutes_7": 1, "minutes_3": 0, "action_due": 0}
    assert minutes_notes(meeting) == [
        ("staff_a", f"meeting:{meeting.pk}:minutes:3"),
        ("staff_a", f"meeting:{meeting.pk}:minutes:7"),
    ]
    Meeting.objects.filter(pk=meeting.pk).update(held_at=now - timedelta(days=30))
    assert scan(now) == {"minutes_7": 0, "minutes_3": 0, "action_due": 0}
    assert len(minutes_notes(meeting)) == 2


def test_a_planned_meeting_counts_from_its_scheduled_time(world, staff_a, now):
    meeting = plan(world, staff_a, scheduled_at=now - timedelta(days=3, hours=2))
    assert meeting.status == Meeting.Status.PLANNED
    assert scan(now)["minutes_3"] == 1
    assert minutes_notes(meeting) == [("staff_a", f"meeting:{meeting.pk}:minutes:3")]


def test_a_meeting_found_late_gets_the_latest_reminder_only(world, staff_a, now):
    meeting = plan(world, staff_a, scheduled_at=now - timedelta(days=10))
    assert scan(now) == {"minutes_7": 1, "minutes_3": 0, "action_due": 0}
    assert minutes_notes(meeting) == [("staff_a", f"meeting:{meeting.pk}:minutes:7")]
    meeting.refresh_from_db()
    assert meeting.minutes_reminded_3_at == meeting.minutes_reminded_7_at == now


def test_recorded_or_cancelled_meetings_are_not_reminded(world, staff_a, now):
    recorded = plan(world, staff_a, scheduled_at=now - timedelta(days=2))
    services.meeting_record_minutes(meeting=recorded, by=staff_a, minutes="纪要", decisions=[])
    cancelled = plan(world, staff_a, requests=[], topic="另一次", scheduled_at=now + timedelta(days=1))
    services.meeting_cancel(meeting=cancelled, by=staff_a, reason="改期")
    Meeting.objects.update(scheduled_at=now - timedelta(days=8), held_at=now - timedelta(days=8))
    assert scan(now) == {"minutes_7": 0, "minutes_3": 0, "action_due": 0}
    assert not Notification.objects.filter(kind="meeting.minutes_missing").exists()


def test_action_items_due_are_reminded_to_their_owner_once(world, staff_a, secretary_a, now):
    meeting = plan(world, staff_a)
    services.meeting_record_minutes(
        meeting=meeting,
        by=staff_a,
        minutes="纪要",
        decisions=two_decisions(world, secretary_a, due_on=timezone.localdate() + timedelta(days=10)),
    )
    own = ActionItem.objects.get(owner=secretary_a)
    body = ActionItem.objects.get(owner=None)  # the property company: its reminder goes to the organiser
    assert scan(now)["action_due"] == 0

    ActionItem.objects.filter(pk=own.pk).update(due_on=timezone.localdate(now) + timedelta(days=3))
    assert scan(now)["action_due"] == 0
    ActionItem.objects.update(due_on=timezone.localdate(now) + timedelta(days=2))
    assert scan(now, times=3)["action_due"] == 2
    notes = dict(
        Notification.objects.filter(kind="meeting.action_due").values_list("dedupe_key", "recipient__username")
    )
    assert notes == {f"action:{own.pk}:due": "secretary_a", f"action:{body.pk}:due": "staff_a"}
    title = Notification.objects.get(dedupe_key=f"action:{own.pk}:due").title
    due = timezone.localdate(now) + timedelta(days=2)
    assert title == f"决议事项将于 2 天后到期（{due}）：入户劝导并组织清运"

    ActionItem.objects.update(due_on=timezone.localdate(now) - timedelta(days=1))
    assert scan(now)["action_due"] == 0
    assert Notification.objects.filter(kind="meeting.action_due").count() == 2


def test_done_items_are_not_reminded(world, staff_a, now):
    meeting = plan(world, staff_a)
    services.meeting_record_minutes(
        meeting=meeting,
        by=staff_a,
        minutes="纪要",
        decisions=two_decisions(world, staff_a, due_on=timezone.localdate()),
    )
    for item in ActionItem.objects.all():
        services.action_item_complete(item=item, by=staff_a)
    assert scan(now)["action_due"] == 0


def test_nothing_is_sent_at_night(world, staff_a):
    plan(world, staff_a, scheduled_at=timezone.now() - timedelta(days=9))
    night = local(timezone.localdate(), 22)
    assert reminders.scan_meeting_reminders(now=night) == {"skipped": True}
    assert reminders.scan_meeting_reminders(now=local(timezone.localdate(), 7, 59)) == {"skipped": True}
    assert not Notification.objects.filter(kind="meeting.minutes_missing").exists()


def test_bounded_batches_reach_every_meeting(world, staff_a, now):
    meetings = [
        plan(world, staff_a, requests=[], topic=f"会议{i}", scheduled_at=now - timedelta(days=4)) for i in range(5)
    ]
    result = reminders.scan_meeting_reminders(now=now, batch_size=2, max_batches=10)
    assert result["minutes_3"] == 5
    assert Notification.objects.filter(kind="meeting.minutes_missing").count() == len(meetings)


def test_the_task_runs_the_scan(world, staff_a, now, monkeypatch):
    plan(world, staff_a, scheduled_at=now - timedelta(days=4))
    monkeypatch.setattr(timezone, "now", lambda: now)  # the clock at 10:00, inside the sending hours
    assert scan_meeting_reminders.apply().get() == {"minutes_7": 0, "minutes_3": 1, "action_due": 0}
