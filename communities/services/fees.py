"""物业费缴纳率: a compound's property-fee collection rate, month by month.

:func:`fee_rate_record` is the one write (the staff form, the API and the spreadsheet import
all call it): it validates the month and the rate, creates or replaces the compound's row for
that month, re-checks the row against the writer's change scope, writes one audit line, and
keeps the compound's derived ``fee_collection_rate`` / ``fee_rate_month`` (the latest month's)
in step in the same transaction (:func:`compound_fee_sync`). Who may write: whoever may change
the compound (its community's staff and secretary, its street's staff, administrators).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.exceptions import OutOfScope
from baohe.scoping import CHANGE, check_in_scope
from baohe.services import record_change, row_values

from ..models import Compound, CompoundFeeRate

RATE_STEP = Decimal("0.01")
EARLIEST_YEAR = 2000


def parse_rate(value: Any) -> Decimal:
    """A rate in percent (``91.5``, ``"91.5"``, ``"91.5%"``) as a Decimal to 0.01; ``ValidationError``
    for anything else or outside 0–100."""
    text = str(value).strip().rstrip("%").strip() if value is not None else ""
    try:
        if not text.isascii():
            raise InvalidOperation
        rate = Decimal(text)
    except InvalidOperation:
        raise ValidationError({"rate": _("缴纳率请填写 0 到 100 之间的数字，如 91.5。")}, code="invalid") from None
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise ValidationError({"rate": _("缴纳率请填写 0 到 100 之间的数字，如 91.5。")}, code="range")
    return rate.quantize(RATE_STEP)


def compound_fee_sync(compound: Compound) -> None:
    """Copy the latest month's rate onto the compound (``None`` when it has none)."""
    latest = CompoundFeeRate.objects.filter(compound=compound).order_by("-month").values("rate", "month").first()
    rate, month = (latest["rate"], latest["month"]) if latest else (None, None)
    Compound.objects.filter(pk=compound.pk).update(fee_collection_rate=rate, fee_rate_month=month)
    compound.fee_collection_rate, compound.fee_rate_month = rate, month


def fee_rate_record(
    *,
    compound: Compound,
    month: dt.date,
    rate: Any,
    by: Any,
    source: str = CompoundFeeRate.Source.MANUAL,
    request: HttpRequest | None = None,
) -> CompoundFeeRate:
    """Record (or replace) ``compound``'s rate for ``month`` as ``by``; 404 outside their change scope."""
    if not Compound.objects.restrict(by, CHANGE).filter(pk=compound.pk).exists():
        raise OutOfScope(Compound._meta.verbose_name)
    if month is None:
        raise ValidationError({"month": _("请填写月份。")}, code="required")
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise ValidationError({"month": _("不能登记未来月份的缴纳率。")}, code="future")
    if month.year < EARLIEST_YEAR:
        raise ValidationError({"month": _("月份不能早于 2000 年。")}, code="too_early")
    value = parse_rate(rate)
    with transaction.atomic():
        row = CompoundFeeRate.objects.select_for_update().filter(compound=compound, month=month).first()
        before = row_values(row) if row else None
        if row is None:
            row = CompoundFeeRate(compound=compound, month=month)
        elif row.rate == value and row.source == source:
            return row
        row.rate, row.source, row.entered_by = value, source, by
        row.full_clean()
        row.save()
        check_in_scope(row, by, CHANGE)
        record_change(user=by, instance=row, before=before, request=request)
        compound_fee_sync(compound)
    return row
