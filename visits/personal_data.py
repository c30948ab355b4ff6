"""What visits holds about a person: the visits to their household on the 我的信息 page
(``communities.personal_data``); when they are anonymised, their name leaves the visit notes;
when their household is archived, its visit plans end. Registered in ``apps.py``."""

from django.utils.translation import gettext as _

from communities.models import Household
from communities.personal_data import Section, Subject
from communities.services import PersonTraces

from .models import Visit, VisitPlan


def visit_sections(subject: Subject) -> list[Section]:
    section = Section(
        "visits",
        _("入户走访"),
        (
            ("visited_at", _("走访时间")),
            ("household", _("住户")),
            ("purpose", _("走访事由")),
            ("visitor", _("走访人")),
            ("notes", _("走访情况")),
        ),
    )
    visits = (
        Visit.objects.filter(household_id__in=subject.household_ids)
        .select_related("household__building")
        .order_by("-visited_at")
    )
    for visit in visits:
        section.add(
            visited_at=visit.visited_at,
            household=str(visit.household),
            purpose=visit.get_purpose_display(),
            visitor=visit.visitor_label,
            notes=visit.notes,
        )
    return [section]


def forget_person(traces: PersonTraces) -> None:
    for visit in Visit.objects.filter(household_id=traces.household_id).exclude(notes="").only("pk", "notes"):
        scrubbed = traces.scrub(visit.notes)
        if scrubbed != visit.notes:
            Visit.objects.filter(pk=visit.pk).update(notes=scrubbed)


def end_plans(household: Household) -> None:
    """Nobody lives in ``household`` any more: its plans stop (``visit_plans_generate`` skips
    archived households too, so they stay stopped)."""
    VisitPlan.objects.filter(household=household, active=True).update(active=False)
