from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import PhoneCode, Role, User


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    autocomplete_fields = ("street", "community")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = (RoleInline,)
    list_display = ("username", "name", "mobile", "is_staff", "is_active", "last_login")
    search_fields = ("username", "name", "mobile")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("name", "mobile", "email")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "street", "community")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__name")
    autocomplete_fields = ("user", "street", "community")
    list_select_related = ("user", "street", "community")


@admin.register(PhoneCode)
class PhoneCodeAdmin(admin.ModelAdmin):
    list_display = ("mobile", "purpose", "created_at", "expires_at", "used_at", "attempts")
    readonly_fields = ("code_hash",)
