"""Who works where: one meaning each for "staff of community X", "secretary of X" and
"street staff of street Y", read by every app that tells, lists or checks these people.

A :class:`~accounts.models.Role` gives a user a kind of work at a street or a community; only
active users count (an account that was switched off is nobody's staff).

* **Community staff of X** (:func:`community_staff`): a staff (社区工作者/网格员) or secretary
  (社区书记) role at community X. The community's own workers: they are told about its
  requests, given them, and remind about its visits.
* **Secretaries of X** (:func:`community_secretaries`, :func:`is_secretary_of`): a secretary
  role at community X. They decide deadline extensions and hear escalations first.
* **Street staff of Y** (:func:`street_staff`): a staff role at street Y (not a community).
  Their scope is the whole street (``User.get_scope``): they reroute returned requests.
* **The street, for an escalation** (:func:`street_escalation_roles`): street staff and street
  officials (街道领导) of Y; an overdue request goes "first to the community secretary, then to
  the street".
* **Who works in X** (:func:`community_workers`): community staff of X and street staff of its
  street: everyone whose change scope covers X (ARCHITECTURE: "everything inside their
  community (or street, for street staff)"), e.g. who may organise X's meetings.

Who reads which part of the audit trail (:func:`audit_readable`, :func:`audit_entries_for`)
lives here too: it is the same question, asked of roles.

Each comes as users (a ``User`` queryset without duplicates, composable and countable) and,
for the scans that look up many places at once, as ``Role`` rows (``*_roles``: ``user_id``
with ``community_id`` or ``street_id``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from baohe.models import AuditEntry

from .models import Role, User

if TYPE_CHECKING:
    from communities.models import Community

Kind = Role.Kind
COMMUNITY_STAFF_KINDS = (Kind.STAFF, Kind.SECRETARY)


def _id(place: Model | int) -> int:
    return place if isinstance(place, int) else place.pk


def _active(roles: QuerySet[Role]) -> QuerySet[Role]:
    return roles.filter(user__is_active=True)


def _users(roles: QuerySet[Role]) -> QuerySet[User]:
    return User.objects.filter(is_active=True, pk__in=roles.values("user_id")).order_by("pk")


# --- role rows (for many places at once) -----------------------------------------------------------
def community_staff_roles(community_ids: Iterable[int]) -> QuerySet[Role]:
    """Staff and secretary roles at these communities, of active users."""
    return _active(Role.objects.filter(kind__in=COMMUNITY_STAFF_KINDS, community_id__in=list(community_ids)))


def secretary_roles(community_ids: Iterable[int]) -> QuerySet[Role]:
    """Secretary roles at these communities, of active users."""
    return _active(Role.objects.filter(kind=Kind.SECRETARY, community_id__in=list(community_ids)))


def street_staff_roles(street_ids: Iterable[int]) -> QuerySet[Role]:
    """Staff roles at these streets (street-level staff, not a community's), of active users."""
    return _active(Role.objects.filter(kind=Kind.STAFF, street_id__in=list(street_ids)))


def street_escalation_roles(street_ids: Iterable[int]) -> QuerySet[Role]:
    """The street an escalation reaches: its staff and its officials, of active users."""
    return _active(Role.objects.filter(kind__in=(Kind.STAFF, Kind.STREET_OFFICIAL), street_id__in=list(street_ids)))


# --- users of one place ------------------------------------------------------------------------------
def community_staff(community: Model | int) -> QuerySet[User]:
    """Community staff of ``community`` (its staff and its secretary): see the module docstring."""
    return _users(community_staff_roles([_id(community)]))


def community_secretaries(community: Model | int) -> QuerySet[User]:
    """The secretaries of ``community``."""
    return _users(secretary_roles([_id(community)]))


def street_staff(street: Model | int) -> QuerySet[User]:
    """Street staff of ``street`` (a staff role at the street itself)."""
    return _users(street_staff_roles([_id(street)]))


def worker_roles(*, community_id: int, street_id: int) -> QuerySet[Role]:
    """Who works in community ``community_id`` of street ``street_id``, as role rows."""
    return community_staff_roles([community_id]) | street_staff_roles([street_id])


def community_workers(community: Community) -> QuerySet[User]:
    """Who works in ``community``: its community staff and its street's staff."""
    return _users(worker_roles(community_id=community.pk, street_id=community.street_id))


def is_administrator(user: User) -> bool:
    """A superuser or a user with the administrator role."""
    return bool(user.is_superuser or Kind.ADMIN in user.role_kinds())


def secretary_communities(user: User) -> list[int]:
    """The ids of the communities ``user`` is secretary of (from the user's cached roles)."""
    return [role.community_id for role in user._roles() if role.kind == Kind.SECRETARY]


def is_secretary_of(user: User, community: Model | int) -> bool:
    """Whether ``user`` is a secretary of ``community``."""
    return secretary_roles([_id(community)]).filter(user_id=user.pk).exists()


# --- the audit trail (审计日志) ------------------------------------------------------------------
# Who reads which lines: a community secretary their communities' lines, a street official their
# streets' lines, district officials and administrators every line (also those placed nowhere:
# failed sign-ins of unknown names, district-wide accounts). Other staff and residents read none
# (the page and the API answer 403): a worker's own trail is their secretary's to read.
def audit_readable(user: User) -> bool:
    """Whether ``user`` reads any part of the audit trail (the page, its export, the API); the
    rule is ``User.reads_audit_trail``."""
    return bool(getattr(user, "is_authenticated", False) and user.reads_audit_trail)


def audit_entries_for(user: User) -> QuerySet[AuditEntry]:
    """The audit lines ``user`` may read (none for whoever :func:`audit_readable` refuses)."""
    entries = AuditEntry.objects.all()
    if not audit_readable(user):
        return entries.none()
    if user.is_superuser or user.role_kinds() & {Kind.ADMIN, Kind.DISTRICT_OFFICIAL}:
        return entries
    communities = sorted({role.community_id for role in user._roles() if role.kind == Kind.SECRETARY})
    streets = sorted({role.street_id for role in user._roles() if role.kind == Kind.STREET_OFFICIAL})
    q = Q(pk__in=[])
    if communities:
        q |= Q(community_id__in=communities)
    if streets:
        q |= Q(street_id__in=streets)
    return entries.filter(q)


def audit_entries_filter(
    entries: QuerySet[AuditEntry],
    *,
    person: str = "",
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEntry]:
    """``entries`` narrowed by the 审计日志 filters (the page, its export and the API read them
    through their own form or serializer, then call this): ``person`` is a login name (as shown,
    masked for failed sign-ins) or a user's name; the record is its type (``app.model``) and id;
    dates are whole days in the portal's time zone, both ends included."""
    if person:
        entries = entries.filter(Q(username__iexact=person) | Q(user__name=person))
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if action:
        entries = entries.filter(action=action)
    zone = timezone.get_current_timezone()
    if date_from is not None:
        entries = entries.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=zone))
    if date_to is not None:
        entries = entries.filter(created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone))
    return entries.order_by("-created_at", "-pk")


def place_of(user: User | None) -> tuple[int | None, int | None]:
    """``(street_id, community_id)`` an account's lines are placed under: its first community
    role (with that community's street), else its first street role; ``(None, None)`` for
    district-wide accounts (only district officials and administrators see those lines)."""
    if user is None:
        return None, None
    roles = user._roles()
    for role in roles:
        if role.community_id:
            return role.community.street_id, role.community_id
    for role in roles:
        if role.street_id:
            return role.street_id, None
    return None, None
