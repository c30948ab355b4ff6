"""Funds in the admin: read only. Money moves only through ``funds.services`` (the pages, the
API), where every step locks the fund and leaves its ledger line; the ledger is never edited."""

from django.contrib import admin

from .models import Fund, LedgerEntry, Proposal


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Fund)
class FundAdmin(ReadOnlyAdmin):
    list_display = ("year", "community", "name", "budget", "committed", "paid")
    list_filter = ("year", "kind")
    list_select_related = ("community",)


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("title", "community", "fund", "amount", "status", "created_at")
    list_filter = ("status", "purpose")
    list_select_related = ("community", "fund")
    search_fields = ("title",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "fund", "kind", "account", "amount", "proposal", "created_at")
    list_filter = ("kind", "account")
    list_select_related = ("fund", "proposal")
