"""The meeting scan (ARCHITECTURE rule 3): run by beat every hour, idempotent.

Two sweeps, each reading partial indexes that hold exactly the rows not yet reminded:

1. **minutes missing** — a meeting that took place (``held_at``; or, still "planned", its
   ``scheduled_at``) 7 days ago, then 3 days ago, and has no minutes: tell the organiser.
   The 7-day reminder is swept first and claims the 3-day one with it, so a meeting the scan
   finds late (the worker was down, or the meeting was entered afterwards) gets one reminder,
   not two at once. Dedupe keys ``meeting:<id>:minutes:3`` and ``meeting:<id>:minutes:7``.
2. **action item due** — an open action item due within ``ACTION_REMIND_DAYS`` days (or
   already past due and never reminded): tell its owner, or the organiser when the owner is a
   body without an account (the property company). Dedupe key ``action:<id>:due``.

Each reminder is claimed with a conditional UPDATE (``…_reminded_at`` still empty and the row
still pending) in the transaction that writes the notification, so a scan run twice, two scans
at once, or a worker killed half way tells each person once. Nothing is sent at night (before
``DAY_STARTS_HOUR`` or from ``DAY_ENDS_HOUR`` local time); the first scan of the morning catches up.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify

from .models import ACTION_REMIND_DAYS, MINUTES_PENDING, MINUTES_REMINDER_DAYS, ActionItem, Meeting

DAY_STARTS_HOUR = 8
DAY_ENDS_HOUR = 21
DEFAULT_BATCH_SIZE = 500
MAX_BATCHES = 20


def _minutes_candidates(days, now):
    """Meetings whose minutes are missing ``days`` after they took place, not yet reminded for ``days``."""
    cutoff = now - timedelta(days=days)
    took_place = Q()
    for status, column in MINUTES_PENDING:
        took_place |= Q(status=status, **{f"{column}__lte": cutoff})
    return Meeting.objects.filter(took_place, **{f"minutes_reminded_{days}_at": None})


def _claim_minutes(meeting, days, now):
    """Claim the ``days`` reminder (and every earlier one) for a meeting still without minutes."""
    changes = {f"minutes_reminded_{days}_at": now}
    for earlier in MINUTES_REMINDER_DAYS:
        if earlier < days:
            changes[f"minutes_reminded_{earlier}_at"] = Coalesce(f"minutes_reminded_{earlier}_at", now)
    pending = [status for status, _column in MINUTES_PENDING]
    claimed = Meeting.objects.filter(pk=meeting.pk, status__in=pending, **{f"minutes_reminded_{days}_at": None}).update(
        **changes
    )
    return claimed == 1


def _remind_minutes(meeting, days, now):
    with transaction.atomic():
        if not _claim_minutes(meeting, days, now):
            return 0
        took_place = timezone.localtime(meeting.took_place_at, timezone.get_default_timezone())
        notify(
            recipient=meeting.organiser,
            kind="meeting.minutes_missing",
            title=_("会议「%(topic)s」召开已 %(days)s 天，纪要尚未记录") % {"topic": meeting.topic, "days": days},
            body=_("会议于 %(time)s 在%(place)s召开。请记录会议纪要、决议和落实事项，以便跟进落实、答复居民。")
            % {"time": took_place.strftime("%Y-%m-%d %H:%M"), "place": meeting.place},
            link=meeting.get_absolute_url(),
            dedupe_key=f"meeting:{meeting.pk}:minutes:{days}",
        )
        return 1


def _due_candidates(today):
    return ActionItem.objects.filter(
        done_at=None, due_reminded_at=None, due_on__lte=today + timedelta(days=ACTION_REMIND_DAYS)
    )


def _remind_due(item, today, now):
    with transaction.atomic():
        claimed = ActionItem.objects.filter(pk=item.pk, done_at=None, due_reminded_at=None).update(due_reminded_at=now)
        if claimed != 1:
            return 0
        meeting = item.decision.meeting
        recipient = item.owner if item.owner is not None and item.owner.is_active else meeting.organiser
        days = (item.due_on - today).days
        if days < 0:
            when = _("已逾期 %(days)s 天") % {"days": -days}
        elif days == 0:
            when = _("今天到期")
        else:
            when = _("将于 %(days)s 天后到期") % {"days": days}
        body = _("会议「%(topic)s」决议：%(decision)s。负责：%(owner)s。完成后请告知社区确认。") % {
            "topic": meeting.topic,
            "decision": item.decision.text[:200],
            "owner": item.responsible,
        }
        notify(
            recipient=recipient,
            kind="meeting.action_due",
            title=_("决议事项%(when)s（%(due)s）：%(task)s")
            % {"when": when, "due": item.due_on, "task": item.task[:80]},
            body=body,
            link=item.get_absolute_url() if recipient.is_portal_staff else "",
            dedupe_key=f"action:{item.pk}:due",
        )
        return 1


def _batches(candidates, batch_size, max_batches):
    """Ids of the candidates in bounded batches; each batch is read again, so claimed rows drop out."""
    for _batch in range(max_batches):
        ids = list(candidates().order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        if len(ids) < batch_size:
            return


def scan_meeting_reminders(*, now=None, batch_size=None, max_batches=MAX_BATCHES):
    """Run both sweeps; returns how many reminders each claimed (or ``{"skipped": True}`` at night)."""
    now = now or timezone.now()
    local = timezone.localtime(now, timezone.get_default_timezone())
    if not DAY_STARTS_HOUR <= local.hour < DAY_ENDS_HOUR:
        return {"skipped": True}
    today = local.date()
    batch_size = batch_size or min(getattr(settings, "REMINDER_BATCH_SIZE", DEFAULT_BATCH_SIZE), DEFAULT_BATCH_SIZE)
    result = {}
    for days in MINUTES_REMINDER_DAYS:
        sent = 0
        for ids in _batches(lambda d=days: _minutes_candidates(d, now), batch_size, max_batches):
            for meeting in Meeting.objects.filter(pk__in=ids).select_related("organiser").order_by("pk"):
                sent += _remind_minutes(meeting, days, now)
        result[f"minutes_{days}"] = sent
    sent = 0
    for ids in _batches(lambda: _due_candidates(today), batch_size, max_batches):
        items = ActionItem.objects.filter(pk__in=ids).select_related("owner", "decision__meeting__organiser")
        for item in items.order_by("pk"):
            sent += _remind_due(item, today, now)
    result["action_due"] = sent
    return result
