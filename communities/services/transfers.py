"""Registry writes with rules: the scope-aware duplicate-ID answer and 迁入 (move-in) requests.

**No cross-community oracle.** The ID number is unique across the district (a database
constraint), but whether a number is registered *somewhere* is not for every worker to learn.
:func:`resident_id_number_check` answers a new or changed ID number by who asks:

- registered to a resident the worker can see: a field error naming that resident (name
  masked, with a link) — nothing is learnt that the worker could not read anyway;
- otherwise the answer would tell whether the person lives in another community, so it is a
  **lookup**: counted against ``TRANSFER_LOOKUPS_PER_DAY`` per user in any 24 hours (over it,
  :class:`~baohe.exceptions.RateLimited`, 429, *before* anything is looked up) and, when the
  number is found, written to the audit trail (``TRANSFER_LOOKUP``, placed under the community
  where the person is registered, so its secretary sees who looked). The answer then says the
  number cannot be registered directly and offers a 迁入 request.

**迁入 requests** (``ResidentTransfer``): :func:`transfer_request` (itself an audited,
counted lookup, whether or not the number is found), then the source community's staff
:func:`transfer_approve` (the person moves to the new household with everything that points at
them; one ``UPDATE`` audit line with the old and new household) or :func:`transfer_reject`; the
requesting side may :func:`transfer_cancel` a pending one. Each locks the request row, so two
approvals at once give one success and one :class:`~baohe.exceptions.Conflict`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.exceptions import Conflict, OutOfScope, RateLimited
from baohe.masking import mask_name
from baohe.models import AuditEntry, max_length
from baohe.scoping import CHANGE, VIEW
from baohe.services import audit, propagate_scope
from baohe.validators import validate_id_number

from ..models import Building, Community, Household, Resident, ResidentTransfer

if TYPE_CHECKING:
    from accounts.models import User

LOOKUP_WINDOW = timedelta(days=1)


class DuplicateInScope(ValidationError):
    """The ID number belongs to ``resident``, whom the asking worker may see (a field error on
    ``id_number``; pages add a link to the resident)."""

    def __init__(self, resident: Resident):
        self.resident = resident
        message = _("该身份证号已登记为本辖区居民 %(name)s（%(household)s，编号 %(id)s），请勿重复登记。") % {
            "name": mask_name(resident.name),
            "household": resident.household,
            "id": resident.pk,
        }
        super().__init__({"id_number": ValidationError(message, code="duplicate_in_scope")})


def registered_elsewhere_message() -> str:
    return _(
        "该身份证号已在其他社区登记，不能在此直接新增。如此人已搬入本辖区，请发起迁入申请，"
        "经其登记社区同意后连同其记录一并迁入。"
    )


# --- lookups across scope ------------------------------------------------------------------------------
def _normal(id_number: str | None) -> str:
    return (id_number or "").strip().upper()


def lookup_wait(*, user: Any, now: datetime | None = None) -> int:
    """Seconds until ``user`` may make another cross-community lookup (0: now)."""
    limit = settings.TRANSFER_LOOKUPS_PER_DAY
    now = now or timezone.now()
    times = list(
        AuditEntry.objects.filter(
            user_id=user.pk, action=AuditEntry.Action.TRANSFER_LOOKUP, created_at__gt=now - LOOKUP_WINDOW
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(limit, 0)]
    )
    if limit > 0 and len(times) < limit:
        return 0
    oldest = times[limit - 1] if limit > 0 and times else now
    return max(1, math.ceil((oldest + LOOKUP_WINDOW - now).total_seconds()))


def _refuse_over_cap(user: Any) -> None:
    wait = lookup_wait(user=user)
    if wait:
        raise RateLimited(
            _(
                "您 24 小时内的跨社区身份证号查询已达 %(limit)s 次上限，请 %(hours)s 小时后再试；"
                "在此之前本辖区以外的身份证号不能录入。"
            )
            % {"limit": settings.TRANSFER_LOOKUPS_PER_DAY, "hours": math.ceil(wait / 3600)},
            wait=wait,
            code="transfer_lookup_cap",
        )


def _lookup_elsewhere(
    *,
    by: Any,
    id_number: str,
    exclude_pk: int | None,
    request: HttpRequest | None,
    via: str,
    audit_miss_at: Household | None = None,
) -> Resident | None:
    """Look ``id_number`` up across the district for ``by`` (who does not see its resident):
    refused over the cap before looking; a find (and, with ``audit_miss_at``, a miss) is one
    ``TRANSFER_LOOKUP`` audit line, committed whatever the caller answers next."""
    user_model = get_user_model()
    with transaction.atomic():
        # One lookup at a time per user, so parallel requests cannot pass the cap together.
        user_model._default_manager.select_for_update().filter(pk=by.pk).first()
        _refuse_over_cap(by)
        others = Resident.objects.with_id_number(id_number)
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
        found = others.select_related("household__building", "community").first()
        if found is not None:
            audit(
                user=by,
                action=AuditEntry.Action.TRANSFER_LOOKUP,
                obj=found,
                request=request,
                detail={"via": via, "found": True},
            )
        elif audit_miss_at is not None:
            street_id, community_id = audit_miss_at.scope_ids()
            audit(
                user=by,
                action=AuditEntry.Action.TRANSFER_LOOKUP,
                object_type=Resident._meta.label_lower,
                request=request,
                detail={"via": via, "found": False},
                street_id=street_id,
                community_id=community_id,
            )
    return found


def resident_id_number_check(
    *, by: Any, resident: Resident, id_number: str | None, request: HttpRequest | None = None
) -> None:
    """Answer a new or changed ID number for ``resident`` (unsaved, or being edited) as ``by``.

    Raises :class:`DuplicateInScope` (a resident ``by`` sees has it), a ``ValidationError`` on
    ``id_number`` (registered in another community: an audited lookup), or
    :class:`~baohe.exceptions.RateLimited` (over the lookup cap; nothing was looked up). The one
    home of this answer: the registry page form, the API serializer and the admin call it.
    """
    id_number = _normal(id_number)
    if not id_number:
        return
    if resident.pk is not None and Resident.objects.with_id_number(id_number).filter(pk=resident.pk).exists():
        return  # unchanged
    others = Resident.objects.with_id_number(id_number)
    if resident.pk is not None:
        others = others.exclude(pk=resident.pk)
    seen = others.restrict(by, VIEW).select_related("household__building").first()
    if seen is not None:
        raise DuplicateInScope(seen)
    found = _lookup_elsewhere(by=by, id_number=id_number, exclude_pk=resident.pk, request=request, via="resident")
    if found is not None:
        raise ValidationError(
            {"id_number": ValidationError(registered_elsewhere_message(), code="registered_elsewhere")}
        )


# --- 迁入 requests -----------------------------------------------------------------------------------------
def access_transfer_by_id(user: Any, pk: Any, action: str = VIEW) -> ResidentTransfer:
    """The transfer ``pk`` as ``user`` may reach it (from either side): 404 otherwise."""
    rows = ResidentTransfer.objects.restrict(user, action).select_related(
        "resident__household__building",
        "source_community",
        "community",
        "to_household__building__compound",
        "requested_by",
        "decided_by",
    )
    return get_object_or_404(rows, pk=pk)


def may_decide(user: Any, transfer: ResidentTransfer) -> bool:
    """Staff of the community the person is registered in (or its street, or an administrator)."""
    return Community.objects.restrict(user, CHANGE).filter(pk=transfer.source_community_id).exists()


def may_cancel(user: Any, transfer: ResidentTransfer) -> bool:
    """Staff of the requesting side."""
    return Community.objects.restrict(user, CHANGE).filter(pk=transfer.community_id).exists()


def sees_person(user: Any, transfer: ResidentTransfer, visible_communities: set[int] | None = None) -> bool:
    """Whether ``user`` may read the person's name: the source side always, the requesting side
    once approved. ``visible_communities`` (ids) saves a query per row in lists."""
    if transfer.status == ResidentTransfer.Status.APPROVED:
        return True
    if visible_communities is None:
        return Community.objects.restrict(user, VIEW).filter(pk=transfer.source_community_id).exists()
    return transfer.source_community_id in visible_communities


def shown_name(user: Any, transfer: ResidentTransfer, visible_communities: set[int] | None = None) -> str:
    name = transfer.resident.name
    return name if sees_person(user, transfer, visible_communities) else mask_name(name)


def transfer_request(
    *,
    by: User,
    id_number: str,
    to_household: Household,
    reason: str,
    request: HttpRequest | None = None,
) -> ResidentTransfer:
    """Ask the community where ``id_number`` is registered to move that person into
    ``to_household`` (in ``by``'s change scope). The lookup is audited and counted whether or
    not the number is found (its answer tells either way)."""
    id_number = _normal(id_number)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not id_number:
        errors["id_number"] = [_("请填写身份证号。")]
    else:
        try:
            validate_id_number(id_number)
        except ValidationError as error:
            errors["id_number"] = error.messages
    if not reason:
        errors["reason"] = [_("请填写申请事由。")]
    elif len(reason) > max_length(ResidentTransfer, "reason"):
        errors["reason"] = [_("申请事由不能超过 200 个字。")]
    if errors:
        raise ValidationError(errors)
    if not Household.objects.restrict(by, CHANGE).filter(pk=to_household.pk).exists():
        raise OutOfScope(Household._meta.verbose_name)
    seen = Resident.objects.with_id_number(id_number).restrict(by, VIEW).select_related("household__building").first()
    if seen is not None:
        raise ValidationError(
            {
                "id_number": _("该居民已是本辖区居民（%(name)s，%(household)s），无需迁入；换户请编辑其住户。")
                % {"name": mask_name(seen.name), "household": seen.household}
            }
        )
    found = _lookup_elsewhere(
        by=by, id_number=id_number, exclude_pk=None, request=request, via="transfer", audit_miss_at=to_household
    )
    if found is None:
        raise ValidationError({"id_number": _("全区没有登记这个身份证号的居民，请直接新增居民。")})
    with transaction.atomic():
        resident = Resident.objects.select_for_update().get(pk=found.pk)
        transfer = ResidentTransfer(
            resident=resident,
            source_street_id=resident.street_id,
            source_community_id=resident.community_id,
            to_household=to_household,
            requested_by=by,
            reason=reason,
        )
        transfer.sync_scope()
        transfer.full_clean()
        transfer.save()
    return transfer


def transfer_request_from_import(*, by: User, resident_id: int, to_household: Household, reason: str, job: Any) -> bool:
    """A registry import found ``resident_id`` (by ID-number blind index) registered in another
    community while importing them into ``to_household``: ask that community, as
    :func:`transfer_request` does, instead of moving them. Runs inside the import's batch
    transaction; one ``TRANSFER_LOOKUP`` audit line (``via: import``, the job), placed under the
    community where the person is registered. ``False`` (and nothing written) when a request
    for them is already pending, so importing the same file again asks nothing twice.

    The per-user lookup cap does not apply: the import is itself audited (file, hash, counts)
    and only the community's staff may run one.
    """
    resident = Resident.objects.select_for_update().get(pk=resident_id)
    if ResidentTransfer.objects.filter(resident=resident, status=ResidentTransfer.Status.PENDING).exists():
        return False
    transfer = ResidentTransfer(
        resident=resident,
        source_street_id=resident.street_id,
        source_community_id=resident.community_id,
        to_household=to_household,
        requested_by=by,
        reason=reason[: max_length(ResidentTransfer, "reason")],
    )
    transfer.sync_scope()
    transfer.save()
    audit(
        user=by,
        action=AuditEntry.Action.TRANSFER_LOOKUP,
        obj=resident,
        detail={"via": "import", "found": True, "import_job": job.pk, "transfer": transfer.pk},
    )
    return True


def _locked_pending(transfer: ResidentTransfer) -> ResidentTransfer:
    locked = ResidentTransfer.objects.select_for_update().get(pk=transfer.pk)
    if locked.status != ResidentTransfer.Status.PENDING:
        raise Conflict(_("该迁入申请已处理（%(status)s）。") % {"status": locked.get_status_display()})
    return locked


def _check_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": _("请填写处理意见。")})
    if len(note) > max_length(ResidentTransfer, "note"):
        raise ValidationError({"note": _("处理意见不能超过 200 个字。")})
    return note


def transfer_approve(
    *, by: User, transfer: ResidentTransfer, note: str = "", request: HttpRequest | None = None
) -> ResidentTransfer:
    """The source community agrees: the person moves to the requested household.

    What points at the resident (volunteer record and its hours, party and meeting records,
    requests by their account) stays attached to them; the rows that copy the resident's
    street and community follow (``propagate_scope``); a building they headed at the old address
    loses its head; their resident account's role moves to the new community. One ``UPDATE``
    audit line with the old and new household, placed under the deciding (source) community.
    """
    from accounts.models import Role
    from accounts.roles import roles_changed

    note = _check_note(note, required=False)
    with transaction.atomic():
        transfer = _locked_pending(transfer)
        if not may_decide(by, transfer):
            raise PermissionDenied(_("只有该居民登记社区的工作人员可以处理这份迁入申请。"))
        resident = (
            Resident.objects.select_for_update().select_related("household__building").get(pk=transfer.resident_id)
        )
        if resident.community_id != transfer.source_community_id:
            raise Conflict(_("该居民已不在本社区登记，申请不再适用。"))
        target = Household.objects.select_related("building", "community").get(pk=transfer.to_household_id)
        old_household, old_community = resident.household, resident.community
        resident.household = target
        resident.full_clean()
        resident.save()
        street_id, community_id = resident.scope_ids()
        propagate_scope(Resident, Resident.objects.filter(pk=resident.pk), street_id, community_id)
        headed = list(Building.objects.filter(head=resident).values_list("pk", flat=True))
        Building.objects.filter(pk__in=headed).update(head=None)
        if resident.user_id:
            Role.objects.filter(
                user_id=resident.user_id, kind=Role.Kind.RESIDENT, community_id=transfer.source_community_id
            ).update(community_id=community_id)
            roles_changed(resident.user_id)
        transfer.status = ResidentTransfer.Status.APPROVED
        transfer.decided_by = by
        transfer.decided_at = timezone.now()
        transfer.note = note
        transfer.save(update_fields=["status", "decided_by", "decided_at", "note", "updated_at"])
        changes = {
            "household": [f"{old_community} {old_household}", f"{target.community} {target}"],
            "community": [str(old_community), str(target.community)],
        }
        audit(
            user=by,
            action=AuditEntry.Action.UPDATE,
            obj=resident,
            request=request,
            changes=changes,
            detail={"transfer": transfer.pk, "building_head_cleared": headed},
            street_id=transfer.source_street_id,
            community_id=transfer.source_community_id,
        )
    return transfer


def transfer_reject(
    *, by: User, transfer: ResidentTransfer, note: str, request: HttpRequest | None = None
) -> ResidentTransfer:
    """The source community declines, saying why; nothing else changes."""
    note = _check_note(note, required=True)
    with transaction.atomic():
        transfer = _locked_pending(transfer)
        if not may_decide(by, transfer):
            raise PermissionDenied(_("只有该居民登记社区的工作人员可以处理这份迁入申请。"))
        transfer.status = ResidentTransfer.Status.REJECTED
        transfer.decided_by = by
        transfer.decided_at = timezone.now()
        transfer.note = note
        transfer.save(update_fields=["status", "decided_by", "decided_at", "note", "updated_at"])
    return transfer


def transfer_cancel(*, by: User, transfer: ResidentTransfer) -> ResidentTransfer:
    """The requesting side withdraws a pending request."""
    with transaction.atomic():
        transfer = _locked_pending(transfer)
        if not may_cancel(by, transfer):
            raise PermissionDenied(_("只有申请方社区的工作人员可以撤回这份迁入申请。"))
        transfer.status = ResidentTransfer.Status.CANCELLED
        transfer.decided_by = by
        transfer.decided_at = timezone.now()
        transfer.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return transfer


def pending_incoming_count(user: Any) -> int:
    """Pending requests addressed to communities ``user`` may decide for (the registry badge)."""
    decidable = Community.objects.restrict(user, CHANGE).values("pk")
    return (
        ResidentTransfer.objects.restrict(user, VIEW)
        .filter(status=ResidentTransfer.Status.PENDING, source_community__in=decidable)
        .count()
    )
