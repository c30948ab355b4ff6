"""Reads shared by the registry pages and API: the counts shown at each level of the tree.

A level page (district → street → community → compound) lists its child rows and, for each,
how many of every counted thing lie below it. Each count is one grouped query over the
denormalised scope columns, so a page costs the same few queries whatever the size of the
district. Apps on higher floors add their own counters (party branches, groups …) with
:func:`register_counter` from their ``AppConfig.ready()``; this module imports none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Length
from django.utils.functional import Promise

from baohe.scoping import VIEW, restricted

from .models import Building, Community, Compound, CompoundFeeRate, Household, Resident, ResidentTransfer

if TYPE_CHECKING:
    from accounts.models import User

# The child level of each level, and the lookup that names a row's parent at that level.
CHILD_LEVEL = {"district": "street", "street": "community", "community": "compound", "compound": "building"}


@dataclass(frozen=True)
class Counter:
    """Something counted at every level above its own: ``paths`` maps a level to the lookup of
    its id, read from the model's one declaration (``scope_paths.places_above()``)."""

    key: str
    label: str | Promise
    model: type[models.Model]
    # Only the rows that match (residents: those living there, 在住).
    condition: Q | None = None

    @classmethod
    def of(cls, model: type[models.Model], label: str | Promise, condition: Q | None = None) -> Counter:
        return cls(key=model._meta.model_name or model.__name__.lower(), label=label, model=model, condition=condition)

    @property
    def paths(self) -> dict[str, str]:
        return self.model.scope_paths.places_above()  # type: ignore[attr-defined]


_COUNTERS: list[Counter] = []


def register_counter(counter: Counter) -> None:
    if all(existing.key != counter.key for existing in _COUNTERS):
        _COUNTERS.append(counter)


def counters() -> list[Counter]:
    return list(_COUNTERS)


def _register_registry_counters() -> None:
    from django.utils.translation import gettext_lazy as _

    for model, label in (
        (Community, _("社区")),
        (Compound, _("小区")),
        (Building, _("楼栋")),
        (Household, _("住户")),
    ):
        register_counter(Counter.of(model, label))
    # People counted are the people living there: who moved away or died is in the registry
    # (and in every figure about what happened while they lived there) but not counted here.
    register_counter(Counter.of(Resident, _("居民"), Q(status=Resident.Status.LIVING)))


_register_registry_counters()


@dataclass
class LevelCounts:
    """The counters that apply below one level, per child row and in total."""

    columns: list[Counter]
    by_child: dict[int, dict[str, int]]  # child id -> {counter key: n}
    totals: dict[str, int]  # counter key -> n

    def row(self, child_id: int) -> list[int]:
        return [self.by_child.get(child_id, {}).get(c.key, 0) for c in self.columns]


def level_counts(*, user: User, level: str, parent_id: int | None = None) -> LevelCounts:
    """Counts of every counter below ``level`` (row ``parent_id``), grouped by child row.

    One grouped query and one total per counter; restricted to what ``user`` may see.
    """
    child = CHILD_LEVEL[level]
    columns = [c for c in counters() if child in c.paths]
    by_child: dict[int, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for counter in columns:
        queryset = restricted(counter.model, user, VIEW)
        if counter.condition is not None:
            queryset = queryset.filter(counter.condition)
        if level != "district":
            queryset = queryset.filter(**{counter.paths[level]: parent_id})
        group = counter.paths[child]
        rows = queryset.order_by().values(group).annotate(n=Count("pk", distinct=True))
        for entry in rows:
            by_child.setdefault(entry[group], {})[counter.key] = entry["n"]
        totals[counter.key] = queryset.order_by().aggregate(n=Count("pk", distinct=True))["n"]
    return LevelCounts(columns=columns, by_child=by_child, totals=totals)


def household_rows(
    *, user: User, building: Building, flag: str = "", unit: int | None = None, q: str = ""
) -> QuerySet[Household]:
    """The households of a building with their resident counts, for the building page; narrowed
    to one flag (``Household.FLAG_FIELDS``), one unit, and a search (every word a room, or a
    resident's name or 尾号: ``communities.search``)."""
    rows = Household.objects.restrict(user, VIEW).filter(building=building)
    if flag in Household.FLAG_FIELDS:
        rows = rows.filter(**{flag: True})
    if unit:
        rows = rows.filter(unit=unit)
    if q:
        from .search import building_household_q, parse

        for word in parse(q):
            rows = rows.filter(building_household_q(word, building))
    return rows.annotate(
        resident_count=Count("residents", filter=Q(residents__status=Resident.Status.LIVING))
    ).order_by(F("archived_at").asc(nulls_first=True), "unit", Length("room"), "room")


def building_flag_counts(*, user: User, building: Building) -> dict[str, int]:
    """How many of the building's households carry each flag (one query), for its filter."""
    aggregates = {name: Count("pk", filter=Q(**{name: True})) for name in Household.FLAG_FIELDS}
    aggregates["all"] = Count("pk")
    return Household.objects.restrict(user, VIEW).filter(building=building).aggregate(**aggregates)


# Functions (household) -> [{"role", "role_key", "name", "mobile", "resident"}] that apps on higher
# floors register (the party group leader, the central household …) for the resident's "my
# building" page.
ServerProvider = Callable[[Household], list[dict[str, Any]]]
_SERVER_PROVIDERS: list[ServerProvider] = []
# Functions (household, viewer, servers) -> None that apps on higher floors register to add to
# the list what the viewer may do with each server (``reach``: the full number as a ``tel:``
# link when the server consented, a message link).
ServerContact = Callable[[Household, "User", list[dict[str, Any]]], None]
_SERVER_CONTACTS: list[ServerContact] = []


def register_server_provider(provider: ServerProvider) -> None:
    if provider not in _SERVER_PROVIDERS:
        _SERVER_PROVIDERS.append(provider)


def register_server_contact(contact: ServerContact) -> None:
    if contact not in _SERVER_CONTACTS:
        _SERVER_CONTACTS.append(contact)


def household_servers(household: Household, viewer: User | None = None) -> list[dict[str, Any]]:
    """Who serves this household, with masked phone numbers: the building head, then the rest.

    Each entry: ``role`` (label), ``role_key`` (``building_head``, ``group_leader``,
    ``central_household``), ``name``, ``mobile`` (masked), ``resident`` (the server's record).

    The resident's "my building" page (``views.my_building``) shows this list; the party side
    (the group leaders covering the building, the central household serving the household) is
    ``partybuilding.selectors.household_party_servers``, registered in ``partybuilding/apps.py``.
    With ``viewer`` (a resident of the household), the registered contact functions add what
    the viewer may do (``reach.selectors.add_contacts``: a consented number in full, messages).
    """
    from django.utils.translation import gettext as _

    servers: list[dict[str, Any]] = []
    head = household.building.head
    if head is not None:
        servers.append(
            {
                "role": _("楼栋长"),
                "role_key": "building_head",
                "name": head.name,
                "mobile": head.masked_mobile,
                "icon": "building",
                "resident": head,
            }
        )
    for provider in _SERVER_PROVIDERS:
        servers.extend(provider(household))
    if viewer is not None:
        for contact in _SERVER_CONTACTS:
            contact(household, viewer, servers)
    return servers


# Functions (household, user) -> {"key", "title", "url"} or None, registered by apps on higher
# floors for the staff household page (e.g. volunteers: the services the household received).
# The page loads each section from its URL (htmx), so a provider runs no query and the
# registry page costs the same whatever the apps above it add.
SectionProvider = Callable[[Household, "User"], "dict[str, Any] | None"]
_HOUSEHOLD_SECTIONS: list[SectionProvider] = []


def register_household_section(provider: SectionProvider) -> None:
    if provider not in _HOUSEHOLD_SECTIONS:
        _HOUSEHOLD_SECTIONS.append(provider)


def household_sections(household: Household, user: User) -> list[dict[str, Any]]:
    """The extra sections of a household's page, in registration order (``None`` left out)."""
    sections = []
    for provider in _HOUSEHOLD_SECTIONS:
        section = provider(household, user)
        if section:
            sections.append(section)
    return sections


# --- 迁入 requests ----------------------------------------------------------------------------------------
def transfers_for(*, user: User, direction: str | None = None, status: str | None = None) -> QuerySet:
    """The 迁入 requests ``user`` may see, newest first: ``direction="incoming"`` those asking a
    community the user sees for one of its residents, ``"outgoing"`` those its own community
    sent; with the rows a list shows."""
    rows: QuerySet[ResidentTransfer] = ResidentTransfer.objects.restrict(user, VIEW).select_related(
        "resident", "source_community", "community", "to_household__building", "requested_by", "decided_by"
    )
    if direction:
        rows = transfers_in_direction(rows, user=user, direction=direction)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-id")


def transfers_in_direction(rows: QuerySet, *, user: User, direction: str) -> QuerySet:
    """``incoming``: asking a community ``user`` sees for one of its residents; ``outgoing``:
    sent by a community the user sees."""
    visible = restricted(Community, user, VIEW).values("pk")
    field = "source_community__in" if direction == "incoming" else "community__in"
    return rows.filter(**{field: visible})


# --- 物业费缴纳率 (property-fee collection rate) ---------------------------------------------------
def fee_rate_trend(compound: Compound | int, *, months: int = 12) -> list[tuple[dt.date, Decimal]]:
    """The compound's last ``months`` recorded monthly rates, oldest first (one query)."""
    pk = compound.pk if isinstance(compound, Compound) else compound
    rows = CompoundFeeRate.objects.filter(compound_id=pk).order_by("-month").values_list("month", "rate")[:months]
    return list(reversed(list(rows)))
