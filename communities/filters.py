"""django-filter FilterSets for the registry API (``baohe.query.FilterSet``: a bad value is 400)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from baohe.query import DateFilter, FilterSet, FlagFilter, IdFilter

from .models import Building, Community, Compound, CompoundFeeRate, Household, Resident, ResidentTransfer, Street
from .selectors import transfers_in_direction


def ids(field_name):
    """A plain id filter. django-filter's default model-choice filter answers 400 for an id
    that does not exist but an empty 200 for another community's, telling an outsider which
    ids exist; an id filter answers the same empty list for both (rule 1)."""
    return IdFilter(field_name=field_name)


def listing(filterset):
    """The list endpoint (not a detail, a step or a write, which read the same queryset)."""
    view = getattr(filterset.request, "parser_context", {}).get("view") if filterset.request else None
    return getattr(view, "action", None) == "list"


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

    archived = FlagFilter(method="filter_archived", label=_("已归档"))

    def filter_archived(self, queryset, name, value):
        return queryset.filter(archived_at__isnull=not value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("archived") is None and listing(self):
            queryset = queryset.filter(archived_at__isnull=True)  # the list leaves archived households out
        return queryset


class ResidentFilter(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    street = ids("street")
    community = ids("community")
    household = ids("household")
    compound = ids("household__compound")
    building = ids("household__building")
    status = django_filters.ChoiceFilter(
        choices=[*Resident.Status.choices, ("all", _("全部"))], method="filter_status", label=_("状态")
    )

    class Meta:
        model = Resident
        fields = ("street", "community", "household", "gender", "relation", "status")

    def filter_status(self, queryset, name, value):
        return queryset if value == "all" else queryset.filter(status=value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status") and listing(self):
            queryset = queryset.filter(status=Resident.Status.LIVING)  # the list shows 在住 by default
        return queryset


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


class FeeRateFilter(FilterSet):
    community = IdFilter()
    compound = IdFilter()
    month_from = DateFilter(field_name="month", lookup_expr="gte")
    month_to = DateFilter(field_name="month", lookup_expr="lte")

    class Meta:
        model = CompoundFeeRate
        fields = ("community", "compound", "month_from", "month_to")
