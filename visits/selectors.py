"""Reads that the visit pages and the API share: who may visit which household, my visits
due this week, a community's coverage, the overdue list. Each is a fixed number of queries."""

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from baohe.scoping import CHANGE, VIEW, scope_filter, user_scope
from communities.models import Community, Compound, Household, Resident
from partybuilding.models import CentralHousehold, PartyGroup

from .models import Visit, VisitPlan

WEEK = 7
COVERAGE_DAYS = 30


def visitable_households(user: User | None) -> QuerySet[Household]:
    """Households ``user`` may record a visit to (and see on the visit pages).

    Staff: the households in their change scope. Party volunteers: the households on their
    own active plans, those their central household serves, and those in the buildings of
    the party group they lead. Everyone else: none.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Household.objects.none()
    scope = user_scope(user, CHANGE)
    if scope is None or scope.everything:
        return Household.objects.all()
    q = Q(pk__in=VisitPlan.objects.filter(visitor_user=user, active=True).values("household_id"))
    q |= Q(
        pk__in=CentralHousehold.served_households.through.objects.filter(
            centralhousehold__member__resident__user=user
        ).values("household_id")
    )
    q |= Q(
        building__in=PartyGroup.buildings.through.objects.filter(partygroup__leader__resident__user=user).values(
            "building_id"
        )
    )
    staff_q = scope_filter(Household.scope_paths, scope)
    if staff_q is not None:
        q |= staff_q
    return Household.objects.filter(q)


def residents_prefetch(prefix: str = "household__") -> Prefetch:
    return Prefetch(
        f"{prefix}residents", queryset=Resident.objects.living().order_by("pk").only("pk", "name", "household_id")
    )


def my_plans(user: User, today: date | None = None, *, horizon_days: int | None = WEEK) -> QuerySet[VisitPlan]:
    """The user's active plans due within ``horizon_days`` (overdue ones first); all if ``None``."""
    today = today or timezone.localdate()
    plans = VisitPlan.objects.filter(visitor_user=user, active=True)
    if horizon_days is not None:
        plans = plans.filter(next_due_on__lt=today + timedelta(days=horizon_days))
    return (
        plans.select_related("household__building", "household__compound")
        .prefetch_related(residents_prefetch())
        .order_by("next_due_on", "id")
    )


def household_plans(household: Household) -> QuerySet[VisitPlan]:
    return household.visit_plans.filter(active=True).order_by("next_due_on", "id")


def visits_in_scope(user: User) -> QuerySet[Visit]:
    return Visit.objects.restrict(user, VIEW).select_related(
        "household__building", "household__compound", "visitor", "request"
    )


def coverage_rows(
    user: User, today: date | None = None, *, community: Community | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per compound in the user's view scope: 独居老人户, active plans, visits in the
    last 30 days (and how many on time), plans overdue now. Four grouped queries in all."""
    today = today or timezone.localdate()
    since = timezone.now() - timedelta(days=COVERAGE_DAYS)
    compounds = Compound.objects.restrict(user, VIEW).select_related("community").order_by("community__code", "name")
    households = Household.objects.restrict(user, VIEW).filter(lives_alone_elderly=True)
    plans = VisitPlan.objects.restrict(user, VIEW).filter(active=True)
    visits = Visit.objects.restrict(user, VIEW).filter(visited_at__gte=since)
    if community is not None:
        compounds = compounds.filter(community=community)
        households = households.filter(community=community)
        plans = plans.filter(community=community)
        visits = visits.filter(community=community)
    flagged = dict(households.order_by().values("compound").annotate(n=Count("pk")).values_list("compound", "n"))
    plan_counts = {
        row["compound"]: row
        for row in plans.order_by()
        .values("compound")
        .annotate(
            plans=Count("pk"),
            weekly=Count("pk", filter=Q(rule=VisitPlan.Rule.ALONE_ELDERLY_WEEKLY)),
            overdue=Count("pk", filter=Q(next_due_on__lt=today)),
            overdue_weekly=Count("pk", filter=Q(next_due_on__lt=today, rule=VisitPlan.Rule.ALONE_ELDERLY_WEEKLY)),
            no_visitor=Count("pk", filter=Q(visitor_user=None)),
        )
    }
    visit_counts = {
        row["compound"]: row
        for row in visits.order_by()
        .values("compound")
        .annotate(
            visits=Count("pk"),
            on_time=Count("pk", filter=Q(on_time=True)),
            households=Count("household", distinct=True),
            needs=Count("pk", filter=Q(request__isnull=False)),
        )
    }
    keys = ("plans", "weekly", "overdue", "overdue_weekly", "no_visitor", "visits", "on_time", "households", "needs")
    rows: list[dict[str, Any]] = []
    totals: dict[str, Any] = dict.fromkeys(("flagged", *keys), 0)
    for compound in compounds:
        row: dict[str, Any] = {"compound": compound, "flagged": flagged.get(compound.pk, 0)}
        counted = {**plan_counts.get(compound.pk, {}), **visit_counts.get(compound.pk, {})}
        for key in keys:
            row[key] = counted.get(key, 0)
        row["on_time_rate"] = round(100 * row["on_time"] / row["visits"]) if row["visits"] else None
        for key in totals:
            totals[key] += row[key]
        rows.append(row)
    totals["on_time_rate"] = round(100 * totals["on_time"] / totals["visits"]) if totals["visits"] else None
    return rows, totals


def overdue_plans(
    user: User,
    today: date | None = None,
    *,
    community: Community | None = None,
    compound: Compound | None = None,
) -> QuerySet[VisitPlan]:
    """Active plans past their due date in the user's view scope, most overdue first."""
    today = today or timezone.localdate()
    plans = VisitPlan.objects.restrict(user, VIEW).filter(active=True, next_due_on__lt=today)
    if community is not None:
        plans = plans.filter(community=community)
    if compound is not None:
        plans = plans.filter(compound=compound)
    return plans.select_related("household__building", "household__compound", "visitor_user").order_by(
        "next_due_on", "id"
    )


# --- the household's timeline ---------------------------------------------------------------------
def household_timeline_entries(household: Household, user: User, limit: int) -> list[Any]:
    """The household's visits for its timeline (``communities.timeline``; registered in
    ``apps.py``): one query, newest first."""
    from django.utils.translation import gettext as _

    from communities.timeline import Entry

    rows = Visit.objects.restrict(user, VIEW).filter(household=household).order_by("-visited_at", "-id")[:limit]
    return [
        Entry(
            when=row.visited_at,
            kind="visit",
            kind_label=_("走访"),
            icon="door-open",
            title=str(row.get_purpose_display()),
            url=row.get_absolute_url(),
            detail=" · ".join(part for part in (row.visitor_label, row.notes[:60]) if part),
        )
        for row in rows
    ]
