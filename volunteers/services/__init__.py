"""Every write in volunteer service (ARCHITECTURE rule 2): registering, teams, activities,
sign-ups and the waitlist, check-in, hours and their approval into points.

Each function runs in ``transaction.atomic()``. Sign-ups lock the activity row
(``select_for_update``) before counting its confirmed places, so two people taking the last
place at once get one place and one waitlist entry; a cancellation promotes the earliest
waitlisted in the same transaction and tells them (``notifications.services.notify``, in the
same transaction: the outbox). A step that no longer applies raises
:class:`~baohe.exceptions.Conflict` (409); bad input ``ValidationError`` (400); a row outside
the user's scope is not found (404).

Staff work (managing, checking in, approving) uses the change scope through street and
community only: the owner path that lets a volunteer see their own rows never makes them
staff for them (:func:`staff_rows`).
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.exceptions import Conflict, OutOfScope
from baohe.query import parse_int
from baohe.scoping import CHANGE, VIEW, scope_filter, user_scope
from baohe.services import scoped_save
from communities.models import Resident
from notifications.services import notify

from .models import (
    Activity,
    PointsEntry,
    ServiceHours,
    Signup,
    TeamMembership,
    Volunteer,
    VolunteerTeam,
    points_per_hour,
)

CENT = Decimal("0.01")


# --- access -------------------------------------------------------------------------------------
def staff_rows(model, user):
    """The rows of ``model`` that ``user`` may change as community or street staff (or admin)."""
    scope = user_scope(user, CHANGE)
    if scope is None or scope.everything:
        return model._default_manager.all()
    q = scope_filter(replace(model.scope_paths, owner=None), scope)
    return model._default_manager.none() if q is None else model._default_manager.filter(q)


def require_staff(user):
    if not (user.is_authenticated and user.is_portal_staff):
        raise PermissionDenied(_("只有社区工作人员可以进行这项操作。"))


def access_activity_by_id(user, pk, action=VIEW):
    """The activity if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    if action == CHANGE:
        return get_object_or_404(staff_rows(Activity, user), pk=pk)
    return get_object_or_404(Activity.objects.restrict(user, action), pk=pk)


def access_signup_by_id(user, pk, action=VIEW):
    return get_object_or_404(Signup.objects.restrict(user, action), pk=pk)


def own_resident(user):
    """The user's registered residence (the first, if several), or ``None``."""
    return Resident.objects.filter(user_id=user.pk).order_by("id").first()


def own_volunteer(user):
    """The volunteer record of the signed-in resident, or ``None``."""
    return Volunteer.objects.filter(resident__user_id=user.pk).select_related("resident").order_by("id").first()


# --- volunteers and teams -------------------------------------------------------------------------
def volunteer_register(*, resident, by, skills=""):
    """Register ``resident`` as a volunteer (again active if they had left); the resident
    themselves or staff who may change the resident."""
    own = resident.user_id is not None and resident.user_id == by.pk
    if not own and not staff_rows(Resident, by).filter(pk=resident.pk).exists():
        raise OutOfScope(Resident._meta.verbose_name)
    with transaction.atomic():
        volunteer = Volunteer.objects.select_for_update().filter(resident=resident).first()
        if volunteer is None:
            volunteer = Volunteer(resident=resident, skills=skills.strip())
            volunteer.full_clean()
            try:
                with transaction.atomic():
                    volunteer.save()
            except IntegrityError:  # registered a moment ago by a parallel request
                volunteer = Volunteer.objects.get(resident=resident)
        elif not volunteer.is_active or (skills and skills.strip() != volunteer.skills):
            volunteer.is_active = True
            volunteer.skills = skills.strip() or volunteer.skills
            volunteer.full_clean()
            volunteer.save(update_fields=["is_active", "skills", "updated_at"])
    return volunteer


def volunteer_for_signup(user):
    """The resident's volunteer record, registering them on their first sign-up."""
    volunteer = own_volunteer(user)
    if volunteer is not None:
        return volunteer
    resident = own_resident(user)
    if resident is None:
        raise ValidationError(_("您的账号尚未关联社区登记的住户，请联系社区工作人员登记后再报名。"))
    return volunteer_register(resident=resident, by=user)


def team_add_member(*, team, volunteer, by):
    """Add ``volunteer`` to ``team``: staff of the team's community, or the volunteer joining
    a team of their own community (``by`` is then the volunteer's own user)."""
    own = volunteer.resident.user_id is not None and volunteer.resident.user_id == by.pk
    if own:
        if not VolunteerTeam.objects.restrict(by, VIEW).filter(pk=team.pk).exists():
            raise OutOfScope(VolunteerTeam._meta.verbose_name)
    else:
        if not staff_rows(VolunteerTeam, by).filter(pk=team.pk).exists():
            raise OutOfScope(VolunteerTeam._meta.verbose_name)
        if not staff_rows(Volunteer, by).filter(pk=volunteer.pk).exists():
            raise ValidationError({"volunteer": _("请选择您所在社区的志愿者。")})
    if not team.is_active:
        raise Conflict(_("志愿服务队「%(team)s」已停止活动，不能加入。") % {"team": team}, code="team_inactive")
    with transaction.atomic():
        if TeamMembership.objects.filter(team=team, volunteer=volunteer).exists():
            raise Conflict(
                _("%(name)s 已是「%(team)s」的队员。") % {"name": volunteer, "team": team}, code="already_member"
            )
        membership = TeamMembership(team=team, volunteer=volunteer)
        membership.full_clean(exclude=["street", "community"])
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError as error:
            raise Conflict(
                _("%(name)s 已是「%(team)s」的队员。") % {"name": volunteer, "team": team}, code="already_member"
            ) from error
    return membership


def team_join(*, team_id, by):
    """A resident joins a team of their community (registering as a volunteer if needed)."""
    team = get_object_or_404(VolunteerTeam.objects.restrict(by, VIEW), pk=team_id)
    return team_add_member(team=team, volunteer=volunteer_for_signup(by), by=by)


def team_remove_member(*, membership, by):
    """Leave a team (the member) or remove a member (staff). The leader leaves the post too."""
    own = membership.volunteer.resident.user_id == by.pk
    if not own and not staff_rows(TeamMembership, by).filter(pk=membership.pk).exists():
        raise OutOfScope(TeamMembership._meta.verbose_name)
    with transaction.atomic():
        team = VolunteerTeam.objects.select_for_update().get(pk=membership.team_id)
        if team.leader_id == membership.volunteer_id:
            team.leader = None
            team.save(update_fields=["leader", "updated_at"])
        membership.delete()


# --- activities ------------------------------------------------------------------------------------
def _confirmed_count(activity):
    return Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count()


def _activity_link(activity):
    return reverse("volunteers:my_activity", args=[activity.pk])


def _promote(activity, now):
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


def activity_save(*, instance, by):
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
def signup_create(*, activity_id, by, volunteer=None):
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


def signup_cancel(*, signup_id, by):
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


def signup_cancel_own(*, activity_id, by):
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
    checked_in: list = field(default_factory=list)
    already: list = field(default_factory=list)


def signup_check_in(*, activity_id, signup_ids, by):
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


# --- hours and points -------------------------------------------------------------------------------
def hours_record(*, by, volunteer, project, served_on, hours, households=(), note="", activity=None, team=None):
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
    households = list(households)
    outside = [h for h in households if h.community_id != project.community_id]
    with transaction.atomic():
        row.full_clean(exclude=["street", "community"])
        if outside:
            raise ValidationError(
                {"households": _("住户 %(names)s 不在本项目所在社区。") % {"names": "、".join(str(h) for h in outside)}}
            )
        row.save()
        row.households.set(households)
        if not staff_rows(ServiceHours, by).filter(pk=row.pk).exists():
            raise OutOfScope(ServiceHours._meta.verbose_name)
    return row


@dataclass
class ReviewResult:
    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # not pending any more (already reviewed)


def _lock_for_review(hours_ids, by):
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


def hours_approve(*, hours_ids, by):
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


def hours_reject(*, hours_ids, by, reason):
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


def project_save(*, instance, by):
    require_staff(by)
    return scoped_save(instance=instance, by=by)


def team_save(*, instance, by):
    require_staff(by)
    return scoped_save(instance=instance, by=by)
