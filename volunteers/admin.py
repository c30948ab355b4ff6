"""Django admin for volunteer service. Approval from the admin goes through the same service
as the pages and the API (points are earned once)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from baohe.admin import AuditedAdminMixin
from baohe.exceptions import Conflict

from . import services
from .models import (
    Activity,
    PointsEntry,
    ServiceHours,
    ServiceProject,
    Signup,
    TeamMembership,
    Volunteer,
    VolunteerTeam,
)


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ("volunteer",)
    fields = ("volunteer", "joined_on")


@admin.register(Volunteer)
class VolunteerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("resident", "community", "skills", "joined_on", "is_active")
    list_filter = ("is_active", "street")
    search_fields = ("resident__name", "skills")
    list_select_related = ("resident", "community")
    autocomplete_fields = ("resident",)


@admin.register(VolunteerTeam)
class VolunteerTeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "community", "compound", "leader", "is_active")
    list_filter = ("is_active", "street")
    search_fields = ("name",)
    list_select_related = ("community", "compound", "leader__resident")
    autocomplete_fields = ("community", "compound", "leader")
    inlines = (MembershipInline,)


@admin.register(ServiceProject)
class ServiceProjectAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "community", "owner", "is_active")
    list_filter = ("kind", "is_active", "street")
    search_fields = ("name",)
    list_select_related = ("community", "owner")
    autocomplete_fields = ("community", "owner")


class ActivityAdminForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = (
            "project",
            "team",
            "compound",
            "title",
            "description",
            "place",
            "starts_at",
            "ends_at",
            "signup_deadline",
            "capacity",
            "visibility",
        )

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk and capacity is not None:
            confirmed = Signup.objects.filter(activity=self.instance, status=Signup.Status.CONFIRMED).count()
            if capacity < confirmed:
                raise forms.ValidationError(_("已有 %(count)s 人报名，名额不能少于 %(count)s。") % {"count": confirmed})
        return capacity


@admin.register(Activity)
class ActivityAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Saved through ``services.activity_save``: more places promote from the waitlist."""

    form = ActivityAdminForm
    list_display = ("title", "project", "team", "community", "starts_at", "capacity", "visibility")
    list_filter = ("visibility", "street")
    search_fields = ("title", "place")
    list_select_related = ("project", "team", "community")
    autocomplete_fields = ("project", "team", "compound")
    date_hierarchy = "starts_at"

    def save_model(self, request, obj, form, change):
        services.activity_save(instance=obj, by=request.user)


@admin.register(Signup)
class SignupAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Sign-ups are made and cancelled by the services (the waitlist depends on it): read only here."""

    list_display = ("activity", "volunteer", "status", "queued_at", "checked_in_at")
    list_filter = ("status",)
    search_fields = ("volunteer__resident__name", "activity__title")
    list_select_related = ("activity", "volunteer__resident")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ServiceHours)
class ServiceHoursAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("volunteer", "project", "team", "served_on", "hours", "status")
    list_filter = ("status", "street")
    search_fields = ("volunteer__resident__name", "note")
    list_select_related = ("volunteer__resident", "project", "team")
    autocomplete_fields = ("volunteer", "project", "activity", "team", "households")
    readonly_fields = ("status", "reviewed_by", "reviewed_at", "reject_reason", "signup")
    actions = ("approve",)

    def get_readonly_fields(self, request, obj=None):
        # Reviewed hours have earned (or been refused) their points: they no longer change.
        if obj is not None and obj.status != ServiceHours.Status.PENDING:
            return [f.name for f in self.model._meta.fields if f.editable] + list(self.readonly_fields)
        return self.readonly_fields

    @admin.action(description=_("审核通过所选服务时长（发放积分）"))
    def approve(self, request, queryset):
        try:
            result = services.hours_approve(hours_ids=list(queryset.values_list("pk", flat=True)), by=request.user)
        except Conflict as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return
        self.message_user(
            request,
            _("已审核通过 %(done)s 条，%(skipped)s 条此前已审核。")
            % {"done": len(result.done), "skipped": len(result.skipped)},
        )


@admin.register(PointsEntry)
class PointsEntryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The points ledger: entries for approved hours are written by the approval service."""

    list_display = ("volunteer", "points", "reason", "created_at")
    search_fields = ("volunteer__resident__name", "reason")
    list_select_related = ("volunteer__resident",)
    autocomplete_fields = ("volunteer",)
    readonly_fields = ("hours",)

    def has_change_permission(self, request, obj=None):
        return False
