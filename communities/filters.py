"""django-filter FilterSets for the registry API (``baohe.query.FilterSet``: a bad value is 400)."""

import django_filters

from baohe.query import FilterSet, IdFilter

from .models import Building, Community, Compound, Household, Resident, ResidentTransfer, Street
from .selectors import transfers_in_direction


def ids(field_name):
    """A plain id filter. django-filter's default model-choice filter answers 400 for an id
    that does not exist but an empty 200 for another community's, telling an outsider which
    ids exist; an id filter answers the same empty list for both (rule 1)."""
    return IdFilter(field_name=field_name)


class StreetFilter(FilterSet):
    district = ids("district")

    class Meta:
        model = Street
        fields = ("district", "kind")


class CommunityFilter(FilterSet):
    street = ids("street")

    class Meta:
        model = Community
        fields = ("street",)


class CompoundFilter(FilterSet):
    street = ids("street")
    community = ids("community")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Compound
        fields = ("street", "community", "kind", "grid")


class BuildingFilter(FilterSet):
    street = ids("street")
    community = ids("community")
    compound = ids("compound")

    class Meta:
        model = Building
        fields = ("street", "community", "compound", "number")


class HouseholdFilter(FilterSet):
    street = ids("street")
    community = ids("community")
    compound = ids("compound")
    building = ids("building")

    class Meta:
        model = Household
        fields = (
            "street",
            "community",
            "compound",
            "building",
            "lives_alone_elderly",
            "elderly",
            "disabled",
            "low_income",
            "is_rented",
        )


class ResidentFilter(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    street = ids("street")
    community = ids("community")
    household = ids("household")
    compound = ids("household__compound")
    building = ids("household__building")

    class Meta:
        model = Resident
        fields = ("street", "community", "household", "gender", "relation")


class TransferFilter(FilterSet):
    """``direction``: ``incoming`` (asking a community the user sees) or ``outgoing`` (sent by one)."""

    direction = django_filters.ChoiceFilter(
        choices=(("incoming", "incoming"), ("outgoing", "outgoing")), method="filter_direction"
    )

    class Meta:
        model = ResidentTransfer
        fields = ("status", "direction")

    def filter_direction(self, queryset, name, value):
        return transfers_in_direction(queryset, user=self.request.user, direction=value)
