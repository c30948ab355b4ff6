"""The Excel export of approved service hours per team and month (openpyxl).

One sheet: a row per team (hours without a team form a row of their own per community),
a column per month of the year and the row total, then a totals row. Hours are written as
exact decimals with two places, so the sheet adds up to the hundredth of an hour exactly
as the database does. The views answer it through ``baohe.exports.export_response`` (who and when
in the file, one audit line per export).
"""

from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from baohe.exports import XLSX

__all__ = ["XLSX", "hours_book"]
HOURS_FORMAT = "0.00"
HEADER_FILL = PatternFill("solid", fgColor="FDE8E8")


def hours_book(rows, *, year, community=None):
    """``rows`` from ``selectors.hours_by_team_month``; returns the workbook."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("服务时长")
    header = [_("社区"), _("志愿服务队")] + [_("%(month)s月") % {"month": m} for m in range(1, 13)] + [_("合计")]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    totals = [Decimal("0.00")] * 13
    for row in rows:
        months = [row["months"].get(m, Decimal("0.00")) for m in range(1, 13)]
        sheet.append([row["community"], row["team"] or _("（未分队）"), *months, row["total"]])
        for i, value in enumerate([*months, row["total"]]):
            totals[i] += value
    sheet.append([_("合计"), "", *totals])
    last = sheet.max_row
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, min_col=3, max_col=15):
        for cell in row:
            cell.number_format = HOURS_FORMAT
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 24
    for column in range(3, 16):
        sheet.column_dimensions[get_column_letter(column)].width = 9
    sheet.freeze_panes = "C2"
    scope = community.name if community is not None else _("全部")
    sheet.oddHeader.center.text = _("%(year)s年志愿服务时长（%(scope)s）") % {"year": year, "scope": scope}
    return book
