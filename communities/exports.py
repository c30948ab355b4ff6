"""The residents' roster of a community as Excel (居民花名册), for the staff who keep and visit it.

Only users who may change the community's rows get it (403 for officials who may only view it:
the roster lists vulnerable households — 独居老人, 低保 … — with building, unit and room, which
only those who visit them need). Mobile and ID numbers are masked unless the user chose a
privileged export with a reason (``baohe.exports.PrivilegedExportForm``); either way the file is
stamped and the export is one audit line (``baohe.exports.export_response``).
"""

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from baohe.masking import mask_id_number, mask_mobile

from .models import Household

FLAG_LABELS = {
    "lives_alone_elderly": _("独居老人"),
    "elderly": _("老年人"),
    "disabled": _("残疾人"),
    "low_income": _("低保"),
    "is_rented": _("租户"),
}


def roster_book(community, residents, *, privileged=False):
    """``residents`` (with ``household__building__compound``) as ``(workbook, rows written)``."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("居民花名册")
    sheet.append([_("%(community)s 居民花名册") % {"community": community.name}])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("含完整号码") if privileged else _("手机号、身份证号已打码")])
    flag_names = Household.FLAG_FIELDS
    header = [_("小区"), _("楼栋"), _("单元"), _("室"), _("姓名"), _("与户主关系"), _("性别"), _("出生年份")]
    header += [_("手机号"), _("身份证号"), *(str(FLAG_LABELS.get(name, name)) for name in flag_names)]
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    count = 0
    for resident in residents:
        household = resident.household
        mobile = resident.mobile if privileged else mask_mobile(resident.mobile)
        id_number = resident.id_number if privileged else mask_id_number(resident.id_number)
        flags = [_("是") if getattr(household, name) else "" for name in flag_names]
        sheet.append(
            [
                household.building.compound.name,
                household.building.label,
                household.unit,
                household.room,
                resident.name,
                resident.get_relation_display(),
                resident.get_gender_display(),
                resident.birth_year,
                mobile,
                id_number,
                *flags,
            ]
        )
        count += 1
    sheet.freeze_panes = "A4"
    return book, count
