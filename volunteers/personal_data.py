"""What volunteer service holds about a person: their volunteer registration and service hours
on the 我的信息 page (``communities.personal_data``); when they are anonymised, their skills go
and they leave the roll (their approved hours stay in the totals). Registered in ``apps.py``."""

from django.utils.translation import gettext as _

from communities.personal_data import Section, Subject
from communities.services import PersonTraces

from .models import ServiceHours, Volunteer


def volunteer_sections(subject: Subject) -> list[Section]:
    registration = Section(
        "volunteer",
        _("志愿者登记"),
        (("community", _("社区")), ("joined_on", _("注册日期")), ("skills", _("特长技能")), ("is_active", _("在册"))),
    )
    volunteers = list(
        Volunteer.objects.filter(resident__in=[record.pk for record in subject.records])
        .select_related("community")
        .order_by("pk")
    )
    for volunteer in volunteers:
        registration.add(
            community=volunteer.community.name,
            joined_on=volunteer.joined_on,
            skills=volunteer.skills,
            is_active=volunteer.is_active,
        )
    hours = Section(
        "service_hours",
        _("志愿服务时长"),
        (
            ("served_on", _("服务日期")),
            ("project", _("服务项目")),
            ("hours", _("时长(小时)")),
            ("note", _("服务内容")),
            ("status", _("状态")),
        ),
    )
    rows = (
        ServiceHours.objects.filter(volunteer__in=[v.pk for v in volunteers])
        .select_related("project")
        .order_by("-served_on", "-pk")
    )
    for row in rows:
        hours.add(
            served_on=row.served_on,
            project=row.project.name,
            hours=row.hours,
            note=row.note,
            status=row.get_status_display(),
        )
    return [registration, hours]


def forget_person(traces: PersonTraces) -> None:
    Volunteer.objects.filter(resident_id=traces.resident_id).update(skills="", is_active=False)
