"""The monthly report request form (a month and a place: the district or one street), and what
the dashboard pages read from their query string (``baohe.query``: a bad value is ignored)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.query import ChoiceField, IdField, IntegerField, QueryForm, parse_int
from baohe.scoping import VIEW
from communities.models import Street

from .places import Period, parse_month, sees_whole_district
from .tables import SORT_KEYS


class MonthField(forms.Field):
    """``2025-06`` (or a day, ``2025-06-15``: its month) → the first day of that month."""

    default_error_messages = {"invalid": _("请输入 2000 到 2100 年之间的月份，如 2025-06。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        month = parse_month(value) if isinstance(value, str) and len(value) <= 10 else None
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


class PeriodQuery(QueryForm):
    """``?from=YYYY-MM&to=YYYY-MM``. A wrong month shows the last twelve months and says so on the
    page (``period_error``), as a period that ends before it starts does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = MonthField(label=_("开始月份"))  # "from" cannot be a class attribute
        self.fields["to"] = MonthField(label=_("结束月份"))

    def period(self, today=None):
        """The :class:`Period` asked for and an error message (``None`` when it is right)."""
        values = self.values
        invalid = "from" in self.errors or "to" in self.errors
        return Period.between(values["from"], values["to"], invalid=invalid, today=today)


FORMAT_CHOICES = (("xlsx", "Excel"),)


class PageQuery(QueryForm):
    sort = ChoiceField(label=_("排序"), choices=[(key, key) for key in SORT_KEYS])


class TableQuery(PageQuery):
    format = ChoiceField(label=_("格式"), choices=FORMAT_CHOICES)


class ListQuery(QueryForm):
    category = IdField(label=_("分类"))
    format = ChoiceField(label=_("格式"), choices=FORMAT_CHOICES)
    page = IntegerField(label=_("页码"), min_value=1)


class ReportCardQuery(QueryForm):
    """What the page's report card starts with (``?month=YYYY-MM&place=district|street:<id>``):
    initial values only; the form checks the place against the user's choices when it is sent."""

    month = MonthField(label=_("月份"))
    place = ChoiceField(label=_("范围"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        value = self.data.get("place", "")
        valid = value == "district" or (value.startswith("street:") and parse_int(value[7:]) is not None)
        self.fields["place"].choices = [(value, value)] if valid else []


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
