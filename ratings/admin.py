"""四美一好 in the admin: the district's criteria and weights are set here; rounds and ratings are
read-only (they change only through ``ratings.services``)."""

from django.contrib import admin

from baohe.admin import AuditedAdminMixin

from .models import BuildingRating, Criterion, RatingRound


@admin.register(Criterion)
class CriterionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The district's criteria: a change applies to scores recorded from then on (each score keeps
    the weight it counted with)."""

    list_display = ("name", "code", "weight", "order", "active")
    list_editable = ("weight", "order", "active")
    ordering = ("order", "id")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RatingRound)
class RatingRoundAdmin(ReadOnlyAdmin):
    list_display = ("community", "year", "quarter", "status", "pass_score", "approved_at")
    list_filter = ("status", "year", "quarter")
    list_select_related = ("community",)


@admin.register(BuildingRating)
class BuildingRatingAdmin(ReadOnlyAdmin):
    list_display = ("building", "round", "score", "passed")
    list_filter = ("passed",)
    list_select_related = ("building__compound", "round__community")
