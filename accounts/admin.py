"""Admin for users, roles, one-time codes and API tokens.

Changes of accounts and roles are written to the audit trail (``baohe.admin.AuditedAdminMixin``,
``accounts.audit.role_changed``). Disabling an account here ends its sessions and tokens; the "reset second factor" action is the
administrator's "lost my phone" path (audited, as on the portal's own reset page). The site
itself requires a verified second factor (accounts.admin_site).
"""

import knox.admin  # noqa: F401 - registers knox's own token model, unregistered below
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken as KnoxAuthToken

from baohe.admin import AuditedAdminMixin
from baohe.admin_search import NumberSearchMixin

from . import two_factor
from .audit import role_changed, role_values
from .models import ApiToken, PhoneCode, Role, User
from .tokens import user_sign_out_everywhere

# Tokens live in ApiToken (KNOX_TOKEN_MODEL); knox's default table stays empty.
if admin.site.is_registered(KnoxAuthToken):
    admin.site.unregister(KnoxAuthToken)


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    autocomplete_fields = ("street", "community")


@admin.register(User)
class UserAdmin(AuditedAdminMixin, NumberSearchMixin, BaseUserAdmin):
    inlines = (RoleInline,)
    list_display = ("username", "name", "mobile", "is_staff", "is_active", "last_login")
    search_fields = ("username", "name")  # and an exact mobile number, through its blind index
    number_search_fields = {"mobile_index": "mobile"}
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("name", "mobile", "email")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    actions = ("reset_second_factor",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_sign_out_everywhere(user=obj, by=request.user, request=request)
            self.message_user(request, _("账号已停用，其所有登录和 API 令牌已结束。"), messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        """Roles edited inline: one ROLE_CHANGE line per role added, changed or removed."""
        if formset.model is not Role:
            return super().save_formset(request, form, formset, change)
        before = {role.pk: role_values(role) for role in Role.objects.filter(user=form.instance)}
        super().save_formset(request, form, formset, change)
        for role in formset.new_objects:
            role_changed(by=request.user, role=role, request=request)
        for role, _fields in formset.changed_objects:
            role_changed(by=request.user, role=role, before=before.get(role.pk), request=request)
        for role in formset.deleted_objects:
            role_changed(by=request.user, role=role, deleted=True, request=request)

    @admin.action(description=_("重置双因素验证（丢失手机）"))
    def reset_second_factor(self, request, queryset):
        count = 0
        for user in queryset:
            two_factor.second_factor_reset(user=user, by=request.user, request=request)
            count += 1
        self.message_user(request, _("已重置 %(count)s 个账号的双因素验证。") % {"count": count}, messages.SUCCESS)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "street", "community")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__name")
    autocomplete_fields = ("user", "street", "community")
    list_select_related = ("user", "street", "community")

    def save_model(self, request, obj, form, change):
        before = role_values(Role.objects.filter(pk=obj.pk).first()) if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            role_changed(by=request.user, role=obj, before=before, request=request)

    def delete_model(self, request, obj):
        with transaction.atomic():
            role_changed(by=request.user, role=obj, deleted=True, request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for role in queryset.select_related("community"):
                role_changed(by=request.user, role=role, deleted=True, request=request)
            super().delete_queryset(request, queryset)


@admin.register(PhoneCode)
class PhoneCodeAdmin(admin.ModelAdmin):
    list_display = ("purpose", "created_at", "expires_at", "used_at", "attempts", "ip_address")
    readonly_fields = ("mobile_index", "code_hash")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by the API only; here they can be seen and revoked (deleted)."""

    list_display = ("name", "user", "created", "expiry", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "user__username", "user__name")
    fields = ("user", "name", "created", "expiry", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
