"""What the meeting services share: limits, access checks, who works in a community, input checks."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, overload

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import community_workers
from baohe.exceptions import OutOfScope
from baohe.models import max_length
from baohe.scoping import CHANGE, VIEW
from communities.models import Community, Resident
from service_requests.models import ServiceRequest

from ..models import ActionItem, Decision, Invitee, Meeting

Status = Meeting.Status
RequestStatus = ServiceRequest.Status

# A meeting may be entered up to this long after it took place, and planned up to a year ahead.
BACKDATE_LIMIT = timedelta(days=60)
AHEAD_LIMIT = timedelta(days=366)
CLOCK_SKEW = timedelta(minutes=10)
MAX_INVITEES = 300
MAX_DECISIONS = 30
MAX_ITEMS_PER_DECISION = 10
# Requests in these statuses are being handled and can be resolved by the meeting's outcome.
HANDLING = (RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS)

# Field name -> messages (strings, lazy strings or ValidationErrors), gathered before one ValidationError is raised.
Errors = dict[str, list[Any]]


# --- access ---------------------------------------------------------------------------------------
def access_meeting_by_id(user: User, pk: int, action: str = VIEW) -> Meeting:
    """The meeting if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    return get_object_or_404(Meeting.objects.restrict(user, action), pk=pk)


def access_action_item_by_id(user: User, pk: int, action: str = VIEW) -> ActionItem:
    return get_object_or_404(ActionItem.objects.restrict(user, action).select_related("decision__meeting"), pk=pk)


def access_decision_by_id(user: User, pk: int, action: str = VIEW) -> Decision:
    return get_object_or_404(
        Decision.objects.restrict(user, action).select_related("meeting", "supervision_team"), pk=pk
    )


def may_change_meeting(user: User, meeting_id: int) -> bool:
    return Meeting.objects.restrict(user, CHANGE).filter(pk=meeting_id).exists()


def _require_change(user: User, meeting_id: int, message: str | None = None) -> None:
    """Staff who may change the meeting pass; others see 403 if they may see it, else 404."""
    if may_change_meeting(user, meeting_id):
        return
    if Meeting.objects.restrict(user, VIEW).filter(pk=meeting_id).exists():
        raise PermissionDenied(message or _("只有本社区工作人员可以办理该会议。"))
    raise OutOfScope(Meeting._meta.verbose_name)


def _works_in(user: User, community: Community) -> bool:
    return user.is_superuser or community_workers(community).filter(pk=user.pk).exists()


def owner_allowed(user: User | None, community: Community) -> bool:
    """An action item's owner: someone working in the community, or a resident of it with an account."""
    if user is None:
        return True
    if not user.is_active:
        return False
    return _works_in(user, community) or Resident.objects.filter(user=user, community_id=community.pk).exists()


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _local(value: datetime) -> str:
    return timezone.localtime(value, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")


def _merge(errors: Errors, error: ValidationError) -> None:
    """Add a model ValidationError's messages to ``errors`` (field → [messages])."""
    for field, messages in error.update_error_dict({}).items():
        errors.setdefault(field, []).extend(messages)


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


def _check_invitees(community: Community, invitees: Iterable[dict[str, Any]], errors: Errors) -> list[Invitee]:
    """Invitee rows (unsaved) from ``{"role", "resident", "name"}`` dicts; residents once each."""
    rows: list[Invitee] = []
    seen: set[int] = set()
    problems: list[str] = []
    invitees = list(invitees)
    if len(invitees) > MAX_INVITEES:
        errors.setdefault("invitees", []).append(_("邀请人数不能超过 %(max)s 人。") % {"max": MAX_INVITEES})
        return []
    for item in invitees:
        role = item.get("role") or Invitee.Role.OTHER
        resident = item.get("resident")
        name = (item.get("name") or "").strip() or (resident.name if resident is not None else "")
        if role not in Invitee.Role.values:
            problems.append(_("未知的参会身份：%(role)s。") % {"role": role})
            continue
        if resident is not None:
            if resident.community_id != community.pk:
                problems.append(_("%(name)s 不是本社区的居民，不能以居民身份邀请。") % {"name": resident.name})
                continue
            if resident.pk in seen:
                continue
            seen.add(resident.pk)
        if not name:
            problems.append(_("请填写参会人员的姓名或单位。"))
            continue
        if len(name) > max_length(Invitee, "name"):
            problems.append(_("参会人员姓名或单位不能超过 100 个字：%(name)s") % {"name": name[:20]})
            continue
        rows.append(Invitee(role=role, resident=resident, name=name))
    if problems:
        errors.setdefault("invitees", []).extend(problems)
    return rows


def _check_held_at(meeting: Meeting, held_at: datetime | None, errors: Errors, now: datetime) -> datetime:
    held_at = _aware(held_at) or meeting.held_at or meeting.scheduled_at
    if held_at > now + CLOCK_SKEW:
        errors.setdefault("held_at", []).append(_("会议尚未召开：召开时间不能晚于现在。"))
    elif held_at < now - BACKDATE_LIMIT:
        errors.setdefault("held_at", []).append(_("只能补录 60 天以内召开的会议。"))
    return held_at
