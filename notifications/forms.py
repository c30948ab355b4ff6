"""The notification preferences form, and what the inbox reads from its query string."""

from django import forms
from django.utils.translation import gettext_lazy as _

from baohe.masking import mask_mobile
from baohe.query import FlagField, IntegerField, QueryForm


class InboxQuery(QueryForm):
    """``?unread=1`` shows the unread ones only; ``?page=``. A bad value is ignored, with a notice."""

    unread = FlagField(label=_("未读"))
    page = IntegerField(label=_("页码"), min_value=1)


class PreferenceForm(forms.Form):
    """Which channels a person is told on, besides the inbox (always on)."""

    sms = forms.BooleanField(label=_("短信通知"), required=False)
    email = forms.BooleanField(label=_("邮件通知"), required=False)
    daily_digest = forms.BooleanField(
        label=_("每日汇总邮件"), required=False, help_text=_("每天 8:00 把前一天的未读通知汇总发到邮箱。")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # A channel the account cannot receive is not offered (no mobile: no SMS; no email
        # address: no email and no daily digest); ``unavailable`` says why it is missing.
        self.unavailable = []
        if user.mobile:
            self.fields["sms"].help_text = _("发送到 %(mobile)s。") % {"mobile": mask_mobile(user.mobile)}
        else:
            del self.fields["sms"]
            self.unavailable.append(_("您的账号没有手机号，不能接收短信通知。"))
        if user.email:
            self.fields["email"].help_text = _("发送到 %(email)s。") % {"email": user.email}
        else:
            del self.fields["email"], self.fields["daily_digest"]
            self.unavailable.append(_("您的账号没有邮箱地址，不能接收邮件和每日汇总邮件。"))

    def channels(self):
        """The cleaned choice for every channel (a channel not offered is off)."""
        return {name: bool(self.cleaned_data.get(name)) for name in ("email", "sms", "daily_digest")}
