"""The 物业费缴纳率 import: the third kind of the registry import (``communities.services.imports``
uploads, reports, marks the sheet, dry-runs, applies in resumable batches and audits; this
module says what a row is and what it writes).

One sheet, one row per compound and month: 小区 (a compound of *this* community, by name), 月份
(``2026-09``, or any day of it) and 缴纳率(%) (0–100, ``91.5`` or ``91.5%``). Each row is written by
``services.fees.fee_rate_record`` (the same write as the page's form, with its audit line; source
``import``), so the compound's rate follows its latest month. The same compound and month twice
in the file is a row error; importing the same sheet again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from baohe.models import ImportJob
from baohe.validators import validate_text

from .imports import EXAMPLE_MARK, Column, add_notes_sheet, parse_sheet_date
from .models import Compound, CompoundFeeRate
from .services.fees import fee_rate_record, parse_rate
from .services.imports import ImportKind, register_kind

SHEET_TITLE = "物业费缴纳率导入"
COLUMNS = (
    Column("seq", "序号", False, gettext_lazy("可留空；以“示例”开头的行不导入。")),
    Column("compound", "小区", True, gettext_lazy("本社区的小区名称，从下拉列表选择。")),
    Column("month", "月份", True, gettext_lazy("如 2026-09（按文本填写）；填该月任意一天也可以。")),
    Column(
        "rate", "缴纳率(%)", True, gettext_lazy("0 到 100 的百分数数值，如 91.5；同一小区同一月份再次导入即为更正。")
    ),
)
HEADERS = {column.key: column.header for column in COLUMNS}
BY_HEADER = {column.header: column for column in COLUMNS}
REQUIRED = tuple(column for column in COLUMNS if column.required)
PLAN_KEYS = ("fees_create", "fees_update", "fees_unchanged")
_MONTH = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*月?\Z")


def parse_month(text: str) -> dt.date | None:
    """``2026-09``, ``2026/9``, ``2026年9月`` or a date in the month: its first day; ``None`` if not one."""
    text = text.strip()
    match = _MONTH.match(text)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), 1)
        except ValueError:
            return None
    day = parse_sheet_date(text.split(" ")[0]) if text else None  # a date cell reads "2026-09-01 00:00:00"
    return day.replace(day=1) if day else None


def template_book(community) -> Workbook:
    """The fee-rate template for ``community``: a drop-down of its compounds, an example row, the notes."""
    compounds = list(Compound.objects.filter(community=community).order_by("name").values_list("name", flat=True))
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    sheet.append([f"{column.header}*" if column.required else column.header for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE9E7")
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    sheet.append([EXAMPLE_MARK, compounds[0] if compounds else "", last_month, "91.5"])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="888888")
    for letter, width in (("B", 24), ("C", 12), ("D", 12)):
        sheet.column_dimensions[letter].number_format = "@"
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    options = book.create_sheet("选项")
    for row, name in enumerate(compounds or [""], start=1):
        options.cell(row=row, column=1, value=name)
    options.sheet_state = "hidden"
    rule = DataValidation(
        type="list",
        formula1=f"=选项!$A$1:$A${max(len(compounds), 1)}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("请从下拉列表选择"),
        error=_("请从下拉列表选择"),
    )
    rule.add("B2:B60001")
    sheet.add_data_validation(rule)
    add_notes_sheet(
        book,
        title=_("%(community)s 物业费缴纳率导入模板") % {"community": community.name},
        intro=_("每行一个小区一个月份的物业费缴纳率。带 * 的列必填。"),
        columns=COLUMNS,
        widths=(16, 100),
    )
    return book


@dataclass
class FeeRow:
    number: int
    compound: Compound
    month: dt.date
    rate: Decimal


def header_map(cells: list[str]) -> tuple[dict[str, int], list[str]]:
    """``({column key: index}, [missing required headers])`` from the header row."""
    found: dict[str, int] = {}
    for index, text in enumerate(cells):
        column = BY_HEADER.get(text.strip().rstrip("*").strip())
        if column is not None and column.key not in found:
            found[column.key] = index
    return found, [column.header for column in REQUIRED if column.key not in found]


class FeeChecker:
    """Checks the rows of one community's sheet, its compounds loaded once."""

    def __init__(self, community):
        self.compounds = {c.name: c for c in Compound.objects.filter(community=community)}

    def check(self, number: int, cells: list[str], columns: dict[str, int]) -> tuple[FeeRow | None, list]:
        def value(key):
            index = columns.get(key)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        errors: list[tuple[str, str]] = []

        def error(key, message):
            errors.append((HEADERS[key], str(message)))

        for key in columns:
            try:
                if "\x00" in value(key):
                    raise ValidationError(_("不能包含控制字符（如 NUL、\\x01、\\x1b），请删去后重试。"))
                validate_text(value(key))
            except ValidationError as problem:
                error(key, problem.messages[0])
        if errors:
            return None, errors
        for column in REQUIRED:
            if not value(column.key):
                error(column.key, _("必填，不能为空。"))
        compound = self.compounds.get(value("compound"))
        if value("compound") and compound is None:
            error("compound", _("本社区没有名为“%(name)s”的小区。") % {"name": value("compound")})
        month = parse_month(value("month")) if value("month") else None
        if value("month") and month is None:
            error("month", _("月份应写成 2026-09。"))
        elif month is not None and month > timezone.localdate():
            error("month", _("不能登记未来月份的缴纳率。"))
        rate = None
        if value("rate"):
            try:
                rate = parse_rate(value("rate"))
            except ValidationError as problem:
                error("rate", problem.messages[0])
        if errors or compound is None or month is None or rate is None:
            return None, errors
        return FeeRow(number=number, compound=compound, month=month, rate=rate), []


def _existing(rows: list[FeeRow]) -> dict[tuple[int, dt.date], Decimal]:
    return {
        (compound_id, month): rate
        for compound_id, month, rate in CompoundFeeRate.objects.filter(
            compound__in={row.compound.pk for row in rows}, month__in={row.month for row in rows}
        ).values_list("compound_id", "month", "rate")
    }


def _outcome(row: FeeRow, existing: dict[tuple[int, dt.date], Decimal]) -> str:
    before = existing.get((row.compound.pk, row.month))
    if before is None:
        return "create"
    return "unchanged" if before == row.rate else "update"


def validate(job, rows) -> tuple[dict[int, list[tuple[str, str]]], int, dict[str, int]]:
    """Every row, a compound and month twice in the file; the dry run's counts."""
    errors: dict[int, list[tuple[str, str]]] = defaultdict(list)
    first: dict[tuple[int, dt.date], int] = {}
    good: list[FeeRow] = []
    checked = 0
    for number, row, row_errors in rows:
        checked += 1
        if row_errors:
            errors[number].extend(row_errors)
        if row is None:
            continue
        seen = first.setdefault((row.compound.pk, row.month), number)
        if seen != number:
            errors[number].append((HEADERS["month"], _("与第 %(row)s 行的小区和月份重复。") % {"row": seen}))
            continue
        good.append(row)
    counts: dict[str, int] = defaultdict(int)
    existing = _existing(good)
    for row in good:
        counts[f"fees_{_outcome(row, existing)}"] += 1
    return errors, checked, {key: counts[key] for key in PLAN_KEYS}


def apply_rows(job, rows: list[FeeRow], counts: dict[str, int]) -> None:
    """One batch, inside the batch's transaction: each new or changed month through the one write."""
    existing = _existing(rows)
    for row in rows:
        outcome = _outcome(row, existing)
        counts[f"fees_{outcome}"] += 1
        if outcome != "unchanged":
            fee_rate_record(
                compound=row.compound,
                month=row.month,
                rate=row.rate,
                by=job.created_by,
                source=CompoundFeeRate.Source.IMPORT,
            )


register_kind(
    ImportKind(
        kind=ImportJob.Kind.FEES,
        sheet_title=SHEET_TITLE,
        template=template_book,
        template_filename=gettext_lazy("%(community)s-物业费缴纳率导入模板.xlsx"),
        header_map=header_map,
        checker=FeeChecker,
        validate=validate,
        apply_rows=apply_rows,
        plan_labels=(
            ("fees_create", gettext_lazy("将新增月份"), gettext_lazy("新增月份")),
            ("fees_update", gettext_lazy("将更正月份"), gettext_lazy("更正月份")),
            ("fees_unchanged", gettext_lazy("未变化"), gettext_lazy("未变化")),
        ),
    )
)
