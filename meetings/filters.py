"""django-filter FilterSets for the meeting API (``baohe.query.FilterSet``: a bad value is 400).
Ids are plain id filters, so another community's id answers the same empty list as a missing
one (rule 1); date-times are checked (offset at most ±15:59, a sane window) before they reach
the database."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from baohe.query import DateFilter, FilterSet, FlagFilter, IdFilter, IsoDateTimeFilter

from .models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam
from .selectors import minutes_missing_q


def ids(field_name):
    return IdFilter(field_name=field_name)


class MeetingFilter(FilterSet):
    community = ids("community")
    compound = ids("compound")
    status = django_filters.ChoiceFilter(choices=Meeting.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Meeting.Kind.choices)
    request = ids("requests")
    minutes_missing = FlagFilter(method="filter_minutes_missing", label="已召开、纪要未记录")
    scheduled_after = IsoDateTimeFilter(field_name="scheduled_at", lookup_expr="gte")
    scheduled_before = IsoDateTimeFilter(field_name="scheduled_at", lookup_expr="lt")

    class Meta:
        model = Meeting
        fields = ("community", "compound", "status", "kind")

    def filter_minutes_missing(self, queryset, name, value):
        return queryset.filter(minutes_missing_q()) if value else queryset.exclude(minutes_missing_q())


class InviteeFilter(FilterSet):
    meeting = ids("meeting")
    role = django_filters.ChoiceFilter(choices=Invitee.Role.choices)
    attended = FlagFilter()

    class Meta:
        model = Invitee
        fields = ("meeting", "role", "attended")


class DecisionFilter(FilterSet):
    meeting = ids("meeting")
    community = ids("community")
    supervision_team = ids("supervision_team")

    class Meta:
        model = Decision
        fields = ("meeting", "community", "supervision_team")


class ActionItemFilter(FilterSet):
    community = ids("community")
    meeting = ids("decision__meeting")
    decision = ids("decision")
    request = ids("requests")
    done = FlagFilter(field_name="done_at", lookup_expr="isnull", exclude=True)
    overdue = FlagFilter(method="filter_overdue", label="已逾期未完成")
    mine = FlagFilter(method="filter_mine", label="我负责的")
    due_before = DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = ActionItem
        fields = ("community", "decision")

    def filter_overdue(self, queryset, name, value):
        overdue = Q(done_at=None, due_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(owner=user) if value else queryset.exclude(owner=user)


class InspectionFilter(FilterSet):
    community = ids("community")
    meeting = ids("decision__meeting")
    decision = ids("decision")
    team = ids("team")
    ok = FlagFilter()

    class Meta:
        model = Inspection
        fields = ("community", "decision", "team", "ok")


class SupervisionTeamFilter(FilterSet):
    community = ids("community")
    compound = ids("compound")

    class Meta:
        model = SupervisionTeam
        fields = ("community", "compound")
