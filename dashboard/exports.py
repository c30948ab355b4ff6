"""Excel (openpyxl): a dashboard table as a formatted sheet (also the monthly report's sections),
and the rows of a list. Numbers stay numbers: counts as integers, rates as fractions formatted
``0.0%``, hours as exact decimals, so a spreadsheet can compute with them.

The views answer these workbooks through ``baohe.exports.export_response`` (who and when in the
file, one audit line per export); a list shows officials no household's building, unit or room
where the list is of vulnerable households (``ListSpec.columns_for``).
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from baohe.exports import XLSX

__all__ = ["XLSX", "list_book", "table_book", "write_sheet"]
HEADER_FILL = PatternFill("solid", fgColor="C8161D")
TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="D0D0D0")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FORMATS = {"int": "#,##0", "percent": "0.0%", "hours": "#,##0.00", "money": "#,##0.00", "text": "@"}


def write_sheet(sheet, table, *, subtitle=""):
    """Write one table to a worksheet: a title row, a subtitle, the header and the rows."""
    width = max(len(table.columns), 1)
    sheet.append([str(table.title)])
    sheet.cell(row=1, column=1).font = TITLE_FONT
    if width > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.append([subtitle])
    sheet.cell(row=2, column=1).font = Font(color="666666")
    if width > 1:
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    header_row = 3
    sheet.append([str(column.label) for column in table.columns])
    for index in range(1, width + 1):
        cell = sheet.cell(row=header_row, column=index)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = BORDER
    if not table.available or not table.rows:
        sheet.append([_("暂无数据")])
    for row in table.rows:
        values = []
        for cell in row:
            value = cell.value
            if cell.kind in ("hours", "money") and value is not None:
                value = Decimal(value)
            values.append(value)
        sheet.append(values)
        current = sheet.max_row
        for index, cell in enumerate(row, start=1):
            target = sheet.cell(row=current, column=index)
            target.border = BORDER
            if cell.value is not None:
                target.number_format = FORMATS[cell.kind]
            if cell.kind != "text":
                target.alignment = Alignment(horizontal="right")
    if table.note:
        sheet.append([])
        sheet.append([str(table.note)])
        note = sheet.cell(row=sheet.max_row, column=1)
        note.font = Font(italic=True, color="666666")
        note.alignment = Alignment(wrap_text=True, vertical="top")
        if width > 1:
            sheet.merge_cells(start_row=note.row, start_column=1, end_row=note.row, end_column=width)
        sheet.row_dimensions[note.row].height = 32
    for index, column in enumerate(table.columns, start=1):
        longest = max(
            [len(str(column.label)) * 2]
            + [len(str(row[index - 1].value or "")) * (2 if not row[index - 1].numeric else 1) for row in table.rows]
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 40)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    return sheet


def sheet_title(title):
    """A worksheet title: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(ch for ch in str(title) if ch not in "[]:*?/\\")
    return cleaned[:31] or "Sheet"


def subtitle_for(dashboard):
    place = dashboard.place
    generated = timezone.localtime(dashboard.now).strftime("%Y-%m-%d %H:%M")
    return _("%(place)s · %(period)s · 生成于 %(when)s") % {
        "place": place.name,
        "period": dashboard.period.label,
        "when": generated,
    }


def table_book(table, dashboard):
    """One dashboard table as a workbook."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(table.title)
    write_sheet(sheet, table, subtitle=subtitle_for(dashboard))
    return book


def list_book(spec, dashboard, queryset, *, limit):
    """The rows of a list (at most ``limit``) as ``(workbook, rows written)``; the columns are
    those the dashboard's user may see (``spec.columns_for``)."""
    columns = spec.columns_for(dashboard.user)
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(spec.title)
    sheet.append([str(spec.title)])
    sheet["A1"].font = TITLE_FONT
    sheet.append([subtitle_for(dashboard) if spec.period else dashboard.place.name])
    sheet.append([str(c.label) for c in columns])
    for cell in sheet[3]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    rows = list(queryset[: limit + 1])
    for obj in rows[:limit]:
        sheet.append([plain(column.value(obj)) for column in columns])
    if len(rows) > limit:
        sheet.append([_("仅导出前 %(n)s 行。") % {"n": limit}])
        sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True)
    for index in range(1, len(columns) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 18
    sheet.freeze_panes = "A4"
    return book, min(len(rows), limit)


def plain(value):
    if value is None or isinstance(value, int | float | str):
        return value
    if hasattr(value, "isoformat") or hasattr(value, "quantize"):
        return value
    return str(value)
