"""Funds pages (staff): /funds/ (this year's funds in scope and the proposals), a fund (its
ledger, the street's budget adjustment), a proposal (the decision and its minutes, quotes and
receipts, every step), 新建支出申请 (also from a meeting decision), and a file (only for those who
may see the proposal). Residents read the public side on the compound board
(``templatetags/funds_tags.py``), never these pages.

Every row comes through ``restrict()`` or ``services.access_*_by_id``: another community's fund,
proposal or receipt answers 404 exactly like a missing one. Steps are the services' own; a
refused step shows its reason and changes nothing.
"""

import os

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW, may_change_anything
from baohe.views import query_without_page, staff_required
from meetings.models import Decision

from . import selectors, services
from .forms import BudgetForm, FilesForm, FundsQuery, NewProposalQuery, NoteForm, PayForm, ProposalForm, ReasonForm
from .models import Fund, LedgerEntry, Proposal, ProposalEvent, ProposalFile

PAGE_SIZE = 20
Status = Proposal.Status


@staff_required
def fund_list(request):
    """This year's funds in scope (execution per fund) and the proposals, newest first."""
    query = read_query(request, FundsQuery)
    today = timezone.localdate()
    year = query["year"] or today.year
    funds = Fund.objects.restrict(request.user, VIEW).filter(year=year)
    rows = list(funds.select_related("community").order_by("community__code", "kind", "pk"))
    elapsed = selectors.year_elapsed(year, today)
    executions = [
        (
            fund,
            selectors.Execution(
                key=fund.pk,
                name=fund.name,
                budget=fund.budget,
                committed=fund.committed,
                paid=fund.paid,
                elapsed=elapsed,
            ),
        )
        for fund in rows
    ]
    proposals = (
        Proposal.objects.restrict(request.user, VIEW)
        .filter(fund__year=year)
        .select_related("fund", "community", "decision__meeting")
        .order_by("-created_at", "-id")
    )
    if query["status"]:
        proposals = proposals.filter(status=query["status"])
    page = Paginator(proposals, PAGE_SIZE).get_page(query["page"])
    context = {
        "year": year,
        "executions": executions,
        "total": selectors.execution_total(funds, today=today, year=year),
        "page": page,
        "status": query["status"] or "",
        "statuses": Status.choices,
        "query": query_without_page(request),
        "can_propose": may_change_anything(request.user),
    }
    return render(request, "funds/list.html", context)


@staff_required
def fund_detail(request, pk):
    """A fund: its totals, its ledger (every line, reversals beside what they reverse) and, for the
    street's staff, the budget adjustment."""
    fund = services.access_fund_by_id(request.user, pk)
    entries = list(LedgerEntry.objects.filter(fund=fund).select_related("proposal", "by", "reverses").order_by("id"))
    today = timezone.localdate()
    execution = selectors.Execution(
        key=fund.pk,
        name=fund.name,
        budget=fund.budget,
        committed=fund.committed,
        paid=fund.paid,
        elapsed=selectors.year_elapsed(fund.year, today),
    )
    can_adjust = services.is_street_reviewer(request.user, fund.street_id)
    form = BudgetForm(request.POST or None) if can_adjust else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.fund_adjust_budget(
                    fund=fund, budget=form.cleaned_data["budget"], reason=form.cleaned_data["reason"], by=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("预算已调整。"))
                return redirect(fund)
    context = {"fund": fund, "entries": entries, "execution": execution, "budget_form": form}
    return render(request, "funds/fund.html", context)


@staff_required
def proposal_new(request):
    """新建支出申请; ``?decision=`` fills it from a meeting decision (the 申请经费 button)."""
    if not may_change_anything(request.user):
        raise PermissionDenied
    query = read_query(request, NewProposalQuery)
    decision = None
    if query["decision"]:
        decision = (
            Decision.objects.restrict(request.user, CHANGE)
            .select_related("meeting")
            .filter(pk=query["decision"])
            .first()
        )
        if decision is None:
            raise Http404
    initial = {}
    if decision is not None:
        initial = {"decision": decision.pk, "title": decision.text[:100], "description": decision.text}
    form = ProposalForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if decision is not None:
        form.fields["fund"].queryset = form.fields["fund"].queryset.filter(community_id=decision.community_id)
        form.fields["decision"].queryset = form.fields["decision"].queryset.filter(pk=decision.pk)
        funds = form.fields["fund"].queryset
        if not form.is_bound and funds[:1]:
            form.initial["fund"] = funds.filter(kind=Fund.Kind.SERVICE).values_list("pk", flat=True).first()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.proposal_submit(
                by=request.user,
                fund=data["fund"],
                title=data["title"],
                purpose=data["purpose"],
                amount=data["amount"],
                description=data["description"],
                payee=data["payee"],
                decision=data["decision"],
                quotes=data["quotes"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("支出申请已提交，等待社区书记审批。"))
            return redirect(proposal)
    return render(request, "funds/form.html", {"form": form, "decision": decision})


def _proposal_context(request, proposal: Proposal, **forms):
    proposal = (
        Proposal.objects.filter(pk=proposal.pk)
        .select_related("fund", "community", "submitted_by", "decision__meeting", "service_project")
        .prefetch_related(
            Prefetch("files", queryset=ProposalFile.objects.order_by("kind", "pk")),
            Prefetch("events", queryset=ProposalEvent.objects.select_related("by").order_by("pk")),
            Prefetch("entries", queryset=LedgerEntry.objects.order_by("pk")),
        )
        .get()
    )
    user = request.user
    may_change = Fund.objects.restrict(user, CHANGE).filter(pk=proposal.fund_id).exists()
    approver = services.is_approver(user, proposal.community_id)
    reviewer = services.is_street_reviewer(user, proposal.street_id)
    steps = {
        "approve": proposal.status == Status.SUBMITTED and approver,
        "street": proposal.status == Status.STREET_REVIEW and reviewer,
        "reject": (proposal.status == Status.SUBMITTED and approver)
        or (proposal.status == Status.STREET_REVIEW and reviewer),
        "withdraw": proposal.is_open and may_change,
        "pay": proposal.status == Status.APPROVED and may_change,
        "files": proposal.status != Status.REJECTED and proposal.status != Status.WITHDRAWN and may_change,
        "reverse": proposal.status == Status.PAID and may_change,
    }
    files = list(proposal.files.all())
    return {
        "proposal": proposal,
        "decision": proposal.decision,
        "meeting": proposal.decision.meeting if proposal.decision_id else None,
        "quotes": [f for f in files if f.kind == ProposalFile.Kind.QUOTE],
        "receipts": [f for f in files if f.kind == ProposalFile.Kind.RECEIPT],
        "steps": steps,
        "note_form": forms.get("note_form") or NoteForm(),
        "reason_form": forms.get("reason_form") if forms.get("reason_step") == "reject" else ReasonForm(),
        "withdraw_form": forms.get("reason_form")
        if forms.get("reason_step") in ("withdraw", "reverse")
        else ReasonForm(auto_id="w_%s"),
        "pay_form": forms.get("pay_form") or PayForm(initial={"amount": proposal.amount, "payee": proposal.payee}),
        "files_form": forms.get("files_form") or FilesForm(),
    }


@staff_required
def proposal_detail(request, pk):
    proposal = services.access_proposal_by_id(request.user, pk)
    return render(request, "funds/proposal.html", _proposal_context(request, proposal))


STEP_MESSAGES = {
    "approve": _("已审批通过。"),
    "street": _("街道审核通过。"),
    "reject": _("已驳回。"),
    "withdraw": _("已撤回。"),
    "pay": _("已登记支付。"),
    "files": _("附件已上传。"),
    "reverse": _("已冲正支付。"),
}


@staff_required
@require_POST
def proposal_step(request, pk, step):
    """One step of a proposal (``step`` names it); a refused or invalid step shows why, changing nothing."""
    if step not in STEP_MESSAGES:
        raise Http404
    proposal = services.access_proposal_by_id(request.user, pk)
    user = request.user
    form = None
    forms = {}
    try:
        if step in ("approve", "street"):
            form = NoteForm(request.POST)
            forms["note_form"] = form
            if form.is_valid():
                call = services.proposal_approve if step == "approve" else services.proposal_street_approve
                call(proposal=proposal, by=user, note=form.cleaned_data["note"])
        elif step in ("reject", "withdraw", "reverse"):
            form = ReasonForm(request.POST, auto_id="id_%s" if step == "reject" else "w_%s")
            forms["reason_form"], forms["reason_step"] = form, step
            if form.is_valid():
                call = {
                    "reject": services.proposal_reject,
                    "withdraw": services.proposal_withdraw,
                    "reverse": services.payment_reverse,
                }[step]
                call(proposal=proposal, by=user, reason=form.cleaned_data["reason"])
        elif step == "pay":
            form = PayForm(request.POST, request.FILES)
            forms["pay_form"] = form
            if form.is_valid():
                data = form.cleaned_data
                services.proposal_pay(
                    proposal=proposal, by=user, amount=data["amount"], receipts=data["receipts"], payee=data["payee"]
                )
        else:
            form = FilesForm(request.POST, request.FILES)
            forms["files_form"] = form
            if form.is_valid():
                services.proposal_add_files(
                    proposal=proposal, by=user, files=form.cleaned_data["files"], kind=form.cleaned_data["kind"]
                )
    except Conflict as error:
        messages.warning(request, error.message)
        return redirect(proposal)
    except ValidationError as error:
        add_service_errors(form, error)
    if form is not None and form.is_valid() and not form.errors:
        messages.success(request, STEP_MESSAGES[step])
        return redirect(proposal)
    context = _proposal_context(request, proposal, **forms)
    context["failed_step"] = step
    return render(request, "funds/proposal.html", context, status=400)


@staff_required
def proposal_file(request, pk):
    """A quote or receipt, only for those who may see its proposal (404 otherwise), never cached."""
    item = services.access_file_by_id(request.user, pk)
    response = FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=item.content_type == "application/pdf",
        filename=os.path.basename(item.file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response
