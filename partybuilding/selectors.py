"""Reads shared by the party pages, the API and the resident's "my building" page.

Coverage (红色领航: a branch in every compound, a group in every building, every household
served by a central household) is computed with ``NOT EXISTS`` subqueries over the M2M
tables, restricted to what the user may see, so each list is one query and the three counts
are three single-row aggregates whatever the size of the district.
"""

from typing import Any

from django.db.models import Count, Exists, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.scoping import VIEW
from communities.models import Building, Community, Compound, Household, Street

from .models import BackboneTarget, CentralHousehold, PartyGroup

BranchCompound = Compound.party_branches.through
GroupBuilding = Building.party_groups.through
ServedHousehold = CentralHousehold.served_households.through

# A place a list is narrowed to: a row or its id (``None``: no narrowing).
Place = Community | Street | int | None

# The three coverage lists, by the ``kind`` used in URLs and API answers.
COVERAGE_KINDS = ("compounds", "buildings", "households")


def _has_branch() -> Exists:
    return Exists(BranchCompound.objects.filter(compound_id=OuterRef("pk")))


def _has_group() -> Exists:
    return Exists(GroupBuilding.objects.filter(building_id=OuterRef("pk")))


def _served() -> Q:
    """A household is served when it is a central household or one serves it."""
    return Q(Exists(CentralHousehold.objects.filter(household_id=OuterRef("pk")))) | Q(
        Exists(ServedHousehold.objects.filter(household_id=OuterRef("pk")))
    )


def _place_filters(community: Place = None, street: Place = None) -> dict[str, Place]:
    filters: dict[str, Place] = {}
    if community is not None:
        filters["community"] = community
    if street is not None:
        filters["street"] = street
    return filters


def compounds_without_branch(user: User, **filters: Any) -> QuerySet[Compound]:
    """Compounds the user may see that no party branch covers."""
    return Compound.objects.restrict(user, VIEW).filter(**filters).filter(~_has_branch())


def buildings_without_group(user: User, **filters: Any) -> QuerySet[Building]:
    """Buildings the user may see that no party group covers."""
    return Building.objects.restrict(user, VIEW).filter(**filters).filter(~_has_group())


def households_unserved(user: User, **filters: Any) -> QuerySet[Household]:
    """Households that are neither a central household nor served by one."""
    return Household.objects.restrict(user, VIEW).filter(**filters).exclude(_served())


def uncovered(kind: str, user: User, **filters: Any) -> QuerySet[Any]:
    """The uncovered rows of one ``kind`` in :data:`COVERAGE_KINDS`."""
    lists: dict[str, Any] = {
        "compounds": compounds_without_branch,
        "buildings": buildings_without_group,
        "households": households_unserved,
    }
    return lists[kind](user, **filters)


def coverage_counts(user: User, community: Place = None, street: Place = None) -> dict[str, int]:
    """How many compounds, buildings and households in scope are not covered, and of how many.

    Three queries (one aggregate per level), whatever the number of rows. ``community`` and
    ``street`` (a row or an id) narrow the count further.
    """
    filters = _place_filters(community, street)
    compounds = (
        Compound.objects.restrict(user, VIEW)
        .filter(**filters)
        .order_by()
        .aggregate(total=Count("pk"), uncovered=Count("pk", filter=~Q(_has_branch())))
    )
    buildings = (
        Building.objects.restrict(user, VIEW)
        .filter(**filters)
        .order_by()
        .aggregate(total=Count("pk"), uncovered=Count("pk", filter=~Q(_has_group())))
    )
    households = (
        Household.objects.restrict(user, VIEW)
        .filter(**filters)
        .order_by()
        .aggregate(total=Count("pk"), uncovered=Count("pk", filter=~_served()))
    )
    return {
        "compounds_without_branch": compounds["uncovered"],
        "buildings_without_group": buildings["uncovered"],
        "households_unserved": households["uncovered"],
        "compounds_total": compounds["total"],
        "buildings_total": buildings["total"],
        "households_total": households["total"],
    }


def count_of(model: type[Model], field: str) -> Coalesce:
    """A correlated subquery counting ``model`` rows whose ``field`` is the outer row (0 if none).

    Used instead of ``Count()`` over joins so that two counts on one list do not multiply.
    """
    rows = model._default_manager.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


def household_party_servers(household: Household) -> list[dict[str, Any]]:
    """The party side of "who serves my building": the group leader(s) covering the
    household's building, then the central household serving it (or the household itself
    when it is one). Mobile numbers masked. Two queries.

    Registered with ``communities.selectors.register_server_provider``; the caller has
    already restricted ``household`` to what the user may see.
    """
    servers: list[dict[str, Any]] = []
    groups = (
        PartyGroup.objects.filter(buildings=household.building_id, leader__isnull=False)
        .select_related("leader__resident")
        .order_by("pk")
    )
    for group in groups:
        if group.leader is None:  # excluded by the query; tells the type checker
            continue
        resident = group.leader.resident
        servers.append(
            {
                "role": _("党小组长"),
                "role_key": "group_leader",
                "name": resident.name,
                "mobile": resident.masked_mobile,
                "icon": "flag",
                "resident": resident,
            }
        )
    centrals = (
        CentralHousehold.objects.filter(
            Q(household_id=household.pk)
            | Q(Exists(ServedHousehold.objects.filter(centralhousehold_id=OuterRef("pk"), household_id=household.pk)))
        )
        .select_related("member__resident")
        .order_by("pk")
    )
    # The household's own central household first, then those that serve it.
    for central in sorted(centrals, key=lambda c: c.household_id != household.pk):
        resident = central.member.resident
        servers.append(
            {
                "role": _("党员中心户"),
                "role_key": "central_household",
                "name": resident.name,
                "mobile": resident.masked_mobile,
                "icon": "house-heart",
                "resident": resident,
            }
        )
    return servers


# --- 千万工程: backbone progress against the year's targets ------------------------------------------
def _backbone_counts(user: User, year: int, group: str, **filters: Any) -> dict[int, dict[str, int]]:
    """Backbones of ``year`` the user may see, grouped by ``group`` ("street" or "community"):
    ``{id: {"party", "mass", "party_trained", "mass_trained"}}``. One grouped query; a
    backbone counts as trained when it attended at least one training session."""
    from .models import Backbone

    party, mass = Backbone.Kind.PARTY, Backbone.Kind.MASS
    rows = (
        Backbone.objects.restrict(user, VIEW)
        .filter(year=year, **filters)
        .order_by()
        .values(group)
        .annotate(
            party=Count("pk", filter=Q(kind=party), distinct=True),
            mass=Count("pk", filter=Q(kind=mass), distinct=True),
            party_trained=Count("pk", filter=Q(kind=party, attendances__attended=True), distinct=True),
            mass_trained=Count("pk", filter=Q(kind=mass, attendances__attended=True), distinct=True),
        )
    )
    return {row[group]: row for row in rows}


def _percent(count: int, quota: int | None) -> float | None:
    if not quota:
        return None
    return round(100 * count / quota, 1)


def _progress_row(place: Model | None, counts: dict[str, int] | None, target: BackboneTarget | None) -> dict[str, Any]:
    counts = counts or {}
    row: dict[str, Any] = {
        "place": place,
        "target": target,
        "party": counts.get("party", 0),
        "mass": counts.get("mass", 0),
        "party_trained": counts.get("party_trained", 0),
        "mass_trained": counts.get("mass_trained", 0),
        "party_quota": target.party_quota if target else None,
        "mass_quota": target.mass_quota if target else None,
    }
    row["party_percent"] = _percent(row["party"], row["party_quota"])
    row["mass_percent"] = _percent(row["mass"], row["mass_quota"])
    return row


def sees_whole_street(user: User, street_id: int) -> bool:
    """Whether the user's view reaches every backbone of a street (not just their community's)."""
    from baohe.scoping import user_scope

    scope = user_scope(user, VIEW)
    return scope is None or scope.everything or street_id in scope.street_ids


def backbone_progress(user: User, year: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per street: the year's target and the backbones selected and trained, for the streets
    whose backbones the user sees in full (district and street level). Three queries."""
    from communities.models import Street

    from .models import BackboneTarget

    streets = [s for s in Street.objects.restrict(user, VIEW).order_by("code") if sees_whole_street(user, s.pk)]
    targets = {t.street_id: t for t in BackboneTarget.objects.restrict(user, VIEW).filter(year=year)}
    counts = _backbone_counts(user, year, "street")
    rows = [_progress_row(street, counts.get(street.pk), targets.get(street.pk)) for street in streets]
    totals = _progress_row(
        None,
        {key: sum(row[key] for row in rows) for key in ("party", "mass", "party_trained", "mass_trained")},
        None,
    )
    totals["party_quota"] = sum(row["party_quota"] or 0 for row in rows)
    totals["mass_quota"] = sum(row["mass_quota"] or 0 for row in rows)
    totals["party_percent"] = _percent(totals["party"], totals["party_quota"])
    totals["mass_percent"] = _percent(totals["mass"], totals["mass_quota"])
    return rows, totals


def backbone_street_progress(
    user: User, street: Street, year: int
) -> tuple[BackboneTarget | None, list[dict[str, Any]], dict[str, Any] | None]:
    """One street: its target, its totals (when the user sees the whole street) and, per
    community the user may see, the backbones selected and trained. Four queries."""
    from communities.models import Community

    from .models import BackboneTarget

    target = BackboneTarget.objects.restrict(user, VIEW).filter(street=street, year=year).first()
    communities = list(Community.objects.restrict(user, VIEW).filter(street=street).order_by("code"))
    counts = _backbone_counts(user, year, "community", street=street)
    rows = [_progress_row(c, counts.get(c.pk), None) for c in communities]
    total = None
    if sees_whole_street(user, street.pk):
        total = _progress_row(street, _backbone_counts(user, year, "street", street=street).get(street.pk), target)
    return target, rows, total


def backbone_years(user: User) -> list[int]:
    """Years that have a target or a backbone, newest first (for the year picker)."""
    from .models import Backbone, BackboneTarget

    years = set(BackboneTarget.objects.restrict(user, VIEW).values_list("year", flat=True).distinct())
    years |= set(Backbone.objects.restrict(user, VIEW).order_by().values_list("year", flat=True).distinct())
    return sorted(years, reverse=True)
