"""Service hours: recording them, and the review in bulk that turns approved hours into points."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import OutOfScope
from communities.models import Household

from ..models import Activity, PointsEntry, ServiceHours, ServiceProject, Volunteer, VolunteerTeam, points_per_hour
from .common import CENT, require_staff, staff_rows


def hours_record(
    *,
    by: User,
    volunteer: Volunteer,
    project: ServiceProject,
    served_on: date,
    hours: Decimal,
    households: Iterable[Household] = (),
    note: str = "",
    activity: Activity | None = None,
    team: VolunteerTeam | None = None,
) -> ServiceHours:
    """Record hours served outside a check-in (a meal round, a doctor's visit …), pending approval."""
    require_staff(by)
    if not staff_rows(Volunteer, by).filter(pk=volunteer.pk).exists():
        raise ValidationError({"volunteer": _("请选择您所在社区的志愿者。")})
    if activity is not None:
        project, team = activity.project, activity.team
    row = ServiceHours(
        volunteer=volunteer,
        project=project,
        activity=activity,
        team=team,
        served_on=served_on,
        hours=hours,
        note=note,
        recorded_by=by,
    )
    served = list(households)
    outside = [h for h in served if h.community_id != project.community_id]
    with transaction.atomic():
        row.full_clean(exclude=["street", "community"])
        if outside:
            raise ValidationError(
                {"households": _("住户 %(names)s 不在本项目所在社区。") % {"names": "、".join(str(h) for h in outside)}}
            )
        row.save()
        row.households.set(served)
        if not staff_rows(ServiceHours, by).filter(pk=row.pk).exists():
            raise OutOfScope(ServiceHours._meta.verbose_name)
    return row


@dataclass
class ReviewResult:
    done: list[ServiceHours] = field(default_factory=list)
    skipped: list[ServiceHours] = field(default_factory=list)  # not pending any more (already reviewed)


def _lock_for_review(hours_ids: Iterable[int | str], by: User) -> list[ServiceHours]:
    require_staff(by)
    ids = {int(pk) for pk in hours_ids}
    if not ids:
        raise ValidationError({"ids": _("请至少选择一条服务时长。")})
    rows = list(
        staff_rows(ServiceHours, by)
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("volunteer__resident", "activity")
        .order_by("id")
    )
    if len(rows) != len(ids):
        raise OutOfScope(ServiceHours._meta.verbose_name)
    own = [row for row in rows if row.volunteer.resident.user_id == by.pk]
    if own:
        raise PermissionDenied(_("不能审核自己的服务时长。"))
    return rows


def hours_approve(*, hours_ids: Iterable[int | str], by: User) -> ReviewResult:
    """Approve pending hours in bulk: each earns ``hours × points_per_hour()`` points, one
    ledger entry per row (the balance is their sum). All or nothing: an id outside the
    user's scope answers 404 and changes nothing; rows already reviewed are skipped."""
    rate = points_per_hour()
    result = ReviewResult()
    with transaction.atomic():
        rows = _lock_for_review(hours_ids, by)
        now = timezone.now()
        entries = []
        for row in rows:
            if row.status != ServiceHours.Status.PENDING:
                result.skipped.append(row)
                continue
            row.status = ServiceHours.Status.APPROVED
            row.reviewed_by, row.reviewed_at, row.updated_at = by, now, now
            result.done.append(row)
            entries.append(
                PointsEntry(
                    volunteer_id=row.volunteer_id,
                    street_id=row.volunteer.street_id,
                    community_id=row.volunteer.community_id,
                    hours=row,
                    points=(row.hours * rate).quantize(CENT),
                    reason=_("服务时长 %(hours)s 小时 · %(date)s %(what)s")
                    % {"hours": row.hours, "date": row.served_on, "what": row.note or ""},
                    created_by=by,
                )
            )
        ServiceHours.objects.bulk_update(result.done, ["status", "reviewed_by", "reviewed_at", "updated_at"])
        PointsEntry.objects.bulk_create(entries)
    return result


def hours_reject(*, hours_ids: Iterable[int | str], by: User, reason: str | None) -> ReviewResult:
    """Reject pending hours in bulk, with a reason (no points)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写未通过的原因。")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("原因不能超过 200 个字。")})
    result = ReviewResult()
    with transaction.atomic():
        rows = _lock_for_review(hours_ids, by)
        now = timezone.now()
        for row in rows:
            if row.status != ServiceHours.Status.PENDING:
                result.skipped.append(row)
                continue
            row.status = ServiceHours.Status.REJECTED
            row.reviewed_by, row.reviewed_at, row.reject_reason, row.updated_at = by, now, reason, now
            result.done.append(row)
        ServiceHours.objects.bulk_update(
            result.done, ["status", "reviewed_by", "reviewed_at", "reject_reason", "updated_at"]
        )
    return result
