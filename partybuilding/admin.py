from django.contrib import admin

from baohe.admin import AuditedAdminMixin

from .models import (
    Attendance,
    Backbone,
    BackboneTarget,
    CentralHousehold,
    Course,
    PartyBranch,
    PartyGroup,
    PartyMember,
    TrainingSession,
)


@admin.register(PartyBranch)
class PartyBranchAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "community", "street", "secretary")
    list_filter = ("kind", "street")
    search_fields = ("name",)
    list_select_related = ("community", "street", "secretary__resident")
    autocomplete_fields = ("community", "secretary", "compounds")


@admin.register(PartyGroup)
class PartyGroupAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "branch", "community", "leader")
    list_filter = ("kind", "street")
    search_fields = ("name", "branch__name")
    list_select_related = ("branch", "community", "leader__resident")
    autocomplete_fields = ("branch", "leader", "buildings")


@admin.register(PartyMember)
class PartyMemberAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("resident", "branch", "group", "joined_on")
    search_fields = ("resident__name",)
    list_select_related = ("resident", "branch", "group")
    autocomplete_fields = ("resident", "branch", "group")


@admin.register(CentralHousehold)
class CentralHouseholdAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("household", "member", "community", "rated_on")
    search_fields = ("member__resident__name",)
    list_select_related = ("household__building", "member__resident", "community")
    autocomplete_fields = ("household", "member", "served_households")


@admin.register(Backbone)
class BackboneAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("resident", "kind", "year", "street", "community")
    list_filter = ("kind", "year", "street")
    search_fields = ("resident__name",)
    list_select_related = ("resident", "street", "community")
    autocomplete_fields = ("resident",)


@admin.register(BackboneTarget)
class BackboneTargetAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("street", "year", "party_quota", "mass_quota")
    list_filter = ("year",)
    list_select_related = ("street",)


@admin.register(Course)
class CourseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "hours", "is_active")
    search_fields = ("name",)


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    autocomplete_fields = ("backbone",)
    fields = ("backbone", "attended")


@admin.register(TrainingSession)
class TrainingSessionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("course", "street", "community", "starts_at", "place", "teacher")
    list_filter = ("street",)
    search_fields = ("course__name", "place", "teacher")
    list_select_related = ("course", "street", "community")
    autocomplete_fields = ("course", "street", "community")
    date_hierarchy = "starts_at"
    inlines = (AttendanceInline,)
