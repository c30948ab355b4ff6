"""The party members and central households import (issue 17): the second kind of the registry
import (``communities.services.imports``, which uploads, reports, marks the sheet, dry-runs,
applies in resumable batches and audits; this module says what a row is and what it writes).

One sheet, one row per party member: 身份证号 (matched to a living resident of *this* community
by blind index, never by name: someone not in the registry is the row error “请先导入居民”),
党支部 (a branch of the community, by name), 党小组 (optional, a group of that branch), 入党日期
(optional), 是否中心户 (是/否) and 联系服务的住户 (the rooms the central household serves, in the
member's own building: “1-101, 1-102” is unit 1 room 101 and unit 1 room 102; a bare “102” is in
the member's unit). 是 makes the member's household a central household serving exactly those
rooms; 否 or blank leaves central households as they are (removing one is done on its page).
Importing the same sheet again changes nothing. Registered in ``PartybuildingConfig.ready``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from baohe.crypto import blind_index
from baohe.models import ImportJob
from baohe.validators import validate_id_number, validate_text
from communities.imports import EXAMPLE_MARK, NO, YES, Column, add_notes_sheet, parse_flag, parse_sheet_date
from communities.models import Household, Resident
from communities.services import households_changed
from communities.services.imports import ImportKind, register_kind

from .models import CentralHousehold, PartyBranch, PartyGroup, PartyMember

SHEET_TITLE = "党员导入"
COLUMNS = (
    Column("seq", "序号", False, gettext_lazy("可留空；以“示例”开头的行不导入。")),
    Column("name", "姓名", False, gettext_lazy("仅供核对，不用于匹配。")),
    Column(
        "id_number",
        "身份证号",
        True,
        gettext_lazy("18 位，按文本填写。按身份证号匹配本社区已登记的居民；不在居民库中的请先导入居民。"),
    ),
    Column("branch", "党支部", True, gettext_lazy("本社区党支部名称，从下拉列表选择。")),
    Column("group", "党小组", False, gettext_lazy("可留空；须是该党支部的党小组，见“支部与小组”。")),
    Column("joined_on", "入党日期", False, gettext_lazy("可留空，如 1998-07-01。")),
    Column(
        "central", "是否中心户", False, gettext_lazy("是或否；“是”把该党员所住的户设为党员中心户。留空或“否”不改。")
    ),
    Column(
        "served",
        "联系服务的住户",
        False,
        gettext_lazy(
            "中心户联系服务的住户，须与党员同一楼栋：单元-房号，用逗号分开，如 1-101, 1-102；只写房号表示同一单元。"
        ),
    ),
)
HEADERS = {column.key: column.header for column in COLUMNS}
BY_HEADER = {column.header: column for column in COLUMNS}
REQUIRED = tuple(column for column in COLUMNS if column.required)
PLAN_KEYS = (
    "members_create",
    "members_update",
    "members_unchanged",
    "central_create",
    "central_update",
    "central_unchanged",
)
_SPLIT = re.compile(r"[,，、;；\s]+")
_ROOM_ITEM = re.compile(r"(?:([1-9][0-9]{0,2})(?:单元)?[-－])?([0-9A-Za-z]{1,10})室?\Z")


# --- the template --------------------------------------------------------------------------------
def template_book(community) -> Workbook:
    """The party members template for ``community``: drop-downs of its branches and 是/否, an
    example row, the branches and groups, the notes."""
    branches = list(PartyBranch.objects.filter(community=community).order_by("name"))
    groups = list(PartyGroup.objects.filter(branch__community=community).select_related("branch").order_by("name"))
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    sheet.append([f"{column.header}*" if column.required else column.header for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE9E7")
    example = {
        "seq": EXAMPLE_MARK,
        "name": "张三",
        "id_number": _("18 位身份证号"),  # a description: no file we hand out holds a number
        "branch": branches[0].name if branches else "",
        "group": next((g.name for g in groups if branches and g.branch_id == branches[0].pk), ""),
        "joined_on": "1998-07-01",
        "central": YES,
        "served": "1-101, 1-102",
    }
    sheet.append([example[column.key] for column in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="888888")
    letters = {column.key: sheet.cell(row=1, column=i + 1).column_letter for i, column in enumerate(COLUMNS)}
    for key, width in (("id_number", 20), ("joined_on", 12), ("served", 30), ("branch", 20)):
        sheet.column_dimensions[letters[key]].number_format = "@"
        sheet.column_dimensions[letters[key]].width = width
    sheet.freeze_panes = "A2"

    options = book.create_sheet("选项")
    lists = {"branch": [b.name for b in branches] or [""], "flag": [YES, NO]}
    for index, (title, values) in enumerate(lists.items()):
        options.cell(row=1, column=index + 1, value=title)
        for row, value in enumerate(values, start=2):
            options.cell(row=row, column=index + 1, value=value)
    options.sheet_state = "hidden"
    for key, option_column, count in (("branch", "A", len(lists["branch"])), ("central", "B", 2)):
        rule = DataValidation(
            type="list",
            formula1=f"=选项!${option_column}$2:${option_column}${count + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("请从下拉列表选择"),
            error=_("请从下拉列表选择"),
        )
        rule.add(f"{letters[key]}2:{letters[key]}60001")
        sheet.add_data_validation(rule)

    listing = book.create_sheet("支部与小组")
    listing.append(["党支部", "党小组"])
    for cell in listing[1]:
        cell.font = Font(bold=True)
    for branch in branches:
        listing.append([branch.name, ""])
        for group in groups:
            if group.branch_id == branch.pk:
                listing.append([branch.name, group.name])

    add_notes_sheet(
        book,
        title=_("%(community)s 党员与中心户导入模板") % {"community": community.name},
        intro=_("每行一名党员；党员须已在本社区居民库中登记（按身份证号匹配），否则请先导入居民。带 * 的列必填。"),
        columns=COLUMNS,
        widths=(16, 100),
    )
    return book


# --- one row -------------------------------------------------------------------------------------
@dataclass
class MemberRow:
    number: int
    id_index: str
    branch: PartyBranch
    group: PartyGroup | None
    joined_on: object  # date or None
    central: bool
    served: list[tuple[int | None, str]] = field(default_factory=list)  # (unit or None, room)


def header_map(cells: list[str]) -> tuple[dict[str, int], list[str]]:
    """``({column key: index}, [missing required headers])`` from the header row."""
    found: dict[str, int] = {}
    for index, text in enumerate(cells):
        column = BY_HEADER.get(text.strip().rstrip("*").strip())
        if column is not None and column.key not in found:
            found[column.key] = index
    return found, [column.header for column in REQUIRED if column.key not in found]


class MemberChecker:
    """Checks the rows of one community's sheet, its branches and groups loaded once."""

    def __init__(self, community):
        self.community = community
        self.branches = {b.name: b for b in PartyBranch.objects.filter(community=community)}
        self.groups = {(g.branch_id, g.name): g for g in PartyGroup.objects.filter(branch__community=community)}

    def check(self, number: int, cells: list[str], columns: dict[str, int]) -> tuple[MemberRow | None, list]:
        def value(key):
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else ""

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
        id_number = value("id_number").upper()
        if id_number:
            try:
                validate_id_number(id_number)
            except ValidationError as problem:
                error("id_number", problem.messages[0])
        branch = self.branches.get(value("branch"))
        if value("branch") and branch is None:
            error("branch", _("本社区没有名为“%(name)s”的党支部。") % {"name": value("branch")})
        group = None
        if value("group") and branch is not None:
            group = self.groups.get((branch.pk, value("group")))
            if group is None:
                error(
                    "group",
                    _("党支部“%(branch)s”没有名为“%(name)s”的党小组。")
                    % {"branch": branch.name, "name": value("group")},
                )
        joined_on = None
        if value("joined_on"):
            joined_on = parse_sheet_date(value("joined_on"))
            if joined_on is None:
                error("joined_on", _("入党日期应为 年-月-日，如 1998-07-01。"))
        central = parse_flag(value("central"))
        if value("central") and central is None:
            error("central", _("应为 是 或 否。"))
        served: list[tuple[int | None, str]] = []
        for item in _SPLIT.split(value("served")):
            if not item:
                continue
            match = _ROOM_ITEM.match(item)
            if match is None:
                error("served", _("“%(item)s”不是房号，应写成 单元-房号，如 1-101。") % {"item": item})
                continue
            served.append((int(match[1]) if match[1] else None, match[2]))
        if served and not central:
            error("served", _("只有中心户（是否中心户填“是”）才填联系服务的住户。"))
        if errors or branch is None:
            return None, errors
        return (
            MemberRow(
                number=number,
                id_index=blind_index("id_number", id_number),
                branch=branch,
                group=group,
                joined_on=joined_on,
                central=bool(central),
                served=served,
            ),
            [],
        )


# --- against the registry ------------------------------------------------------------------------
@dataclass
class Resolved:
    """A row with what the registry holds for it (or the errors that stop it)."""

    row: MemberRow
    errors: list[tuple[str, str]] = field(default_factory=list)
    resident_id: int | None = None
    household_id: int | None = None
    member: PartyMember | None = None
    central: CentralHousehold | None = None
    served_ids: set[int] = field(default_factory=set)
    current_served: set[int] = field(default_factory=set)

    @property
    def member_outcome(self) -> str:
        if self.member is None:
            return "create"
        row = self.row
        same = (
            self.member.branch_id == row.branch.pk
            and self.member.group_id == (row.group.pk if row.group else None)
            and (row.joined_on is None or self.member.joined_on == row.joined_on)
        )
        return "unchanged" if same else "update"

    @property
    def central_outcome(self) -> str | None:
        if not self.row.central:
            return None
        if self.central is None:
            return "create"
        return "unchanged" if self.current_served == self.served_ids else "update"


def resolve(community, rows: list[MemberRow]) -> list[Resolved]:
    """Look ``rows`` up in ``community`` (living residents by blind index, their households, the
    rooms they serve, their membership and central household): a few queries per batch."""
    found = {
        index: (pk, household_id, building_id, unit)
        for index, pk, household_id, building_id, unit in Resident.objects.living()
        .filter(community=community, id_number_index__in=[row.id_index for row in rows])
        .values_list("id_number_index", "pk", "household_id", "household__building_id", "household__unit")
    }
    members = {m.resident_id: m for m in PartyMember.objects.filter(resident_id__in=[v[0] for v in found.values()])}
    buildings = {v[2] for v in found.values()}
    homes = {
        (building_id, unit, room): pk
        for pk, building_id, unit, room in Household.objects.filter(
            community=community, building_id__in=buildings
        ).values_list("pk", "building_id", "unit", "room")
    }
    centrals = {
        c.household_id: c
        for c in CentralHousehold.objects.filter(household_id__in=[v[1] for v in found.values()]).prefetch_related(
            "served_households"
        )
    }
    leads = dict(PartyGroup.objects.filter(leader__in=members.values()).values_list("leader_id", "name"))
    heads = dict(PartyBranch.objects.filter(secretary__in=members.values()).values_list("secretary_id", "name"))
    resolved = []
    for row in rows:
        item = Resolved(row=row)
        resolved.append(item)
        known = found.get(row.id_index)
        if known is None:
            item.errors.append((HEADERS["id_number"], _("本社区居民库中没有这个身份证号的在住居民，请先导入居民。")))
            continue
        item.resident_id, item.household_id, building_id, own_unit = known
        item.member = members.get(item.resident_id)
        if item.member is not None and item.member_outcome == "update":
            # A group's leader or a branch's secretary stays in it: change them on their page first.
            if item.member.pk in leads and item.member.group_id != (row.group.pk if row.group else None):
                message = _("该党员是“%(name)s”的党小组长，请先在页面上更换组长。") % {"name": leads[item.member.pk]}
                item.errors.append((HEADERS["group"], message))
            if item.member.pk in heads and item.member.branch_id != row.branch.pk:
                message = _("该党员是“%(name)s”的书记，请先在页面上更换书记。") % {"name": heads[item.member.pk]}
                item.errors.append((HEADERS["branch"], message))
            if item.errors:
                continue
        central = centrals.get(item.household_id)
        if row.central and central is not None:
            if item.member is None or central.member_id != item.member.pk:
                item.errors.append((HEADERS["central"], _("该户已是另一名党员的中心户。")))
                continue
            item.central = central
            item.current_served = {h.pk for h in central.served_households.all()}
        for unit, room in row.served:
            pk = homes.get((building_id, unit or own_unit, room))
            if pk is None:
                item.errors.append(
                    (
                        HEADERS["served"],
                        _("党员所住楼栋没有 %(unit)s 单元 %(room)s 这一户。")
                        % {"unit": unit or own_unit, "room": room},
                    )
                )
            elif pk == item.household_id:
                item.errors.append((HEADERS["served"], _("中心户不用填自己这一户。")))
            else:
                item.served_ids.add(pk)
    return resolved


def validate(job, rows) -> tuple[dict[int, list[tuple[str, str]]], int, dict[str, int]]:
    """Every row, a person twice in the file, the registry; the dry run's counts."""
    errors: dict[int, list[tuple[str, str]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    first_by_index: dict[str, int] = {}
    pending: list[MemberRow] = []
    checked = 0

    def flush():
        for item in resolve(job.community, pending):
            if item.errors:
                errors[item.row.number].extend(item.errors)
                continue
            counts[f"members_{item.member_outcome}"] += 1
            if item.central_outcome:
                counts[f"central_{item.central_outcome}"] += 1
        pending.clear()

    for number, row, row_errors in rows:
        checked += 1
        if row_errors:
            errors[number].extend(row_errors)
        if row is None:
            continue
        first = first_by_index.setdefault(row.id_index, number)
        if first != number:
            errors[number].append((HEADERS["id_number"], _("与第 %(row)s 行的身份证号重复。") % {"row": first}))
            continue
        pending.append(row)
        if len(pending) >= 1000:
            flush()
    if pending:
        flush()
    return errors, checked, {key: counts[key] for key in PLAN_KEYS}


def apply_rows(job, rows: list[MemberRow], counts: dict[str, int]) -> None:
    """One batch, inside the batch's transaction: members created or moved to the row's branch
    and group, central households created and their served households set to the row's list."""
    community = job.community
    resolved = resolve(community, rows)
    creates, updates = [], []
    for item in resolved:
        if item.errors:  # the registry changed since the check
            column, message = item.errors[0]
            raise ValidationError(_("第 %(row)s 行：%(message)s") % {"row": item.row.number, "message": message})
        row = item.row
        outcome = item.member_outcome
        counts[f"members_{outcome}"] += 1
        if outcome == "create":
            item.member = PartyMember(
                resident_id=item.resident_id,
                branch=row.branch,
                group=row.group,
                joined_on=row.joined_on,
                street_id=community.street_id,
                community_id=community.pk,
            )
            creates.append(item.member)
        elif outcome == "update":
            assert item.member is not None  # noqa: S101 - "update" means found
            item.member.branch = row.branch
            item.member.group = row.group
            item.member.joined_on = row.joined_on or item.member.joined_on
            updates.append(item.member)
    PartyMember.objects.bulk_create(creates)
    if updates:
        PartyMember.objects.bulk_update(updates, ["branch", "group", "joined_on"])
    new_centrals, links, unlinks = [], [], []
    for item in resolved:
        outcome = item.central_outcome
        if outcome is None:
            continue
        counts[f"central_{outcome}"] += 1
        if outcome == "create":
            item.central = CentralHousehold(
                household_id=item.household_id,
                member=item.member,
                street_id=community.street_id,
                community_id=community.pk,
            )
            new_centrals.append(item.central)
        if outcome != "unchanged":
            links.append((item, item.served_ids - item.current_served))
            unlinks.append((item, item.current_served - item.served_ids))
    CentralHousehold.objects.bulk_create(new_centrals)
    through = CentralHousehold.served_households.through
    through.objects.bulk_create(
        [
            through(centralhousehold_id=item.central.pk, household_id=pk)
            for item, added in links
            if item.central is not None
            for pk in sorted(added)
        ]
    )
    for item, removed in unlinks:
        if removed and item.central is not None:
            through.objects.filter(centralhousehold_id=item.central.pk, household_id__in=removed).delete()
    # The households served before and now: their visit plans follow at once.
    households_changed(
        [pk for _item, added in links for pk in added]
        + [pk for _item, removed in unlinks for pk in removed]
        + [item.central.household_id for item, _added in links if item.central is not None]
    )


register_kind(
    ImportKind(
        kind=ImportJob.Kind.PARTY,
        sheet_title=SHEET_TITLE,
        template=template_book,
        template_filename=gettext_lazy("%(community)s-党员与中心户导入模板.xlsx"),
        header_map=header_map,
        checker=MemberChecker,
        validate=validate,
        apply_rows=apply_rows,
        plan_labels=(
            ("members_create", gettext_lazy("将新增党员"), gettext_lazy("新增党员")),
            ("members_update", gettext_lazy("将更新党员"), gettext_lazy("更新党员")),
            ("members_unchanged", gettext_lazy("未变化"), gettext_lazy("未变化")),
            ("central_create", gettext_lazy("将新增中心户"), gettext_lazy("新增中心户")),
            ("central_update", gettext_lazy("将更新中心户"), gettext_lazy("更新中心户")),
            ("central_unchanged", gettext_lazy("中心户未变化"), gettext_lazy("中心户未变化")),
        ),
    )
)
