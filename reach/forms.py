from django import forms
from django.utils.translation import gettext_lazy as _

from baohe.forms import StyledFormMixin
from baohe.query import IdField

from .models import ServerRole


class ConsentForm(forms.Form):
    """Give or withdraw the consent to publish one's number in one role."""

    resident = IdField()
    role = forms.ChoiceField(choices=ServerRole.choices)
    give = forms.TypedChoiceField(choices=(("1", "1"), ("0", "0")), coerce=lambda value: value == "1")


class MessageForm(StyledFormMixin, forms.Form):
    body = forms.CharField(
        label=_("留言内容"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("最多 1000 字。请勿在留言中填写身份证号等敏感信息。"),
    )
