"""Funds forms (staff): a proposal, its steps, a budget adjustment; the list's query parameters.

Amounts are read as decimals to the fen; files are only collected here (at most ``MAX_FILES``):
the content check (photo or PDF, ``baohe.uploads.check_document``) is the service's.
"""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.forms import RowChoiceField, ScopedFormMixin, StyledFormMixin
from baohe.query import ChoiceField, IdField, IntegerField, QueryForm, YearField
from meetings.models import Decision

from .models import Fund, Proposal, ProposalFile
from .services import MAX_FILES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Up to ``MAX_FILES`` photos or PDFs from one ``<input type=file multiple>``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        kwargs.setdefault("help_text", _("照片（JPEG、PNG、WebP）或 PDF，最多 6 个，每个不超过 10 MB"))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("最多 %(max)s 个附件（本次 %(count)s 个）。") % {"max": MAX_FILES, "count": len(files)}
            )
        return [super(FilesField, self).clean(item, initial) for item in files]


def amount_field(label, **kwargs):
    return forms.DecimalField(
        label=label, max_digits=12, decimal_places=2, min_value=Decimal("0.01"), localize=False, **kwargs
    )


class FundChoiceField(RowChoiceField):
    def label_from_instance(self, obj):
        return _("%(community)s · %(fund)s（可用 %(available)s 元）") % {
            "community": obj.community.name,
            "fund": str(obj),
            "available": f"{obj.available:,.2f}",
        }


class DecisionChoiceField(RowChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.meeting.topic} · {obj.text[:40]}"


class ProposalForm(ScopedFormMixin, forms.Form):
    """新建支出申请: the fund and the decision are limited to what the user may change."""

    fund = FundChoiceField(
        Fund.objects.select_related("community").order_by("community__code", "kind"), label=_("经费")
    )
    title = forms.CharField(label=_("事项"), max_length=100)
    purpose = forms.ChoiceField(label=_("用途"), choices=Proposal.Purpose.choices)
    amount = amount_field(_("申请金额（元）"))
    payee = forms.CharField(label=_("收款单位"), max_length=100, required=False)
    decision = DecisionChoiceField(
        Decision.objects.select_related("meeting").order_by("-meeting__scheduled_at", "order"),
        label=_("议事决议"),
        required=False,
        help_text=_("由协商议事会决定的事项请选择对应决议"),
    )
    description = forms.CharField(
        label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    quotes = FilesField(label=_("报价单"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = self.fields["fund"].queryset.filter(year=timezone.localdate().year)
        funds = self.fields["fund"].queryset
        if len(funds[:2]) == 1:
            self.fields["fund"].initial = funds[0].pk


class NoteForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("意见"), max_length=300, required=False)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300)


class PayForm(StyledFormMixin, forms.Form):
    amount = amount_field(_("实付金额（元）"))
    payee = forms.CharField(label=_("收款单位"), max_length=100, required=False)
    receipts = FilesField(label=_("支付票据"))


class FilesForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=ProposalFile.Kind.choices)
    files = FilesField(label=_("文件"))


class BudgetForm(StyledFormMixin, forms.Form):
    budget = amount_field(_("调整后预算（元）"))
    reason = forms.CharField(label=_("调整原因"), max_length=300)


class FundsQuery(QueryForm):
    year = YearField()
    status = ChoiceField(choices=Proposal.Status.choices)
    page = IntegerField(min_value=1, initial=1)


class NewProposalQuery(QueryForm):
    decision = IdField()
    fund = IdField()
