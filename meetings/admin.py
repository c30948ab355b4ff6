"""Admin for meetings. The workflow (minutes, attendance, completing action items, inspections)
goes through the services, so here meetings, decisions and inspections are read-only with
their invitees, decisions and action items shown inline; action items can be confirmed done
with an action that calls ``services.action_item_complete`` (which resolves the requests);
supervision teams are edited like registry rows (``supervision_team_save``)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from baohe.admin import AuditedAdminMixin
from baohe.exceptions import Conflict

from . import services
from .models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class InviteeInline(ReadOnlyInline):
    model = Invitee
    fields = ("name", "role", "resident", "attended")
    raw_id_fields = ("resident",)


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ("order", "text", "supervision_team")


class ReadOnlyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ("topic", "kind", "community", "compound", "scheduled_at", "status", "organiser")
    list_filter = ("status", "kind", "street")
    search_fields = ("topic", "place")
    list_select_related = ("community", "compound", "organiser")
    date_hierarchy = "scheduled_at"
    raw_id_fields = ("requests",)
    inlines = (InviteeInline, DecisionInline)


class ActionItemInline(ReadOnlyInline):
    model = ActionItem
    fields = ("task", "owner", "owner_label", "due_on", "done_at")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "meeting", "order", "supervision_team", "community")
    list_select_related = ("meeting", "supervision_team", "community")
    search_fields = ("text",)
    inlines = (ActionItemInline,)


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ("task", "responsible", "due_on", "done_at", "community")
    list_filter = ("street", ("done_at", admin.EmptyFieldListFilter))
    search_fields = ("task", "owner_label")
    list_select_related = ("owner", "community")
    date_hierarchy = "due_on"
    raw_id_fields = ("requests", "owner")
    actions = ("complete",)

    @admin.action(description=_("确认所选事项已完成（关联诉求的事项全部完成时自动办结）"))
    def complete(self, request, queryset):
        done = resolved = 0
        for item in queryset.filter(done_at=None).order_by("pk"):
            try:
                _item, requests = services.action_item_complete(item=item, by=request.user)
            except (Conflict, ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{item}: {error}", messages.WARNING)
                continue
            done += 1
            resolved += len(requests)
        self.message_user(
            request, _("已完成 %(done)s 个事项，办结 %(resolved)s 条诉求。") % {"done": done, "resolved": resolved}
        )


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ("team", "decision", "inspected_at", "ok", "inspector", "community")
    list_filter = ("ok", "street")
    list_select_related = ("team", "decision", "inspector", "community")
    date_hierarchy = "inspected_at"


@admin.register(SupervisionTeam)
class SupervisionTeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "community", "compound", "leader")
    list_filter = ("street",)
    search_fields = ("name",)
    list_select_related = ("community", "compound", "leader")
    raw_id_fields = ("community", "compound", "leader", "members")

    def save_model(self, request, obj, form, change):
        services.supervision_team_save(instance=obj, by=request.user)

    def save_related(self, request, form, formsets, change):
        members = form.cleaned_data.get("members")
        services.supervision_team_save(instance=form.instance, by=request.user, members=list(members or ()))
