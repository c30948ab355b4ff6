"""Attendance and the minutes (with the decisions and their action items, in one transaction)."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import Conflict
from baohe.models import max_length
from notifications.services import notify
from service_requests.models import OPEN_STATUSES
from service_requests.services import request_reply

from ..models import ActionItem, Decision, Meeting
from .common import (
    MAX_DECISIONS,
    MAX_ITEMS_PER_DECISION,
    Errors,
    Status,
    _check_held_at,
    _check_invitees,
    _lock_meeting,
    _merge,
    _require_change,
    owner_allowed,
)


def meeting_record_attendance(
    *,
    meeting: Meeting,
    by: User,
    attended: Iterable[int | str],
    held_at: datetime | None = None,
    extra: Iterable[dict[str, Any]] = (),
) -> Meeting:
    """Record who came (``attended``: invitee ids) and walk-ins (``extra``: ``{"role", "name"}``).

    A planned meeting becomes held (at ``held_at``, default its scheduled time). Attendance can
    be corrected later, also after the minutes; not for a cancelled meeting.
    """
    _require_change(by, meeting.pk)
    now = timezone.now()
    with transaction.atomic():
        meeting = _lock_meeting(meeting)
        if meeting.status == Status.CANCELLED:
            raise Conflict(_("会议已取消，不能记录到会情况。"), code="invalid_transition")
        errors: Errors = {}
        held_at = _check_held_at(meeting, held_at, errors, now)
        ids = {int(pk) for pk in attended}
        known = set(meeting.invitees.values_list("pk", flat=True))
        if ids - known:
            errors.setdefault("attended", []).append(_("到会人员必须在本次会议的邀请名单中。"))
        rows = _check_invitees(meeting.community, extra, errors)
        if errors:
            raise ValidationError(errors)
        meeting.invitees.filter(pk__in=ids).update(attended=True, updated_at=now)
        meeting.invitees.exclude(pk__in=ids).update(attended=False, updated_at=now)
        existing = set(meeting.invitees.filter(resident__isnull=False).values_list("resident_id", flat=True))
        for row in rows:
            if row.resident_id in existing:
                meeting.invitees.filter(resident_id=row.resident_id).update(attended=True, updated_at=now)
                continue
            row.meeting, row.attended = meeting, True
            row.street_id, row.community_id = meeting.street_id, meeting.community_id
            row.save()
        if meeting.status == Status.PLANNED or meeting.held_at != held_at:
            if meeting.status == Status.PLANNED:
                meeting.status = Status.HELD
            meeting.held_at = held_at
            meeting.save(update_fields=["status", "held_at", "updated_at"])
    return meeting


def _check_decisions(meeting: Meeting, decisions: list[dict[str, Any]], today: date) -> None:
    """Validate the decisions of the minutes; raises ValidationError({"decisions": [...]})."""
    problems: list[str] = []
    if len(decisions) > MAX_DECISIONS:
        raise ValidationError({"decisions": [_("一次最多记录 %(max)s 项决议。") % {"max": MAX_DECISIONS}]})
    request_ids = set(meeting.requests.values_list("pk", flat=True))
    for number, decision in enumerate(decisions, start=1):
        prefix = _("第 %(n)s 项决议：") % {"n": number}
        text = (decision.get("text") or "").strip()
        if not text:
            problems.append(prefix + _("请填写决议内容。"))
        elif len(text) > max_length(Decision, "text"):
            problems.append(prefix + _("决议内容不能超过 1000 个字。"))
        team = decision.get("supervision_team")
        if team is not None and team.community_id != meeting.community_id:
            problems.append(prefix + _("监督队必须是本社区的。"))
        items = list(decision.get("action_items") or ())
        if not items:
            problems.append(prefix + _("每项决议至少要有一个落实事项（负责人和完成期限）。"))
        if len(items) > MAX_ITEMS_PER_DECISION:
            problems.append(prefix + _("每项决议最多 %(max)s 个落实事项。") % {"max": MAX_ITEMS_PER_DECISION})
        for item in items:
            task = (item.get("task") or "").strip() or text
            if len(task) > max_length(ActionItem, "task"):
                problems.append(prefix + _("落实事项不能超过 300 个字。"))
            owner, label = item.get("owner"), (item.get("owner_label") or "").strip()
            if owner is None and not label:
                problems.append(prefix + _("请选择负责人，或填写负责单位。"))
            elif not owner_allowed(owner, meeting.community):
                problems.append(prefix + _("负责人必须是本社区的工作人员或居民。"))
            if len(label) > max_length(ActionItem, "owner_label"):
                problems.append(prefix + _("负责单位不能超过 100 个字。"))
            due_on = item.get("due_on")
            if due_on is None:
                problems.append(prefix + _("请填写完成期限。"))
            elif due_on < today:
                problems.append(prefix + _("完成期限不能早于今天。"))
            if {r.pk for r in item.get("requests") or ()} - request_ids:
                problems.append(prefix + _("落实事项只能关联本次会议的诉求。"))
    if problems:
        raise ValidationError({"decisions": problems})


def decisions_summary(decisions: Iterable[str]) -> str:
    """ "1. …；2. …" from decision texts."""
    return "；".join(f"{n}. {text}" for n, text in enumerate(decisions, start=1))


def meeting_record_minutes(
    *,
    meeting: Meeting,
    by: User,
    minutes: str | None,
    decisions: Iterable[dict[str, Any]] = (),
    held_at: datetime | None = None,
) -> Meeting:
    """Record the minutes with the decisions and their action items, in one transaction.

    ``decisions``: ``{"text", "supervision_team", "action_items": [{"task", "owner",
    "owner_label", "due_on", "requests"}]}`` dicts; every decision needs at least one action
    item with an owner (a user, or a named body in ``owner_label``) and a due date from today
    on. A planned meeting becomes held at ``held_at`` (default its scheduled time). Each owner
    is told; the residents of the meeting's open requests are told the decisions.
    """
    text_of_minutes = (minutes or "").strip()
    decided = list(decisions)
    _require_change(by, meeting.pk)
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        meeting = _lock_meeting(meeting)
        if meeting.status == Status.MINUTES_RECORDED:
            raise Conflict(_("这次会议的纪要已经记录。"), code="minutes_recorded")
        if meeting.status == Status.CANCELLED:
            raise Conflict(_("会议已取消，不能记录纪要。"), code="invalid_transition")
        errors: Errors = {}
        if not text_of_minutes:
            errors["minutes"] = [_("请填写会议纪要。")]
        elif len(text_of_minutes) > max_length(Meeting, "minutes"):
            errors["minutes"] = [_("会议纪要不能超过 10000 个字。")]
        held_at = _check_held_at(meeting, held_at, errors, now)
        try:
            _check_decisions(meeting, decided, today)
        except ValidationError as error:
            _merge(errors, error)
        if errors:
            raise ValidationError(errors)

        meeting.minutes = text_of_minutes
        meeting.held_at = held_at
        meeting.status = Status.MINUTES_RECORDED
        meeting.minutes_recorded_at = now
        meeting.save(update_fields=["minutes", "held_at", "status", "minutes_recorded_at", "updated_at"])
        texts: list[str] = []
        for order, data in enumerate(decided, start=1):
            text = data["text"].strip()
            texts.append(text)
            decision = Decision(meeting=meeting, order=order, text=text, supervision_team=data.get("supervision_team"))
            decision.save()
            for entry in data["action_items"]:
                item = ActionItem(
                    decision=decision,
                    task=(entry.get("task") or "").strip() or text[:300],
                    owner=entry.get("owner"),
                    owner_label=(entry.get("owner_label") or "").strip(),
                    due_on=entry["due_on"],
                )
                item.save()
                item.requests.set(entry.get("requests") or ())
                _tell_owner(item, meeting, by)
        if texts:
            message = _("协商议事会「%(topic)s」已形成决议：%(decisions)s。社区将按决议落实，完成后告知您。") % {
                "topic": meeting.topic,
                "decisions": decisions_summary(texts),
            }
            for request in meeting.requests.filter(status__in=OPEN_STATUSES).order_by("pk"):
                request_reply(request=request, by=by, message=message, public=True)
    return meeting


def _tell_owner(item: ActionItem, meeting: Meeting, by: User) -> None:
    if item.owner is None or item.owner_id == by.pk:
        return
    notify(
        recipient=item.owner,
        kind="meeting.action_assigned",
        title=_("请落实协商议事决议事项：%(task)s") % {"task": item.task[:80]},
        body=_("会议「%(topic)s」决议由您负责落实，完成期限 %(due)s。") % {"topic": meeting.topic, "due": item.due_on},
        link=item.get_absolute_url() if item.owner.is_portal_staff else "",
        dedupe_key=f"action:{item.pk}:assigned",
    )
