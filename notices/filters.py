"""Filters of the notice API lists (every parameter declared; bad values answer 400)."""

from baohe.query import FilterSet, FlagFilter, IdFilter

from .models import Notice, Receipt


class NoticeFilter(FilterSet):
    community = IdFilter()
    compound = IdFilter()
    building = IdFilter()
    pinned = FlagFilter()
    requires_confirmation = FlagFilter()

    class Meta:
        model = Notice
        fields = ("community", "compound", "building", "audience", "pinned", "requires_confirmation")


class ReceiptFilter(FilterSet):
    notice = IdFilter()
    household = IdFilter()
    building = IdFilter()
    reached = FlagFilter(method="filter_reached")

    class Meta:
        model = Receipt
        fields = ("notice", "household", "building", "reached")

    def filter_reached(self, queryset, name, value):
        from .selectors import REACHED

        if value is None:
            return queryset
        return queryset.filter(REACHED) if value else queryset.exclude(REACHED)
