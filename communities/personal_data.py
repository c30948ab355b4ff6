"""What the portal holds about one person (PIPL Arts. 45–47): the 我的信息 page, its JSON and
Excel downloads and ``GET /api/v1/me/data/`` all read :func:`personal_data`.

The registry contributes the person's resident records and their household (other members
masked); every app above it registers what it holds with :func:`register_personal_data` from its
``AppConfig.ready()`` (accounts: the account and login devices; notifications: preferences;
service_requests: requests; visits: visits to the household; volunteers: volunteer records and
hours), so this module imports none of them and the page shows a new app's data once it
registers. Each provider answers a list of :class:`Section`: a title, labelled fields and rows.

Mobile and ID numbers are masked here too, the person's own included (ARCHITECTURE rule 5:
masked everywhere by default; a resident knows their own numbers, and a download that leaves
the portal should not carry them whole). Other members of the household appear with a masked
name and no numbers.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from baohe import exports
from baohe.masking import mask_id_number, mask_mobile, mask_username
from baohe.models import AuditEntry
from baohe.services import audit

from .models import Resident

if TYPE_CHECKING:
    from accounts.models import User


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``: another person's name on someone's own page."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def plain(value: Any) -> Any:
    """A value as JSON and a spreadsheet cell take it: local times as text, decimals as text."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    return value


@dataclass
class Section:
    """One table of a person's data: ``fields`` are ``(key, label)``, ``rows`` dicts by key."""

    key: str
    title: str
    fields: Sequence[tuple[str, Any]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **values: Any) -> None:
        self.rows.append({key: plain(values.get(key)) for key, _label in self.fields})

    @property
    def labels(self) -> list[str]:
        return [str(label) for _key, label in self.fields]

    def table(self) -> list[list[Any]]:
        return [[row[key] for key, _label in self.fields] for row in self.rows]

    def labelled_rows(self) -> list[list[tuple[str, Any]]]:
        """Each row as ``(label, value)`` pairs, for the page."""
        return [[(str(label), row[key]) for key, label in self.fields] for row in self.rows]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": str(self.title),
            "fields": [{"key": key, "label": str(label)} for key, label in self.fields],
            "rows": self.rows,
        }


@dataclass
class Subject:
    """Whose data: the signed-in user and their resident records (every status)."""

    user: User
    records: list[Resident]

    @property
    def household_ids(self) -> list[int]:
        return sorted({record.household_id for record in self.records})


Provider = Callable[[Subject], Iterable[Section]]
_PROVIDERS: list[Provider] = []


def register_personal_data(provider: Provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def subject_for(user: User) -> Subject:
    records = list(
        Resident.objects.filter(user=user).select_related("household__building__compound__community").order_by("pk")
    )
    return Subject(user=user, records=records)


def personal_data(user: User) -> list[Section]:
    """Everything held about ``user``: the registry's sections, then each registered app's."""
    subject = subject_for(user)
    sections = list(_registry_sections(subject))
    for provider in _PROVIDERS:
        sections.extend(provider(subject))
    return sections


def _registry_sections(subject: Subject) -> list[Section]:
    residence = Section(
        "residence",
        _("居民登记"),
        (
            ("name", _("姓名")),
            ("mobile", _("手机号")),
            ("id_number", _("身份证号")),
            ("gender", _("性别")),
            ("birth_year", _("出生年份")),
            ("relation", _("与户主关系")),
            ("status", _("状态")),
            ("left_on", _("迁出/去世日期")),
            ("community", _("社区")),
            ("address", _("住址")),
            ("registered_at", _("登记时间")),
        ),
    )
    for record in subject.records:
        household = record.household
        residence.add(
            name=record.name,
            mobile=mask_mobile(record.mobile),
            id_number=mask_id_number(record.id_number),
            gender=record.get_gender_display(),
            birth_year=record.birth_year,
            relation=record.get_relation_display(),
            status=record.get_status_display(),
            left_on=record.left_on,
            community=household.building.compound.community.name,
            address=f"{household.building.compound.name} {household}",
            registered_at=record.created_at,
        )
    members = Section(
        "household_members",
        _("同户成员"),
        (("name", _("姓名")), ("relation", _("与户主关系")), ("status", _("状态")), ("address", _("住址"))),
    )
    own = {record.pk for record in subject.records}
    others = (
        Resident.objects.filter(household_id__in=subject.household_ids)
        .exclude(pk__in=own)
        .select_related("household__building__compound")
        .order_by("household_id", "pk")
    )
    for other in others:
        members.add(
            name=mask_name(other.name),
            relation=other.get_relation_display(),
            status=other.get_status_display(),
            address=f"{other.household.building.compound.name} {other.household}",
        )
    return [residence, members]


# --- downloads ----------------------------------------------------------------------------------
def download_audit(*, user: User, request: HttpRequest | None, sections: Sequence[Section], fmt: str) -> None:
    """One DATA_DOWNLOAD audit line per copy a person takes (page download or API): in which
    form and how many rows of what, placed under their (first) community."""
    record = Resident.objects.filter(user=user).order_by("pk").only("street_id", "community_id").first()
    street_id, community_id = record.scope_ids() if record is not None else (None, None)
    audit(
        user=user,
        action=AuditEntry.Action.DATA_DOWNLOAD,
        request=request,
        object_type="accounts.user",
        object_id=str(user.pk),
        object_repr=user.get_username(),
        detail={"format": fmt, "rows": {section.key: len(section.rows) for section in sections}},
        street_id=street_id,
        community_id=community_id,
    )


def as_json(sections: Sequence[Section], *, user: User, now: datetime.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "generated_at": timezone.localtime(now).isoformat(),
        "user": mask_username(user.get_username()),
        "sections": [section.as_dict() for section in sections],
    }


def json_bytes(sections: Sequence[Section], *, user: User, now: datetime.datetime | None = None) -> bytes:
    return json.dumps(as_json(sections, user=user, now=now), ensure_ascii=False, indent=2).encode()


def workbook_bytes(sections: Sequence[Section], *, user: User, now: datetime.datetime | None = None) -> bytes:
    """One sheet per section (header: labels), after a first sheet saying whose and when."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    now = now or timezone.now()
    book = Workbook()
    cover = book.active
    cover.title = _("说明")[:31]
    cover.append([_("我的信息")])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append([_("账号"), mask_username(user.get_username())])
    cover.append([_("导出时间"), timezone.localtime(now).strftime("%Y-%m-%d %H:%M")])
    cover.append([_("说明"), _("手机号和身份证号已打码；同户其他成员只显示部分姓名。")])
    cover.column_dimensions["A"].width = 14
    cover.column_dimensions["B"].width = 60
    used: set[str] = {cover.title}
    for section in sections:
        title = str(section.title)[:31]
        while title in used:
            title = title[:28] + "_" + str(len(used))
        used.add(title)
        sheet = book.create_sheet(title)
        sheet.append(section.labels)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in section.table():
            sheet.append(row)
        for index, _label in enumerate(section.fields):
            sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = 18
    # Text a person typed that starts with "=" (or + - @) stays text: the one rule of every export.
    return exports.workbook_bytes(book)
