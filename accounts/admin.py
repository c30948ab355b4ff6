"""Admin for users, roles, one-time codes and API tokens.

Changes of accounts and roles are written to the audit trail (``baohe.admin.AuditedAdminMixin``,
``accounts.audit.role_changed``). Disabling an account here ends its sessions and tokens; the "reset second factor" action is the
administrator's "lost my phone" path (audited, as on the portal's own reset page). The site
itself requires a verified second factor (accounts.admin_site).
"""

import re

import knox.admin  # noqa: F401 - registers knox's own token model, unregistered below
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken as KnoxAuthToken

from baohe.admin import AuditedAdminMixin
from baohe.masking import mask_username
from baohe.personal import PersonalNumbersFormMixin, PersonalSearchMixin, masked_display, mobile_like
from baohe.validators import validate_text

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


class UserAdminChangeForm(PersonalNumbersFormMixin, UserChangeForm):
    """The mobile number (and a resident's username, which is their mobile number) never shown:
    empty keeps it (``baohe.personal``)."""

    def personal_fields_of(self, instance):
        fields = super().personal_fields_of(instance)
        if mobile_like(instance.username):
            fields["username"] = "mobile"
        return fields


# Every text field refuses control characters (baohe.validators.validate_text), Django's own too.
for _field in UserAdminChangeForm.base_fields.values():
    if isinstance(_field, forms.CharField) and validate_text not in _field.validators:
        _field.validators.append(validate_text)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, PersonalSearchMixin, BaseUserAdmin):
    """Mobile numbers (and residents' usernames, which are mobile numbers) masked in the list and
    the form; a search finds a whole mobile number, never a part of one."""

    form = UserAdminChangeForm
    inlines = (RoleInline,)
    list_display = ("shown_username", "name", "masked_mobile", "is_staff", "is_active", "last_login")
    search_fields = ("name",)
    masked_mobile = masked_display("mobile", description=_("手机号"))

    @admin.display(description=_("用户名"), ordering="username")
    def shown_username(self, obj):
        return mask_username(obj.username) if mobile_like(obj.username) else obj.username

    def personal_search(self, queryset, term):
        return queryset.with_mobile(term) | queryset.filter(username=term)

    def get_search_results(self, request, queryset, search_term):
        # A staff username is found whole or in part; a resident's (a mobile number) only whole.
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = (search_term or "").strip()
        if term and not re.fullmatch(r"[0-9]+", term):
            results = results | queryset.filter(username__icontains=term)
        return results, duplicates

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
class RoleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "kind", "street", "community")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__name")
    autocomplete_fields = ("user", "street", "community")
    list_select_related = ("user", "street", "community")

    def audit_before(self, obj):
        return role_values(Role.objects.filter(pk=obj.pk).first())

    def audit_write(self, request, obj, *, before=None, deleted=False):
        role_changed(by=request.user, role=obj, before=before, deleted=deleted, request=request)


@admin.register(PhoneCode)
class PhoneCodeAdmin(admin.ModelAdmin):
    list_display = ("purpose", "created_at", "expires_at", "used_at", "attempts", "ip_address")
    readonly_fields = ("mobile_index", "code_hash")

    def has_add_permission(self, request):
        return False


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


# --- axes' records: the username typed (a resident's is their mobile number) shown masked ---------
def _masked_axes_admin(model, base):
    """``base`` (axes' own admin) with the username masked and no search by it (a part of a
    number would be an oracle). The list only: axes' own names for a record carry the username
    whole, so there is no record page and no action checkbox (locks are lifted at
    /accounts/lockouts/)."""

    username = admin.display(description=_("用户名"))(lambda _admin, obj: mask_username(obj.username))

    def swap(names):
        return type(names)("masked_username" if name == "username" else name for name in names)

    def has_view_permission(self, request, obj=None):
        return obj is None and base.has_view_permission(self, request)

    attrs = {
        "masked_username": username,
        "has_view_permission": has_view_permission,
        "has_change_permission": lambda self, request, obj=None: False,
        "has_delete_permission": lambda self, request, obj=None: False,
        "actions": None,
        "list_display_links": None,
        "list_display": swap(base.list_display),
        "search_fields": [name for name in base.search_fields if name != "username"],
        "readonly_fields": swap(base.readonly_fields),
        "fieldsets": tuple(
            (title, {**options, "fields": swap(options["fields"])}) for title, options in base.fieldsets
        ),
    }
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, type(f"Masked{base.__name__}", (base,), attrs))


for _model, _base in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    _masked_axes_admin(_model, _base)
