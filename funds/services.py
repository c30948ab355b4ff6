"""Every write to the funds (ARCHITECTURE rule 2): budgets, proposals, approvals, payments, reversals.

Each step is one function that runs in one transaction, locks the fund row first
(``SELECT … FOR UPDATE``) and then the proposal, checks the step against the proposal's status
and the caller's role, appends :class:`~funds.models.LedgerEntry` lines and moves the fund's
running totals with them, writes a :class:`~funds.models.ProposalEvent`, and writes the people
it concerns a notification through the outbox in the same transaction. Because every step that
takes money locks the fund row, two approvals that together would overdraw it are serialised:
the second sees the first's commitment and is refused (``available`` never goes below zero; the
fund's check constraint backs this up).

Who does what:

- community staff and secretary (and street staff, administrators): submit, add quotes, withdraw,
  record the payment with its receipts;
- the community's secretary (or an administrator): approve or reject a submitted proposal; the
  approval commits the amount;
- the street's staff (or an administrator): review a proposal above ``FUNDS_STREET_REVIEW_ABOVE``
  after the secretary's approval, and adjust a fund's budget (with a reason, audited).

A rejection or withdrawal after approval, and the unspent part of a smaller payment, release the
commitment with a reversal; a wrong payment is undone by :func:`payment_reverse` (a reversal of the
payment, the released part committed again), never by an edit.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import (
    community_secretaries,
    is_administrator,
    is_secretary_of,
    street_staff,
    street_staff_roles,
)
from baohe.exceptions import Conflict, OutOfScope
from baohe.models import AuditEntry
from baohe.scoping import CHANGE, VIEW
from baohe.services import audit
from baohe.texts import StoredText, stored
from baohe.uploads import MAX_PER_REQUEST, check_document
from baohe.validators import validate_text
from communities.models import Community
from notifications.services import Message, notify_many

from .models import FEN, Fund, LedgerEntry, Proposal, ProposalEvent, ProposalFile

Status = Proposal.Status
Entry = LedgerEntry
KIND = "funds"
MAX_FILES = MAX_PER_REQUEST
MAX_AMOUNT = Decimal("9999999999.99")


# --- access ---------------------------------------------------------------------------------------
def access_fund_by_id(user: User, pk: int, action: str = VIEW) -> Fund:
    """The fund if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    return get_object_or_404(Fund.objects.restrict(user, action).select_related("community__street"), pk=pk)


def access_proposal_by_id(user: User, pk: int, action: str = VIEW) -> Proposal:
    return get_object_or_404(
        Proposal.objects.restrict(user, action).select_related("fund", "community__street", "submitted_by"), pk=pk
    )


def access_file_by_id(user: User, pk: int) -> ProposalFile:
    return get_object_or_404(ProposalFile.objects.restrict(user, VIEW), pk=pk)


def is_street_reviewer(user: User, street_id: int) -> bool:
    """The street's own staff (a staff role at the street) or an administrator."""
    return is_administrator(user) or street_staff_roles([street_id]).filter(user_id=user.pk).exists()


def is_approver(user: User, community_id: int) -> bool:
    """The community's secretary or an administrator."""
    return is_administrator(user) or is_secretary_of(user, community_id)


def _require_change(user: User, fund: Fund) -> None:
    """Staff who may change the fund's community pass; those who only see it get 403, others 404."""
    if Fund.objects.restrict(user, CHANGE).filter(pk=fund.pk).exists():
        return
    if Fund.objects.restrict(user, VIEW).filter(pk=fund.pk).exists():
        raise PermissionDenied(_("只有本社区工作人员可以办理经费事项。"))
    raise OutOfScope(Fund._meta.verbose_name)


def _require_view(user: User, proposal: Proposal) -> None:
    if not Proposal.objects.restrict(user, VIEW).filter(pk=proposal.pk).exists():
        raise OutOfScope(Proposal._meta.verbose_name)


# --- input ----------------------------------------------------------------------------------------
def parse_amount(value: object, field: str = "amount") -> Decimal:
    """A positive amount in yuan to the fen (``"1200.5"`` → ``Decimal("1200.50")``); a clear error otherwise."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({field: [_("请输入金额（元），最多两位小数。")]}) from error
    if not amount.is_finite():
        raise ValidationError({field: [_("请输入金额（元），最多两位小数。")]})
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError({field: [_("金额过大。")]})
    if amount != amount.quantize(FEN):
        raise ValidationError({field: [_("请输入金额（元），最多两位小数。")]})
    if amount <= 0:
        raise ValidationError({field: [_("金额必须大于 0。")]})
    return amount.quantize(FEN)


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("请填写此项。")]})
    if len(value) > limit:
        raise ValidationError({field: [_("不能超过 %(limit)s 个字。") % {"limit": limit}]})
    try:
        validate_text(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    return value


def _check_files(files: Sequence, existing: int = 0, field: str = "files") -> list:
    files = [f for f in files if f]
    if existing + len(files) > MAX_FILES:
        raise ValidationError(
            {
                field: [
                    _("每项申请最多 %(max)s 个附件（已有 %(existing)s 个）。")
                    % {"max": MAX_FILES, "existing": existing}
                ]
            }
        )
    checked, errors = [], []
    for upload in files:
        try:
            checked.append(check_document(upload))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({field: errors})
    return checked


def _save_files(proposal: Proposal, checked: list, kind: str, by: User) -> None:
    for item in checked:
        ProposalFile.objects.create(
            proposal=proposal,
            kind=kind,
            file=item.content,
            content_type=item.content_type,
            size=item.size,
            uploaded_by=by,
        )


# --- the ledger -----------------------------------------------------------------------------------
def _post(
    fund: Fund,
    *,
    kind: str,
    account: str,
    amount: Decimal,
    by: User,
    proposal: Proposal | None = None,
    reverses: LedgerEntry | None = None,
    reason: str = "",
) -> LedgerEntry:
    """Append one line and move the (locked) fund's total for its account."""
    entry = LedgerEntry.objects.create(
        fund=fund, proposal=proposal, kind=kind, account=account, amount=amount, by=by, reverses=reverses, reason=reason
    )
    setattr(fund, account, getattr(fund, account) + amount)
    return entry


def _save_totals(fund: Fund) -> None:
    if fund.committed > fund.budget:
        raise Conflict(_("经费余额不足，无法批准。"), code="insufficient_funds")
    fund.save(update_fields=["budget", "committed", "paid", "updated_at"])


def _lock(proposal: Proposal) -> tuple[Fund, Proposal]:
    """Lock the fund, then the proposal (always in this order), and return fresh copies."""
    fund = Fund.objects.select_for_update().get(pk=proposal.fund_id)
    locked = Proposal.objects.select_for_update().select_related("community").get(pk=proposal.pk)
    return fund, locked


def _release_commitment(fund: Fund, proposal: Proposal, by: User, reason: str, amount: Decimal | None = None) -> None:
    """Reverse what is still committed for ``proposal`` (or ``amount`` of it)."""
    commitment = proposal.entries.filter(kind=Entry.Kind.COMMITMENT).order_by("-id").first()
    if commitment is None:
        return
    outstanding = proposal.entries.filter(account=Entry.Account.COMMITTED).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)
    release = outstanding if amount is None else min(amount, outstanding)
    if release > 0:
        _post(
            fund,
            kind=Entry.Kind.REVERSAL,
            account=Entry.Account.COMMITTED,
            amount=-release,
            by=by,
            proposal=proposal,
            reverses=commitment,
            reason=reason,
        )


def _event(proposal: Proposal, kind: str, by: User, note: str = "") -> ProposalEvent:
    return ProposalEvent.objects.create(proposal=proposal, kind=kind, by=by, note=note[:300])


def _tell(users, proposal: Proposal, title: StoredText, key: str) -> None:
    notify_many(
        Message(
            recipient_id=user.pk,
            kind=KIND,
            title=title,
            link=proposal.get_absolute_url(),
            dedupe_key=f"proposal:{proposal.pk}:{key}:{user.pk}",
        )
        for user in users
    )


# --- funds ----------------------------------------------------------------------------------------
def fund_open(
    *,
    community: Community,
    year: int,
    kind: str,
    by: User,
    budget: Decimal | None = None,
    name: str = "",
    reason: str = "",
) -> Fund:
    """Open a fund of ``community`` for ``year`` with its first budget line. The two base funds take
    the district's default (``FUNDS_DEFAULT_BUDGETS``) unless a budget is given; another source needs
    its name and budget. Street staff and administrators open funds."""
    if not (is_administrator(by) or is_street_reviewer(by, community.street_id)):
        raise PermissionDenied(_("只有街道工作人员可以设立经费。"))
    if kind not in Fund.Kind.values:
        raise ValidationError({"kind": [_("请选择经费类别。")]})
    if kind != Fund.Kind.OTHER:
        name = name or str(Fund.Kind(kind).label)
        if budget is None:
            budget = Decimal(settings.FUNDS_DEFAULT_BUDGETS[kind]).quantize(FEN)
    name = _text(name, "name", 100, required=True)
    if budget is None:
        raise ValidationError({"budget": [_("请填写预算金额。")]})
    budget = parse_amount(budget, "budget")
    fund = Fund(community=community, year=year, kind=kind, name=name)
    fund.full_clean(exclude=["street"])
    with transaction.atomic():
        fund.save()
        _post(
            fund,
            kind=Entry.Kind.BUDGET,
            account=Entry.Account.BUDGET,
            amount=budget,
            by=by,
            reason=reason or _("%(year)s 年度预算") % {"year": year},
        )
        _save_totals(fund)
        audit(user=by, action=AuditEntry.Action.CREATE, obj=fund, detail={"budget": str(budget)})
    return fund


def fund_ensure_base(*, community: Community, year: int, by: User) -> list[Fund]:
    """The community's two base funds for ``year``, opened with the default budgets when missing."""
    funds = []
    for kind in (Fund.Kind.SERVICE, Fund.Kind.PARTY):
        fund = Fund.objects.filter(community=community, year=year, kind=kind).first()
        funds.append(fund or fund_open(community=community, year=year, kind=kind, by=by))
    return funds


def fund_adjust_budget(*, fund: Fund, budget: Decimal | str, reason: str, by: User) -> Fund:
    """The street sets a fund's budget to ``budget`` (yuan) with a reason: one budget line for the
    difference, audited. The budget cannot go below what is already committed."""
    if not Fund.objects.restrict(by, VIEW).filter(pk=fund.pk).exists():
        raise OutOfScope(Fund._meta.verbose_name)
    if not is_street_reviewer(by, fund.street_id):
        raise PermissionDenied(_("只有街道工作人员可以调整预算。"))
    new_budget = parse_amount(budget, "budget")
    reason = _text(reason, "reason", 300, required=True)
    with transaction.atomic():
        locked = Fund.objects.select_for_update().get(pk=fund.pk)
        delta = new_budget - locked.budget
        if delta == 0:
            raise ValidationError({"budget": [_("新预算与现有预算相同。")]})
        if new_budget < locked.committed:
            raise ValidationError(
                {"budget": [_("预算不能少于已批准的 %(committed)s 元。") % {"committed": locked.committed}]}
            )
        old = locked.budget
        _post(locked, kind=Entry.Kind.BUDGET, account=Entry.Account.BUDGET, amount=delta, by=by, reason=reason)
        _save_totals(locked)
        audit(
            user=by,
            action=AuditEntry.Action.UPDATE,
            obj=locked,
            reason=reason,
            changes={"budget": [str(old), str(new_budget)]},
        )
    return locked


# --- proposals ------------------------------------------------------------------------------------
def proposal_submit(
    *,
    by: User,
    fund: Fund,
    title: str,
    purpose: str,
    amount: Decimal | str,
    description: str = "",
    payee: str = "",
    decision=None,
    service_project=None,
    quotes: Sequence = (),
) -> Proposal:
    """Submit a spending proposal with its quotes; the community's secretaries are told."""
    _require_change(by, fund)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, check in (
        ("title", lambda: _text(title, "title", 100, required=True)),
        ("description", lambda: _text(description, "description", 2000)),
        ("payee", lambda: _text(payee, "payee", 100)),
        ("amount", lambda: parse_amount(amount)),
        ("quotes", lambda: _check_files(quotes, field="quotes")),
    ):
        try:
            values[name] = check()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if purpose not in Proposal.Purpose.values:
        errors.setdefault("purpose", []).append(_("请选择用途。"))
    if fund.year < timezone.localdate().year:
        errors.setdefault("fund", []).append(_("往年经费已结账，不能再申请。"))
    if decision is not None and decision.community_id != fund.community_id:
        errors.setdefault("decision", []).append(_("所选决议不属于该社区。"))
    if service_project is not None and getattr(service_project, "community_id", fund.community_id) not in (
        None,
        fund.community_id,
    ):
        errors.setdefault("service_project", []).append(_("所选服务项目不属于该社区。"))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        proposal = Proposal(
            fund=fund,
            title=values["title"],
            purpose=purpose,
            description=values["description"],
            payee=values["payee"],
            amount=values["amount"],
            decision=decision,
            service_project=service_project,
            submitted_by=by,
        )
        proposal.full_clean(exclude=["street", "community"])
        proposal.save()
        _save_files(proposal, values["quotes"], ProposalFile.Kind.QUOTE, by)
        _event(proposal, ProposalEvent.Kind.SUBMITTED, by)
        _tell(
            community_secretaries(fund.community_id).exclude(pk=by.pk),
            proposal,
            stored(
                gettext_lazy("【经费】%(title)s 待您审批（%(amount)s 元）"),
                title=proposal.title,
                amount=str(proposal.amount),
            ),
            "submitted",
        )
    return proposal


def proposal_add_files(*, proposal: Proposal, by: User, files: Sequence, kind: str) -> list[ProposalFile]:
    """Add quotes (while open) or receipts (once approved or paid)."""
    _require_change(by, proposal.fund)
    if kind not in ProposalFile.Kind.values:
        raise ValidationError({"kind": [_("请选择附件类别。")]})
    with transaction.atomic():
        _fund, locked = _lock(proposal)
        if kind == ProposalFile.Kind.RECEIPT and locked.status not in (Status.APPROVED, Status.PAID):
            raise Conflict(_("批准后才能上传支付票据。"), code="not_approved")
        if kind == ProposalFile.Kind.QUOTE and not locked.is_open:
            raise Conflict(_("该申请已办结，不能再添加报价单。"), code="closed")
        checked = _check_files(files, existing=locked.files.count())
        if not checked:
            raise ValidationError({"files": [_("请选择要上传的文件。")]})
        _save_files(locked, checked, kind, by)
        _event(locked, ProposalEvent.Kind.FILE_ADDED, by, str(ProposalFile.Kind(kind).label))
    return list(locked.files.order_by("-id")[: len(checked)])


def proposal_approve(*, proposal: Proposal, by: User, note: str = "") -> Proposal:
    """The secretary approves: the amount is committed from the fund (refused when it would take
    the fund below zero); above ``FUNDS_STREET_REVIEW_ABOVE`` the proposal goes on to the street."""
    _require_view(by, proposal)
    note = _text(note, "note", 300)
    with transaction.atomic():
        fund, locked = _lock(proposal)
        if not is_approver(by, locked.community_id):
            raise PermissionDenied(_("只有社区书记可以审批经费申请。"))
        if locked.status != Status.SUBMITTED:
            raise Conflict(_("该申请已不是待审批状态。"), code="not_submitted")
        if locked.amount > fund.available:
            raise Conflict(
                _("经费余额不足：%(fund)s 可用 %(available)s 元，申请 %(amount)s 元。")
                % {"fund": fund.name, "available": fund.available, "amount": locked.amount},
                code="insufficient_funds",
            )
        _post(
            fund,
            kind=Entry.Kind.COMMITMENT,
            account=Entry.Account.COMMITTED,
            amount=locked.amount,
            by=by,
            proposal=locked,
            reason=locked.title[:300],
        )
        _save_totals(fund)
        to_street = locked.amount > Decimal(settings.FUNDS_STREET_REVIEW_ABOVE)
        locked.status = Status.STREET_REVIEW if to_street else Status.APPROVED
        locked.approved_at = timezone.now()
        locked.save(update_fields=["status", "approved_at", "updated_at"])
        _event(locked, ProposalEvent.Kind.APPROVED, by, note)
        if to_street:
            _tell(
                street_staff(locked.street_id),
                locked,
                stored(
                    gettext_lazy("【经费】%(community)s「%(title)s」待街道审核（%(amount)s 元）"),
                    community=locked.community.name,
                    title=locked.title,
                    amount=str(locked.amount),
                ),
                "street",
            )
        else:
            _tell(
                [locked.submitted_by],
                locked,
                stored(gettext_lazy("【经费】%(title)s 已批准"), title=locked.title),
                "approved",
            )
    return locked


def proposal_street_approve(*, proposal: Proposal, by: User, note: str = "") -> Proposal:
    """The street's review passes: the proposal may be paid."""
    _require_view(by, proposal)
    note = _text(note, "note", 300)
    with transaction.atomic():
        _fund, locked = _lock(proposal)
        if not is_street_reviewer(by, locked.street_id):
            raise PermissionDenied(_("只有街道工作人员可以审核经费申请。"))
        if locked.status != Status.STREET_REVIEW:
            raise Conflict(_("该申请已不是待街道审核状态。"), code="not_in_review")
        locked.status = Status.APPROVED
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "reviewed_at", "updated_at"])
        _event(locked, ProposalEvent.Kind.STREET_APPROVED, by, note)
        _tell(
            [locked.submitted_by],
            locked,
            stored(gettext_lazy("【经费】%(title)s 已批准"), title=locked.title),
            "approved",
        )
    return locked


def proposal_reject(*, proposal: Proposal, by: User, reason: str) -> Proposal:
    """Not approved, with a reason: by the secretary while submitted, by the street while in its
    review (the commitment is then released by a reversal)."""
    _require_view(by, proposal)
    reason = _text(reason, "reason", 300, required=True)
    with transaction.atomic():
        fund, locked = _lock(proposal)
        if locked.status == Status.SUBMITTED:
            if not is_approver(by, locked.community_id):
                raise PermissionDenied(_("只有社区书记可以审批经费申请。"))
        elif locked.status == Status.STREET_REVIEW:
            if not is_street_reviewer(by, locked.street_id):
                raise PermissionDenied(_("只有街道工作人员可以审核经费申请。"))
            _release_commitment(fund, locked, by, reason)
            _save_totals(fund)
        else:
            raise Conflict(_("该申请当前不能驳回。"), code="not_reviewable")
        locked.status = Status.REJECTED
        locked.closed_reason = reason
        locked.save(update_fields=["status", "closed_reason", "updated_at"])
        _event(locked, ProposalEvent.Kind.REJECTED, by, reason)
        _tell(
            [locked.submitted_by],
            locked,
            stored(gettext_lazy("【经费】%(title)s 未通过"), title=locked.title),
            "rejected",
        )
    return locked


def proposal_withdraw(*, proposal: Proposal, by: User, reason: str) -> Proposal:
    """The community withdraws a proposal that is not paid; a commitment is released."""
    _require_change(by, proposal.fund)
    reason = _text(reason, "reason", 300, required=True)
    with transaction.atomic():
        fund, locked = _lock(proposal)
        if not locked.is_open:
            raise Conflict(_("该申请已办结，不能撤回。"), code="closed")
        if locked.status != Status.SUBMITTED:
            _release_commitment(fund, locked, by, reason)
            _save_totals(fund)
        locked.status = Status.WITHDRAWN
        locked.closed_reason = reason
        locked.save(update_fields=["status", "closed_reason", "updated_at"])
        _event(locked, ProposalEvent.Kind.WITHDRAWN, by, reason)
    return locked


def proposal_pay(
    *, proposal: Proposal, by: User, amount: Decimal | str, receipts: Sequence = (), payee: str = ""
) -> Proposal:
    """Record the payment with its receipts (at least one, uploaded now or before). At most the
    approved amount; the unspent rest of the commitment is released by a reversal."""
    _require_change(by, proposal.fund)
    paid = parse_amount(amount)
    payee = _text(payee, "payee", 100)
    with transaction.atomic():
        fund, locked = _lock(proposal)
        if locked.status != Status.APPROVED:
            raise Conflict(_("只有已批准的申请才能登记支付。"), code="not_approved")
        if paid > locked.amount:
            raise ValidationError(
                {"amount": [_("实付金额不能超过批准金额 %(amount)s 元。") % {"amount": locked.amount}]}
            )
        existing = locked.files.count()
        checked = _check_files(receipts, existing=existing, field="receipts")
        if not checked and not locked.files.filter(kind=ProposalFile.Kind.RECEIPT).exists():
            raise ValidationError({"receipts": [_("请上传支付票据（照片或 PDF）。")]})
        _save_files(locked, checked, ProposalFile.Kind.RECEIPT, by)
        _post(
            fund,
            kind=Entry.Kind.PAYMENT,
            account=Entry.Account.PAID,
            amount=paid,
            by=by,
            proposal=locked,
            reason=locked.title[:300],
        )
        if paid < locked.amount:
            _release_commitment(fund, locked, by, _("实付少于批准金额，释放余额"), locked.amount - paid)
        _save_totals(fund)
        locked.status = Status.PAID
        locked.paid_amount = paid
        locked.paid_at = timezone.now()
        if payee:
            locked.payee = payee
        locked.save(update_fields=["status", "paid_amount", "paid_at", "payee", "updated_at"])
        _event(locked, ProposalEvent.Kind.PAID, by, _("实付 %(amount)s 元") % {"amount": paid})
    return locked


def payment_reverse(*, proposal: Proposal, by: User, reason: str) -> Proposal:
    """Undo a wrongly recorded payment: a reversal of the payment line; the part of the commitment
    released at payment is committed again (refused if the fund no longer has it). The proposal is
    back to 已批准待支付, and the correct payment is recorded anew."""
    _require_change(by, proposal.fund)
    reason = _text(reason, "reason", 300, required=True)
    with transaction.atomic():
        fund, locked = _lock(proposal)
        if locked.status != Status.PAID:
            raise Conflict(_("该申请尚未支付。"), code="not_paid")
        payment = locked.entries.filter(kind=Entry.Kind.PAYMENT, reversed_by__isnull=True).order_by("-id").first()
        if payment is None:
            raise Conflict(_("该申请尚未支付。"), code="not_paid")
        _post(
            fund,
            kind=Entry.Kind.REVERSAL,
            account=Entry.Account.PAID,
            amount=-payment.amount,
            by=by,
            proposal=locked,
            reverses=payment,
            reason=reason,
        )
        outstanding = locked.entries.filter(account=Entry.Account.COMMITTED).aggregate(total=Sum("amount"))[
            "total"
        ] or Decimal(0)
        if outstanding < locked.amount:
            _post(
                fund,
                kind=Entry.Kind.COMMITMENT,
                account=Entry.Account.COMMITTED,
                amount=locked.amount - outstanding,
                by=by,
                proposal=locked,
                reason=reason,
            )
        _save_totals(fund)
        locked.status = Status.APPROVED
        locked.paid_amount = None
        locked.paid_at = None
        locked.save(update_fields=["status", "paid_amount", "paid_at", "updated_at"])
        _event(locked, ProposalEvent.Kind.PAYMENT_REVERSED, by, reason)
    return locked
