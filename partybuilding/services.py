"""Writes for the 千万工程 (ARCHITECTURE rule 2): annual targets, training sessions and the
attendance sheet of a session. Registry rows of the party organisation are saved with
``baohe.services.scoped_save`` by the base views and viewsets; these are the writes with
rules of their own.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import OutOfScope
from baohe.query import parse_int
from baohe.scoping import CHANGE, VIEW
from baohe.services import scoped_save

from .models import Attendance, Backbone, BackboneTarget, CentralHousehold, TrainingSession


def _require_staff(user: User) -> None:
    if not (user.is_authenticated and user.is_portal_staff):
        raise PermissionDenied(_("只有工作人员可以进行这项操作。"))


def backbone_target_save(*, instance: BackboneTarget, by: User) -> BackboneTarget:
    """Set a street's target for a year (street staff and administrators)."""
    _require_staff(by)
    return scoped_save(instance=instance, by=by)


def training_session_save(*, instance: TrainingSession, by: User) -> TrainingSession:
    """Schedule a session of a course in a street (or one of its communities)."""
    _require_staff(by)
    return scoped_save(instance=instance, by=by)


def session_roster(session: TrainingSession, user: User, action: str = VIEW) -> QuerySet[Backbone]:
    """The backbones who may attend ``session``: that year's backbones of its street (or
    community), those the user may see (``action="view"``) or record (``"change"``)."""
    roster = Backbone.objects.restrict(user, action).filter(
        street_id=session.street_id, year=timezone.localtime(session.starts_at).year
    )
    if session.community_id:
        roster = roster.filter(community_id=session.community_id)
    return roster


@dataclass
class AttendanceResult:
    attended: list[Backbone] = field(default_factory=list)
    absent: list[Backbone] = field(default_factory=list)


def attendance_record(*, session_id: int, attended_ids: Iterable[object], by: User) -> AttendanceResult:
    """Save a session's attendance sheet as ``by`` sees it: every backbone on their roster is
    marked attended when ticked, absent when not (an absence is written only for a backbone
    already on the sheet). A ticked id outside their roster answers 404 and changes nothing."""
    _require_staff(by)
    session = TrainingSession.objects.restrict(by, VIEW).filter(pk=session_id).first()
    if session is None:
        raise OutOfScope(TrainingSession._meta.verbose_name)
    attended_ids = {parse_int(pk, min_value=1) for pk in attended_ids}
    if None in attended_ids:
        raise ValidationError(_("骨干编号必须是整数。"))
    result = AttendanceResult()
    with transaction.atomic():
        roster = {b.pk: b for b in session_roster(session, by, CHANGE).select_related("resident")}
        if attended_ids - set(roster):
            raise OutOfScope(Backbone._meta.verbose_name)
        if not roster:
            raise ValidationError(_("您所在范围内没有可以登记本班次培训的骨干。"))
        existing = {
            a.backbone_id: a
            for a in Attendance.objects.select_for_update().filter(session=session, backbone_id__in=list(roster))
        }
        create: list[Attendance] = []
        update: list[Attendance] = []
        for pk, backbone in roster.items():
            present = pk in attended_ids
            row = existing.get(pk)
            if row is None:
                if present:
                    create.append(
                        Attendance(
                            session=session,
                            backbone=backbone,
                            attended=True,
                            street_id=backbone.street_id,
                            community_id=backbone.community_id,
                        )
                    )
            elif row.attended != present:
                row.attended = present
                update.append(row)
            (result.attended if present else result.absent).append(backbone)
        Attendance.objects.bulk_create(create)
        Attendance.objects.bulk_update(update, ["attended"])
    return result


# --- central households and the plans they decide -----------------------------------------------
def central_household_reach(central: CentralHousehold | None) -> set[int]:
    """The households whose visit plans a central household decides: its own and those it serves
    (read before and after a change, and both told to ``communities.services.households_changed``)."""
    if central is None or central.pk is None:
        return set()
    served = CentralHousehold.served_households.through.objects.filter(centralhousehold_id=central.pk)
    return {central.household_id, *served.values_list("household_id", flat=True)}
