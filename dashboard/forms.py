"""The monthly report request form: a month and a place (the district or one street)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.scoping import VIEW
from communities.models import Street

from .places import parse_month, sees_whole_district


class ReportForm(forms.Form):
    month = forms.CharField(
        label=_("月份"),
        max_length=10,
        error_messages={"required": _("请选择月份，如 2025-06。")},
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control form-control-sm"}),
    )
    place = forms.ChoiceField(label=_("范围"), widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.streets = {str(s.pk): s for s in Street.objects.restrict(user, VIEW).order_by("code")}
        choices = [("district", _("全区"))] if sees_whole_district(user) else []
        choices += [(f"street:{pk}", street.name) for pk, street in self.streets.items()]
        self.fields["place"].choices = choices

    def clean_month(self):
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("请选择月份，如 2025-06。"))
        if month > timezone.localdate().replace(day=1):
            raise forms.ValidationError(_("不能生成未来月份的报表。"))
        return month

    def clean(self):
        cleaned = super().clean()
        place = cleaned.get("place", "")
        cleaned["street"] = self.streets.get(place.split(":", 1)[1]) if place.startswith("street:") else None
        return cleaned
