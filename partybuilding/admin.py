from django.contrib import admin

from .models import Backbone, CentralHousehold, PartyBranch, PartyGroup, PartyMember


@admin.register(PartyBranch)
class PartyBranchAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "community", "street", "secretary")
    list_filter = ("kind", "street")
    search_fields = ("name",)
    list_select_related = ("community", "street", "secretary__resident")
    autocomplete_fields = ("community", "secretary", "compounds")


@admin.register(PartyGroup)
class PartyGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "branch", "community", "leader")
    list_filter = ("kind", "street")
    search_fields = ("name", "branch__name")
    list_select_related = ("branch", "community", "leader__resident")
    autocomplete_fields = ("branch", "leader", "buildings")


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin):
    list_display = ("resident", "branch", "group", "joined_on")
    search_fields = ("resident__name",)
    list_select_related = ("resident", "branch", "group")
    autocomplete_fields = ("resident", "branch", "group")


@admin.register(CentralHousehold)
class CentralHouseholdAdmin(admin.ModelAdmin):
    list_display = ("household", "member", "community", "rated_on")
    search_fields = ("member__resident__name",)
    list_select_related = ("household__building", "member__resident", "community")
    autocomplete_fields = ("household", "member", "served_households")


@admin.register(Backbone)
class BackboneAdmin(admin.ModelAdmin):
    list_display = ("resident", "kind", "year", "street", "community")
    list_filter = ("kind", "year", "street")
    search_fields = ("resident__name",)
    list_select_related = ("resident", "street", "community")
    autocomplete_fields = ("resident",)
