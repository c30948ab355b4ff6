"""django-filter FilterSets for the visit API (``baohe.query.FilterSet``: a bad value is 400).
Ids are plain id filters, so another community's id answers the same empty list as a missing
one (rule 1); date-times are checked (offset at most ±15:59, a sane window) before they reach
the database."""

import django_filters
from django.utils import timezone

from baohe.query import DateFilter, FilterSet, FlagFilter, IdFilter, IsoDateTimeFilter

from .models import Purpose, Visit, VisitPlan


def ids(field_name):
    return IdFilter(field_name=field_name)


class VisitPlanFilter(FilterSet):
    community = ids("community")
    compound = ids("compound")
    household = ids("household")
    rule = django_filters.ChoiceFilter(choices=VisitPlan.Rule.choices)
    active = FlagFilter()
    overdue = FlagFilter(method="filter_overdue", label="逾期未走访")
    mine = FlagFilter(method="filter_mine", label="我负责走访的")
    due_before = DateFilter(field_name="next_due_on", lookup_expr="lte")

    class Meta:
        model = VisitPlan
        fields = ("community", "compound", "household", "rule", "active")

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        if value:
            return queryset.filter(active=True, next_due_on__lt=today)
        return queryset.exclude(active=True, next_due_on__lt=today)

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(visitor_user=user) if value else queryset.exclude(visitor_user=user)


class VisitFilter(FilterSet):
    community = ids("community")
    compound = ids("compound")
    household = ids("household")
    plan = ids("plan")
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices)
    visited_after = IsoDateTimeFilter(field_name="visited_at", lookup_expr="gte")
    visited_before = IsoDateTimeFilter(field_name="visited_at", lookup_expr="lt")
    has_request = FlagFilter(field_name="request", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Visit
        fields = ("community", "compound", "household", "plan", "purpose")
