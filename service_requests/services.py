"""Every write to a request: one function per step (ARCHITECTURE rule 2).

Each step runs in ``transaction.atomic()``, locks the request row (``select_for_update``),
checks the step against the workflow table (:func:`require_step` reads ``workflow.STEPS``: who
may take it, from which status), writes a :class:`RequestEvent`, brings the reminder clock in
step (``clocks_sync``, ``models/clock.py``) when the status, a deadline or the assignee changed,
and writes the notifications it causes in the same transaction (the outbox; the worker sends
them). A step that lost a race or no longer applies raises :class:`~baohe.exceptions.Conflict`
(409); bad input raises ``ValidationError`` (400); a request outside the user's scope is not
found (404). Views, the API, Open311 and tasks all call these functions.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, F, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.selectors import (
    community_secretaries,
    community_staff,
    community_staff_roles,
    is_secretary_of,
    street_staff,
)
from baohe import staging
from baohe.exceptions import Conflict, OutOfScope
from baohe.masking import anonymise_text
from baohe.models import AuditEntry
from baohe.scoping import CHANGE, VIEW, scope_filter, user_scope
from baohe.services import audit, record_change
from baohe.texts import StoredText, chinese_and_stored, stored
from baohe.uploads import CheckedImage, check_images
from communities.models import Building, Compound, Household, Resident
from notifications.services import Message, channels_of_users, notify, notify_many

from . import calendar, numbering, public, reference, summary, workflow
from .models import Attachment, Category, RequestEvent, RequestSupporter, ServiceRequest
from .models.clock import clocks_sync, schedule_accept, schedule_resolve

Status = ServiceRequest.Status
Event = RequestEvent.Kind
Actor = workflow.Actor
Step = workflow.Step


# --- access -------------------------------------------------------------------------------------
def access_request_by_id(user: User, pk: int, action: str = VIEW) -> ServiceRequest:
    """The request if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    return get_object_or_404(ServiceRequest.objects.restrict(user, action), pk=pk)


# Handling a request is staff work: the change scope through street and community only. The
# owner paths of ``ServiceRequest.scope_paths`` (submitter, assignee) let people *see* their
# requests; they must not make the resident who filed one "staff" for it (accept, reject, close).
_STAFF_PATHS = replace(ServiceRequest.scope_paths, owner=None)


def requests_handled_by(user: User | None) -> QuerySet[ServiceRequest]:
    """The requests ``user`` may handle as community/street staff (or everything, for admins)."""
    scope = user_scope(user, CHANGE)
    if scope is None or scope.everything:
        return ServiceRequest.objects.all()
    q = scope_filter(_STAFF_PATHS, scope)
    return ServiceRequest.objects.none() if q is None else ServiceRequest.objects.filter(q)


def _is_staff_for(user: User, request: ServiceRequest) -> bool:
    return requests_handled_by(user).filter(pk=request.pk).exists()


def _is_secretary_of(user: User, request: ServiceRequest) -> bool:
    return user.is_superuser or is_secretary_of(user, request.community_id)


def _is_official_for(user: User, request: ServiceRequest) -> bool:
    """A district official (or superuser), or a street official of the request's street (from the
    user's cached roles: no query)."""
    if user.is_superuser:
        return True
    for role in user._roles():
        if role.kind == Role.Kind.DISTRICT_OFFICIAL:
            return True
        if role.kind == Role.Kind.STREET_OFFICIAL and role.street_id == request.street_id:
            return True
    return False


def acts_as(actor: workflow.Actor, user: User | None, request: ServiceRequest, *, automatic: bool = False) -> bool:
    """Whether ``user`` is ``actor`` for ``request`` (``automatic``: the step is the system's own)."""
    if actor == Actor.SYSTEM:
        return automatic
    if user is None:
        return False
    if actor == Actor.ASSIGNEE:
        return request.assigned_to_id == user.pk
    if actor == Actor.SUBMITTER:
        return request.submitted_by_id == user.pk
    if actor == Actor.STAFF:
        return _is_staff_for(user, request)
    if actor == Actor.SECRETARY:
        return _is_secretary_of(user, request)
    if actor == Actor.NEIGHBOUR:
        return _is_neighbour(user, request)
    if actor == Actor.OFFICIAL:
        return user.is_active and _is_official_for(user, request)
    raise ValueError(actor)


def _is_neighbour(user: User, request: ServiceRequest) -> bool:
    """Another resident of the request's compound (not its submitter, not staff)."""
    if user.is_portal_staff or request.submitted_by_id == user.pk:
        return False
    return request.compound_id in user.get_scope(VIEW).compound_ids


def actors_of(user: User, request: ServiceRequest) -> frozenset[workflow.Actor]:
    """Everything ``user`` is for ``request``, for a page that shows the steps they may take (at
    most two queries: staff, then secretary — a secretary who is not staff takes no step here)."""
    actors = {actor for actor in (Actor.ASSIGNEE, Actor.SUBMITTER) if acts_as(actor, user, request)}
    if Actor.SUBMITTER not in actors and not user.is_portal_staff and acts_as(Actor.NEIGHBOUR, user, request):
        actors.add(Actor.NEIGHBOUR)
    if user.is_official and acts_as(Actor.OFFICIAL, user, request):
        actors.add(Actor.OFFICIAL)  # from the cached roles: no query
    if acts_as(Actor.STAFF, user, request):
        actors.add(Actor.STAFF)
        if acts_as(Actor.SECRETARY, user, request):
            actors.add(Actor.SECRETARY)
    return frozenset(actors)


def _refuse(user: User | None, request: ServiceRequest, message: Any) -> None:
    """Refuse a step: 404 for whoever may not even see the request (rule 1), else 403."""
    if not ServiceRequest.objects.restrict(user, VIEW).filter(pk=request.pk).exists():
        raise OutOfScope(ServiceRequest._meta.verbose_name)
    raise PermissionDenied(message)


def require_step(request: ServiceRequest, step: workflow.Step, by: User | None, *, automatic: bool = False) -> None:
    """The guard of every step, read from the workflow table (``workflow.STEPS``): ``by`` must be
    one of the step's actors (404 for whoever may not see the request, else 403 with the step's
    refusal; a secretary's step first needs staff), then the request's status and the step's
    own requirement must allow it (409). ``request`` is the locked row."""
    if any(acts_as(actor, by, request, automatic=automatic) for actor in step.actors):
        pass
    elif Actor.SECRETARY in step.actors and not (by is not None and _is_staff_for(by, request)):
        _refuse(by, request, workflow.STAFF_ONLY)  # 404 stays 404 for outsiders
    elif Actor.SECRETARY in step.actors:
        raise PermissionDenied(step.refused)
    else:
        _refuse(by, request, step.refused)
    conflict = step.conflict(request, timezone.now())
    if conflict is not None:
        message, code = conflict
        raise Conflict(message, code=code)


def _lock(request: ServiceRequest) -> ServiceRequest:
    # The summary notes what the row counts before the step changes it (summary.record applies the difference).
    return summary.snapshot(ServiceRequest.objects.select_for_update().get(pk=request.pk))


def _event(
    request: ServiceRequest,
    kind: str,
    by: User | None,
    message: str | StoredText = "",
    public: bool = True,
    from_status: str | None = None,
) -> RequestEvent:
    """Record a step; a step that does not change the status records it as both from and to.
    The dashboards' request summary is brought up to date in the same transaction, and the step
    written to the audit trail: one line, a submission as a creation with its fields (masked),
    any other step as a change of status (the step's text stays in the request's timeline).
    A ``message`` the portal writes (not a person's words) is a stored text (``baohe.texts``),
    shown in the reader's language."""
    message, message_text = chinese_and_stored(message)
    event = RequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=by,
        message=message,
        message_text=message_text,
        public=public,
        from_status=request.status if from_status is None else from_status,
        to_status=request.status,
    )
    summary.record(request=request, event=event)
    if kind == Event.SUBMITTED:
        record_change(user=by, instance=request, detail={"step": kind})
    else:
        changes = {"status": [event.from_status, event.to_status]} if event.from_status != event.to_status else {}
        audit(user=by, action=AuditEntry.Action.UPDATE, obj=request, changes=changes, detail={"step": kind})
    return event


def _max_length(field_name: str) -> int:
    field = cast(CharField, ServiceRequest._meta.get_field(field_name))
    return cast(int, field.max_length)


def _drop_pending_extension(request: ServiceRequest) -> list[str]:
    """A request that leaves the open statuses takes no pending extension with it; the changed fields."""
    if request.extension_until is None and not request.extension_reason:
        return []
    request.extension_until = None
    request.extension_reason = ""
    return ["extension_until", "extension_reason"]


# --- notifications ------------------------------------------------------------------------------
def _tell(
    user: User | None, request: ServiceRequest, event: RequestEvent, title: str | StoredText, body: str = ""
) -> None:
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


def _tell_resident(request: ServiceRequest, event: RequestEvent, title: str | StoredText, body: str = "") -> None:
    if request.submitted_by_id and request.submitted_by_id != event.actor_id:
        _tell(request.submitted_by, request, event, title, body)


def _tell_supporters(request: ServiceRequest, event: RequestEvent, title: str | StoredText, body: str = "") -> None:
    """The neighbours who joined the request (附议) hear of its progress, with the public text
    (``public.names_of``: they read what the board shows), and follow it on the board."""
    supporters = list(request.supporters.select_related("user").order_by("id"))
    if not supporters:
        return
    body = anonymise_text(body, public.names_of(request))
    link = f"{reverse('service_requests:board', args=[request.compound_id])}#r{request.pk}"
    for supporter in supporters:
        if supporter.user_id == event.actor_id or not supporter.user.is_active:
            continue
        notify(
            recipient=supporter.user,
            kind=f"request.{event.kind}",
            title=title,
            body=body,
            link=link,
            dedupe_key=f"request:{request.pk}:event:{event.pk}:user:{supporter.user_id}",
        )


def _party_servers(request: ServiceRequest) -> list[User]:
    """The users of the building's party group leader and the household's central household."""
    users: list[User] = []
    building = request.building
    if building is not None:
        for group in building.party_groups.select_related("leader__resident__user"):
            if group.leader is not None and group.leader.resident.user is not None:
                users.append(group.leader.resident.user)
    household = request.household
    if household is not None:
        central = household.served_by.select_related("member__resident__user").first()
        if central is not None and central.member.resident.user is not None:
            users.append(central.member.resident.user)
    return users


# --- numbering ----------------------------------------------------------------------------------
def number_next(now: datetime | None = None) -> str:
    """BH-YYYYMMDD-NNNN: the next number of the local day (``numbering.py``: a database
    sequence on PostgreSQL, nothing locked; the per-day counter row on SQLite)."""
    return numbering.number_next(now)


def _start_clocks(request: ServiceRequest, start: datetime) -> None:
    """Both deadlines from the category (``calendar.request_deadlines``), and their reminders
    scheduled from ``start`` (``models/clock.py``): a new request, or one rerouted."""
    request.accept_due_at, request.resolve_due_at = calendar.request_deadlines(request.category, start)
    schedule_accept(request, start)
    schedule_resolve(request, start)


# --- submission ---------------------------------------------------------------------------------
# Related rows the caller has already loaded (form or serializer choices in the user's scope);
# full_clean() would look each one up again.
_SUBMIT_CLEAN_EXCLUDE = [
    "number",
    "accept_due_at",
    "resolve_due_at",
    "category",
    "compound",
    "building",
    "household",
    "submitted_by",
    "entered_by",
    "street",
    "community",
    "duplicate_of",
    "assigned_to",
]


def may_handle_place(user: User, street_id: int, community_id: int) -> bool:
    """Whether ``user`` may handle (change) requests at this place: their change scope through
    street and community (``_STAFF_PATHS``), read from the roles the user carries (no query)."""
    scope = user_scope(user, CHANGE)
    if scope is None or scope.everything:
        return True
    return street_id in scope.street_ids or community_id in scope.community_ids


def _submission_recipients(request: ServiceRequest) -> tuple[list[tuple[int, str]], dict[int, list[str]]]:
    """``[(user id, group), …]`` told of a new request, each once: the community's staff
    (``"staff"``), then the party group leaders of its building and the central household
    serving its household (``"party"``), then the resident (``"resident"``); and the staff's
    channels (``notify_many`` looks up the others'). Active users only. The staff and their
    channels are one query; the party servers one or two more when a building or household is given."""
    from partybuilding.models import CentralHousehold, PartyGroup

    staff_channels = channels_of_users(
        User.objects.filter(pk__in=community_staff_roles([request.community_id]).values("user_id"))
    )
    party: list[int] = []
    if request.building_id is not None or request.household_id is not None:
        leaders = PartyGroup.objects.filter(
            buildings=request.building_id, leader__resident__user__isnull=False
        ).values_list("leader__resident__user_id", "pk")
        central = (
            CentralHousehold.objects.filter(served_households=request.household_id)
            .order_by(*(CentralHousehold._meta.ordering or ["pk"]))
            .values_list("member__resident__user_id", flat=True)[:1]
        )
        if request.building_id is not None:
            party.extend(user_id for user_id, _pk in sorted(leaders, key=lambda row: row[1]))
        if request.household_id is not None:
            party.extend(user_id for user_id in central if user_id is not None)
    seen: set[int] = set()
    out: list[tuple[int, str]] = []
    groups = [(sorted(staff_channels), "staff"), (party, "party"), ([request.submitted_by_id or 0], "resident")]
    for ids, group in groups:
        for user_id in ids:
            if user_id and user_id not in seen:
                seen.add(user_id)
                out.append((user_id, group))
    return out, staff_channels


def _category_text(category: Category) -> dict[str, str]:
    """The category's full name in both languages from the reference copy, without loading the parent."""
    ref = reference.categories().get(category.pk)
    return ref.text if ref is not None else category.text


def _tell_submitted(request: ServiceRequest, event: RequestEvent, category: Category) -> None:
    """The new request's notifications in one batch (``notify_many``): staff, party servers,
    the resident; not whoever entered it."""
    link = request.get_absolute_url()
    titles = {
        "staff": stored(
            gettext_lazy("新诉求 %(number)s：%(category)s"), number=request.number, category=_category_text(category)
        ),
        "party": stored(gettext_lazy("您服务的楼栋有新诉求 %(number)s"), number=request.number),
        "resident": stored(gettext_lazy("您的诉求 %(number)s 已提交，社区将尽快签收。"), number=request.number),
    }
    recipients, channels = _submission_recipients(request)
    notify_many(
        (
            Message(
                recipient_id=user_id,
                kind=f"request.{event.kind}",
                title=titles[group],
                link=link,
                dedupe_key=f"request:{request.pk}:event:{event.pk}:user:{user_id}",
            )
            for user_id, group in recipients
            if user_id != event.actor_id
        ),
        channels,
    )


def request_submit(
    *,
    by: User | None,
    category: Category,
    description: str,
    compound: Compound,
    building: Building | None = None,
    household: Household | None = None,
    address: str = "",
    contact_name: str = "",
    contact_mobile: str = "",
    contact_time: str = "",
    channel: str = ServiceRequest.Channel.ONLINE,
    photos: Sequence[Any] = (),
    resident_user: User | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    open311_token: str = "",
) -> ServiceRequest:
    """File a request. A resident files their own; staff enter one on a resident's behalf
    (phone, walk-in, visit) with ``resident_user`` when the resident has an account.

    The hot path of the portal (issue 14): everything is checked before the transaction from
    what the caller loaded and the cached reference data (``reference.py``: is the category a
    leaf; the user's scope is on the user), the number comes from ``numbering.py`` (nothing
    locked), the notifications are one batch (``notify_many``) and the dashboards' summary is
    brought up to date last, in one statement, so the summary rows are locked only for the
    moment before COMMIT. The returned request carries what the answer shows (no reload)."""
    if building is not None and building.compound_id != compound.pk:
        raise ValidationError({"building": _("楼栋 %(b)s 不在小区 %(c)s。") % {"b": building, "c": compound}})
    if household is not None and building is not None and household.building_id != building.pk:
        raise ValidationError({"household": _("该住户不在所选楼栋。")})
    if not category.is_active or reference.category_has_children(category.pk):
        raise ValidationError({"category": _("请选择一个具体的（二级）分类。")})
    staff_entry = by is not None and by.is_portal_staff
    if by is not None and not staff_entry:
        scope = by.get_scope(VIEW)
        if compound.pk not in scope.compound_ids:
            raise ValidationError({"compound": _("只能为您居住的小区提交诉求。")})
        if household is not None and household.pk not in scope.household_ids:
            raise ValidationError({"household": _("只能以您自己的住户提交诉求。")})
    street_id, community_id = compound.scope_ids()
    if staff_entry and not may_handle_place(cast(User, by), street_id, community_id):
        raise OutOfScope(ServiceRequest._meta.verbose_name)
    checked = check_images(photos)
    now = timezone.now()
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
            latitude=latitude,
            longitude=longitude,
            open311_token=open311_token,
            street_id=street_id,
            community_id=community_id,
        )
        _start_clocks(request, now)
        request.full_clean(exclude=_SUBMIT_CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False)
        request.save()
        clocks_sync(request, new=True)  # the accept clock starts
        channel_message, channel_text = chinese_and_stored(stored(ServiceRequest.Channel(request.channel).label))
        event = RequestEvent.objects.create(
            request=request,
            kind=Event.SUBMITTED,
            actor=by,
            message=channel_message,
            message_text=channel_text,
            from_status="",
            to_status=request.status,
        )
        record_change(user=by, instance=request, detail={"step": Event.SUBMITTED})
        _attach(request, event, checked, by)
        staging.consume(photos)  # photos kept across a form error: attached now
        _tell_submitted(request, event, category)
        summary.record(request=request, event=event)  # last: the shared summary rows, locked until COMMIT
    return request


def _attach(request: ServiceRequest, event: RequestEvent, checked: Iterable[CheckedImage], by: User | None) -> None:
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


def similar_open_requests(
    *, building: Building | None, category: Category | None, limit: int = 5
) -> QuerySet[ServiceRequest]:
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


# --- handling: each step is a row of workflow.STEPS, guarded by require_step ---------------------
def request_accept(*, request: ServiceRequest, by: User) -> ServiceRequest:
    """签收. Exactly one of several simultaneous accepts succeeds; the rest get a conflict."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.ACCEPT, by)
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
        clocks_sync(request)  # accept stops, resolve starts
        event = _event(request, Event.ACCEPTED, by, from_status=previous)
        _tell_resident(
            request, event, stored(gettext_lazy("您的诉求 %(number)s 已被社区签收。"), number=request.number)
        )
        _tell_supporters(
            request, event, stored(gettext_lazy("您附议的诉求 %(number)s 已被社区签收。"), number=request.number)
        )
    return request


def request_assign(
    *, request: ServiceRequest, by: User, kind: str, user: User | None = None, label: str = ""
) -> ServiceRequest:
    """分派 to a staff member, a party group leader, a central household or a volunteer team."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.ASSIGN, by)
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
        clocks_sync(request)  # the warnings go to the new assignee
        event = _event(
            request,
            Event.ASSIGNED,
            by,
            message=stored(
                gettext_lazy("%(kind)s：%(assignee)s"),
                kind=ServiceRequest.AssigneeKind(kind).label,
                assignee=request.assignee_label,
            ),
            from_status=previous,
        )
        if user is not None and user != by:
            _tell(user, request, event, stored(gettext_lazy("诉求 %(number)s 已分派给您办理。"), number=request.number))
    return request


def request_reply(*, request: ServiceRequest, by: User, message: str, public: bool = True) -> ServiceRequest:
    """A public reply to the resident, or an internal note (``public=False``)."""
    if not (message or "").strip():
        raise ValidationError({"message": _("请填写内容。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.REPLY, by)
        previous = request.status
        if public and request.status == Status.ACCEPTED:
            request.status = Status.IN_PROGRESS
            request.save(update_fields=["status", "updated_at"])
            clocks_sync(request)
        event = _event(
            request, Event.REPLIED if public else Event.NOTE, by, message=message, public=public, from_status=previous
        )
        if public:
            _tell_resident(
                request, event, stored(gettext_lazy("您的诉求 %(number)s 有新的答复。"), number=request.number), message
            )
            _tell_supporters(
                request,
                event,
                stored(gettext_lazy("您附议的诉求 %(number)s 有新的答复。"), number=request.number),
                message,
            )
    return request


def request_extension_request(*, request: ServiceRequest, by: User, until: datetime, reason: str) -> ServiceRequest:
    """Ask the community secretary for more time; the deadline moves only when approved."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写延期理由。")})
    if len(reason) > _max_length("extension_reason"):
        raise ValidationError({"reason": _("延期理由不能超过 300 个字。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.EXTENSION_REQUEST, by)
        if until <= request.resolve_due_at:
            raise ValidationError({"until": _("延期后的期限必须晚于当前办结期限。")})
        request.extension_until = until
        request.extension_reason = reason
        request.save(update_fields=["extension_until", "extension_reason", "updated_at"])
        event = _event(request, Event.EXTENSION_REQUESTED, by, message=reason, public=False)
        for user in community_secretaries(request.community_id):
            _tell(
                user,
                request,
                event,
                stored(gettext_lazy("诉求 %(number)s 申请延期，请审批。"), number=request.number),
                reason,
            )
    return request


def request_extension_decide(*, request: ServiceRequest, by: User, approve: bool, note: str = "") -> ServiceRequest:
    """The community secretary approves (the deadline moves, recorded) or denies an extension."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.EXTENSION_DECIDE, by)
        until = cast(datetime, request.extension_until)  # set: the step requires a pending extension
        if approve:
            message = _("办结期限由 %(old)s 延至 %(new)s。%(note)s") % {
                "old": timezone.localtime(request.resolve_due_at).strftime("%Y-%m-%d %H:%M"),
                "new": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"),
                "note": note,
            }
            start = request.resolve_clock_start() or timezone.now()
            request.resolve_due_at = until
            request.extension_count = F("extension_count") + 1
            schedule_resolve(request, start)  # the reminders follow the new deadline
            kind = Event.EXTENSION_APPROVED
        else:
            message = note
            kind = Event.EXTENSION_DENIED
        request.extension_until = None
        request.extension_reason = ""
        request.save()
        request.refresh_from_db(fields=["extension_count"])
        if approve:
            clocks_sync(request)  # a new cycle of the resolve clock
        event = _event(request, kind, by, message=message, public=approve)
        if approve:
            _tell_resident(
                request,
                event,
                stored(gettext_lazy("您的诉求 %(number)s 办理期限已延长。"), number=request.number),
                message,
            )
    return request


def request_return(*, request: ServiceRequest, by: User, reason: str) -> ServiceRequest:
    """退单: not ours or wrong community; back to the street for re-routing, counted."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写退单理由。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.RETURN, by)
        previous = request.status
        request.status = Status.RETURNED
        request.return_count = F("return_count") + 1
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "return_count", "updated_at", *dropped])
        request.refresh_from_db(fields=["return_count"])
        clocks_sync(request)  # no clock runs while the street reroutes it
        event = _event(request, Event.RETURNED, by, message=reason, public=False, from_status=previous)
        for user in street_staff(request.street_id):
            _tell(
                user,
                request,
                event,
                stored(gettext_lazy("诉求 %(number)s 被退回街道，请改派。"), number=request.number),
                reason,
            )
    return request


def request_reroute(
    *, request: ServiceRequest, by: User, compound: Compound, building: Building | None = None
) -> ServiceRequest:
    """Street staff send a returned request to the right compound; its clocks start again."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.REROUTE, by)
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
        _start_clocks(request, timezone.now())
        request.save()
        clocks_sync(request)  # new cycles, in the new community
        # The history and photos follow the request into its new community (rule 1: rows carry
        # the street and community they are scoped by).
        RequestEvent.objects.filter(request=request).update(
            street_id=request.street_id, community_id=request.community_id
        )
        Attachment.objects.filter(request=request).update(
            street_id=request.street_id, community_id=request.community_id
        )
        RequestSupporter.objects.filter(request=request).update(
            street_id=request.street_id, community_id=request.community_id
        )
        event = _event(request, Event.REROUTED, by, message=str(compound), public=False, from_status=previous)
        for user in community_staff(request.community_id):
            _tell(
                user, request, event, stored(gettext_lazy("街道改派诉求 %(number)s 到本社区。"), number=request.number)
            )
    return request


def request_resolve(*, request: ServiceRequest, by: User, message: str, photos: Sequence[Any] = ()) -> ServiceRequest:
    """办结 with a note (and photos); the resident is asked to rate."""
    if not (message or "").strip():
        raise ValidationError({"message": _("请填写办理结果。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.RESOLVE, by)
        checked = check_images(photos, existing=request.attachments.count())
        previous = request.status
        request.status = Status.RESOLVED
        request.resolved_at = timezone.now()
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "resolved_at", "updated_at", *dropped])
        clocks_sync(request)  # resolve stops, the rating reminder starts
        event = _event(request, Event.RESOLVED, by, message=message, from_status=previous)
        _attach(request, event, checked, by)
        staging.consume(photos)  # photos kept across a form error: attached now
        _tell_resident(
            request,
            event,
            stored(gettext_lazy("您的诉求 %(number)s 已办结，请评价办理结果。"), number=request.number),
            message,
        )
        _tell_supporters(
            request, event, stored(gettext_lazy("您附议的诉求 %(number)s 已办结。"), number=request.number), message
        )
    return request


def request_reject(*, request: ServiceRequest, by: User, reason: str) -> ServiceRequest:
    """不予受理, with the reason the resident reads."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写不予受理的理由。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.REJECT, by)
        previous = request.status
        request.status = Status.REJECTED
        request.closed_at = timezone.now()
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "closed_at", "updated_at", *dropped])
        clocks_sync(request)
        event = _event(request, Event.REJECTED, by, message=reason, from_status=previous)
        _tell_resident(
            request, event, stored(gettext_lazy("您的诉求 %(number)s 不予受理。"), number=request.number), reason
        )
        _tell_supporters(
            request, event, stored(gettext_lazy("您附议的诉求 %(number)s 不予受理。"), number=request.number), reason
        )
    return request


def request_mark_duplicate(*, request: ServiceRequest, by: User, original: ServiceRequest) -> ServiceRequest:
    """Close as a duplicate of ``original`` (same community); the resident can follow that one."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.DUPLICATE, by)
        if original.pk == request.pk or original.community_id != request.community_id:
            raise ValidationError({"original": _("请选择本社区的另一条诉求。")})
        previous = request.status
        request.status = Status.CLOSED
        request.duplicate_of = original
        request.closed_at = timezone.now()
        dropped = _drop_pending_extension(request)
        request.save(update_fields=["status", "duplicate_of", "closed_at", "updated_at", *dropped])
        clocks_sync(request)
        event = _event(request, Event.DUPLICATE, by, message=original.number, from_status=previous)
        _tell_resident(
            request,
            event,
            stored(
                gettext_lazy("您的诉求 %(number)s 与 %(original)s 相同，已合并办理。"),
                number=request.number,
                original=original.number,
            ),
        )
        _tell_supporters(
            request,
            event,
            stored(
                gettext_lazy("您附议的诉求 %(number)s 与 %(original)s 相同，已合并办理。"),
                number=request.number,
                original=original.number,
            ),
        )
    return request


def request_close(
    *, request: ServiceRequest, by: User | None = None, note: str = "", automatic: bool = False
) -> ServiceRequest:
    """Close a resolved request (after follow-up, or automatically when unrated for 7 days)."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.CLOSE, by, automatic=automatic)
        previous = request.status
        request.status = Status.CLOSED
        request.closed_at = timezone.now()
        request.save(update_fields=["status", "closed_at", "updated_at"])
        clocks_sync(request)  # the rating reminder stops
        message = note or (stored(gettext_lazy("7 天内未评价，自动关闭。")) if automatic else "")
        _event(request, Event.CLOSED, by, message=message, from_status=previous)
    return request


def _apply_rating(
    request: ServiceRequest, by: User, solved: str, satisfaction: str, comment: str, kind: str
) -> ServiceRequest:
    if solved not in ServiceRequest.Solved.values:
        raise ValidationError({"solved": _("请选择是否解决。")})
    if satisfaction not in ServiceRequest.Satisfaction.values:
        raise ValidationError({"satisfaction": _("请选择是否满意。")})
    if len(comment or "") > _max_length("rating_comment"):
        raise ValidationError({"comment": _("评价意见不能超过 500 个字。")})
    now = timezone.now()
    previous = request.status
    request.solved = solved
    request.satisfaction = satisfaction
    request.rating_comment = comment or ""
    request.rated_at = now
    reopen = solved == ServiceRequest.Solved.UNSOLVED or satisfaction == ServiceRequest.Satisfaction.UNSATISFIED
    solved_label, satisfaction_label = (
        ServiceRequest.Solved(solved).label,
        ServiceRequest.Satisfaction(satisfaction).label,
    )
    if reopen:
        # 重办: back to in_progress with a fresh resolve limit.
        request.status = Status.IN_PROGRESS
        request.reopen_count = F("reopen_count") + 1
        request.resolved_at = None
        request.resolve_due_at = calendar.resolve_deadline(request.category, now)
        schedule_resolve(request, now)  # a new cycle of the resolve clock
    else:
        request.status = Status.CLOSED
        request.closed_at = now
    request.save()
    request.refresh_from_db(fields=["reopen_count"])
    clocks_sync(request)
    rating = stored(
        gettext_lazy("%(solved)s · %(satisfaction)s。%(comment)s")
        if comment
        else gettext_lazy("%(solved)s · %(satisfaction)s。"),
        solved=solved_label,
        satisfaction=satisfaction_label,
        comment=(comment or "").rstrip("。") + "。" if comment else "",
    )
    _event(request, kind, by, message=rating, from_status=previous)
    if reopen:
        event_reopen = _event(
            request,
            Event.REOPENED,
            None,
            message=stored(gettext_lazy("居民不满意或未解决，诉求重办。")),
            from_status=previous,
        )
        targets = [request.assigned_to] if request.assigned_to_id else list(community_staff(request.community_id))
        for user in targets:
            _tell(
                user,
                request,
                event_reopen,
                stored(
                    gettext_lazy("诉求 %(number)s 重办：%(solved)s · %(satisfaction)s"),
                    number=request.number,
                    solved=solved_label,
                    satisfaction=satisfaction_label,
                ),
                comment,
            )
    return request


def request_rate(
    *, request: ServiceRequest, by: User, solved: str, satisfaction: str, comment: str = ""
) -> ServiceRequest:
    """The resident rates the answer (回访); unsolved or unsatisfied reopens the request (重办)."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.RATE, by)
        return _apply_rating(request, by, solved, satisfaction, comment, Event.RATED)


def request_follow_up(
    *, request: ServiceRequest, by: User, solved: str, satisfaction: str, comment: str = ""
) -> ServiceRequest:
    """Staff record a phone follow-up (电话回访) with the resident's answers."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.FOLLOW_UP, by)
        return _apply_rating(request, by, solved, satisfaction, comment, Event.FOLLOWED_UP)


# --- the resident's follow-up and 我也遇到 (steps of workflow.STEPS too) ---------------------------
def _handlers(request: ServiceRequest) -> list[User]:
    """Who handles the request now: its assignee, else the community's staff."""
    if request.assigned_to_id is not None and request.assigned_to is not None:
        return [request.assigned_to]
    return list(community_staff(request.community_id))


def request_urge(*, request: ServiceRequest, by: User) -> ServiceRequest:
    """催办: the resident presses an open request that is past its deadline or has seen no
    progress for 3 working days (``follow_up.py``), at most once a working day. The handler
    and the community secretary are told; it is counted (``kpis``: ``urged``)."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.URGE, by)
        request.urged_at = timezone.now()
        request.urge_count = F("urge_count") + 1
        request.save(update_fields=["urged_at", "urge_count", "updated_at"])
        request.refresh_from_db(fields=["urge_count"])
        event = _event(
            request,
            Event.URGED,
            by,
            message=stored(gettext_lazy("居民第 %(count)s 次催办。"), count=request.urge_count),
        )
        title = stored(gettext_lazy("居民催办诉求 %(number)s，请尽快办理。"), number=request.number)
        told = set()
        for user in [*_handlers(request), *community_secretaries(request.community_id)]:
            if user.pk not in told:
                told.add(user.pk)
                _tell(user, request, event, title)
    return request


def request_supervise(*, request: ServiceRequest, by: User, note: str, due_at: datetime) -> ServiceRequest:
    """督办: a street or district official urges the community on an overdue request, on the record,
    with a note and the date it must now be resolved by (``supervise_due_at``: the 督办后按期办结率
    counts against it; the request's own deadline, and so its overdue record, stays). A step of the
    timeline (internal); the community secretaries and the handler are told; counted (``kpis``:
    ``supervised``, ``supervised_resolved``, ``supervised_on_time``)."""
    if not (note or "").strip():
        raise ValidationError({"note": _("请填写督办意见。")})
    if len(note) > 500:
        raise ValidationError({"note": _("督办意见不能超过 500 个字。")})
    now = timezone.now()
    if due_at <= now:
        raise ValidationError({"due_at": _("督办期限必须晚于现在。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.SUPERVISE, by)
        request.supervised_at = now
        request.supervise_due_at = due_at
        request.supervise_count = F("supervise_count") + 1
        request.save(update_fields=["supervised_at", "supervise_due_at", "supervise_count", "updated_at"])
        request.refresh_from_db(fields=["supervise_count"])
        due_text = timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")
        message = _("第 %(count)s 次督办，限 %(due)s 前办结。%(note)s") % {
            "count": request.supervise_count,
            "due": due_text,
            "note": note.strip(),
        }
        event = _event(request, Event.SUPERVISED, by, message=message, public=False)
        title = _("诉求 %(number)s 被督办，请于 %(due)s 前办结。") % {"number": request.number, "due": due_text}
        told = set()
        for user in [*community_secretaries(request.community_id), *_handlers(request)]:
            if user.pk not in told:
                told.add(user.pk)
                _tell(user, request, event, title, note.strip())
    return request


def request_supplement(
    *, request: ServiceRequest, by: User, message: str, photos: Sequence[Any] = ()
) -> ServiceRequest:
    """补充说明: the resident adds text (and photos) to an open request; in the timeline, and
    the handler is told."""
    if not (message or "").strip():
        raise ValidationError({"message": _("请填写补充说明。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.SUPPLEMENT, by)
        checked = check_images(photos, existing=request.attachments.count())
        request.save(update_fields=["updated_at"])
        event = _event(request, Event.SUPPLEMENTED, by, message=message)
        _attach(request, event, checked, by)
        staging.consume(photos)  # photos kept across a form error: attached now
        for user in _handlers(request):
            _tell(
                user,
                request,
                event,
                stored(gettext_lazy("居民补充了诉求 %(number)s 的说明。"), number=request.number),
                message,
            )
    return request


def request_withdraw(*, request: ServiceRequest, by: User, reason: str) -> ServiceRequest:
    """撤回: the resident withdraws a request the community has not accepted yet, with a reason;
    it is closed (its clocks stop) and the community's staff are told."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写撤回原因。")})
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.WITHDRAW, by)
        previous = request.status
        request.status = Status.CLOSED
        request.closed_at = timezone.now()
        request.save(update_fields=["status", "closed_at", "updated_at"])
        clocks_sync(request)
        event = _event(request, Event.WITHDRAWN, by, message=reason, from_status=previous)
        for user in community_staff(request.community_id):
            _tell(
                user, request, event, stored(gettext_lazy("居民撤回了诉求 %(number)s。"), number=request.number), reason
            )
        _tell_supporters(
            request, event, stored(gettext_lazy("您附议的诉求 %(number)s 已被提交人撤回。"), number=request.number)
        )
    return request


def request_support(*, request: ServiceRequest, by: User) -> ServiceRequest:
    """我也遇到 (附议): a resident of the request's compound joins an open request instead of
    filing the same one again. Counted on the request once per resident (joining twice changes
    nothing); they are told of its progress (``_tell_supporters``). One audit line."""
    with transaction.atomic():
        request = _lock(request)
        require_step(request, workflow.SUPPORT, by)
        _supporter, created = RequestSupporter.objects.get_or_create(request=request, user=by)
        if created:
            request.supporter_count = F("supporter_count") + 1
            request.save(update_fields=["supporter_count"])
            request.refresh_from_db(fields=["supporter_count"])
            audit(user=by, action=AuditEntry.Action.UPDATE, obj=request, detail={"step": workflow.SUPPORT.name})
    return request


def attachment_set_public(*, attachment: Attachment, by: User, public: bool) -> Attachment:
    """Staff of the request's community mark one of its photos public (shown on the compound
    board and in Open311) or not; 404 for whoever may not see it, 403 for who may not handle it."""
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().select_related("request").get(pk=attachment.pk)
        if not acts_as(Actor.STAFF, by, attachment.request):
            _refuse(by, attachment.request, workflow.STAFF_ONLY)
        if attachment.public != public:
            attachment.public = public
            attachment.save(update_fields=["public", "updated_at"])
            audit(
                user=by,
                action=AuditEntry.Action.UPDATE,
                obj=attachment.request,
                changes={"photo_public": [not public, public]},
                detail={"photo": attachment.pk},
            )
    return attachment
