"""django-filter FilterSet, the search filter, and the shared query pieces for request lists
and counts.

The "current due" of a request is the deadline it is working against now: ``accept_due_at``
while it waits to be accepted (``submitted``), ``resolve_due_at`` otherwise. Lists are
ordered by it (nearest first) and ``overdue`` / ``due_today`` are defined on the same columns,
so a tab and its count always agree. Ids are read strictly (``baohe.query.IdFilter``): one that
does not parse is 400 with the field named.
"""

from datetime import datetime, time, timedelta

import django_filters
from django.db.models import Case, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.query import FilterSet, FlagFilter, IdFilter, TextFilter

from .models import OPEN_STATUSES, ServiceRequest

Status = ServiceRequest.Status


def current_due():
    """``accept_due_at`` for a submitted request, ``resolve_due_at`` for every other status."""
    return Case(When(status=Status.SUBMITTED, then=F("accept_due_at")), default=F("resolve_due_at"))


def with_current_due(queryset):
    return queryset.annotate(current_due=current_due())


def today_bounds(now=None):
    """The start of today and of tomorrow in local time (Asia/Shanghai), as aware datetimes."""
    today = timezone.localdate(now or timezone.now())
    start = timezone.make_aware(datetime.combine(today, time.min))
    return start, timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))


def open_q():
    return Q(status__in=OPEN_STATUSES)


def overdue_q(now=None):
    """Open and past its current deadline (accept for submitted, resolve for accepted/in progress)."""
    now = now or timezone.now()
    return Q(status=Status.SUBMITTED, accept_due_at__lt=now) | Q(
        status__in=(Status.ACCEPTED, Status.IN_PROGRESS), resolve_due_at__lt=now
    )


def due_today_q(now=None):
    """Open and due to be resolved today (local date)."""
    start, end = today_bounds(now)
    return open_q() & Q(resolve_due_at__gte=start, resolve_due_at__lt=end)


def assigned_to_me_q(user):
    """Open requests assigned to ``user``: their to-do list, not their history."""
    return open_q() & Q(assigned_to=user.pk)


class ServiceRequestFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text=_("状态，可多选"))
    category = IdFilter(method="filter_category", help_text=_("分类 id；一级分类包含其下的二级分类"))
    compound = IdFilter(field_name="compound")
    building = IdFilter(field_name="building")
    assigned_to_me = FlagFilter(method="filter_assigned_to_me", help_text=_("分派给我且未办结"))
    due_today = FlagFilter(method="filter_due_today", help_text=_("今天到办结期限且未办结"))
    overdue = FlagFilter(method="filter_overdue", help_text=_("已超过当前期限且未办结"))
    q = TextFilter(
        method="filter_q",
        help_text=_("搜索：编号、内容、地址、分类、小区、楼栋（如 5栋 漏水），多个词须全部符合"),
    )

    class Meta:
        model = ServiceRequest
        fields = ("status", "category", "compound", "building", "assigned_to_me", "due_today", "overdue", "q")

    def filter_q(self, queryset, name, value):
        from .search import search_requests

        return search_requests(queryset, value, self.request.user) if value else queryset

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category=value) | Q(category__parent=value))

    def _flag(self, queryset, q, value):
        if value is None:
            return queryset
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_assigned_to_me(self, queryset, name, value):
        return self._flag(queryset, assigned_to_me_q(self.request.user), value)

    def filter_due_today(self, queryset, name, value):
        return self._flag(queryset, due_today_q(), value)

    def filter_overdue(self, queryset, name, value):
        return self._flag(queryset, overdue_q(), value)
