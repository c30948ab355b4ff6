from django.contrib import admin

from .models import ReportJob


@admin.register(ReportJob)
class ReportJobAdmin(admin.ModelAdmin):
    """Report jobs are made by the page and the worker; the admin only shows them."""

    list_display = ("month", "street", "requested_by", "status", "progress", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in ReportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
