from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from baohe.admin import AuditedAdminMixin
from baohe.personal import masked_display

from .models import Attachment, CalendarDay, Category, Open311Key, RequestEvent, ServiceRequest


@admin.register(Category)
class CategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "code", "accept_within_hours", "resolve_within_days", "is_active", "order")
    list_filter = ("is_active", "parent")
    list_editable = ("accept_within_hours", "resolve_within_days", "is_active", "order")
    search_fields = ("name", "code")


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"


class EventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    fields = ("created_at", "kind", "actor", "public", "from_status", "to_status", "message")
    readonly_fields = fields
    can_delete = False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read-mostly: state changes go through the services (the request pages or the API)."""

    list_display = (
        "number",
        "category",
        "compound",
        "community",
        "status",
        "channel",
        "accept_due_at",
        "resolve_due_at",
    )
    list_filter = ("status", "channel", "category", "street")
    search_fields = ("number", "description")
    list_select_related = ("category", "compound", "community")
    # Every field read-only, the contact number masked (baohe.personal).
    readonly_fields = [
        "masked_contact_mobile" if f.name == "contact_mobile" else f.name for f in ServiceRequest._meta.fields
    ]
    exclude = ("contact_mobile",)
    masked_contact_mobile = masked_display("contact_mobile", description=_("联系电话"))
    inlines = (EventInline,)

    def has_add_permission(self, request):
        return False


@admin.register(Attachment)
class AttachmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("file", "request", "content_type", "size", "width", "height")
    list_select_related = ("request",)


@admin.register(Open311Key)
class Open311KeyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "prefix", "is_active", "user", "created_at")
    readonly_fields = ("key_hash", "prefix")
