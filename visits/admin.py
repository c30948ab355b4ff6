"""Admin for visit rounds, plans and visits. Rounds save through ``visit_round_save`` (which
applies them to the plans); visits are recorded through the service only, so here they are
read-only; plans can be re-generated from the rules with an action."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from baohe.admin import AuditedAdminMixin

from . import services
from .models import Visit, VisitPlan, VisitRound


@admin.register(VisitRound)
class VisitRoundAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("community", "staff", "interval_days", "active")
    list_filter = ("active", "street")
    list_select_related = ("community", "staff")
    autocomplete_fields = ("community", "staff")

    def save_model(self, request, obj, form, change):
        services.visit_round_save(instance=obj, by=request.user)


@admin.register(VisitPlan)
class VisitPlanAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("household", "rule", "visitor_label", "next_due_on", "last_visited_on", "active", "community")
    list_filter = ("rule", "active", "street")
    search_fields = ("visitor_label", "household__room")
    list_select_related = ("household__building", "community")
    date_hierarchy = "next_due_on"
    raw_id_fields = ("household", "visitor_user")
    readonly_fields = ("last_visited_on", "reminded_for", "overdue_for", "escalated_for")
    actions = ("regenerate",)

    @admin.action(description=_("按规则重新生成所选计划所在社区的走访计划"))
    def regenerate(self, request, queryset):
        from communities.models import Community

        totals = {"created": 0, "updated": 0, "retired": 0}
        for community in Community.objects.filter(pk__in=queryset.values("community_id")):
            for key, value in services.visit_plans_generate(community=community).items():
                totals[key] += value
        self.message_user(
            request, _("新建 %(created)s 个，调整 %(updated)s 个，停用 %(retired)s 个。") % totals, messages.SUCCESS
        )


@admin.register(Visit)
class VisitAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("household", "visitor_label", "visited_at", "purpose", "on_time", "request", "community")
    list_filter = ("purpose", "on_time", "street")
    search_fields = ("visitor_label", "notes")
    list_select_related = ("household__building", "request", "community")
    date_hierarchy = "visited_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
