"""社区经费: each community's funds per year, their append-only ledger, and spending proposals.

A :class:`Fund` is one source of money of one community for one year: 服务群众专项经费 and
党组织活动经费 (their yearly base from the district's rules, ``FUNDS_DEFAULT_BUDGETS``), or another
source. Its ``budget``, ``committed`` and ``paid`` columns are running totals of its
:class:`LedgerEntry` rows, moved only by ``funds.services`` under a row lock on the fund
(``SELECT … FOR UPDATE``), so "available" (``budget - committed``) can never go below zero.

Ledger entries are only ever added: a budget (or its adjustment by the street, with a reason),
a commitment when a proposal is approved, a payment, and a reversal (of a commitment released by
a rejection, withdrawal or a smaller payment, or of a wrong payment). A correction is a reversing
entry, never an edit: ``save()`` refuses to update a row and ``delete()`` refuses to remove one.

A :class:`Proposal` (支出申请) asks to spend from one fund for a purpose, names what it serves (a
meeting decision, a volunteer service project), carries quotes and, once paid, receipts
(:class:`ProposalFile`). Its steps are :class:`ProposalEvent` rows.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import ScopePaths
from baohe.validators import validate_text

FEN = Decimal("0.01")


class Fund(CommunityScopedModel):
    """One fund of one community for one calendar year, with its running totals."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("服务群众专项经费")
        PARTY = "party", _("党组织活动经费")
        OTHER = "other", _("其他来源")

    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="funds"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("经费类别"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, validators=[validate_text])
    budget = models.DecimalField(_("预算"), max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False)
    committed = models.DecimalField(
        _("已批准"), max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    paid = models.DecimalField(_("已支付"), max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("经费")
        verbose_name_plural = _("经费")
        ordering = ("-year", "community_id", "kind", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("community", "year", "name"), name="%(app_label)s_%(class)s_community_year_name"
            ),
            models.UniqueConstraint(
                fields=("community", "year", "kind"),
                condition=~Q(kind="other"),
                name="%(app_label)s_%(class)s_one_base_fund_per_year",
            ),
            models.CheckConstraint(
                condition=Q(committed__lte=F("budget")), name="%(app_label)s_%(class)s_not_overdrawn"
            ),
            models.CheckConstraint(
                condition=Q(paid__lte=F("committed")), name="%(app_label)s_%(class)s_paid_within_committed"
            ),
            models.CheckConstraint(
                condition=Q(paid__gte=0, committed__gte=0), name="%(app_label)s_%(class)s_totals_not_negative"
            ),
        ]
        indexes = [models.Index(fields=("year", "community"), name="funds_fund_year_community")]

    def __str__(self):
        return f"{self.year} {self.name}"

    def get_absolute_url(self):
        return reverse("funds:fund", args=[self.pk])

    @property
    def available(self) -> Decimal:
        return self.budget - self.committed


class Proposal(CommunityScopedModel):
    """支出申请: spend an amount from one fund for one purpose, through approval to payment."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待书记审批")
        STREET_REVIEW = "street_review", _("待街道审核")
        APPROVED = "approved", _("已批准待支付")
        PAID = "paid", _("已支付")
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Purpose(models.TextChoices):
        ENVIRONMENT = "environment", _("环境整治")
        FACILITIES = "facilities", _("设施维修改造")
        ELDERLY = "elderly", _("为老服务")
        VOLUNTEER = "volunteer", _("志愿服务")
        CULTURE = "culture", _("文化活动")
        PARTY = "party", _("党建活动")
        OTHER = "other", _("其他")

    fund = models.ForeignKey(Fund, verbose_name=_("经费"), on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(_("事项"), max_length=100, validators=[validate_text])
    purpose = models.CharField(_("用途"), max_length=16, choices=Purpose.choices)
    description = models.TextField(_("说明"), max_length=2000, blank=True, validators=[validate_text])
    amount = models.DecimalField(
        _("申请金额（元）"), max_digits=12, decimal_places=2, validators=[MinValueValidator(FEN)]
    )
    paid_amount = models.DecimalField(
        _("实付金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    payee = models.CharField(_("收款单位"), max_length=100, blank=True, validators=[validate_text])
    decision = models.ForeignKey(
        "meetings.Decision",
        verbose_name=_("议事决议"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fund_proposals",
    )
    service_project = models.ForeignKey(
        "volunteers.ServiceProject",
        verbose_name=_("服务项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fund_proposals",
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(_("书记审批时间"), null=True, blank=True, editable=False)
    reviewed_at = models.DateTimeField(_("街道审核时间"), null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True, editable=False)
    closed_reason = models.CharField(_("不通过/撤回原因"), max_length=300, blank=True, editable=False)

    scope_parent = "fund"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("支出申请")
        verbose_name_plural = _("支出申请")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("community", "status"), name="funds_proposal_community"),
            models.Index(fields=("fund", "status"), name="funds_proposal_fund"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="%(app_label)s_%(class)s_amount_positive"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("funds:proposal", args=[self.pk])

    def clean(self):
        super().clean()
        if self.decision_id and self.fund_id and self.decision.community_id != self.fund.community_id:
            raise ValidationError({"decision": _("所选决议不属于该社区。")})

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.STREET_REVIEW, self.Status.APPROVED)


class LedgerEntry(CommunityScopedModel):
    """One line of a fund's ledger. Added, never changed or removed (see the module docstring).

    ``account`` is the total the line moves (budget, committed or paid); ``amount`` is signed:
    a reversal carries the opposite sign of the line it reverses (``reverses``)."""

    class Kind(models.TextChoices):
        BUDGET = "budget", _("预算")
        COMMITMENT = "commitment", _("批准占用")
        PAYMENT = "payment", _("支付")
        REVERSAL = "reversal", _("冲正")

    class Account(models.TextChoices):
        BUDGET = "budget", _("预算")
        COMMITTED = "committed", _("已批准")
        PAID = "paid", _("已支付")

    fund = models.ForeignKey(Fund, verbose_name=_("经费"), on_delete=models.PROTECT, related_name="entries")
    proposal = models.ForeignKey(
        Proposal, verbose_name=_("支出申请"), on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    account = models.CharField(_("科目"), max_length=16, choices=Account.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)
    reverses = models.ForeignKey(
        "self", verbose_name=_("冲正对象"), on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    reason = models.CharField(_("事由"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )

    scope_parent = "fund"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("经费流水")
        verbose_name_plural = _("经费流水")
        ordering = ("fund_id", "id")
        indexes = [models.Index(fields=("fund", "account"), name="funds_entry_fund_account")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="%(app_label)s_%(class)s_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False) | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="%(app_label)s_%(class)s_reversal_names_its_entry",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("经费流水只能新增，不能修改；更正请记冲正。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("经费流水只能新增，不能删除；更正请记冲正。"))


class ProposalEvent(CommunityScopedModel):
    """One step of a proposal (submitted, approved, sent to the street, reviewed, paid, …)."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("提交申请")
        APPROVED = "approved", _("书记审批通过")
        STREET_APPROVED = "street_approved", _("街道审核通过")
        REJECTED = "rejected", _("不予通过")
        WITHDRAWN = "withdrawn", _("撤回")
        FILE_ADDED = "file_added", _("上传附件")
        PAID = "paid", _("登记支付")
        PAYMENT_REVERSED = "payment_reversed", _("冲正支付")
        BUDGET_ADJUSTED = "budget_adjusted", _("调整预算")

    proposal = models.ForeignKey(Proposal, verbose_name=_("支出申请"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("步骤"), max_length=20, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)

    scope_parent = "proposal"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("支出申请记录")
        verbose_name_plural = _("支出申请记录")
        ordering = ("proposal_id", "id")

    def __str__(self):
        return f"{self.proposal_id} {self.kind}"


class ProposalFile(CommunityScopedModel):
    """A quote (报价单) or a receipt (票据) of a proposal: an image or a PDF, checked by content."""

    class Kind(models.TextChoices):
        QUOTE = "quote", _("报价单")
        RECEIPT = "receipt", _("支付票据")

    proposal = models.ForeignKey(Proposal, verbose_name=_("支出申请"), on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to="funds/%Y/%m/", max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小(字节)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )

    scope_parent = "proposal"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("经费附件")
        verbose_name_plural = _("经费附件")
        ordering = ("proposal_id", "id")

    def __str__(self):
        return self.file.name

    def get_absolute_url(self):
        return reverse("funds:file", args=[self.pk])
