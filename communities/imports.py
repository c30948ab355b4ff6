"""What a row of the households-and-residents import sheet is (issue 17): its columns, the
template staff download, and the checks of one row against the registry.

One sheet carries households and their residents (one row per person; the household is the
compound, building, unit and room, and its flags). The template (:func:`template_book`) is
made for one community: its drop-downs list that community's compounds, the relations, the
genders and 是/否, a second sheet lists its buildings, a third explains every column, and an
example row (序号 "示例") shows the format (rows whose 序号 starts with 示例 are skipped).

:class:`RowChecker` turns a row's cells into a :class:`ResidentRow` or a list of
``(column, message)`` errors, with the registry's compounds, buildings and households of the
community loaded once. The reading machinery (limits, hostile files) is ``baohe.imports``; the
writes (validate, dry run, apply) are ``communities.services.imports``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from baohe.crypto import blind_index
from baohe.masking import mask_name
from baohe.validators import mobile_validator, validate_id_number, validate_text

from .models import Building, Compound, Household, Resident

EXAMPLE_MARK = "示例"
YES, NO = "是", "否"
_YES = {"是", "y", "yes", "1", "√", "✓", "true"}
_NO = {"否", "n", "no", "0", "×", "false"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as the sheet's first row says it (Chinese, whatever the page's language)
    required: bool
    help: object  # lazy text for the notes sheet


FLAG_HEADERS = {
    "lives_alone_elderly": "独居老人",
    "elderly": "高龄",
    "disabled": "残疾",
    "low_income": "低保",
    "is_rented": "出租户",
}
COLUMNS = (
    Column("seq", "序号", False, gettext_lazy("可留空；以“示例”开头的行不导入。")),
    Column("compound", "小区", True, gettext_lazy("本社区的小区名称，从下拉列表选择。")),
    Column("building", "楼栋号", True, gettext_lazy("如 5 或 5A，见“楼栋清单”。")),
    Column("unit", "单元", True, gettext_lazy("数字，不超过该楼栋的单元数。")),
    Column("room", "房号", True, gettext_lazy("如 1201（12 楼 01 室），不超过该楼栋的层数。")),
    Column("name", "姓名", True, gettext_lazy("居民姓名。")),
    Column("relation", "与户主关系", True, gettext_lazy("户主、配偶、子女、父母、租户、其他；每户须有一名户主。")),
    Column("gender", "性别", False, gettext_lazy("男或女；留空则按身份证号。")),
    Column(
        "id_number",
        "身份证号",
        True,
        gettext_lazy("18 位，按文本填写。已登记的居民按身份证号匹配并更新；在其他社区登记的居民将发起迁入申请。"),
    ),
    Column("birth_date", "出生日期", False, gettext_lazy("可留空；填写时须与身份证号一致，如 1980-05-01。")),
    Column("mobile", "手机号", False, gettext_lazy("11 位手机号，按文本填写。")),
    *(Column(key, header, False, gettext_lazy("是或否；留空表示不改。")) for key, header in FLAG_HEADERS.items()),
)
BY_HEADER = {column.header: column for column in COLUMNS}
REQUIRED = tuple(column for column in COLUMNS if column.required)
# The labels are the Chinese words whatever the language (the sheet's own words).
RELATION_WORDS = {
    "户主": "head",
    "配偶": "spouse",
    "子女": "child",
    "父母": "parent",
    "租户": "tenant",
    "其他": "other",
}
GENDER_WORDS = {"男": Resident.Gender.MALE, "女": Resident.Gender.FEMALE}
_ROOM = re.compile(r"[0-9A-Za-z-]{1,10}\Z")
_UNIT = re.compile(r"[1-9][0-9]{0,2}\Z")  # ASCII only: "²".isdigit() is true
_FLOOR_ROOM = re.compile(r"[0-9]{3,6}\Z")  # 1201: floor 12, room 01
_DATE = re.compile(r"(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?\Z")
_BUILDING_SUFFIX = re.compile(r"(栋|幢|号楼|#)\Z")


def parse_flag(text: str) -> bool | None:
    """是/否 (and the usual other spellings) as True/False; ``None`` for blank or anything else."""
    text = text.strip().lower()
    return True if text in _YES else False if text in _NO else None


def parse_sheet_date(text: str) -> dt.date | None:
    """A date as sheets write it (1998-07-01, 1998/7/1, 1998年7月1日, 19980701); ``None`` if not one."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


# --- the template --------------------------------------------------------------------------------
def template_book(community) -> Workbook:
    """The import template for ``community``: the sheet, its drop-downs, the buildings, the notes."""
    compounds = list(Compound.objects.filter(community=community).order_by("name"))
    buildings = list(
        Building.objects.filter(community=community).select_related("compound").order_by("compound__name", "pk")
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "居民导入"
    sheet.append([f"{column.header}*" if column.required else column.header for column in COLUMNS])
    header_fill = PatternFill("solid", fgColor="FDE9E7")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    example_building = buildings[0] if buildings else None
    example = {
        "seq": EXAMPLE_MARK,
        "compound": example_building.compound.name if example_building else (compounds[0].name if compounds else ""),
        "building": example_building.number if example_building else "1",
        "unit": "1",
        "room": "101",
        "name": "张三",
        "relation": "户主",
        "gender": "男",
        # Descriptions, not numbers: no file the portal hands out holds a full personal number.
        "id_number": _("18 位身份证号"),
        "birth_date": "1949-12-31",
        "mobile": _("11 位手机号"),
        "lives_alone_elderly": NO,
        "elderly": YES,
        "disabled": NO,
        "low_income": NO,
        "is_rented": NO,
    }
    sheet.append([example[column.key] for column in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="888888")
    letters = {column.key: sheet.cell(row=1, column=index + 1).column_letter for index, column in enumerate(COLUMNS)}
    for key in ("id_number", "mobile", "room", "building", "birth_date"):
        sheet.column_dimensions[letters[key]].number_format = "@"
        sheet.column_dimensions[letters[key]].width = 20 if key == "id_number" else 12
    sheet.freeze_panes = "A2"

    options = book.create_sheet("选项")
    lists = {
        "compound": [c.name for c in compounds] or [""],
        "relation": list(RELATION_WORDS),
        "gender": list(GENDER_WORDS),
        "flag": [YES, NO],
    }
    for index, (title, values) in enumerate(lists.items()):
        options.cell(row=1, column=index + 1, value=title)
        for row, value in enumerate(values, start=2):
            options.cell(row=row, column=index + 1, value=value)
    options.sheet_state = "hidden"
    last = 60_001

    def drop_down(key, option_column, count):
        rule = DataValidation(
            type="list",
            formula1=f"=选项!${option_column}$2:${option_column}${count + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("请从下拉列表选择"),
            error=_("请从下拉列表选择"),
        )
        rule.add(f"{letters[key]}2:{letters[key]}{last}")
        sheet.add_data_validation(rule)

    drop_down("compound", "A", len(lists["compound"]))
    drop_down("relation", "B", len(lists["relation"]))
    drop_down("gender", "C", len(lists["gender"]))
    for key in FLAG_HEADERS:
        drop_down(key, "D", 2)

    listing = book.create_sheet("楼栋清单")
    listing.append(["小区", "楼栋号", "楼栋名称", "单元数", "层数"])
    for cell in listing[1]:
        cell.font = Font(bold=True)
    for building in buildings:
        listing.append([building.compound.name, building.number, building.name, building.units, building.floors])

    add_notes_sheet(
        book,
        title=_("%(community)s 住户与居民导入模板") % {"community": community.name},
        intro=_("每行一位居民；同一小区、楼栋、单元、房号的各行是同一户。带 * 的列必填。"),
        columns=COLUMNS,
        widths=(14, 90),
    )
    return book


def add_notes_sheet(book, *, title, intro, columns, widths):
    """A template's 填写说明 sheet (every import kind's): its title, what one row is, the refusal
    of formulas, macros and links, and each column with its help."""
    notes = book.create_sheet("填写说明")
    notes.append([title])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append([intro])
    notes.append(
        [_("公式、宏和外部链接会被拒绝：请“选择性粘贴为数值”后保存为 .xlsx，或另存为 CSV（UTF-8 或 GB18030）。")]
    )
    notes.append([])
    notes.append([_("列"), _("说明")])
    for cell in notes[5]:
        cell.font = Font(bold=True)
    for column in columns:
        notes.append([f"{column.header}{'*' if column.required else ''}", str(column.help)])
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = widths


# --- one row -------------------------------------------------------------------------------------
@dataclass
class ResidentRow:
    number: int
    household_key: tuple[int, int, str]  # building id, unit, room
    building: Building
    name: str
    relation: str
    gender: str
    id_number: str
    id_index: str
    birth_year: int
    mobile: str
    flags: dict[str, bool]  # only the flags the row sets


def header_map(cells: list[str]) -> tuple[dict[str, int], list[str]]:
    """``({column key: index}, [missing required headers])`` from the header row."""
    found: dict[str, int] = {}
    for index, text in enumerate(cells):
        column = BY_HEADER.get(text.strip().rstrip("*").strip())
        if column is not None and column.key not in found:
            found[column.key] = index
    return found, [column.header for column in REQUIRED if column.key not in found]


def is_blank(cells: list[str]) -> bool:
    return not any(cells)


def birth_date_of(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


class RowChecker:
    """Checks rows of one community's sheet; the community's places are loaded once."""

    def __init__(self, community):
        self.community = community
        self.today = timezone.localdate()
        self.compounds = {c.name: c for c in Compound.objects.filter(community=community)}
        self.buildings = {(b.compound_id, b.number.upper()): b for b in Building.objects.filter(community=community)}

    def check(self, number: int, cells: list[str], columns: dict[str, int]) -> tuple[ResidentRow | None, list]:
        """The row as a :class:`ResidentRow`, or ``None`` and ``[(header, message), …]``."""

        def value(key):
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else ""

        errors: list[tuple[str, str]] = []

        def error(key, message):
            errors.append((next(c.header for c in COLUMNS if c.key == key), str(message)))

        for key in columns:
            try:
                if "\x00" in value(key):  # validate_text leaves NUL to Django's own check
                    raise ValidationError(_("不能包含控制字符（如 NUL、\\x01、\\x1b），请删去后重试。"))
                validate_text(value(key))
            except ValidationError as problem:
                error(key, problem.messages[0])
        if errors:
            return None, errors
        for column in REQUIRED:
            if not value(column.key):
                error(column.key, _("必填，不能为空。"))

        building = None
        compound = self.compounds.get(value("compound"))
        if value("compound") and compound is None:
            error("compound", _("本社区没有名为“%(name)s”的小区。") % {"name": value("compound")})
        number_text = _BUILDING_SUFFIX.sub("", value("building")).upper()
        if compound is not None and number_text:
            building = self.buildings.get((compound.pk, number_text))
            if building is None:
                error(
                    "building",
                    _("%(compound)s没有 %(number)s 号楼栋（见“楼栋清单”）。")
                    % {"compound": compound.name, "number": value("building")},
                )
        unit = 0
        if value("unit"):
            text = value("unit").removesuffix("单元")
            if not _UNIT.match(text):
                error("unit", _("单元应为正整数。"))
            else:
                unit = int(text)
                if building is not None and unit > building.units:
                    error(
                        "unit",
                        _("%(building)s 只有 %(units)s 个单元。")
                        % {"building": building.label, "units": building.units},
                    )
        room = value("room").removesuffix("室")
        if room:
            if not _ROOM.match(room):
                error("room", _("房号只能是数字、字母和“-”，不超过 10 位。"))
            elif building is not None and building.floors and _FLOOR_ROOM.match(room):
                floor = int(room[:-2])
                if floor < 1 or floor > building.floors:
                    error(
                        "room",
                        _("没有这个房号：%(building)s 共 %(floors)s 层。")
                        % {"building": building.label, "floors": building.floors},
                    )

        name = value("name")
        if len(name) > 50:
            error("name", _("姓名不能超过 50 个字。"))
        relation = RELATION_WORDS.get(value("relation"), "")
        if value("relation") and not relation:
            error("relation", _("应为 户主、配偶、子女、父母、租户 或 其他。"))

        id_number = value("id_number").upper()
        birth = None
        if id_number:
            try:
                validate_id_number(id_number)
            except ValidationError as problem:
                error("id_number", problem.messages[0])
            else:
                birth = birth_date_of(id_number)
                if birth is None or birth.year < 1900:
                    error("id_number", _("身份证号中的出生日期 %(digits)s 不存在。") % {"digits": id_number[6:14]})
                    birth = None
                elif birth > self.today:
                    error("id_number", _("身份证号中的出生日期 %(date)s 晚于今天。") % {"date": birth.isoformat()})
                    birth = None
        if value("birth_date"):
            match = _DATE.match(value("birth_date"))
            stated = None
            if match:
                try:
                    stated = dt.date(int(match[1]), int(match[2]), int(match[3]))
                except ValueError:
                    stated = None
            if stated is None:
                error("birth_date", _("出生日期应为 年-月-日，如 1980-05-01。"))
            elif birth is not None and stated != birth:
                error(
                    "birth_date",
                    _("出生日期 %(stated)s 与身份证号中的 %(birth)s 不符。")
                    % {"stated": stated.isoformat(), "birth": birth.isoformat()},
                )
        gender = GENDER_WORDS.get(value("gender"), "")
        if value("gender") and not gender:
            error("gender", _("性别应为 男 或 女。"))
        if birth is not None:
            by_id = Resident.Gender.MALE if int(id_number[16]) % 2 else Resident.Gender.FEMALE
            if gender and gender != by_id:
                error("gender", _("性别与身份证号不符（第 17 位奇数为男、偶数为女）。"))
            gender = gender or by_id
        mobile = re.sub(r"[\s-]", "", value("mobile")).removeprefix("+86")
        if mobile:
            try:
                mobile_validator(mobile)
            except ValidationError as problem:
                error("mobile", problem.messages[0])
        flags = {}
        for key in FLAG_HEADERS:
            text = value(key).lower()
            if text in _YES:
                flags[key] = True
            elif text in _NO:
                flags[key] = False
            elif text:
                error(key, _("应为 是 或 否。"))
        if errors or building is None or birth is None:
            return None, errors
        return (
            ResidentRow(
                number=number,
                household_key=(building.pk, unit, room),
                building=building,
                name=name,
                relation=relation,
                gender=gender,
                id_number=id_number,
                id_index=blind_index("id_number", id_number),
                birth_year=birth.year,
                mobile=mobile,
                flags=flags,
            ),
            [],
        )


# --- what the registry already holds ---------------------------------------------------------------
@dataclass
class Known:
    """A registered resident found by blind index (district-wide), as the import compares it."""

    pk: int
    name: str
    household_id: int
    relation: str
    gender: str
    birth_year: int | None
    mobile: str
    status: str
    community_id: int


def known_residents(indexes) -> dict[str, Known]:
    """The residents with these ID-number blind indexes, by index (batched ``__in`` lookups)."""
    found: dict[str, Known] = {}
    indexes = list(indexes)
    for start in range(0, len(indexes), 1000):
        rows = Resident.objects.filter(id_number_index__in=indexes[start : start + 1000]).values_list(
            "id_number_index",
            "pk",
            "name",
            "household_id",
            "relation",
            "gender",
            "birth_year",
            "mobile",
            "status",
            "community_id",
        )
        for index, *rest in rows:
            found[index] = Known(*rest)
    return found


def known_households(community, keys) -> dict[tuple[int, int, str], Household]:
    """The community's households at these (building id, unit, room) keys."""
    keys = set(keys)
    buildings = {key[0] for key in keys}
    found = {}
    for household in Household.objects.filter(community=community, building_id__in=buildings).only(
        "pk", "building_id", "unit", "room", "compound_id", *FLAG_HEADERS
    ):
        key = (household.building_id, household.unit, household.room)
        if key in keys:
            found[key] = household
    return found


def living_heads(household_ids) -> set[int]:
    ids = list(household_ids)
    heads: set[int] = set()
    for start in range(0, len(ids), 5000):
        heads.update(
            Resident.objects.living()
            .filter(household_id__in=ids[start : start + 5000], relation=Resident.Relation.HEAD)
            .values_list("household_id", flat=True)
        )
    return heads


def name_mismatch_message(known: Known) -> str:
    return _("该身份证号已登记为本社区居民 %(name)s（编号 %(id)s），与本行姓名不符，请核对。") % {
        "name": mask_name(known.name),
        "id": known.pk,
    }
