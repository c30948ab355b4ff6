from django.contrib import admin

from .models import Delivery, Notification, Preference


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = ("channel", "status", "attempts", "next_attempt_at", "last_error", "sent_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "recipient", "masked_mobile", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "dedupe_key", "recipient__username")
    list_select_related = ("recipient",)
    # A number without an account is shown masked, never in a form field (ARCHITECTURE rule 5).
    exclude = ("mobile",)
    readonly_fields = ("masked_mobile",)
    inlines = (DeliveryInline,)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("channel", "status")
    list_select_related = ("notification",)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email", "sms", "daily_digest")
