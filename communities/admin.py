from django.contrib import admin

from baohe.personal import PersonalNumbersModelForm, PersonalSearchMixin

from .models import Building, Community, Compound, District, Household, Resident, Street


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name",)


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "code", "district")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ("name", "street", "code")
    list_filter = ("street",)
    search_fields = ("name",)
    list_select_related = ("street",)


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "street", "grid", "property_company", "fee_collection_rate")
    list_filter = ("street", "kind")
    search_fields = ("name", "grid", "property_company")
    list_select_related = ("community", "street")
    autocomplete_fields = ("community",)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("__str__", "compound", "community", "units", "floors", "head")
    search_fields = ("number", "name", "compound__name")
    list_select_related = ("compound", "community", "head")
    autocomplete_fields = ("compound", "head")


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "compound", "community", "lives_alone_elderly", "elderly", "disabled", "low_income")
    list_filter = ("lives_alone_elderly", "elderly", "disabled", "low_income", "street")
    search_fields = ("room", "building__compound__name")
    list_select_related = ("building", "compound", "community")
    autocomplete_fields = ("building",)


@admin.register(Resident)
class ResidentAdmin(PersonalSearchMixin, admin.ModelAdmin):
    """Numbers masked in the list, never shown in the form (empty keeps them), searched whole only."""

    form = PersonalNumbersModelForm
    list_display = ("name", "household", "community", "masked_mobile", "gender", "birth_year", "relation")
    list_filter = ("gender", "relation", "street")
    search_fields = ("name",)
    list_select_related = ("household__building", "community")
    autocomplete_fields = ("household", "user")

    def personal_search(self, queryset, term):
        return queryset.with_mobile(term) | queryset.with_id_number(term)
