from django.contrib import admin

from baohe.admin import AuditedAdminMixin

from .models import Notice, NoticeImage, Receipt


class NoticeImageInline(admin.TabularInline):
    model = NoticeImage
    extra = 0
    fields = ("file", "content_type", "size", "width", "height")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Corrections only (title, body, pinned, expiry): publishing, with its receipts and messages,
    is the portal's 发布通知 (``notices.services.notice_publish``)."""

    list_display = ("title", "community", "audience", "pinned", "requires_confirmation", "published_at")
    list_filter = ("audience", "pinned", "requires_confirmation")
    search_fields = ("title",)
    list_select_related = ("community",)
    readonly_fields = ("community", "audience", "compound", "building", "requires_confirmation", "households_total")
    fields = (
        "community",
        "audience",
        "compound",
        "building",
        "title",
        "body",
        "pinned",
        "expires_at",
        "requires_confirmation",
        "households_total",
    )
    inlines = (NoticeImageInline,)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(Receipt)
class ReceiptAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("notice", "household", "read_at", "confirmed_at", "relayed_at")
    list_select_related = ("notice", "household__building")
    raw_id_fields = ("notice", "household")
    readonly_fields = ("notice", "household", "read_at", "confirmed_at", "relayed_at", "relayed_by")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
