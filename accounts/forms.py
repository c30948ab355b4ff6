"""Login, registration and password forms."""

from django import forms
from django.apps import apps
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from baohe.forms import StyledFormMixin
from baohe.models import AuditEntry
from baohe.query import ChoiceField, DateField, QueryForm, TextField
from baohe.validators import mobile_validator


class LoginForm(StyledFormMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("手机号或用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        "invalid_login": _("手机号/用户名或密码不正确。"),
        "inactive": _("该账号已停用。"),
    }


class RegisterForm(StyledFormMixin, forms.Form):
    mobile = forms.CharField(
        label=_("手机号"),
        max_length=11,
        validators=[mobile_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    password1 = forms.CharField(
        label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), required=False
    )
    password2 = forms.CharField(
        label=_("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), required=False
    )

    def clean(self):
        cleaned = super().clean()
        if self.data.get("action") == "send_code":
            return cleaned
        for field in ("code", "password1"):
            if not cleaned.get(field):
                self.add_error(field, _("此项为必填项。"))
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned


class StyledPasswordChangeForm(StyledFormMixin, PasswordChangeForm):
    pass


class OtpCodeForm(StyledFormMixin, forms.Form):
    """The second step: a 6-digit code from the authenticator, or a backup code."""

    code = forms.CharField(
        label=_("验证码"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"}
        ),
        help_text=_("验证器上的 6 位数字；手机不在身边时可输入一个备用码。"),
    )


class OtpEnrolForm(OtpCodeForm):
    code = forms.CharField(
        label=_("验证器上显示的 6 位数字"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


# --- the audit trail (审计日志) ------------------------------------------------------------------
def audit_record_types():
    """``(app.model, name)`` for every model of the portal's own apps: the record types a line names."""
    own = ("accounts", "baohe", "communities", "partybuilding", "service_requests", "visits", "volunteers", "meetings")
    models = [model for model in apps.get_models() if model._meta.app_label in own]
    return sorted(
        ((model._meta.label_lower, f"{model._meta.verbose_name}（{model._meta.label_lower}）") for model in models),
        key=lambda choice: choice[0],
    )


class AuditQuery(QueryForm):
    """The 审计日志 page's and its export's filters (``accounts.selectors.audit_entries_filter``)."""

    person = TextField(label=_("人员"), max_length=150)
    object_type = ChoiceField(label=_("记录类型"), choices=())
    object_id = TextField(label=_("记录编号"), max_length=64)
    action = ChoiceField(label=_("操作"), choices=[("", _("全部")), *AuditEntry.Action.choices])
    date_from = DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = DateField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("全部")), *audit_record_types()]
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select form-select-sm" if select else "form-control form-control-sm"


class ElderModeForm(forms.Form):
    """The 长辈版 switch (login page and menu): on or off, and the page to return to."""

    on = forms.TypedChoiceField(choices=(("1", "1"), ("0", "0")), coerce=lambda value: value == "1")
    next = forms.CharField(required=False, max_length=2000)
