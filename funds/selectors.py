"""Reads of the funds that pages, the API, the compound board and the dashboards share.

Execution (执行率) is what was paid over the budget; it is compared with the share of the year
elapsed (``year_elapsed``): a place whose execution lags or leads the year by more than
``FUNDS_ALERT_POINTS`` percentage points is flagged (``Execution.alert``). Every figure comes
from the funds' running totals (``Fund.budget``/``committed``/``paid``) in one aggregate query.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Fund, LedgerEntry, Proposal

ZERO = Decimal("0.00")
Status = Proposal.Status
#: Statuses whose amount is committed from the fund (approved, awaiting the street, or paid).
COMMITTED_STATUSES = (Status.STREET_REVIEW, Status.APPROVED, Status.PAID)
ALERTS = {"behind": _("执行滞后"), "ahead": _("执行超前"), "": _("正常")}


def year_elapsed(year: int, today: date) -> Decimal:
    """The share of ``year`` gone by at the end of ``today`` (0 before it, 1 after it)."""
    if year < today.year:
        return Decimal(1)
    if year > today.year:
        return Decimal(0)
    days = 366 if calendar.isleap(year) else 365
    return Decimal(today.timetuple().tm_yday) / Decimal(days)


@dataclass(frozen=True)
class Execution:
    """One row of execution: a street, a community or a fund."""

    key: Any
    name: str
    budget: Decimal
    committed: Decimal
    paid: Decimal
    elapsed: Decimal
    funds: int = 0

    @property
    def available(self) -> Decimal:
        return self.budget - self.committed

    @property
    def rate(self) -> Decimal | None:
        """Paid over budget (a fraction), ``None`` without a budget."""
        return (self.paid / self.budget) if self.budget else None

    @property
    def committed_rate(self) -> Decimal | None:
        return (self.committed / self.budget) if self.budget else None

    @property
    def alert(self) -> str:
        """``behind``, ``ahead`` or ``""``: execution against the share of the year elapsed."""
        rate = self.rate
        if rate is None:
            return ""
        gap = (rate - self.elapsed) * 100
        if gap < -settings.FUNDS_ALERT_POINTS:
            return "behind"
        if gap > settings.FUNDS_ALERT_POINTS:
            return "ahead"
        return ""

    @property
    def alert_label(self) -> str:
        return str(ALERTS[self.alert])


_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _totals() -> dict[str, Any]:
    return {
        "budget_sum": Coalesce(Sum("budget"), Value(ZERO), output_field=_MONEY),
        "committed_sum": Coalesce(Sum("committed"), Value(ZERO), output_field=_MONEY),
        "paid_sum": Coalesce(Sum("paid"), Value(ZERO), output_field=_MONEY),
        "fund_count": Count("pk"),
    }


GROUPS = {
    "street": ("street_id", "street__name"),
    "community": ("community_id", "community__name"),
    "kind": ("kind", None),
    "fund": ("pk", "name"),
}


def execution_rows(funds: QuerySet[Fund], *, by: str, today: date, year: int) -> list[Execution]:
    """Execution of ``funds`` (already narrowed to a scope, a place and ``year``) grouped ``by``
    street, community, kind or fund, in one query, ordered by name."""
    key, name = GROUPS[by]
    fields = [key] + ([name] if name else [])
    rows = funds.order_by().values(*fields).annotate(**_totals()).order_by(name or key)
    elapsed = year_elapsed(year, today)
    labels = dict(Fund.Kind.choices)
    return [
        Execution(
            key=row[key],
            name=str(row[name]) if name else str(labels.get(row[key], row[key])),
            budget=row["budget_sum"],
            committed=row["committed_sum"],
            paid=row["paid_sum"],
            elapsed=elapsed,
            funds=row["fund_count"],
        )
        for row in rows
    ]


def execution_total(funds: QuerySet[Fund], *, today: date, year: int, name: str = "") -> Execution:
    """The whole of ``funds`` as one row (one query)."""
    row = funds.order_by().aggregate(**_totals())
    return Execution(
        key=None,
        name=name,
        budget=row["budget_sum"],
        committed=row["committed_sum"],
        paid=row["paid_sum"],
        elapsed=year_elapsed(year, today),
        funds=row["fund_count"],
    )


# --- as of a day, from the ledger (dashboards and the monthly report) -------------------------------
LEDGER_GROUPS = {
    "street": ("street_id", "street__name"),
    "community": ("community_id", "community__name"),
    "fund": ("fund_id", "fund__name"),
    "purpose": ("proposal__purpose", None),
}


def _ledger_sums() -> dict[str, Any]:
    account = LedgerEntry.Account
    return {
        name: Coalesce(Sum("amount", filter=Q(account=value)), Value(ZERO), output_field=_MONEY)
        for name, value in (
            ("budget_sum", account.BUDGET),
            ("committed_sum", account.COMMITTED),
            ("paid_sum", account.PAID),
        )
    }


def ledger_execution(entries: QuerySet[LedgerEntry], *, by: str | None, year: int, as_of: datetime) -> list[Execution]:
    """Execution of ``year``'s funds as it stood at ``as_of``, summed from the ledger lines
    (``entries`` already narrowed to a scope and a place), grouped ``by`` street, community or
    fund (``None``: one total row), in one query. The share of the year elapsed is the one at
    ``as_of``; the funds' running totals give the same figures for now (a test holds them to it)."""
    entries = entries.filter(fund__year=year, created_at__lt=as_of).order_by()
    elapsed = year_elapsed(year, timezone.localtime(as_of).date())
    if by is None:
        row = entries.aggregate(**_ledger_sums())
        return [
            Execution(
                key=None,
                name="",
                budget=row["budget_sum"],
                committed=row["committed_sum"],
                paid=row["paid_sum"],
                elapsed=elapsed,
            )
        ]
    key, name = LEDGER_GROUPS[by]
    if by == "purpose":  # spending only: budget lines serve no purpose
        entries = entries.filter(proposal__isnull=False)
    fields = [key] + ([name] if name else [])
    rows = entries.values(*fields).annotate(**_ledger_sums()).order_by(*reversed(fields))
    labels = dict(Proposal.Purpose.choices)
    return [
        Execution(
            key=row[key],
            name=str(row[name]) if name else str(labels.get(row[key], row[key])),
            budget=row["budget_sum"],
            committed=row["committed_sum"],
            paid=row["paid_sum"],
            elapsed=elapsed,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PurposeRow:
    purpose: str
    label: str
    proposals: int
    committed: Decimal
    paid: Decimal


def purpose_rows(proposals: QuerySet[Proposal]) -> list[PurposeRow]:
    """Approved spending by purpose (proposals already narrowed): how many, the amount committed
    (approved, awaiting the street or paid: the approved amount, or what was paid) and paid."""
    rows = (
        proposals.filter(status__in=COMMITTED_STATUSES)
        .order_by()
        .values("purpose")
        .annotate(
            count=Count("pk"),
            approved=Coalesce(Sum("amount", filter=~Q(status=Status.PAID)), Value(ZERO), output_field=_MONEY),
            paid_sum=Coalesce(Sum("paid_amount", filter=Q(status=Status.PAID)), Value(ZERO), output_field=_MONEY),
        )
    )
    labels = dict(Proposal.Purpose.choices)
    result = [
        PurposeRow(
            purpose=row["purpose"],
            label=str(labels.get(row["purpose"], row["purpose"])),
            proposals=row["count"],
            committed=row["approved"] + row["paid_sum"],
            paid=row["paid_sum"],
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (-r.committed, r.purpose))


# --- the compound board (公示) ---------------------------------------------------------------------
@dataclass(frozen=True)
class PublicSpending:
    """One spending as residents read it: no names, no payee's people, no receipts."""

    pk: int
    title: str
    fund: str
    purpose: str
    status: str
    status_label: str
    amount: Decimal
    paid_amount: Decimal | None
    decided_at: str
    decided_on: date | None
    paid_on: date | None


def board_funds(community_id: int, today: date) -> dict[str, Any]:
    """The board's 经费公示 for one community this year: each fund's execution and what was
    approved or spent, newest first, with the meeting that decided it. Three queries."""
    year = today.year
    funds = Fund.objects.filter(community_id=community_id, year=year)
    rows = execution_rows(funds, by="fund", today=today, year=year)
    total = execution_total(funds, today=today, year=year)
    spending = (
        Proposal.objects.filter(fund__community_id=community_id, fund__year=year, status__in=COMMITTED_STATUSES)
        .select_related("fund", "decision__meeting")
        .order_by("-paid_at", "-approved_at", "-id")[:30]
    )
    items = []
    for proposal in spending:
        meeting = proposal.decision.meeting if proposal.decision is not None else None
        items.append(
            PublicSpending(
                pk=proposal.pk,
                title=proposal.title,
                fund=proposal.fund.name,
                purpose=proposal.get_purpose_display(),
                status=proposal.status,
                status_label=proposal.get_status_display(),
                amount=proposal.amount,
                paid_amount=proposal.paid_amount,
                decided_at=meeting.topic if meeting else "",
                decided_on=timezone.localtime(meeting.held_at or meeting.scheduled_at).date() if meeting else None,
                paid_on=timezone.localtime(proposal.paid_at).date() if proposal.paid_at else None,
            )
        )
    return {"year": year, "funds": rows, "total": total, "spending": items}
