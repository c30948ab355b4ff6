"""django-filter FilterSets for the party organisation API.

Related rows are filtered by id with plain number filters, not django-filter's default
``ModelChoiceFilter``: that one answers 400 for an id that does not exist but 200 (empty)
for another community's, which would tell an outsider which ids exist.
"""

import django_filters
from django_filters import NumberFilter

from .models import (
    Attendance,
    Backbone,
    BackboneTarget,
    CentralHousehold,
    PartyBranch,
    PartyGroup,
    PartyMember,
    TrainingSession,
)


class ScopeFilterSet(django_filters.FilterSet):
    street = NumberFilter(field_name="street")
    community = NumberFilter(field_name="community")


class PartyBranchFilter(ScopeFilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    compound = NumberFilter(field_name="compounds")

    class Meta:
        model = PartyBranch
        fields = ("kind",)


class PartyGroupFilter(ScopeFilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    branch = NumberFilter(field_name="branch")
    building = NumberFilter(field_name="buildings")

    class Meta:
        model = PartyGroup
        fields = ("kind",)


class PartyMemberFilter(ScopeFilterSet):
    name = django_filters.CharFilter(field_name="resident__name", lookup_expr="icontains")
    branch = NumberFilter(field_name="branch")
    group = NumberFilter(field_name="group")
    compound = NumberFilter(field_name="resident__household__compound")
    building = NumberFilter(field_name="resident__household__building")

    class Meta:
        model = PartyMember
        fields = ()


class CentralHouseholdFilter(ScopeFilterSet):
    member = NumberFilter(field_name="member")
    compound = NumberFilter(field_name="household__compound")
    building = NumberFilter(field_name="household__building")
    serves = NumberFilter(field_name="served_households")

    class Meta:
        model = CentralHousehold
        fields = ()


class BackboneFilter(ScopeFilterSet):
    class Meta:
        model = Backbone
        fields = ("kind", "year")


class BackboneTargetFilter(django_filters.FilterSet):
    street = NumberFilter(field_name="street")

    class Meta:
        model = BackboneTarget
        fields = ("year",)


class TrainingSessionFilter(ScopeFilterSet):
    course = NumberFilter(field_name="course")
    year = NumberFilter(field_name="starts_at__year")

    class Meta:
        model = TrainingSession
        fields = ()


class AttendanceFilter(ScopeFilterSet):
    session = NumberFilter(field_name="session")
    backbone = NumberFilter(field_name="backbone")

    class Meta:
        model = Attendance
        fields = ("attended",)
