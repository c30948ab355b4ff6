"""Registry forms. Every model choice is restricted to the user's change scope (ScopedModelForm)."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from baohe import query
from baohe.exceptions import RateLimited
from baohe.forms import RowChoiceField, ScopedFormMixin, ScopedModelForm, StyledFormMixin
from baohe.personal import PersonalNumbersFormMixin
from baohe.validators import validate_id_number

from . import services
from .models import Building, Compound, Household, Resident, ResidentTransfer
from .widgets import use_autocomplete


class CompoundForm(ScopedModelForm):
    class Meta:
        model = Compound
        fields = (
            "community",
            "name",
            "kind",
            "grid",
            "address",
            "property_company",
            "handed_over",
        )


class BuildingForm(ScopedModelForm):
    class Meta:
        model = Building
        fields = ("compound", "number", "name", "units", "floors", "head")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A building stays in its compound; its head is one of its own residents.
            self.fields["compound"].disabled = True
            self.fields["head"].queryset = self.fields["head"].queryset.filter(household__building=self.instance)
        else:
            del self.fields["head"]


class HouseholdForm(ScopedModelForm):
    class Meta:
        model = Household
        fields = (
            "building",
            "unit",
            "room",
            "lives_alone_elderly",
            "elderly",
            "disabled",
            "low_income",
            "is_rented",
            "note",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = self.fields["building"].queryset.select_related("compound")
        self.fields["building"].label_from_instance = lambda b: f"{b.compound.name} {b.label}"


class ResidentForm(PersonalNumbersFormMixin, ScopedModelForm):
    """An edit never shows the old mobile or ID number: empty keeps it (``baohe.personal``)."""

    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)

    class Meta:
        model = Resident
        fields = ("household", "name", "mobile", "id_number", "gender", "birth_year", "relation")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.rate_limited: RateLimited | None = None
        self.fields["household"].queryset = self.fields["household"].queryset.select_related("building")
        self.fields["household"].label_from_instance = lambda h: f"{h.building.label} {h.address}"
        use_autocomplete(self.fields["household"], "households")

    def clean_id_number(self):
        return (self.cleaned_data.get("id_number") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        check_id_number(self, self.user, self.instance, cleaned, self.request)
        return cleaned


def check_id_number(form, user, instance, cleaned, request):
    """The scope-aware duplicate answer (``services.resident_id_number_check``) on a resident
    form: the resident in scope with a link, or "registered elsewhere" with a link to a 迁入
    request; over the lookup cap the form keeps the refusal in ``form.rate_limited`` (the page
    answers 429). A number that is not well formed is left to the model's own check."""
    value = cleaned.get("id_number")
    if not value or form.has_error("id_number"):
        return
    try:
        validate_id_number(value)
    except ValidationError:
        return
    try:
        services.resident_id_number_check(by=user, resident=instance, id_number=value, request=request)
    except services.DuplicateInScope as duplicate:
        link = format_html(
            '{} <a href="{}">{}</a>', duplicate.messages[0], duplicate.resident.get_absolute_url(), _("查看该居民")
        )
        form.add_error("id_number", link)
    except ValidationError as error:
        household = cleaned.get("household")
        url = reverse("communities:transfer_add")
        if household is not None:
            url = f"{url}?household={household.pk}"
        form.add_error("id_number", format_html('{} <a href="{}">{}</a>', error.messages[0], url, _("发起迁入申请")))
    except RateLimited as limited:
        form.rate_limited = limited
        form.add_error("id_number", limited.message)


class TransferForm(ScopedFormMixin, forms.Form):
    """迁入申请: the person's ID number, the household (in one's change scope) and why."""

    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=18,
        validators=[validate_id_number],
        help_text=_("此次查询将记入审计日志，并计入每日跨社区查询次数。"),
    )
    to_household = RowChoiceField(label=_("迁入住户"), queryset=Household.objects.all())
    reason = forms.CharField(label=_("申请事由"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["to_household"]
        field.queryset = field.queryset.select_related("building__compound").order_by("building_id", "unit", "room")
        field.label_from_instance = lambda h: f"{h.building.compound.name} {h.building.label} {h.address}"
        use_autocomplete(field, "households")

    def clean_id_number(self):
        return (self.cleaned_data.get("id_number") or "").strip().upper()


class TransferDecisionForm(StyledFormMixin, forms.Form):
    """What the deciding side writes: required to reject, optional to approve."""

    note = forms.CharField(label=_("处理意见"), max_length=200, required=False)


class TransferListQuery(query.QueryForm):
    """The list's tab (``?tab=incoming|outgoing``), status and page."""

    tab = query.ChoiceField(choices=(("incoming", _("待我处理")), ("outgoing", _("我发起的"))), initial="incoming")
    status = query.ChoiceField(choices=ResidentTransfer.Status.choices, label=_("状态"))
    page = query.IntegerField(label=_("页码"), min_value=1)


class TransferAddQuery(query.QueryForm):
    """``?household=`` preselects the household of the form (from a refused resident form)."""

    household = query.IdField(label=_("住户"))


class ResidentLeaveForm(StyledFormMixin, forms.Form):
    """迁出 or 去世, on a date (the staff resident page; the API has its own serializer)."""

    status = forms.ChoiceField(
        label=_("变更为"),
        choices=[(s.value, s.label) for s in Resident.Status if s != Resident.Status.LIVING],
    )
    left_on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))


class FeeRateForm(StyledFormMixin, forms.Form):
    """登记物业费缴纳率: a month (``YYYY-MM``) and a rate in percent."""

    month = query.MonthField(label=_("月份"), help_text=_("如 2026-09"))
    rate = query.DecimalField(
        label=_("物业费缴纳率(%)"), min_value=0, max_value=100, decimal_places=2, help_text=_("0 到 100，如 91.5")
    )
