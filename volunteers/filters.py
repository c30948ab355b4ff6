"""django-filter FilterSets for the volunteer API (``baohe.query.FilterSet``, on partybuilding's
``ScopeFilterSet``: a value that does not parse answers 400 with field errors).

Related rows are filtered by id (``baohe.query.IdFilter``): django-filter's default
``ModelChoiceFilter`` answers 400 for an id that does not exist but 200 (empty) for another
community's, which would tell an outsider which ids exist (rule 1). Date-times are
``IsoDateTimeFilter`` (offset at most ±15:59, turned into UTC), dates ``DateFilter``.
"""

import django_filters

from baohe.query import DateFilter, IdFilter, IsoDateTimeFilter
from partybuilding.filters import ScopeFilterSet

from .models import Activity, PointsEntry, ServiceHours, ServiceProject, Signup, Volunteer, VolunteerTeam


class VolunteerFilter(ScopeFilterSet):
    name = django_filters.CharFilter(field_name="resident__name", lookup_expr="icontains")
    team = IdFilter(field_name="memberships__team", distinct=True)

    class Meta:
        model = Volunteer
        fields = ("is_active",)


class VolunteerTeamFilter(ScopeFilterSet):
    compound = IdFilter(field_name="compound")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = VolunteerTeam
        fields = ("is_active",)


class ServiceProjectFilter(ScopeFilterSet):
    class Meta:
        model = ServiceProject
        fields = ("kind", "is_active")


class ActivityFilter(ScopeFilterSet):
    project = IdFilter(field_name="project")
    team = IdFilter(field_name="team")
    compound = IdFilter(field_name="compound")
    starts_after = IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ("visibility",)


class SignupFilter(ScopeFilterSet):
    activity = IdFilter(field_name="activity")
    volunteer = IdFilter(field_name="volunteer")

    class Meta:
        model = Signup
        fields = ("status",)


class ServiceHoursFilter(ScopeFilterSet):
    volunteer = IdFilter(field_name="volunteer")
    project = IdFilter(field_name="project")
    activity = IdFilter(field_name="activity")
    team = IdFilter(field_name="team")
    household = IdFilter(field_name="households", distinct=True)
    served_after = DateFilter(field_name="served_on", lookup_expr="gte")
    served_before = DateFilter(field_name="served_on", lookup_expr="lte")

    class Meta:
        model = ServiceHours
        fields = ("status",)


class PointsEntryFilter(ScopeFilterSet):
    volunteer = IdFilter(field_name="volunteer")

    class Meta:
        model = PointsEntry
        fields = ()
