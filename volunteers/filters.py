"""django-filter FilterSets for the volunteer API.

Related rows are filtered by id with plain number filters: django-filter's default
``ModelChoiceFilter`` answers 400 for an id that does not exist but 200 (empty) for another
community's, which would tell an outsider which ids exist (rule 1).
"""

import django_filters
from django_filters import NumberFilter

from .models import Activity, PointsEntry, ServiceHours, ServiceProject, Signup, Volunteer, VolunteerTeam


class ScopeFilterSet(django_filters.FilterSet):
    street = NumberFilter(field_name="street")
    community = NumberFilter(field_name="community")


class VolunteerFilter(ScopeFilterSet):
    name = django_filters.CharFilter(field_name="resident__name", lookup_expr="icontains")
    team = NumberFilter(field_name="memberships__team", distinct=True)

    class Meta:
        model = Volunteer
        fields = ("is_active",)


class VolunteerTeamFilter(ScopeFilterSet):
    compound = NumberFilter(field_name="compound")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = VolunteerTeam
        fields = ("is_active",)


class ServiceProjectFilter(ScopeFilterSet):
    class Meta:
        model = ServiceProject
        fields = ("kind", "is_active")


class ActivityFilter(ScopeFilterSet):
    project = NumberFilter(field_name="project")
    team = NumberFilter(field_name="team")
    compound = NumberFilter(field_name="compound")
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ("visibility",)


class SignupFilter(ScopeFilterSet):
    activity = NumberFilter(field_name="activity")
    volunteer = NumberFilter(field_name="volunteer")

    class Meta:
        model = Signup
        fields = ("status",)


class ServiceHoursFilter(ScopeFilterSet):
    volunteer = NumberFilter(field_name="volunteer")
    project = NumberFilter(field_name="project")
    activity = NumberFilter(field_name="activity")
    team = NumberFilter(field_name="team")
    household = NumberFilter(field_name="households", distinct=True)
    served_after = django_filters.DateFilter(field_name="served_on", lookup_expr="gte")
    served_before = django_filters.DateFilter(field_name="served_on", lookup_expr="lte")

    class Meta:
        model = ServiceHours
        fields = ("status",)


class PointsEntryFilter(ScopeFilterSet):
    volunteer = NumberFilter(field_name="volunteer")

    class Meta:
        model = PointsEntry
        fields = ()
