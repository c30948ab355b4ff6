"""Planning a meeting: create (from requests or scratch), change, cancel."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import Conflict, OutOfScope
from baohe.models import max_length
from baohe.scoping import CHANGE, VIEW, check_in_scope
from communities.models import Community, Compound
from service_requests.models import OPEN_STATUSES, ServiceRequest
from service_requests.services import request_accept, request_reply, requests_handled_by

from ..models import Invitee, Meeting
from .common import (
    AHEAD_LIMIT,
    BACKDATE_LIMIT,
    Errors,
    RequestStatus,
    Status,
    _aware,
    _check_invitees,
    _local,
    _lock_meeting,
    _merge,
    _require_change,
    _works_in,
)


# --- creating a meeting ---------------------------------------------------------------------------
def _check_time(
    value: datetime | None, errors: Errors, field: str = "scheduled_at", now: datetime | None = None
) -> datetime | None:
    now = now or timezone.now()
    if value is None:
        errors.setdefault(field, []).append(_("请填写会议时间。"))
        return None
    value = _aware(value)
    if value < now - BACKDATE_LIMIT:
        errors.setdefault(field, []).append(_("只能补录 60 天以内召开的会议。"))
    elif value > now + AHEAD_LIMIT:
        errors.setdefault(field, []).append(_("会议时间不能晚于一年以后。"))
    return value


def _check_requests(
    by: User, community: Community, requests: Iterable[ServiceRequest], errors: Errors
) -> list[ServiceRequest]:
    """The requests a meeting may take up: open ones of its community that ``by`` handles."""
    unique = list(dict.fromkeys(requests))
    handled = set(requests_handled_by(by).filter(pk__in=[r.pk for r in unique]).values_list("pk", flat=True))
    problems = []
    for request in unique:
        if request.community_id != community.pk or request.pk not in handled:
            problems.append(
                _("诉求 %(number)s 不属于社区「%(community)s」，不能纳入本次会议。")
                % {"number": request.number, "community": community.name}
            )
        elif request.status not in OPEN_STATUSES:
            problems.append(
                _("诉求 %(number)s 当前状态为「%(status)s」，只能纳入未办结的诉求。")
                % {"number": request.number, "status": request.get_status_display()}
            )
    if problems:
        errors.setdefault("requests", []).extend(problems)
    return unique


def _check_text(meeting: Meeting, errors: Errors) -> None:
    if not meeting.topic:
        errors.setdefault("topic", []).append(_("请填写议题。"))
    if not meeting.place:
        errors.setdefault("place", []).append(_("请填写会议地点。"))


def _take_up(meeting: Meeting, request_ids: list[int], by: User) -> None:
    """Accept the submitted requests and tell each resident their request goes to consultation."""
    message = _(
        "您反映的问题已纳入社区协商议事：「%(topic)s」，定于 %(time)s 在%(place)s召开%(kind)s，商议解决办法。"
    ) % {
        "topic": meeting.topic,
        "time": _local(meeting.scheduled_at),
        "place": meeting.place,
        "kind": meeting.get_kind_display(),
    }
    for request in ServiceRequest.objects.select_for_update().filter(pk__in=request_ids).order_by("pk"):
        if request.status not in OPEN_STATUSES:
            raise Conflict(
                _("诉求 %(number)s 的状态刚刚变为「%(status)s」，请刷新后重试。")
                % {"number": request.number, "status": request.get_status_display()}
            )
        if request.status == RequestStatus.SUBMITTED:
            request = request_accept(request=request, by=by)
        request_reply(request=request, by=by, message=message, public=True)


def meeting_create(
    *,
    by: User,
    community: Community,
    topic: str | None,
    scheduled_at: datetime | None,
    place: str | None,
    kind: str = Meeting.Kind.COUNCIL,
    compound: Compound | None = None,
    agenda: str | None = "",
    organiser: User | None = None,
    requests: Iterable[ServiceRequest] = (),
    invitees: Iterable[dict[str, Any]] = (),
) -> Meeting:
    """Plan a meeting, from scratch or from residents' requests; returns the :class:`Meeting`.

    ``requests`` must be open requests of ``community`` that ``by`` handles; each submitted one
    is accepted, and every resident is told (a public reply) that their request goes to the
    meeting. ``invitees`` are ``{"role", "resident", "name"}`` dicts.
    """
    if not Community.objects.restrict(by, CHANGE).filter(pk=community.pk).exists():
        if Community.objects.restrict(by, VIEW).filter(pk=community.pk).exists():
            raise PermissionDenied(_("只有本社区工作人员可以召集协商议事会。"))
        raise OutOfScope(Community._meta.verbose_name)
    now = timezone.now()
    errors: Errors = {}
    scheduled_at = _check_time(scheduled_at, errors, now=now)
    organiser = organiser or by
    if not _works_in(organiser, community):
        errors.setdefault("organiser", []).append(_("召集人必须是本社区（或所在街道）的工作人员。"))
    taken_up = _check_requests(by, community, requests, errors)
    rows = _check_invitees(community, invitees, errors)
    meeting = Meeting(
        community=community,
        compound=compound,
        topic=(topic or "").strip(),
        kind=kind,
        scheduled_at=scheduled_at,  # type: ignore[misc]  # None only with an error recorded (raised below)
        place=(place or "").strip(),
        organiser=organiser,
        agenda=(agenda or "").strip(),
    )
    _check_text(meeting, errors)
    try:
        meeting.full_clean(exclude=[name for name in ("scheduled_at", "organiser", "topic", "place") if name in errors])
    except ValidationError as error:
        _merge(errors, error)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        meeting.save()
        check_in_scope(meeting, by, CHANGE)
        meeting.requests.set(taken_up)
        for row in rows:
            row.meeting = meeting
            row.street_id, row.community_id = meeting.street_id, meeting.community_id
        Invitee.objects.bulk_create(rows)
        _take_up(meeting, [r.pk for r in taken_up], by)
    return meeting


EDITABLE_FIELDS = ("topic", "kind", "compound", "scheduled_at", "place", "agenda", "organiser")


def meeting_update(*, meeting: Meeting, by: User, **changes: Any) -> Meeting:
    """Change a planned meeting's topic, form, compound, time, place, agenda or organiser."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("这一项不能修改。")] for name in sorted(unknown)})
    _require_change(by, meeting.pk)
    with transaction.atomic():
        meeting = _lock_meeting(meeting)
        if meeting.status != Status.PLANNED:
            raise Conflict(
                _("会议当前状态为「%(status)s」，不能再修改。") % {"status": meeting.get_status_display()},
                code="invalid_transition",
            )
        errors: Errors = {}
        if "scheduled_at" in changes:
            changes["scheduled_at"] = _check_time(changes["scheduled_at"], errors)
        if "organiser" in changes and not _works_in(changes["organiser"], meeting.community):
            errors.setdefault("organiser", []).append(_("召集人必须是本社区（或所在街道）的工作人员。"))
        for name in ("topic", "place", "agenda"):
            if name in changes:
                changes[name] = (changes[name] or "").strip()
        moved = "scheduled_at" in changes and changes["scheduled_at"] != meeting.scheduled_at
        for name, value in changes.items():
            setattr(meeting, name, value)
        _check_text(meeting, errors)
        try:
            meeting.full_clean(
                exclude=[name for name in ("scheduled_at", "organiser", "topic", "place") if name in errors]
            )
        except ValidationError as error:
            _merge(errors, error)
        if errors:
            raise ValidationError(errors)
        fields = [*changes, "updated_at"]
        if moved:
            # A new date gets its own minutes reminders.
            meeting.minutes_reminded_3_at = meeting.minutes_reminded_7_at = None
            fields += ["minutes_reminded_3_at", "minutes_reminded_7_at"]
        meeting.save(update_fields=fields)
        check_in_scope(meeting, by, CHANGE)
    return meeting


def meeting_cancel(*, meeting: Meeting, by: User, reason: str | None) -> Meeting:
    """Cancel a planned meeting, with the reason; the handlers of its requests get an internal note."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因。")]})
    if len(reason) > max_length(Meeting, "cancel_reason"):
        raise ValidationError({"reason": [_("取消原因不能超过 300 个字。")]})
    _require_change(by, meeting.pk)
    with transaction.atomic():
        meeting = _lock_meeting(meeting)
        if meeting.status != Status.PLANNED:
            raise Conflict(
                _("会议当前状态为「%(status)s」，不能取消。") % {"status": meeting.get_status_display()},
                code="invalid_transition",
            )
        meeting.status = Status.CANCELLED
        meeting.cancelled_at = timezone.now()
        meeting.cancel_reason = reason
        meeting.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        note = _("协商议事会「%(topic)s」已取消：%(reason)s") % {"topic": meeting.topic, "reason": reason}
        for request in meeting.requests.filter(status__in=OPEN_STATUSES).order_by("pk"):
            request_reply(request=request, by=by, message=note, public=False)
    return meeting
