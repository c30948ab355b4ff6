"""Filters of the funds API lists (every parameter declared; bad values answer 400)."""

from baohe.query import FilterSet, IdFilter, YearFilter

from .models import Fund, LedgerEntry, Proposal


class FundFilter(FilterSet):
    community = IdFilter()
    year = YearFilter()

    class Meta:
        model = Fund
        fields = ("community", "year", "kind")


class ProposalFilter(FilterSet):
    community = IdFilter()
    fund = IdFilter()
    decision = IdFilter()
    year = YearFilter(field_name="fund__year")

    class Meta:
        model = Proposal
        fields = ("community", "fund", "decision", "year", "status", "purpose")


class LedgerEntryFilter(FilterSet):
    fund = IdFilter()
    proposal = IdFilter()

    class Meta:
        model = LedgerEntry
        fields = ("fund", "proposal", "kind", "account")
