"""Activities, sign-ups and the waitlist, and the check-in sheet. Sign-ups lock the activity row
(``select_for_update``) before counting its confirmed places; a cancellation promotes the
earliest waitlisted in the same transaction and tells them."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import Conflict, OutOfScope
from baohe.query import parse_int
from baohe.scoping import CHANGE, VIEW
from baohe.services import scoped_save
from notifications.services import notify

from ..models import Activity, ServiceHours, Signup, Volunteer
from .common import access_activity_by_id, access_signup_by_id, require_staff, staff_rows
from .teams import volunteer_for_signup


# --- activities ------------------------------------------------------------------------------------
def _confirmed_count(activity: Activity) -> int:
    return Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count()


def _activity_link(activity: Activity) -> str:
    return reverse("volunteers:my_activity", args=[activity.pk])


def _promote(activity: Activity, now: datetime) -> list[Signup]:
    """Fill free places from the waitlist, earliest first; the activity row is locked. Tells
    each promoted volunteer. Returns the promoted sign-ups."""
    free = activity.capacity - _confirmed_count(activity)
    if free <= 0:
        return []
    waiting = list(
        Signup.objects.select_for_update(of=("self",))
        .filter(activity=activity, status=Signup.Status.WAITLISTED)
        .select_related("volunteer__resident__user")
        .order_by("queued_at", "id")[:free]
    )
    for signup in waiting:
        signup.status = Signup.Status.CONFIRMED
        signup.promoted_at = signup.confirmed_at = now
        signup.save(update_fields=["status", "promoted_at", "confirmed_at", "updated_at"])
        notify(
            recipient=signup.volunteer.resident.user,
            kind="volunteer.signup_promoted",
            title=_("候补成功：%(title)s") % {"title": activity.title},
            body=_("有人取消了报名，您已由候补转为正式报名「%(title)s」。时间：%(when)s，地点：%(place)s。")
            % {
                "title": activity.title,
                "when": timezone.localtime(activity.starts_at).strftime("%Y-%m-%d %H:%M"),
                "place": activity.place,
            },
            link=_activity_link(activity),
            dedupe_key=f"signup:{signup.pk}:promoted",
        )
    return waiting


def activity_save(*, instance: Activity, by: User) -> Activity:
    """Create or edit an activity as staff. Fewer places than confirmed sign-ups is refused;
    more places promote from the waitlist at once."""
    require_staff(by)
    with transaction.atomic():
        if instance.pk is not None:
            Activity.objects.select_for_update().filter(pk=instance.pk).first()
            confirmed = _confirmed_count(instance)
            if instance.capacity is not None and instance.capacity < confirmed:
                raise ValidationError(
                    {"capacity": _("已有 %(count)s 人报名，名额不能少于 %(count)s。") % {"count": confirmed}}
                )
        scoped_save(instance=instance, by=by)
        _promote(instance, timezone.now())
    return instance


# --- sign-ups -------------------------------------------------------------------------------------
def signup_create(*, activity_id: int, by: User, volunteer: Volunteer | None = None) -> Signup:
    """Sign up for an activity: a confirmed place while there is one, else the waitlist.

    A resident signs themselves up (registered as a volunteer on their first sign-up) for an
    activity they may see; staff sign up ``volunteer`` for an activity of their community.
    The activity row is locked while its places are counted.
    """
    if volunteer is None:
        access_activity_by_id(by, activity_id, VIEW)
        volunteer = volunteer_for_signup(by)
    else:
        require_staff(by)
        access_activity_by_id(by, activity_id, CHANGE)
        if not staff_rows(Volunteer, by).filter(pk=volunteer.pk).exists():
            raise ValidationError({"volunteer": _("请选择您所在社区的志愿者。")})
    if not volunteer.is_active:
        raise Conflict(_("%(name)s 已不在册，不能报名。") % {"name": volunteer}, code="volunteer_inactive")
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity_id)
        now = timezone.now()
        if now > activity.signup_deadline:
            raise Conflict(_("「%(title)s」报名已截止。") % {"title": activity.title}, code="deadline_passed")
        if Signup.objects.active().filter(activity=activity, volunteer=volunteer).exists():
            raise Conflict(
                _("%(name)s 已报名「%(title)s」。") % {"name": volunteer, "title": activity.title},
                code="already_signed_up",
            )
        confirmed = _confirmed_count(activity) < activity.capacity
        signup = Signup(
            activity=activity,
            volunteer=volunteer,
            status=Signup.Status.CONFIRMED if confirmed else Signup.Status.WAITLISTED,
            queued_at=now,
            confirmed_at=now if confirmed else None,
            created_by=by,
        )
        signup.save()
    return signup


def signup_cancel(*, signup_id: int, by: User) -> tuple[Signup, list[Signup]]:
    """Cancel a sign-up (the volunteer, or staff); a freed place goes to the earliest waitlisted.

    Returns ``(signup, promoted)``.
    """
    signup = access_signup_by_id(by, signup_id, CHANGE)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=signup.activity_id)
        signup = Signup.objects.select_for_update().select_related("volunteer__resident").get(pk=signup.pk)
        if signup.status == Signup.Status.CANCELLED:
            raise Conflict(_("这条报名已经取消。"), code="already_cancelled")
        now = timezone.now()
        if now >= activity.starts_at:
            raise Conflict(_("活动已经开始，不能再取消报名。"), code="activity_started")
        freed = signup.status == Signup.Status.CONFIRMED
        signup.status = Signup.Status.CANCELLED
        signup.cancelled_at = now
        signup.save(update_fields=["status", "cancelled_at", "updated_at"])
        promoted = _promote(activity, now) if freed else []
    return signup, promoted


def signup_cancel_own(*, activity_id: int, by: User) -> tuple[Signup, list[Signup]]:
    """A resident cancels their own active sign-up for an activity."""
    activity = access_activity_by_id(by, activity_id, VIEW)
    signup = (
        Signup.objects.active().filter(activity=activity, volunteer__resident__user_id=by.pk).order_by("id").first()
    )
    if signup is None:
        raise Conflict(_("您没有报名这个活动。"), code="not_signed_up")
    return signup_cancel(signup_id=signup.pk, by=by)


@dataclass
class CheckInResult:
    checked_in: list[Signup] = field(default_factory=list)
    already: list[Signup] = field(default_factory=list)


def signup_check_in(*, activity_id: int, signup_ids: Iterable[object], by: User) -> CheckInResult:
    """Check volunteers in at an activity (staff). Each check-in records the activity's
    length as pending service hours, for staff to approve."""
    require_staff(by)
    activity = access_activity_by_id(by, activity_id, CHANGE)
    ids = {parse_int(pk, min_value=1) for pk in signup_ids}
    if None in ids:
        raise ValidationError({"signups": _("编号必须是整数。")})
    if not ids:
        raise ValidationError({"signups": _("请至少选择一位志愿者。")})
    result = CheckInResult()
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        now = timezone.now()
        if timezone.localdate(now) < timezone.localtime(activity.starts_at).date():
            raise Conflict(_("活动当天才能签到。"), code="too_early")
        rows = list(
            Signup.objects.select_for_update(of=("self",))
            .filter(activity=activity, pk__in=ids)
            .select_related("volunteer__resident")
            .order_by("id")
        )
        if len(rows) != len(ids):
            raise OutOfScope(Signup._meta.verbose_name)
        not_confirmed = [s for s in rows if s.status != Signup.Status.CONFIRMED]
        if not_confirmed:
            raise Conflict(
                _("%(names)s 不是正式报名（候补或已取消），不能签到。")
                % {"names": "、".join(str(s.volunteer) for s in not_confirmed)},
                code="not_confirmed",
            )
        hours = activity.duration_hours
        served_on = timezone.localtime(activity.starts_at).date()
        for signup in rows:
            if signup.checked_in_at is not None:
                result.already.append(signup)
                continue
            signup.checked_in_at = now
            signup.checked_in_by = by
            signup.save(update_fields=["checked_in_at", "checked_in_by", "updated_at"])
            ServiceHours(
                volunteer=signup.volunteer,
                project_id=activity.project_id,
                activity=activity,
                team_id=activity.team_id,
                signup=signup,
                served_on=min(served_on, timezone.localdate(now)),
                hours=hours,
                note=activity.title[:200],
                recorded_by=by,
            ).save()
            result.checked_in.append(signup)
    return result
