"""Residents leaving and being forgotten (PIPL Art. 47): 迁出 / 去世, household archive, anonymisation.

- ``resident_move_away`` / ``resident_record_death``: staff record that a living resident moved
  away or died on a date (the staff resident page and ``POST /api/v1/residents/{id}/move-away/``,
  ``…/record-death/`` call them). The row stays, with its status and ``left_on``; one audit line
  (UPDATE, status old → new). A household with nobody left living is archived in the same
  transaction (``household_archive_if_empty``); the nightly task also archives what other paths
  emptied and restores an archived household where someone lives again (``households_archive_sync``).
- ``residents_anonymise_due``: the nightly task's service. ``RESIDENT_RETENTION_MONTHS`` after
  ``left_on`` each such resident is anonymised (``resident_anonymise``): name → 居民, mobile and ID
  number erased, birth year coarsened to its decade (gender kept), their name scrubbed from the
  household note and, through the hooks apps above register (``register_anonymiser``), from the
  requests, visits and volunteer records that were theirs; their login account is closed and
  detached. The row stays, so every count it is in (level pages, dashboards) is unchanged. One
  audit line (ANONYMISE, no user) per person. Bounded batches, each its own transaction with
  ``SKIP LOCKED``; a resident already anonymised is never touched again (idempotent).

What a person's own data is (the 我的信息 page and ``GET /api/v1/me/data/``) lives in
``communities.personal_data``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.exceptions import Conflict
from baohe.masking import redact_numbers
from baohe.models import AuditEntry
from baohe.scoping import CHANGE, check_in_scope
from baohe.services import audit

from ..models import Household, Resident

if TYPE_CHECKING:
    from accounts.models import User

ANONYMOUS_NAME = "居民"  # stored data, not a UI string: what an anonymised person is called


@dataclass(frozen=True)
class PersonTraces:
    """What identified a person before anonymisation: the hooks look for these and scrub them."""

    resident_id: int
    household_id: int
    user_id: int | None
    name: str
    mobile: str
    id_number: str
    account_closed: bool = False

    def scrub(self, text: str) -> str:
        """``text`` with the person's name replaced and every mobile/ID number masked."""
        if not text:
            return text
        if self.name and self.name != ANONYMOUS_NAME:
            text = text.replace(self.name, ANONYMOUS_NAME)
        return redact_numbers(text)


# Functions (traces) -> None that apps above the registry register from their AppConfig.ready()
# to scrub what they hold about a person (requests, visits, volunteer records, notifications).
Anonymiser = Callable[[PersonTraces], None]
_ANONYMISERS: list[Anonymiser] = []

# Functions (household) -> None run when a household is archived (visits: its plans end).
ArchiveHook = Callable[[Household], None]
_ARCHIVE_HOOKS: list[ArchiveHook] = []


def register_anonymiser(func: Anonymiser) -> None:
    if func not in _ANONYMISERS:
        _ANONYMISERS.append(func)


def register_archive_hook(func: ArchiveHook) -> None:
    if func not in _ARCHIVE_HOOKS:
        _ARCHIVE_HOOKS.append(func)


# --- status -------------------------------------------------------------------------------------
def resident_move_away(
    *, resident: Resident, by: User, on: datetime.date, request: HttpRequest | None = None
) -> Resident:
    """迁出: ``resident`` moved away on ``on``."""
    return _resident_leave(resident=resident, by=by, status=Resident.Status.MOVED_AWAY, on=on, request=request)


def resident_record_death(
    *, resident: Resident, by: User, on: datetime.date, request: HttpRequest | None = None
) -> Resident:
    """去世: ``resident`` died on ``on``."""
    return _resident_leave(resident=resident, by=by, status=Resident.Status.DECEASED, on=on, request=request)


def _resident_leave(
    *, resident: Resident, by: User, status: str, on: datetime.date, request: HttpRequest | None
) -> Resident:
    if on > timezone.localdate():
        raise ValidationError({"left_on": _("日期不能晚于今天。")})
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        check_in_scope(locked, by, CHANGE)
        if locked.status != Resident.Status.LIVING:
            raise Conflict(_("该居民已是“%(status)s”状态。") % {"status": locked.get_status_display()})
        old = locked.get_status_display()
        locked.status, locked.left_on = status, on
        locked.full_clean(exclude=[f.name for f in Resident._meta.fields if f.name not in ("status", "left_on")])
        locked.save(update_fields=["status", "left_on", "updated_at"])
        audit(
            user=by,
            action=AuditEntry.Action.UPDATE,
            obj=locked,
            request=request,
            changes={"status": [old, locked.get_status_display()], "left_on": [None, on.isoformat()]},
        )
        household_archive_if_empty(household=locked.household)
    resident.status, resident.left_on = locked.status, locked.left_on
    return locked


def household_archive_if_empty(*, household: Household, now: datetime.datetime | None = None) -> bool:
    """Archive ``household`` when it has residents and none of them lives there any more.
    Returns True when it was archived now (an already archived or still lived-in one: False)."""
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        if locked.archived_at is not None:
            return False
        residents = Resident.objects.filter(household=locked)
        if not residents.exists() or residents.filter(status=Resident.Status.LIVING).exists():
            return False
        locked.archived_at = now or timezone.now()
        locked.save(update_fields=["archived_at", "updated_at"])
        for hook in _ARCHIVE_HOOKS:
            hook(locked)
    household.archived_at = locked.archived_at
    return True


def households_archive_sync(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """The nightly safety net (like the request summaries' rebuild): archive every household whose
    residents all left by a path that bypassed the services (the admin, a bulk load), and bring
    back every archived household where someone lives again (staff added a resident). Returns
    ``(archived, restored)``."""
    living = Resident.objects.filter(household_id=OuterRef("pk"), status=Resident.Status.LIVING)
    restored = Household.objects.filter(archived_at__isnull=False).filter(Exists(living)).update(archived_at=None)
    empty = (
        Household.objects.filter(archived_at__isnull=True)
        .filter(Exists(Resident.objects.filter(household_id=OuterRef("pk"))))
        .exclude(Exists(living))
    )
    archived = 0
    for household in empty.order_by("pk").only("pk"):
        archived += household_archive_if_empty(household=household, now=now)
    return archived, restored


# --- anonymisation ------------------------------------------------------------------------------
def retention_cutoff(now: datetime.datetime | None = None) -> datetime.date:
    """The last ``left_on`` date that is due for anonymisation at ``now``: the same day
    ``RESIDENT_RETENTION_MONTHS`` months earlier (the month's last day when it is shorter)."""
    today = timezone.localdate(now or timezone.now())
    months = today.year * 12 + today.month - 1 - settings.RESIDENT_RETENTION_MONTHS
    year, month = divmod(months, 12)
    month += 1
    next_first = datetime.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(today.day, last_day))


def residents_anonymise_due(*, now: datetime.datetime | None = None, batch_size: int | None = None) -> int:
    """Anonymise every resident whose retention period has passed; returns how many.

    Each batch is one transaction that claims its rows with ``SKIP LOCKED``, so two runs at once
    share the work and a run killed half way leaves whole batches done and the rest for the next.
    """
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    size = batch_size or settings.RESIDENT_ANONYMISE_BATCH
    done = 0
    while True:
        with transaction.atomic():
            batch = list(
                Resident.objects.select_for_update(skip_locked=True, of=("self",))
                .exclude(status=Resident.Status.LIVING)
                .filter(anonymised_at__isnull=True, left_on__lte=cutoff)
                .select_related("user")
                .order_by("left_on", "pk")[:size]
            )
            for resident in batch:
                resident_anonymise(resident=resident, now=now)
        done += len(batch)
        if len(batch) < size:
            break
    households_archive_sync(now=now)
    return done


def resident_anonymise(*, resident: Resident, now: datetime.datetime | None = None) -> Resident:
    """Anonymise one resident who left (see the module docstring). The caller holds the row lock
    (``residents_anonymise_due``) or this takes it; an anonymised or living resident is refused."""
    now = now or timezone.now()
    with transaction.atomic():
        resident = Resident.objects.select_for_update(of=("self",)).select_related("user").get(pk=resident.pk)
        if resident.anonymised_at is not None:
            return resident
        if resident.status == Resident.Status.LIVING:
            raise Conflict(_("在住居民不能匿名化。"))
        account = resident.user
        traces = PersonTraces(
            resident_id=resident.pk,
            household_id=resident.household_id,
            user_id=resident.user_id,
            name=resident.name,
            mobile=resident.mobile,
            id_number=resident.id_number,
            account_closed=account is not None and _account_close(account=account),
        )
        resident.name = ANONYMOUS_NAME
        resident.mobile = ""
        resident.id_number = ""
        if resident.birth_year:
            resident.birth_year -= resident.birth_year % 10
        resident.user = None
        resident.anonymised_at = now
        resident.save(
            update_fields=["name", "mobile", "id_number", "birth_year", "user", "anonymised_at", "updated_at"]
        )
        household = Household.objects.select_for_update().get(pk=resident.household_id)
        if household.note and traces.scrub(household.note) != household.note:
            household.note = traces.scrub(household.note)
            household.save(update_fields=["note", "updated_at"])
        for anonymiser in _ANONYMISERS:
            anonymiser(traces)
        audit(
            user=None,
            action=AuditEntry.Action.ANONYMISE,
            obj=resident,
            detail={
                "status": resident.status,
                "left_on": resident.left_on.isoformat() if resident.left_on else None,
                "retention_months": settings.RESIDENT_RETENTION_MONTHS,
                "account_closed": traces.account_closed,
            },
        )
        household_archive_if_empty(household=household, now=now)
    return resident


def _account_close(*, account: User) -> bool:
    """Deactivate and empty a resident's login account, unless it still has a living record or
    works in the portal (then it is only detached from this record); True when closed."""
    from accounts.models import Role
    from accounts.roles import roles_changed
    from accounts.tokens import user_sign_out_everywhere

    if account.is_portal_staff or account.is_staff or account.is_superuser:
        return False
    if Resident.objects.filter(user=account, status=Resident.Status.LIVING).exists():
        return False
    user_sign_out_everywhere(user=account)
    account.username = f"anonymised-{account.pk}"
    account.name = ""
    account.first_name = ""
    account.last_name = ""
    account.email = ""
    account.mobile = None
    account.is_active = False
    account.set_unusable_password()
    account.save(
        update_fields=["username", "name", "first_name", "last_name", "email", "mobile", "is_active", "password"]
    )
    Role.objects.filter(user=account, kind=Role.Kind.RESIDENT).delete()
    roles_changed(account.pk)
    return True
