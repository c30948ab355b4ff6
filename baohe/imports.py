"""Spreadsheet import machinery (issue 17): reading an uploaded .xlsx or .csv safely, the import
job's rows, and the marked sheet. It knows no app; ``communities.services.imports`` says what a
registry row is.

**At upload** (:func:`check_upload`, in the web request, before anything is stored):

- at most ``IMPORT_MAX_BYTES``; ``.xlsx`` or ``.csv`` only (``.xlsm``/``.xls`` refused), judged by
  content (a zip is an .xlsx whatever its name claims);
- an .xlsx is a zip archive, inspected *before* it is opened (:func:`check_archive`): the parts'
  declared sizes must add up to at most ``IMPORT_MAX_UNPACKED_BYTES`` and no part may be
  compressed more than ``IMPORT_MAX_ZIP_RATIO`` times (zip bombs); macros (``vbaProject.bin``,
  macro sheets, a macro-enabled content type), external links and XML with a ``DOCTYPE`` are
  refused. Python's ``zipfile`` never inflates a part beyond its declared size (and fails on a
  wrong CRC), so the declared sizes bound what is read later;
- the first sheet is then streamed once (:func:`scan_rows`): its data rows are counted against
  ``IMPORT_MAX_ROWS`` and a formula anywhere refuses the file (formulas are never evaluated and
  never taken as values: the person who made the sheet pastes values and uploads again);
- a CSV is decoded as UTF-8 (with or without BOM), else GB18030 (what Excel on a Chinese
  Windows writes), else refused; a cell starting with ``=`` counts as a formula there too.

**In the worker**: :func:`iter_rows` reads the sheet again, one row at a time, as the text of
each cell, numbered as the spreadsheet shows them. An .xlsx is streamed with expat
(:func:`xlsx_rows`: shared and inline strings, numbers, dates by their cell format, booleans;
no DOM and no object per cell, a DOCTYPE or entity declaration refused): openpyxl's read-only
mode, tried first, read a 50,000-row sheet at a third of the speed (``bench/README.md``).
openpyxl still writes every file (templates, the marked sheet, exports).

**The marked sheet** (:func:`marked_sheet`): the same rows with a 错误说明 column added, the bad
rows' error cells highlighted, written with :func:`baohe.exports.neutralise_cell` like every
export, so a cell that starts with ``=``, ``+``, ``-`` or ``@`` stays text.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import iterparse  # noqa: S405 - DOCTYPEs are refused before parsing (no entities)
from xml.parsers import expat  # noqa: S410 - a DOCTYPE or entity declaration is refused by the handlers

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

XLSX, CSV = "xlsx", "csv"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MACRO_MARKERS = ("vbaproject.bin", "xl/macrosheets/", "xl/dialogsheets/", "activex")


class ImportRefused(ValidationError):
    """The file is refused as a whole (too big, hostile, not a spreadsheet); nothing is stored."""

    def __init__(self, message, code="refused"):
        super().__init__(message, code=code)


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check at upload time."""

    name: str
    file_format: str
    content: bytes
    sha256: str
    encoding: str  # a CSV's encoding ("utf-8" / "gb18030"); "" for .xlsx
    rows: int  # data rows (after the header row), blank rows not counted


def check_upload(upload) -> CheckedFile:
    """Check an uploaded file (a Django ``UploadedFile`` or any object with ``name`` and
    ``read``); raises :class:`ImportRefused` with a message for people."""
    name = (getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][:200]
    limit = settings.IMPORT_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_big(limit)
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _too_big(limit)
    if not content:
        raise ImportRefused(_("文件是空的。"), code="empty")
    extension = posixpath.splitext(name.lower())[1]
    if extension in (".xlsm", ".xltm", ".xlsb", ".xls"):
        raise ImportRefused(
            _("只接受 .xlsx 或 .csv 文件；含宏的工作簿（.xlsm）和旧版 .xls 请另存为 .xlsx。"), code="format"
        )
    encoding = ""
    if content[:4] == b"PK\x03\x04":
        file_format = XLSX
        check_archive(content)
    elif extension == ".xlsx":
        raise ImportRefused(_("这不是有效的 .xlsx 文件，请用 Excel 或 WPS 另存为 .xlsx 后重试。"), code="format")
    elif extension in (".csv", ".txt", ""):
        file_format = CSV
        encoding = detect_encoding(content)
    else:
        raise ImportRefused(_("只接受 .xlsx 或 .csv 文件。"), code="format")
    rows = scan_rows(content, file_format, encoding)
    if rows > settings.IMPORT_MAX_ROWS:
        raise ImportRefused(
            _("文件有 %(rows)s 行数据，超过每次最多 %(max)s 行的限制，请拆分后分批导入。")
            % {"rows": rows, "max": settings.IMPORT_MAX_ROWS},
            code="too_many_rows",
        )
    return CheckedFile(
        name=name,
        file_format=file_format,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        encoding=encoding,
        rows=rows,
    )


def _too_big(limit):
    return ImportRefused(
        _("文件超过 %(mb)s MB 的上限，请拆分后分批导入。") % {"mb": round(limit / 1024 / 1024, 1)}, code="too_large"
    )


# --- .xlsx: the archive before it is opened ------------------------------------------------------
def check_archive(content: bytes) -> None:
    """Refuse a zip bomb, macros, external links or a DOCTYPE, from the archive's directory and
    the first bytes of its XML parts, without unpacking anything whole."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise ImportRefused(_("这不是有效的 .xlsx 文件（压缩包已损坏）。"), code="format") from error
    bomb = ImportRefused(
        _("文件解压后异常巨大（疑似“压缩炸弹”），已拒绝。请用 Excel 或 WPS 重新保存后上传。"), code="zip_bomb"
    )
    if len(infos) > 10_000:
        raise bomb
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 0 and info.file_size > settings.IMPORT_MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise bomb
    if total > settings.IMPORT_MAX_UNPACKED_BYTES:
        raise bomb
    names = {info.filename.lower() for info in infos}
    if any(marker in name for name in names for marker in _MACRO_MARKERS):
        raise ImportRefused(_("文件含有宏（VBA），为安全起见已拒绝。请另存为不含宏的 .xlsx 后上传。"), code="macros")
    if any(name.startswith("xl/externallinks/") for name in names):
        raise ImportRefused(
            _("文件含有指向其他工作簿的外部链接，已拒绝。请复制后“选择性粘贴为数值”，另存后上传。"),
            code="external_links",
        )
    if "[content_types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportRefused(_("这不是有效的 .xlsx 文件（缺少工作簿）。"), code="format")
    with archive:
        for info in infos:
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(info) as part:
                head = part.read(4096)
            if b"<!DOCTYPE" in head.upper().replace(b"<!doctype", b"<!DOCTYPE"):
                raise ImportRefused(_("文件含有不允许的 XML 声明（DOCTYPE），已拒绝。"), code="doctype")
            if info.filename == "[Content_Types].xml" and b"macroenabled" in head.lower():
                raise ImportRefused(
                    _("文件含有宏（VBA），为安全起见已拒绝。请另存为不含宏的 .xlsx 后上传。"), code="macros"
                )


def first_sheet_path(archive: zipfile.ZipFile) -> str:
    """The part name of the workbook's first sheet (``xl/worksheets/sheet1.xml`` usually)."""
    with archive.open("xl/workbook.xml") as handle:
        rel_id = None
        for _event, element in iterparse(handle, events=("end",)):  # noqa: S314 - no DOCTYPE (check_archive)
            if element.tag == f"{_NS_MAIN}sheet":
                rel_id = element.get(f"{_NS_REL}id")
                break
    if rel_id is None:
        raise ImportRefused(_("工作簿里没有工作表。"), code="format")
    with archive.open("xl/_rels/workbook.xml.rels") as handle:
        for _event, element in iterparse(handle, events=("end",)):  # noqa: S314 - no DOCTYPE (check_archive)
            if element.tag == f"{_NS_PKG_REL}Relationship" and element.get("Id") == rel_id:
                target = element.get("Target") or ""
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                return path
    raise ImportRefused(_("工作簿里没有工作表。"), code="format")


def scan_rows(content: bytes, file_format: str, encoding: str = "") -> int:
    """Count the data rows of the first sheet (or the CSV) in one streaming pass, refusing a formula."""
    if file_format == CSV:
        count = 0
        for number, cells in _csv_rows(content, encoding):
            for index, cell in enumerate(cells):
                if cell.startswith("="):
                    raise _formula(number, column_name(index))
            if number > 1 and any(cells):
                count += 1
        return count
    count = 0
    for number, cells in xlsx_rows(content):
        if number > 1 and any(cells):
            count += 1
            if count > settings.IMPORT_MAX_ROWS * 10:
                break  # far over the limit already: no need to read on
    return count


def _formula(row: int, column: str) -> ImportRefused:
    return ImportRefused(
        _("第 %(row)s 行 %(column)s 列是公式。导入只接受数值：请复制整表后“选择性粘贴为数值”，另存后再上传。")
        % {"row": row, "column": column},
        code="formula",
    )


def column_name(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


# --- CSV -------------------------------------------------------------------------------------------
def detect_encoding(content: bytes) -> str:
    """``utf-8`` (a BOM or not) or ``gb18030``; refuses anything else."""
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.decode(content, encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportRefused(_("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GB18030（ANSI）编码。"), code="encoding")


def _csv_rows(content: bytes, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """A CSV's rows as ``(row number, [cell text, …])``; a malformed file (a field longer than
    the csv module's limit, a NUL byte) is refused, not a crash."""
    text = content.decode(encoding).lstrip("\ufeff")
    if "\x00" in text:
        raise ImportRefused(_("CSV 文件含有 NUL 字符，不是文本文件。"), code="format")
    reader = csv.reader(io.StringIO(text))
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in cells]
    except csv.Error as error:
        raise ImportRefused(
            _("CSV 文件格式有误，无法读取，请用 Excel 或 WPS 另存为 CSV 后重试。"), code="format"
        ) from error


# --- reading in the worker -----------------------------------------------------------------------
def cell_text(value) -> str:
    """A cell as the text a person sees: numbers without a trailing ``.0``, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def iter_rows(content: bytes, file_format: str, encoding: str = "") -> Iterator[tuple[int, list[str]]]:
    """``(row number, [cell text, …])`` for every row of the first sheet, header included."""
    if file_format == CSV:
        yield from _csv_rows(content, encoding)
        return
    yield from xlsx_rows(content)


# --- .xlsx: one streaming pass over the first sheet ----------------------------------------------------
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CJK_DATE_FORMATS = frozenset(range(27, 37)) | frozenset(range(50, 59))  # 年月日 formats of zh-CN Excel
_CHUNK = 1 << 16


def _expat(start=None, end=None, text=None):
    """An expat parser with namespaces (``uri local`` names) that refuses any DOCTYPE or entity."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse(*args):
        raise ImportRefused(_("文件含有不允许的 XML 声明（DOCTYPE），已拒绝。"), code="doctype")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.buffer_text = True
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    return parser


def _parse_part(archive: zipfile.ZipFile, name: str, parser) -> None:
    try:
        with archive.open(name) as handle:
            while chunk := handle.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except KeyError:
        return
    except (expat.ExpatError, zipfile.BadZipFile, EOFError, ValueError) as error:
        raise ImportRefused(_("这不是有效的 .xlsx 文件（工作表无法读取）。"), code="format") from error


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    """``xl/sharedStrings.xml`` as a list (rich text runs joined, phonetic runs left out)."""
    strings: list[str] = []
    parts: list[str] = []
    state = {"t": False, "phonetic": 0}

    def start(name, attrs):
        local = name.rpartition(" ")[2]
        if local == "si":
            parts.clear()
        elif local == "rPh":
            state["phonetic"] += 1
        elif local == "t" and not state["phonetic"]:
            state["t"] = True

    def end(name):
        local = name.rpartition(" ")[2]
        if local == "si":
            strings.append("".join(parts))
        elif local == "rPh":
            state["phonetic"] -= 1
        elif local == "t":
            state["t"] = False

    def text(data):
        if state["t"]:
            parts.append(data)

    _parse_part(archive, "xl/sharedStrings.xml", _expat(start, end, text))
    return strings


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell formats (``cellXfs``) that show a number as a date."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    custom: dict[int, str] = {}
    formats: list[int] = []
    state = {"xfs": False}

    def start(name, attrs):
        local = name.rpartition(" ")[2]
        if local == "numFmt":
            try:
                custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
            except ValueError:
                pass
        elif local == "cellXfs":
            state["xfs"] = True
        elif local == "xf" and state["xfs"]:
            try:
                formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                formats.append(0)

    def end(name):
        if name.rpartition(" ")[2] == "cellXfs":
            state["xfs"] = False

    _parse_part(archive, "xl/styles.xml", _expat(start, end))
    dates = set()
    for index, number in enumerate(formats):
        code = custom.get(number) or BUILTIN_FORMATS.get(number, "")
        if number in _CJK_DATE_FORMATS or (code and is_date_format(code)):
            dates.add(index)
    return dates


def _column_index(ref: str) -> int:
    index = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            index = index * 26 + ord(ch) - 64
        else:
            break
    return index - 1


def xlsx_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    """``(row number, [cell text, …])`` for every row of the first sheet, in one streaming pass
    with expat (no DOM, no per-cell objects: openpyxl's read-only mode was a third of the
    speed). Shared strings, inline strings, numbers (a date format gives an ISO date),
    booleans and errors become the text a person sees; a formula refuses the file."""
    from openpyxl.utils.datetime import from_excel

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        try:
            path = first_sheet_path(archive)
            archive.getinfo(path)
        except KeyError as error:
            raise ImportRefused(_("这不是有效的 .xlsx 文件（缺少工作表）。"), code="format") from error
        shared = _shared_strings(archive)
        dates = _date_styles(archive)
        ready: list[tuple[int, list[str]]] = []
        row: dict[int, str] = {}
        parts: list[str] = []
        cell = {"row": 0, "col": -1, "type": "n", "style": 0, "collect": False, "in_is": False}
        c_tag, v_tag, t_tag = f"{_MAIN} c", f"{_MAIN} v", f"{_MAIN} t"
        row_tag, is_tag, f_tag = f"{_MAIN} row", f"{_MAIN} is", f"{_MAIN} f"

        def start(name, attrs):
            if name == c_tag:
                ref = attrs.get("r")
                cell["col"] = _column_index(ref) if ref else cell["col"] + 1
                cell["type"] = attrs.get("t", "n")
                style = attrs.get("s")
                cell["style"] = int(style) if style and style.isascii() and style.isdecimal() else 0
                parts.clear()
            elif name == v_tag or (name == t_tag and cell["in_is"]):
                cell["collect"] = True
            elif name == row_tag:
                number = attrs.get("r")
                cell["row"] = int(number) if number and number.isascii() and number.isdecimal() else cell["row"] + 1
                cell["col"] = -1
                row.clear()
            elif name == is_tag:
                cell["in_is"] = True
            elif name == f_tag:
                letters = "".join(ch for ch in (attrs.get("r") or "") if ch.isalpha())
                raise _formula(cell["row"], letters or column_name(cell["col"]))

        def end(name):
            if name == v_tag or name == t_tag:
                cell["collect"] = False
            elif name == is_tag:
                cell["in_is"] = False
            elif name == c_tag:
                raw = "".join(parts)
                kind = cell["type"]
                if kind == "s":
                    try:
                        value = shared[int(raw)]
                    except (ValueError, IndexError):
                        value = ""
                elif kind == "n":
                    value = raw
                    if raw:
                        try:
                            number = float(raw)
                        except ValueError:
                            number = None
                        if number is not None:
                            if cell["style"] in dates:
                                try:
                                    value = cell_text(from_excel(number))
                                except (ValueError, OverflowError):
                                    value = cell_text(number)
                            else:
                                value = cell_text(number)
                elif kind == "b":
                    value = cell_text(raw == "1")
                elif kind == "d":
                    value = raw.split("T", 1)[0] if raw.endswith("T00:00:00") or "T" not in raw else raw
                else:  # inlineStr, str, e
                    value = raw
                value = value.strip()
                if value and cell["col"] >= 0:
                    row[cell["col"]] = value
            elif name == row_tag:
                width = max(row) + 1 if row else 0
                ready.append((cell["row"], [row.get(i, "") for i in range(width)]))

        def text(data):
            if cell["collect"]:
                parts.append(data)

        parser = _expat(start, end, text)
        try:
            with archive.open(path) as handle:
                while chunk := handle.read(_CHUNK):
                    parser.Parse(chunk, False)
                    yield from ready
                    ready.clear()
                parser.Parse(b"", True)
        except (expat.ExpatError, zipfile.BadZipFile, EOFError, ValueError) as error:
            raise ImportRefused(_("这不是有效的 .xlsx 文件（工作表无法读取）。"), code="format") from error
        yield from ready


def marked_sheet(
    content: bytes,
    file_format: str,
    encoding: str,
    errors: dict[int, list[str]],
    *,
    title: str,
    error_header: str,
) -> bytes:
    """The uploaded sheet as .xlsx with an error column: each bad row's messages, highlighted."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    from .exports import neutralise_cell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    red = PatternFill("solid", fgColor="FFC7CE")
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    width = 0
    for number, cells in iter_rows(content, file_format, encoding):
        width = max(width, len(cells))
        row = [WriteOnlyCell(sheet, value=neutralise_cell(value) if value else None) for value in cells]
        row += [WriteOnlyCell(sheet, value=None) for _ in range(width - len(cells))]
        if number == 1:
            for cell in row:
                cell.font = bold
            note = WriteOnlyCell(sheet, value=error_header)
            note.font = bold
        else:
            messages = errors.get(number)
            note = WriteOnlyCell(sheet, value=neutralise_cell("；".join(messages)) if messages else None)
            if messages:
                note.fill = red
                note.alignment = wrap
        sheet.append([*row, note])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
