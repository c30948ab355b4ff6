"""django-filter FilterSets for the party organisation API (``baohe.query.FilterSet``: a value
that does not parse answers 400 with field errors).

Related rows are filtered by id (``baohe.query.IdFilter``: ASCII digits, 1 … 2⁶³−1), not with
django-filter's default ``ModelChoiceFilter``: that one answers 400 for an id that does not
exist but 200 (empty) for another community's, which would tell an outsider which ids exist.
Years are ``YearFilter`` (2000 … 2100). ``ScopeFilterSet`` is shared with the volunteer API.
"""

import django_filters
from drf_spectacular.utils import extend_schema_field

from baohe.query import YEAR_MAX, YEAR_MIN, FilterSet, IdFilter, YearFilter

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


class ScopeFilterSet(FilterSet):
    street = IdFilter(field_name="street")
    community = IdFilter(field_name="community")


class PartyBranchFilter(ScopeFilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    compound = IdFilter(field_name="compounds")

    class Meta:
        model = PartyBranch
        fields = ("kind",)


class PartyGroupFilter(ScopeFilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    branch = IdFilter(field_name="branch")
    building = IdFilter(field_name="buildings")

    class Meta:
        model = PartyGroup
        fields = ("kind",)


class PartyMemberFilter(ScopeFilterSet):
    name = django_filters.CharFilter(field_name="resident__name", lookup_expr="icontains")
    branch = IdFilter(field_name="branch")
    group = IdFilter(field_name="group")
    compound = IdFilter(field_name="resident__household__compound")
    building = IdFilter(field_name="resident__household__building")

    class Meta:
        model = PartyMember
        fields = ()


class CentralHouseholdFilter(ScopeFilterSet):
    member = IdFilter(field_name="member")
    compound = IdFilter(field_name="household__compound")
    building = IdFilter(field_name="household__building")
    serves = IdFilter(field_name="served_households")

    class Meta:
        model = CentralHousehold
        fields = ()


class BackboneFilter(ScopeFilterSet):
    year = YearFilter()

    class Meta:
        model = Backbone
        fields = ("kind",)


class BackboneTargetFilter(FilterSet):
    street = IdFilter(field_name="street")
    year = YearFilter()

    class Meta:
        model = BackboneTarget
        fields = ()


class TrainingSessionFilter(ScopeFilterSet):
    course = IdFilter(field_name="course")
    # The schema generator cannot follow ``starts_at__year`` to a model field: say what it is.
    year = extend_schema_field({"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX})(
        YearFilter(field_name="starts_at__year")
    )

    class Meta:
        model = TrainingSession
        fields = ()


class AttendanceFilter(ScopeFilterSet):
    session = IdFilter(field_name="session")
    backbone = IdFilter(field_name="backbone")

    class Meta:
        model = Attendance
        fields = ("attended",)
