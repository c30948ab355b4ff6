from django.contrib import admin

from baohe.admin import AuditedAdminMixin
from baohe.personal import PersonalNumbersModelForm, PersonalSearchMixin

from .forms import check_id_number
from .models import Building, Community, Compound, District, Household, Resident, ResidentTransfer, Street


@admin.register(District)
class DistrictAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name",)


@admin.register(Street)
class StreetAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "code", "district")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Community)
class CommunityAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "street", "code")
    list_filter = ("street",)
    search_fields = ("name",)
    list_select_related = ("street",)


@admin.register(Compound)
class CompoundAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "community", "street", "grid", "property_company", "fee_collection_rate")
    list_filter = ("street", "kind")
    search_fields = ("name", "grid", "property_company")
    list_select_related = ("community", "street")
    autocomplete_fields = ("community",)


@admin.register(Building)
class BuildingAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "compound", "community", "units", "floors", "head")
    search_fields = ("number", "name", "compound__name")
    list_select_related = ("compound", "community", "head")
    autocomplete_fields = ("compound", "head")


@admin.register(Household)
class HouseholdAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "compound", "community", "lives_alone_elderly", "elderly", "disabled", "low_income")
    list_filter = ("lives_alone_elderly", "elderly", "disabled", "low_income", "street")
    readonly_fields = ("archived_at",)
    search_fields = ("room", "building__compound__name")
    list_select_related = ("building", "compound", "community")
    autocomplete_fields = ("building",)


class ResidentAdminForm(PersonalNumbersModelForm):
    """The admin's resident form answers a duplicate ID number like the registry's (the one
    check, ``services.resident_id_number_check``, as the signed-in administrator)."""

    request = None  # set on the class ``get_form`` builds for each request

    def clean(self):
        cleaned = super().clean()
        if "id_number" in cleaned:
            cleaned["id_number"] = (cleaned["id_number"] or "").strip().upper()
        check_id_number(self, self.request.user, self.instance, cleaned, self.request)
        return cleaned


@admin.register(Resident)
class ResidentAdmin(AuditedAdminMixin, PersonalSearchMixin, admin.ModelAdmin):
    """Numbers masked in the list, never shown in the form (empty keeps them), searched whole only."""

    form = ResidentAdminForm

    list_display = ("name", "household", "community", "masked_mobile", "gender", "birth_year", "relation", "status")
    list_filter = ("status", "gender", "relation", "street")
    readonly_fields = ("status", "left_on", "anonymised_at")
    search_fields = ("name",)  # and a whole mobile or ID number (personal_search)
    list_select_related = ("household__building", "community")
    autocomplete_fields = ("household", "user")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request  # a fresh class per call (modelform_factory)
        return form

    def personal_search(self, queryset, term):
        return queryset.with_mobile(term) | queryset.with_id_number(term)


@admin.register(ResidentTransfer)
class ResidentTransferAdmin(admin.ModelAdmin):
    """Read-only: a 迁入 request changes state only through its services (the pages and API)."""

    list_display = ("__str__", "status", "source_community", "community", "requested_by", "created_at", "decided_at")
    list_filter = ("status",)
    list_select_related = ("source_community", "community", "requested_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
