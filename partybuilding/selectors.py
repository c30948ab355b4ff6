"""Reads shared by the party pages, the API and the resident's "my building" page.

Coverage (红色领航: a branch in every compound, a group in every building, every household
served by a central household) is computed with ``NOT EXISTS`` subqueries over the M2M
tables, restricted to what the user may see, so each list is one query and the three counts
are three single-row aggregates whatever the size of the district.
"""

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from baohe.scoping import VIEW
from communities.models import Building, Compound, Household

from .models import CentralHousehold, PartyGroup

BranchCompound = Compound.party_branches.through
GroupBuilding = Building.party_groups.through
ServedHousehold = CentralHousehold.served_households.through

# The three coverage lists, by the ``kind`` used in URLs and API answers.
COVERAGE_KINDS = ("compounds", "buildings", "households")


def _has_branch():
    return Exists(BranchCompound.objects.filter(compound_id=OuterRef("pk")))


def _has_group():
    return Exists(GroupBuilding.objects.filter(building_id=OuterRef("pk")))


def _served():
    """A household is served when it is a central household or one serves it."""
    return Q(Exists(CentralHousehold.objects.filter(household_id=OuterRef("pk")))) | Q(
        Exists(ServedHousehold.objects.filter(household_id=OuterRef("pk")))
    )


def _place_filters(community=None, street=None):
    filters = {}
    if community is not None:
        filters["community"] = community
    if street is not None:
        filters["street"] = street
    return filters


def compounds_without_branch(user, **filters):
    """Compounds the user may see that no party branch covers."""
    return Compound.objects.restrict(user, VIEW).filter(**filters).filter(~_has_branch())


def buildings_without_group(user, **filters):
    """Buildings the user may see that no party group covers."""
    return Building.objects.restrict(user, VIEW).filter(**filters).filter(~_has_group())


def households_unserved(user, **filters):
    """Households that are neither a central household nor served by one."""
    return Household.objects.restrict(user, VIEW).filter(**filters).exclude(_served())


def uncovered(kind, user, **filters):
    """The uncovered rows of one ``kind`` in :data:`COVERAGE_KINDS`."""
    return {
        "compounds": compounds_without_branch,
        "buildings": buildings_without_group,
        "households": households_unserved,
    }[kind](user, **filters)


def coverage_counts(user, community=None, street=None):
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


def count_of(model, field):
    """A correlated subquery counting ``model`` rows whose ``field`` is the outer row (0 if none).

    Used instead of ``Count()`` over joins so that two counts on one list do not multiply.
    """
    rows = model._default_manager.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


def household_party_servers(household):
    """The party side of "who serves my building": the group leader(s) covering the
    household's building, then the central household serving it (or the household itself
    when it is one). Mobile numbers masked. Two queries.

    Registered with ``communities.selectors.register_server_provider``; the caller has
    already restricted ``household`` to what the user may see.
    """
    servers = []
    groups = (
        PartyGroup.objects.filter(buildings=household.building_id, leader__isnull=False)
        .select_related("leader__resident")
        .order_by("pk")
    )
    for group in groups:
        resident = group.leader.resident
        servers.append({"role": _("党小组长"), "name": resident.name, "mobile": resident.masked_mobile, "icon": "flag"})
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
            {"role": _("党员中心户"), "name": resident.name, "mobile": resident.masked_mobile, "icon": "house-heart"}
        )
    return servers
