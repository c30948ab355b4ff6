"""The requests' part of 我的待办 (``baohe.todo``; registered in ``apps.py``).

- Staff (community or street): 待签收, newest first (the rows themselves, so a new request is
  the first thing they see), and 分派给我, nearest deadline first; requests under 督办.
- A community secretary, also what waits for their decision (section ``approvals``): extension
  requests (decided on the approvals list, :func:`approvals`) and requests returned (退单) that
  wait for the street to reroute them.
- Street and district officials (section ``oversight``): overdue requests in their scope (the
  dashboard's list behind "当前超时") and those under 督办, with how many of them are past the
  date the 督办 set.

Each group is one aggregate query; the rows shown are one query each (five rows).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.selectors import secretary_communities
from baohe.scoping import VIEW, may_change_anything
from baohe.todo import APPROVALS, OVERSIGHT, WORK, TodoItem, TodoRow

from . import selectors, workflow
from .filters import overdue_q
from .models import OPEN_STATUSES, ServiceRequest
from .services import requests_handled_by

Status = ServiceRequest.Status
ROWS = 5  # rows shown under an item


def _queue(**params: str) -> str:
    return f"{reverse('service_requests:queue')}?{urlencode(params)}"


def _rows(queryset: QuerySet[ServiceRequest], now: datetime) -> tuple[TodoRow, ...]:
    rows = []
    for request in queryset.select_related("category__parent", "compound")[:ROWS]:
        left = selectors.time_left(selectors.current_due_of(request), now)
        rows.append(
            TodoRow(
                text=f"{request.number} · {request.category} · {request.compound.name}",
                url=request.get_absolute_url(),
                note=left.text,
                state=left.state,
            )
        )
    return tuple(rows)


def supervised_q() -> Q:
    """Open requests under 督办 (a street or district official set them a date)."""
    return Q(status__in=OPEN_STATUSES, supervise_due_at__isnull=False)


def pending_extensions(user: User) -> QuerySet[ServiceRequest]:
    """The extension requests ``user`` decides: those of the communities they are secretary of
    (every one for a superuser), oldest first."""
    queryset = ServiceRequest.objects.filter(status__in=workflow.HANDLING, extension_until__isnull=False)
    if not user.is_superuser:
        queryset = queryset.filter(community_id__in=secretary_communities(user))
    return queryset.order_by("updated_at", "id")


def returned_requests(user: User) -> QuerySet[ServiceRequest]:
    """Returned requests (退单) of the secretary's communities, waiting for the street."""
    queryset = ServiceRequest.objects.filter(status=Status.RETURNED)
    if not user.is_superuser:
        queryset = queryset.filter(community_id__in=secretary_communities(user))
    return queryset.order_by("-updated_at", "-id")


def _staff_items(user: User, now: datetime) -> list[TodoItem]:
    base = requests_handled_by(user)
    secretary = user.is_superuser or bool(secretary_communities(user))
    aggregates = {
        "to_accept": Count("pk", filter=Q(status=Status.SUBMITTED)),
        "mine": Count("pk", filter=Q(status__in=OPEN_STATUSES, assigned_to=user.pk)),
        "mine_overdue": Count("pk", filter=Q(assigned_to=user.pk) & overdue_q(now)),
        "supervised": Count("pk", filter=supervised_q()),
    }
    if secretary:
        communities = Q() if user.is_superuser else Q(community_id__in=secretary_communities(user))
        aggregates["extensions"] = Count(
            "pk", filter=communities & Q(status__in=workflow.HANDLING, extension_until__isnull=False)
        )
        aggregates["returned"] = Count("pk", filter=communities & Q(status=Status.RETURNED))
    counts = base.aggregate(**aggregates)
    newest = selectors.with_current_due(base.filter(status=Status.SUBMITTED)).order_by("-created_at", "-id")
    mine = selectors.with_current_due(base.filter(status__in=OPEN_STATUSES, assigned_to=user.pk)).order_by(
        "current_due", "id"
    )
    items = [
        TodoItem(
            key="requests.to_accept",
            section=WORK,
            label=gettext_lazy("待签收"),
            count=counts["to_accept"],
            url=_queue(status=Status.SUBMITTED),
            order=10,
            rows=_rows(newest, now) if counts["to_accept"] else (),
        ),
        TodoItem(
            key="requests.mine",
            section=WORK,
            label=gettext_lazy("分派给我（按期限）"),
            count=counts["mine"],
            url=_queue(status="open", mine="1"),
            order=20,
            urgent=bool(counts["mine_overdue"]),
            rows=_rows(mine, now) if counts["mine"] else (),
        ),
        TodoItem(
            key="requests.supervised",
            section=WORK,
            label=gettext_lazy("被督办的诉求"),
            count=counts["supervised"],
            url=_queue(status="open", supervised="1"),
            order=25,
            urgent=bool(counts["supervised"]),
        ),
    ]
    if secretary:
        approvals = reverse("service_requests:approvals")
        items += [
            TodoItem(
                key="requests.extensions",
                section=APPROVALS,
                label=gettext_lazy("延期申请待审批"),
                count=counts["extensions"],
                url=approvals,
                order=10,
            ),
            TodoItem(
                key="requests.returned",
                section=APPROVALS,
                label=gettext_lazy("退单待街道改派"),
                count=counts["returned"],
                url=f"{approvals}#returned",
                order=20,
            ),
        ]
    return items


def _official_items(user: User, now: datetime) -> list[TodoItem]:
    counts = ServiceRequest.objects.restrict(user, VIEW).aggregate(
        overdue=Count("pk", filter=overdue_q(now)),
        supervised=Count("pk", filter=supervised_q()),
        supervised_late=Count("pk", filter=supervised_q() & Q(supervise_due_at__lt=now)),
    )
    streets = [role.street_id for role in user._roles() if role.kind == Role.Kind.STREET_OFFICIAL]
    district_wide = user.is_superuser or Role.Kind.DISTRICT_OFFICIAL in user.role_kinds()
    if district_wide or len(streets) != 1:
        overdue_url = reverse("dashboard:list", args=["overdue"])
    else:
        overdue_url = reverse("dashboard:list_at", args=["street", streets[0], "overdue"])
    return [
        TodoItem(
            key="requests.overdue",
            section=OVERSIGHT,
            label=gettext_lazy("辖区超时诉求（可督办）"),
            count=counts["overdue"],
            url=overdue_url,
            order=10,
            urgent=bool(counts["overdue"]),
        ),
        TodoItem(
            key="requests.supervising",
            section=OVERSIGHT,
            label=gettext_lazy("督办中的诉求"),
            count=counts["supervised"],
            url=_queue(status="open", supervised="1"),
            order=20,
        ),
        TodoItem(
            key="requests.supervised_late",
            section=OVERSIGHT,
            label=gettext_lazy("督办后仍逾期"),
            count=counts["supervised_late"],
            url=_queue(status="open", supervised="late"),
            order=30,
            urgent=bool(counts["supervised_late"]),
        ),
    ]


def todo(user: User, now: datetime) -> list[TodoItem]:
    """The provider (``baohe.todo.register_todo``)."""
    if not user.is_portal_staff:
        return []
    items: list[TodoItem] = []
    if may_change_anything(user):
        items += _staff_items(user, now)
    if user.is_official:
        items += _official_items(user, now)
    return items
