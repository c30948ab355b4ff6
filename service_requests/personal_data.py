"""Residents' rights over requests (PIPL Arts. 45–47):

- :func:`request_sections`: a person's requests, and those they joined (我也遇到), on the 我的信息
  page (``communities.personal_data``);
- :func:`personal_data_request_submit`: "ask for a correction" / "ask for a deletion" from that
  page become ordinary requests in two categories of their own (个人信息 / 个人信息更正,
  个人信息删除; created with their time limits on first use and by the demo seed; an administrator
  may change the limits), filed through ``services.request_submit``, so the community works them
  in its queue with their deadlines, reminders and escalation like any other;
- :func:`forget_person`: when a resident is anonymised (``communities.services``), the requests
  that were theirs lose their contact name and number and every mention of their name, and a
  closed account the requests it joined (the counts stay).

Registered in ``apps.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from baohe.masking import mask_mobile
from communities.models import Resident
from communities.personal_data import Section, Subject
from communities.services import ANONYMOUS_NAME, PersonTraces

from .category_names import NAMES_EN
from .models import Category, RequestEvent, RequestSupporter, ServiceRequest
from .services import request_submit

if TYPE_CHECKING:
    from accounts.models import User

PARENT_CODE = Category.PERSONAL_INFO_CODE
CORRECTION = "correction"
DELETION = "deletion"
# kind -> (category code, name, accept within hours, resolve within working days). PIPL Art. 50
# asks for a timely answer; 10 working days is the deadline most provincial rules give.
CATEGORIES = {
    CORRECTION: ("personal-info-correction", "个人信息更正", 24, 10),
    DELETION: ("personal-info-deletion", "个人信息删除", 24, 10),
}


def personal_data_category(kind: str) -> Category:
    """The category of a correction or deletion request (made, with its parent, when missing)."""
    parent, _created = Category.objects.get_or_create(
        code=PARENT_CODE,
        defaults={
            "name": "个人信息",
            "name_en": NAMES_EN[PARENT_CODE],
            "order": 900,
            "accept_within_hours": 24,
            "resolve_within_days": 10,
        },
    )
    code, name, hours, days = CATEGORIES[kind]
    category, _created = Category.objects.get_or_create(
        code=code,
        defaults={
            "parent": parent,
            "name": name,
            "name_en": NAMES_EN.get(code, ""),
            "order": 901 + list(CATEGORIES).index(kind),
            "accept_within_hours": hours,
            "resolve_within_days": days,
        },
    )
    return category


def personal_data_request_submit(
    *, user: User, kind: str, item: str, current: str = "", wanted: str = "", reason: str = ""
) -> ServiceRequest:
    """File a resident's request to correct (``item`` is ``current``, should be ``wanted``) or
    delete (``item``, because ``reason``) their personal information, at their first household."""
    if kind not in CATEGORIES:
        raise ValidationError({"kind": _("请选择更正或删除。")})
    record = Resident.objects.filter(user=user).select_related("household__building__compound").order_by("pk").first()
    if record is None:
        raise ValidationError(_("您还没有登记的住户，请直接联系社区。"))
    if kind == CORRECTION:
        if not wanted:
            raise ValidationError({"wanted": _("请填写正确的内容。")})
        description = _("【个人信息更正】%(item)s：现登记为“%(current)s”，应为“%(wanted)s”。") % {
            "item": item,
            "current": current or _("（未填写）"),
            "wanted": wanted,
        }
    else:
        if not reason:
            raise ValidationError({"reason": _("请说明删除的理由。")})
        description = _("【个人信息删除】%(item)s。理由：%(reason)s") % {"item": item, "reason": reason}
    household = record.household
    with transaction.atomic():
        return request_submit(
            by=user,
            category=personal_data_category(kind),
            description=description,
            compound=household.building.compound,
            building=household.building,
            household=household,
            contact_name=record.name,
            contact_mobile=user.mobile or record.mobile,
        )


def request_sections(subject: Subject) -> list[Section]:
    section = Section(
        "requests",
        _("我的诉求"),
        (
            ("number", _("编号")),
            ("category", _("分类")),
            ("status", _("状态")),
            ("submitted_at", _("提交时间")),
            ("description", _("诉求内容")),
            ("address", _("具体位置")),
            ("contact_name", _("联系人")),
            ("contact_mobile", _("联系电话")),
            ("satisfaction", _("是否满意")),
            ("rating_comment", _("评价意见")),
        ),
    )
    rows = ServiceRequest.objects.filter(submitted_by=subject.user).select_related("category__parent").order_by("-id")
    for row in rows:
        section.add(
            number=row.number,
            category=str(row.category),
            status=row.get_status_display(),
            submitted_at=row.created_at,
            description=row.description,
            address=row.address,
            contact_name=row.contact_name,
            contact_mobile=mask_mobile(row.contact_mobile),
            satisfaction=row.get_satisfaction_display(),
            rating_comment=row.rating_comment,
        )
    joined = Section(
        "supported_requests",
        _("我附议的诉求"),
        (("number", _("编号")), ("category", _("分类")), ("status", _("状态")), ("joined_at", _("附议时间"))),
    )
    supporters = RequestSupporter.objects.filter(user=subject.user).select_related("request__category__parent")
    for supporter in supporters.order_by("-id"):
        joined.add(
            number=supporter.request.number,
            category=str(supporter.request.category),
            status=supporter.request.get_status_display(),
            joined_at=supporter.created_at,
        )
    return [section, joined]


def forget_person(traces: PersonTraces) -> None:
    """The person's requests (filed by their account, or for their household with their name or
    number as the contact) keep their facts but no longer say who it was."""
    theirs = Q(household_id=traces.household_id) & (
        Q(contact_name=traces.name) | (Q(contact_mobile=traces.mobile) if traces.mobile else Q(pk__in=[]))
    )
    if traces.user_id is not None and traces.account_closed:
        theirs |= Q(submitted_by_id=traces.user_id)
    requests = list(ServiceRequest.objects.select_for_update().filter(theirs).order_by("pk"))
    for row in requests:
        row.contact_name = ANONYMOUS_NAME if row.contact_name else ""
        row.contact_mobile = ""
        row.description = traces.scrub(row.description)
        row.address = traces.scrub(row.address)
        row.rating_comment = traces.scrub(row.rating_comment)
        row.save(update_fields=["contact_name", "contact_mobile", "description", "address", "rating_comment"])
    if traces.user_id is not None and traces.account_closed:
        # Whom the account joined (我也遇到) goes with it; the requests keep their counts.
        RequestSupporter.objects.filter(user_id=traces.user_id).delete()
    events = RequestEvent.objects.filter(request__in=[row.pk for row in requests]).exclude(message="")
    for event in events.only("pk", "message"):
        scrubbed = traces.scrub(event.message)
        if scrubbed != event.message:
            RequestEvent.objects.filter(pk=event.pk).update(message=scrubbed)
