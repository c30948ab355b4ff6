"""The audit trail in the Django admin, and the mixin that audits the admin's own writes.

:class:`AuditedAdminMixin` gives every registry ``ModelAdmin`` the same audit lines as the
portal's pages and API (``baohe.services.record_change``: create / update / delete, the changed
fields old → new, personal values masked). :class:`AuditEntryAdmin` shows the trail read-only:
nobody adds, changes or deletes a line here (the retention purge is the only delete).
"""

from django.contrib import admin
from django.db import transaction

from .models import AuditEntry
from .services import record_change


class AuditedAdminMixin:
    """Audit the admin's saves and deletes (the row before and after, in the save's transaction).
    A model with its own audit line (a role change) overrides ``audit_before``/``audit_write``."""

    def audit_before(self, obj):
        return type(obj)._default_manager.filter(pk=obj.pk).first()

    def audit_write(self, request, obj, *, before=None, deleted=False):
        record_change(user=request.user, instance=obj, before=before, deleted=deleted, request=request)

    def save_model(self, request, obj, form, change):
        before = self.audit_before(obj) if change and obj.pk is not None else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            self.audit_write(request, obj, before=before)

    def delete_model(self, request, obj):
        with transaction.atomic():
            self.audit_write(request, obj, deleted=True)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.audit_write(request, obj, deleted=True)
            super().delete_queryset(request, queryset)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "username", "action", "object_type", "object_id", "object_repr", "ip_address")
    list_filter = ("action", "object_type", "created_at")
    search_fields = ("object_repr", "object_id", "object_type", "username", "reason")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
