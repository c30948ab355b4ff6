"""After the meeting: action items done (resolving the requests they answer) and supervision."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import Conflict, OutOfScope
from baohe.models import max_length
from baohe.scoping import VIEW
from baohe.services import scoped_save
from baohe.uploads import check_image
from communities.models import Resident
from service_requests.models import ServiceRequest
from service_requests.services import request_resolve

from ..models import ActionItem, Decision, Inspection, SupervisionTeam
from .common import (
    CLOCK_SKEW,
    HANDLING,
    Errors,
    _aware,
    _local,
    _require_change,
    may_change_meeting,
)


# --- action items ---------------------------------------------------------------------------------
def _resolution_message(request: ServiceRequest) -> str:
    items = list(
        ActionItem.objects.filter(requests=request)
        .select_related("decision__meeting")
        .order_by("decision__meeting__scheduled_at", "decision__order", "pk")
    )
    topics = list(dict.fromkeys(item.decision.meeting.topic for item in items))
    done = "；".join(f"{item.task}" + (f"（{item.done_note}）" if item.done_note else "") for item in items)
    return _("协商议事会「%(topics)s」决议事项已全部完成：%(items)s。") % {"topics": "、".join(topics), "items": done}


def action_item_complete(*, item: ActionItem, by: User, note: str | None = "") -> tuple[ActionItem, list[Any]]:
    """Mark an action item done; resolve each linked request whose action items are now all done.

    Returns ``(item, resolved_requests)``. Only staff who may change the meeting confirm an
    item (an owner who is a resident reports to them). The requests are locked in id order and
    checked after the lock, so two items finished at the same moment resolve a request once.
    A linked request that is no longer being handled (already resolved, closed, rejected, or
    returned to the street) is left as it is.
    """
    note = (note or "").strip()
    if len(note) > max_length(ActionItem, "done_note"):
        raise ValidationError({"note": [_("完成情况不能超过 500 个字。")]})
    meeting_id = ActionItem.objects.filter(pk=item.pk).values_list("decision__meeting_id", flat=True).first()
    if meeting_id is None or not ActionItem.objects.restrict(by, VIEW).filter(pk=item.pk).exists():
        raise OutOfScope(ActionItem._meta.verbose_name)
    if not may_change_meeting(by, meeting_id):
        # They see the item (its owner, an official) but do not handle the meeting.
        raise PermissionDenied(_("只有本社区工作人员可以确认事项完成。"))
    resolved: list[Any] = []
    with transaction.atomic():
        item = ActionItem.objects.select_for_update().get(pk=item.pk)
        if item.done_at is not None:
            raise Conflict(_("该事项已于 %(at)s 完成。") % {"at": _local(item.done_at)}, code="already_done")
        item.done_at = timezone.now()
        item.done_by = by
        item.done_note = note
        item.save(update_fields=["done_at", "done_by", "done_note", "updated_at"])
        request_ids = list(item.requests.order_by("pk").values_list("pk", flat=True))
        for request in ServiceRequest.objects.select_for_update().filter(pk__in=request_ids).order_by("pk"):
            pending = ActionItem.objects.filter(requests=request, done_at=None).exists()
            if pending or request.status not in HANDLING:
                continue
            resolved.append(request_resolve(request=request, by=by, message=_resolution_message(request)))
    return item, resolved


# --- supervision ----------------------------------------------------------------------------------
def supervision_team_save(
    *, instance: SupervisionTeam, by: User, members: Iterable[Resident] | None = None
) -> SupervisionTeam:
    """Save a supervision team (scope-checked) and, when given, its members (residents of its community)."""
    with transaction.atomic():
        chosen = None if members is None else list(members)
        if chosen is not None:
            outsiders = [m.name for m in chosen if m.community_id != instance.community_id]
            if outsiders:
                raise ValidationError(
                    {"members": [_("队员必须是本社区的居民：%(names)s") % {"names": "、".join(outsiders)}]}
                )
        scoped_save(instance=instance, by=by)
        if chosen is not None:
            instance.members.set(chosen)
    return instance


def decision_attach_team(*, decision: Decision, by: User, team: SupervisionTeam | None) -> Decision:
    """Attach a supervision team of the meeting's community to a decision (or detach with ``None``)."""
    _require_change(by, decision.meeting_id)
    with transaction.atomic():
        decision = Decision.objects.select_for_update().select_related("meeting").get(pk=decision.pk)
        if team is not None and team.community_id != decision.meeting.community_id:
            raise ValidationError({"supervision_team": [_("监督队必须是本社区的。")]})
        decision.supervision_team = team
        decision.save(update_fields=["supervision_team", "updated_at"])
    return decision


def inspection_record(
    *,
    decision: Decision,
    by: User,
    finding: str | None,
    ok: bool = True,
    inspected_at: datetime | None = None,
    inspector: Resident | None = None,
    photo: UploadedFile | None = None,
) -> Inspection:
    """Record an inspection by the decision's supervision team (entered by staff for the team)."""
    _require_change(by, decision.meeting_id)
    now = timezone.now()
    decision = Decision.objects.select_related("meeting", "supervision_team").get(pk=decision.pk)
    errors: Errors = {}
    team = decision.supervision_team
    if team is None:
        errors["decision"] = [_("该决议尚未指定义务监督队，请先指定监督队。")]
    finding = (finding or "").strip()
    if not finding:
        errors["finding"] = [_("请填写检查情况。")]
    elif len(finding) > max_length(Inspection, "finding"):
        errors["finding"] = [_("检查情况不能超过 2000 个字。")]
    inspected_at = _aware(inspected_at) or now
    if inspected_at > now + CLOCK_SKEW:
        errors["inspected_at"] = [_("检查时间不能晚于现在。")]
    elif inspected_at < decision.meeting.took_place_at:
        errors["inspected_at"] = [_("检查时间不能早于会议召开时间。")]
    if inspector is not None and team is not None:
        is_member = inspector.pk == team.leader_id or team.members.filter(pk=inspector.pk).exists()
        if not is_member:
            errors["inspector"] = [_("监督员必须是该监督队的队员。")]
    checked = None
    if photo:
        try:
            checked = check_image(photo)
        except ValidationError as error:
            errors["photo"] = error.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        inspection = Inspection(
            decision=decision,
            team=team,
            inspector=inspector,
            inspected_at=inspected_at,
            finding=finding,
            ok=bool(ok),
            recorded_by=by,
        )
        if checked is not None:
            inspection.photo = checked.content
        inspection.save()
    return inspection
