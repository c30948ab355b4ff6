"""Every write to a request: one function per step (ARCHITECTURE rule 2).

Each step runs in ``transaction.atomic()``, locks the request row (``select_for_update``),
checks that the step is allowed from the current status and by this user, writes a
:class:`RequestEvent`, and writes the notifications it causes in the same transaction (the
outbox; the worker sends them). A step that lost a race or no longer applies raises
:class:`~baohe.exceptions.Conflict` (409); bad input raises ``ValidationError`` (400); a
request outside the user's scope is not found (404). Views, the API, Open311 and tasks all
call these functions.
"""

from dataclasses import replace
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.selectors import community_secretaries, community_staff, street_staff
from baohe.exceptions import Conflict, OutOfScope
from baohe.scoping import CHANGE, VIEW, check_in_scope, scope_filter, user_scope
from communities.models import Compound, Resident
from notifications.services import notify

from . import calendar, summary
from .models import Attachment, NumberSequence, RequestEvent, ServiceRequest
from .uploads import check_images

Status = ServiceRequest.Status
Event = RequestEvent.Kind

REOPEN_WINDOW = timedelta(days=7)
RATING_WINDOW = timedelta(days=7)


# --- access -------------------------------------------------------------------------------------
def access_request_by_id(user, pk, action=VIEW):
    """The request if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    return get_object_or_404(ServiceRequest.objects.restrict(user, action), pk=pk)


# Handling a request is staff work: the change scope through street and community only. The
# owner paths of ``ServiceRequest.scope_paths`` (submitter, assignee) let people *see* their
# requests; they must not make the resident who filed one "staff" for it (accept, reject, close).
_STAFF_PATHS = replace(ServiceRequest.scope_paths, owner=None)


def requests_handled_by(user):
    """The requests ``user`` may handle as community/street staff (or everything, for admins)."""
    scope = user_scope(user, CHANGE)
    if scope is None or scope.everything:
        return ServiceRequest.objects.all()
    q = scope_filter(_STAFF_PATHS, scope)
    return ServiceRequest.objects.none() if q is None else ServiceRequest.objects.filter(q)


def _is_staff_for(user, request):
    return requests_handled_by(user).filter(pk=request.pk).exists()


def _refuse(user, request, message):
    """Refuse a step: 404 for whoever may not even see the request (rule 1), else 403."""
    if not ServiceRequest.objects.restrict(user, VIEW).filter(pk=request.pk).exists():
        raise OutOfScope(ServiceRequest._meta.verbose_name)
    raise PermissionDenied(message)


def _require_staff(user, request):
    if not _is_staff_for(user, request):
        _refuse(user, request, _("只有本社区工作人员可以办理该诉求。"))


def _lock(request):
    # The summary notes what the row counts before the step changes it (summary.record applies the difference).
    return summary.snapshot(ServiceRequest.objects.select_for_update().get(pk=request.pk))


def _require_status(request, allowed, action_label):
    if request.status not in allowed:
        raise Conflict(
            _("该诉求当前状态为「%(status)s」，不能%(action)s。")
            % {"status": request.get_status_display(), "action": action_label},
            code="invalid_transition",
        )


def _event(request, kind, by, message="", public=True, from_status=None):
    """Record a step; a step that does not change the status records it as both from and to.
    The dashboards' request summary is brought up to date in the same transaction."""
    event = RequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=by,
        message=message,
        public=public,
        from_status=request.status if from_status is None else from_status,
        to_status=request.status,
    )
    summary.record(request=request, event=event)
    return event


def _drop_pending_extension(request):
    """A request that leaves the open statuses takes no pending extension with it; the changed fields."""
    if request.extension_until is None and not request.extension_reason:
        return []
    request.extension_until = None
    request.extension_reason = ""
    return ["extension_until", "extension_reason"]


# --- notifications ------------------------------------------------------------------------------
def _tell(user, request, event, title, body=""):
    if user is None or user.pk == event.actor_id:
        return  # nobody is told about their own step
    notify(
        recipient=user,
        kind=f"request.{event.kind}",
        title=title,
        body=body,
        link=request.get_absolute_url(),
        dedupe_key=f"request:{request.pk}:event:{event.pk}:user:{user.pk}",
    )


def _tell_resident(request, event, title, body=""):
    if request.submitted_by_id and request.submitted_by_id != event.actor_id:
        _tell(request.submitted_by, request, event, title, body)


def _party_servers(request):
    """The users of the building's party group leader and the household's central household."""
    users = []
    building = request.building
    if building is not None:
        for group in building.party_groups.select_related("leader__resident__user"):
            if group.leader_id and group.leader.resident.user_id:
                users.append(group.leader.resident.user)
    household = request.household
    if household is not None:
        central = household.served_by.select_related("member__resident__user").first()
        if central is not None and central.member.resident.user_id:
            users.append(central.member.resident.user)
    return users


# --- numbering ----------------------------------------------------------------------------------
def number_next(now=None):
    """BH-YYYYMMDD-NNNN from a per-day counter row, incremented under a row lock."""
    day = timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()
    NumberSequence.objects.get_or_create(day=day)
    NumberSequence.objects.filter(day=day).update(last=F("last") + 1)
    last = NumberSequence.objects.values_list("last", flat=True).get(day=day)
    return f"BH-{day:%Y%m%d}-{last:04d}"


def _deadlines(category, start):
    return (
        start + timedelta(hours=category.accept_within_hours),
        calendar.add_working_days(start, category.resolve_within_days),
    )


# --- submission ---------------------------------------------------------------------------------
def request_submit(
    *,
    by,
    category,
    description,
    compound,
    building=None,
    household=None,
    address="",
    contact_name="",
    contact_mobile="",
    contact_time="",
    channel=ServiceRequest.Channel.ONLINE,
    photos=(),
    resident_user=None,
    latitude=None,
    longitude=None,
    open311_token="",
):
    """File a request. A resident files their own; staff enter one on a resident's behalf
    (phone, walk-in, visit) with ``resident_user`` when the resident has an account."""
    if building is not None and building.compound_id != compound.pk:
        raise ValidationError({"building": _("楼栋 %(b)s 不在小区 %(c)s。") % {"b": building, "c": compound}})
    if household is not None and building is not None and household.building_id != building.pk:
        raise ValidationError({"household": _("该住户不在所选楼栋。")})
    if not category.is_active or category.children.exists():
        raise ValidationError({"category": _("请选择一个具体的（二级）分类。")})
    staff_entry = by is not None and by.is_portal_staff
    if by is not None and not staff_entry:
        scope = by.get_scope(VIEW)
        if compound.pk not in scope.compound_ids:
            raise ValidationError({"compound": _("只能为您居住的小区提交诉求。")})
        if household is not None and household.pk not in scope.household_ids:
            raise ValidationError({"household": _("只能以您自己的住户提交诉求。")})
    checked = check_images(photos)
    now = timezone.now()
    accept_due, resolve_due = _deadlines(category, now)
    with transaction.atomic():
        request = ServiceRequest(
            number=number_next(now),
            category=category,
            description=description,
            compound=compound,
            building=building,
            household=household,
            address=address,
            contact_name=contact_name,
            contact_mobile=contact_mobile,
            contact_time=contact_time,
            channel=channel,
            submitted_by=resident_user if staff_entry else by,
            entered_by=by if staff_entry else None,
            accept_due_at=accept_due,
            resolve_due_at=resolve_due,
            latitude=latitude,
            longitude=longitude,
            open311_token=open311_token,
        )
        request.start_accept_clock(now)  # the reminders of both deadlines (reminders.py)
        request.start_resolve_clock(now)
        request.full_clean(exclude=["number", "accept_due_at", "resolve_due_at"])
        request.save()
        if staff_entry:
            check_in_scope(request, by, CHANGE)
        event = _event(request, Event.SUBMITTED, by, message=request.get_channel_display(), from_status="")
        _attach(request, event, checked, by)
        for user in community_staff(request.community_id):
            _tell(
                user,
                request,
                event,
                _("新诉求 %(number)s：%(category)s") % {"number": request.number, "category": category},
            )
        for user in _party_servers(request):
            _tell(user, request, event, _("您服务的楼栋有新诉求 %(number)s") % {"number": request.number})
        _tell_resident(request, event, _("您的诉求 %(number)s 已提交，社区将尽快签收。") % {"number": request.number})
    return request


def _attach(request, event, checked, by):
    for item in checked:
        Attachment.objects.create(
            request=request,
            event=event,
            file=item.content,
            content_type=item.content_type,
            size=item.size,
            width=item.width,
            height=item.height,
            uploaded_by=by,
        )


def similar_open_requests(*, building, category, limit=5):
    """Open requests in the same building and category, for "follow one instead" before submitting."""
    if building is None or category is None:
        return ServiceRequest.objects.none()
    return (
        ServiceRequest.objects.filter(
            building=building, category=category, status__in=("submitted", "accepted", "in_progress")
        )
        .select_related("category")
        .order_by("-id")[:limit]
    )


# --- handling -----------------------------------------------------------------------------------
def request_accept(*, request, by):
    """签收. Exactly one of several simultaneous accepts succeeds; the rest get a conflict."""
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        if request.status == Status.ACCEPTED:
            raise Conflict(_("该诉求已被签收。"), code="already_accepted")
        _require_status(request, (Status.SUBMITTED,), _("签收"))
        previous = request.status
        request.status = Status.ACCEPTED
        request.accepted_at = timezone.now()
        if request.assigned_to_id is None:
            request.assigned_to = by
            request.assignee_kind = ServiceRequest.AssigneeKind.STAFF
            request.assignee_label = str(by)
        request.save(
            update_fields=["status", "accepted_at", "assigned_to", "assignee_kind", "assignee_label", "updated_at"]
        )
        event = _event(request, Event.ACCEPTED, by, from_status=previous)
        _tell_resident(request, event, _("您的诉求 %(number)s 已被社区签收。") % {"number": request.number})
    return request


def request_assign(*, request, by, kind, user=None, label=""):
    """分派 to a staff member, a party group leader, a central household or a volunteer team."""
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.ACCEPTED, Status.IN_PROGRESS), _("分派"))
        if kind not in ServiceRequest.AssigneeKind.values:
            raise ValidationError({"kind": _("未知的承办方类型。")})
        if user is None and not label:
            raise ValidationError({"user": _("请选择承办人。")})
        if (
            user is not None
            and not _is_staff_for(user, request)
            and not Resident.objects.filter(user=user, community_id=request.community_id).exists()
        ):
            # The assignee gets to see the request: only people of this community (or its street).
            raise ValidationError({"user": _("承办人必须是本社区的工作人员或居民。")})
        previous = request.status
        request.assignee_kind = kind
        request.assigned_to = user
        request.assignee_label = label or str(user)
        request.status = Status.IN_PROGRESS
        request.save(update_fields=["assignee_kind", "assigned_to", "assignee_label", "status", "updated_at"])
        event = _event(
            request,
            Event.ASSIGNED,
            by,
            message=f"{ServiceRequest.AssigneeKind(kind).label}：{request.assignee_label}",
            from_status=previous,
        )
        if user is not None and user != by:
            _tell(user, request, event, _("诉求 %(number)s 已分派给您办理。") % {"number": request.number})
    return request


def request_reply(*, request, by, message, public=True):
    """A public reply to the resident, or an internal note (``public=False``)."""
    if not (message or "").strip():
        raise ValidationError({"message": _("请填写内容。")})
    with transaction.atomic():
        request = _lock(request)
        is_assignee = request.assigned_to_id == by.pk
        if not is_assignee:
            _require_staff(by, request)
        _require_status(request, (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED), _("答复"))
        previous = request.status
        if public and request.status == Status.ACCEPTED:
            request.status = Status.IN_PROGRESS
            request.save(update_fields=["status", "updated_at"])
        event = _event(
            request, Event.REPLIED if public else Event.NOTE, by, message=message, public=public, from_status=previous
        )
        if public:
            _tell_resident(request, event, _("您的诉求 %(number)s 有新的答复。") % {"number": request.number}, message)
    return request


def request_extension_request(*, request, by, until, reason):
    """Ask the community secretary for more time; the deadline moves only when approved."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写延期理由。")})
    if len(reason) > ServiceRequest._meta.get_field("extension_reason").max_length:
        raise ValidationError({"reason": _("延期理由不能超过 300 个字。")})
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.ACCEPTED, Status.IN_PROGRESS), _("申请延期"))
        if request.extension_until is not None:
            raise Conflict(_("已有待审批的延期申请。"), code="extension_pending")
        if until <= request.resolve_due_at:
            raise ValidationError({"until": _("延期后的期限必须晚于当前办结期限。")})
        request.extension_until = until
        request.extension_reason = reason
        request.save(update_fields=["extension_until", "extension_reason", "updated_at"])
        event = _event(request, Event.EXTENSION_REQUESTED, by, message=reason, public=False)
        for user in community_secretaries(request.community_id):
            _tell(user, request, event, _("诉求 %(number)s 申请延期，请审批。") % {"number": request.number}, reason)
    return request


def request_extension_decide(*, request, by, approve, note=""):
    """The community secretary approves (the deadline moves, recorded) or denies an extension."""
    with transaction.atomic():
        request = _lock(request)
        is_secretary = (
            by.is_superuser or by.roles.filter(kind=Role.Kind.SECRETARY, community_id=request.community_id).exists()
        )
        if not is_secretary:
            _require_staff(by, request)  # 404 stays 404 for outsiders
            raise PermissionDenied(_("只有社区书记可以审批延期。"))
        _require_status(request, (Status.ACCEPTED, Status.IN_PROGRESS), _("审批延期"))
        if request.extension_until is None:
            raise Conflict(_("没有待审批的延期申请。"), code="no_extension")
        if approve:
            message = _("办结期限由 %(old)s 延至 %(new)s。%(note)s") % {
                "old": timezone.localtime(request.resolve_due_at).strftime("%Y-%m-%d %H:%M"),
                "new": timezone.localtime(request.extension_until).strftime("%Y-%m-%d %H:%M"),
                "note": note,
            }
            start = request.resolve_clock_start() or timezone.now()
            request.resolve_due_at = request.extension_until
            request.extension_count = F("extension_count") + 1
            request.start_resolve_clock(start)  # reminders follow the new deadline (reminders.py)
            kind = Event.EXTENSION_APPROVED
        else:
            message = note
            kind = Event.EXTENSION_DENIED
        request.extension_until = None
        request.extension_reason = ""
        request.save()
        request.refresh_from_db(fields=["extension_count"])
        event = _event(request, kind, by, message=message, public=approve)
        if approve:
            _tell_resident(
                request, event, _("您的诉求 %(number)s 办理期限已延长。") % {"number": request.number}, message
            )
    return request


def request_return(*, request, by, reason):
    """退单: not ours or wrong community; back to the street for re-routing, counted."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写退单理由。")})
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.SUBMITTED, Status.ACCEPTED), _("退单"))
        previous = request.status
        request.status = Status.RETURNED
        request.return_count = F("return_count") + 1
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "return_count", "updated_at", *dropped])
        request.refresh_from_db(fields=["return_count"])
        event = _event(request, Event.RETURNED, by, message=reason, public=False, from_status=previous)
        for user in street_staff(request.street_id):
            _tell(user, request, event, _("诉求 %(number)s 被退回街道，请改派。") % {"number": request.number}, reason)
    return request


def request_reroute(*, request, by, compound, building=None):
    """Street staff send a returned request to the right compound; its clocks start again."""
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.RETURNED,), _("改派"))
        if not Compound.objects.restrict(by, CHANGE).filter(pk=compound.pk).exists():
            raise ValidationError({"compound": _("只能改派到您辖区内的小区。")})
        if building is not None and building.compound_id != compound.pk:
            raise ValidationError({"building": _("楼栋不在所选小区。")})
        previous = request.status
        request.compound = compound
        request.building = building
        request.household = None
        request.status = Status.SUBMITTED
        request.accepted_at = None
        request.assigned_to = None
        request.assignee_kind = ""
        request.assignee_label = ""
        now = timezone.now()
        request.accept_due_at, request.resolve_due_at = _deadlines(request.category, now)
        request.start_accept_clock(now)  # reminders follow the new deadlines (reminders.py)
        request.start_resolve_clock(now)
        request.save()
        # The history and photos follow the request into its new community (rule 1: rows carry
        # the street and community they are scoped by).
        RequestEvent.objects.filter(request=request).update(
            street_id=request.street_id, community_id=request.community_id
        )
        Attachment.objects.filter(request=request).update(
            street_id=request.street_id, community_id=request.community_id
        )
        event = _event(request, Event.REROUTED, by, message=str(compound), public=False, from_status=previous)
        for user in community_staff(request.community_id):
            _tell(user, request, event, _("街道改派诉求 %(number)s 到本社区。") % {"number": request.number})
    return request


def request_resolve(*, request, by, message, photos=()):
    """办结 with a note (and photos); the resident is asked to rate."""
    if not (message or "").strip():
        raise ValidationError({"message": _("请填写办理结果。")})
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.ACCEPTED, Status.IN_PROGRESS), _("办结"))
        checked = check_images(photos, existing=request.attachments.count())
        previous = request.status
        request.status = Status.RESOLVED
        request.resolved_at = timezone.now()
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "resolved_at", "updated_at", *dropped])
        event = _event(request, Event.RESOLVED, by, message=message, from_status=previous)
        _attach(request, event, checked, by)
        _tell_resident(
            request,
            event,
            _("您的诉求 %(number)s 已办结，请评价办理结果。") % {"number": request.number},
            message,
        )
    return request


def request_reject(*, request, by, reason):
    """不予受理, with the reason the resident reads."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写不予受理的理由。")})
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS), _("不予受理"))
        previous = request.status
        request.status = Status.REJECTED
        request.closed_at = timezone.now()
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "closed_at", "updated_at", *dropped])
        event = _event(request, Event.REJECTED, by, message=reason, from_status=previous)
        _tell_resident(request, event, _("您的诉求 %(number)s 不予受理。") % {"number": request.number}, reason)
    return request


def request_mark_duplicate(*, request, by, original):
    """Close as a duplicate of ``original`` (same community); the resident can follow that one."""
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS), _("标记为重复"))
        if original.pk == request.pk or original.community_id != request.community_id:
            raise ValidationError({"original": _("请选择本社区的另一条诉求。")})
        previous = request.status
        request.status = Status.CLOSED
        request.duplicate_of = original
        request.closed_at = timezone.now()
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "duplicate_of", "closed_at", "updated_at", *dropped])
        event = _event(request, Event.DUPLICATE, by, message=original.number, from_status=previous)
        _tell_resident(
            request,
            event,
            _("您的诉求 %(number)s 与 %(original)s 相同，已合并办理。")
            % {"number": request.number, "original": original.number},
        )
    return request


def request_close(*, request, by=None, note="", automatic=False):
    """Close a resolved request (after follow-up, or automatically when unrated for 7 days)."""
    with transaction.atomic():
        request = _lock(request)
        if not automatic:
            _require_staff(by, request)
        _require_status(request, (Status.RESOLVED,), _("关闭"))
        previous = request.status
        request.status = Status.CLOSED
        request.closed_at = timezone.now()
        request.save(update_fields=["status", "closed_at", "updated_at"])
        message = note or (_("7 天内未评价，自动关闭。") if automatic else "")
        _event(request, Event.CLOSED, by, message=message, from_status=previous)
    return request


def _apply_rating(request, by, solved, satisfaction, comment, kind):
    if solved not in ServiceRequest.Solved.values:
        raise ValidationError({"solved": _("请选择是否解决。")})
    if satisfaction not in ServiceRequest.Satisfaction.values:
        raise ValidationError({"satisfaction": _("请选择是否满意。")})
    if len(comment or "") > ServiceRequest._meta.get_field("rating_comment").max_length:
        raise ValidationError({"comment": _("评价意见不能超过 500 个字。")})
    now = timezone.now()
    previous = request.status
    request.solved = solved
    request.satisfaction = satisfaction
    request.rating_comment = comment or ""
    request.rated_at = now
    reopen = solved == ServiceRequest.Solved.UNSOLVED or satisfaction == ServiceRequest.Satisfaction.UNSATISFIED
    label = f"{ServiceRequest.Solved(solved).label} · {ServiceRequest.Satisfaction(satisfaction).label}"
    if reopen:
        # 重办: back to in_progress with a fresh resolve limit.
        request.status = Status.IN_PROGRESS
        request.reopen_count = F("reopen_count") + 1
        request.resolved_at = None
        request.resolve_due_at = calendar.add_working_days(now, request.category.resolve_within_days)
        request.start_resolve_clock(now)  # reminders follow the new deadline (reminders.py)
    else:
        request.status = Status.CLOSED
        request.closed_at = now
    request.save()
    request.refresh_from_db(fields=["reopen_count"])
    _event(request, kind, by, message=f"{label}。{comment or ''}".rstrip("。") + "。", from_status=previous)
    if reopen:
        event_reopen = _event(
            request, Event.REOPENED, None, message=_("居民不满意或未解决，诉求重办。"), from_status=previous
        )
        targets = [request.assigned_to] if request.assigned_to_id else list(community_staff(request.community_id))
        for user in targets:
            _tell(
                user,
                request,
                event_reopen,
                _("诉求 %(number)s 重办：%(label)s") % {"number": request.number, "label": label},
                comment,
            )
    return request


def request_rate(*, request, by, solved, satisfaction, comment=""):
    """The resident rates the answer (回访); unsolved or unsatisfied reopens the request (重办)."""
    with transaction.atomic():
        request = _lock(request)
        if request.submitted_by_id != by.pk:
            _refuse(by, request, _("只有提交人可以评价该诉求。"))
        _require_status(request, (Status.RESOLVED,), _("评价"))
        if request.resolved_at and timezone.now() - request.resolved_at > REOPEN_WINDOW:
            raise Conflict(_("办结已超过 7 天，不能再评价。"), code="rating_window_passed")
        return _apply_rating(request, by, solved, satisfaction, comment, Event.RATED)


def request_follow_up(*, request, by, solved, satisfaction, comment=""):
    """Staff record a phone follow-up (电话回访) with the resident's answers."""
    with transaction.atomic():
        request = _lock(request)
        _require_staff(by, request)
        _require_status(request, (Status.RESOLVED,), _("回访"))
        return _apply_rating(request, by, solved, satisfaction, comment, Event.FOLLOWED_UP)
