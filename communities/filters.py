"""django-filter FilterSets for the registry API."""

import django_filters

from .models import Building, Community, Compound, Household, Resident, Street


class StreetFilter(django_filters.FilterSet):
    class Meta:
        model = Street
        fields = ("district", "kind")


class CommunityFilter(django_filters.FilterSet):
    class Meta:
        model = Community
        fields = ("street",)


class CompoundFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Compound
        fields = ("street", "community", "kind", "grid")


class BuildingFilter(django_filters.FilterSet):
    class Meta:
        model = Building
        fields = ("street", "community", "compound", "number")


class HouseholdFilter(django_filters.FilterSet):
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


class ResidentFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    compound = django_filters.NumberFilter(field_name="household__compound")
    building = django_filters.NumberFilter(field_name="household__building")

    class Meta:
        model = Resident
        fields = ("street", "community", "household", "gender", "relation")
