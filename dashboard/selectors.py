"""The numbers on a dashboard, section by section: reads only, a fixed number of queries.

Requests come from the summary tables (``service_requests.summary``): one grouped query for
the totals, the trend and the ranking of the level below, one for the category breakdown,
one for the ten compounds with most requests. Overdue requests, the party organisation,
visits, volunteers and backbones are live counts — single aggregates on indexed, scoped
columns. Every query starts from ``Model.objects.restrict(user)``; the place (street,
community, compound) is a filter on the lookup the model declares once in its ``scope_paths``
(``ScopePaths.place_filter``). What each request counter and rate means is declared in
``service_requests.kpis``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from baohe.metrics import cache_lookup
from baohe.scoping import VIEW, restricted, user_scope
from baohe.texts import in_english
from communities.models import Building, Community, Compound, Household, Street
from funds import selectors as funds_selectors
from funds.models import LedgerEntry
from partybuilding import selectors as party
from partybuilding.models import (
    Attendance,
    Backbone,
    BackboneTarget,
    CentralHousehold,
    PartyBranch,
    PartyGroup,
    PartyMember,
)
from service_requests.filters import overdue_q
from service_requests.kpis import rates
from service_requests.models import (
    OPEN_STATUSES,
    RequestCommunitySummary,
    RequestCompoundSummary,
    RequestStreetSummary,
    RequestSummary,
    ServiceRequest,
)
from service_requests.summary import COUNTERS
from visits.models import Visit, VisitPlan
from volunteers.models import ServiceHours, Volunteer

from .places import Period, Place, add_months

# The column naming a row's child place, per level (requests and summary rows).
CHILD_FIELD = {"district": "street_id", "street": "community_id", "community": "compound_id"}
CHILD_MODELS: dict[str, type[Street | Community | Compound]] = {
    "street": Street,
    "community": Community,
    "compound": Compound,
}


def scope_key(user: User) -> str:
    """What ``restrict()`` will let ``user`` see, as a short cache-key part."""
    scope = user_scope(user, VIEW)
    if scope is None or scope.everything:
        return "all"
    parts = (scope.street_ids, scope.community_ids, scope.parent_street_ids, scope.compound_ids, scope.household_ids)
    return "-".join(",".join(str(i) for i in sorted(ids)) for ids in parts) + (f"-u{scope.user_id}")


def summed(rows: Iterable[Mapping[str, Any]], keys: Iterable[str] = COUNTERS) -> Counter[str]:
    total: Counter[str] = Counter()
    for row in rows:
        for key in keys:
            total[key] += row.get(key) or 0
    return total


def with_rates(counts: Mapping[str, Any]) -> dict[str, Any]:
    """The counters (0 where missing) and the rates (``kpis.RATES``) computed from them, as a dict."""
    out: dict[str, Any] = {name: counts.get(name) or 0 for name in COUNTERS}
    out.update(rates(out))
    return out


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in COUNTERS}


class Dashboard:
    """All sections of one place's dashboard over one period, each read on first use."""

    def __init__(self, *, user: User, place: Place, period: Period, now: datetime | None = None) -> None:
        self.user = user
        self.place = place
        self.period = period
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)

    def _scoped(self, model: type[models.Model]) -> QuerySet:
        """``model``'s rows the user may see, lying in this place (``model.scope_paths``)."""
        return restricted(model, self.user, VIEW).filter(self.place.filter_for(model))

    # --- requests (summary) ------------------------------------------------------------------
    @property
    def _rollup(self) -> type[models.Model]:
        """The summary table holding this level's totals and its children's (by child and month)."""
        return {
            "district": RequestStreetSummary,
            "street": RequestCommunitySummary,
            "community": RequestCompoundSummary,
            "compound": RequestCompoundSummary,
        }[self.place.level]

    @cached_property
    def _request_rows(self) -> list[dict[str, Any]]:
        """Counters per (child, month) over the period and the trend: one query."""
        child = CHILD_FIELD.get(self.place.level)
        group = (child, "month") if child else ("month",)
        return list(
            self._scoped(self._rollup)
            .filter(month__gte=self.period.first_read, month__lte=self.period.end)
            .order_by()
            .values(*group)
            .annotate(**_sums())
        )

    def _in_period(self, row: Mapping[str, Any]) -> bool:
        return self.period.start <= row["month"] <= self.period.end

    @cached_property
    def request_totals(self) -> dict[str, Any]:
        """Counters over the period, the rates and the live overdue count."""
        totals = with_rates(summed(r for r in self._request_rows if self._in_period(r)))
        totals["overdue"] = sum(self.overdue_by_child.values())
        return totals

    @cached_property
    def trend(self) -> list[tuple[date, dict[str, Any]]]:
        """``[(month, counters + rates)]`` for the twelve months ending with the period."""
        by_month: dict[date, list[dict[str, Any]]] = {}
        for row in self._request_rows:
            by_month.setdefault(row["month"], []).append(row)
        out = []
        for month in self.period.trend_months:
            out.append((month, with_rates(summed(by_month.get(month, [])))))
        return out

    @cached_property
    def overdue_by_child(self) -> dict[int, int]:
        """Open requests past their current deadline now, per child place (one live query)."""
        # status__in=OPEN first: the partial index sr_open_place holds only the open requests.
        queryset = self._scoped(ServiceRequest).filter(status__in=OPEN_STATUSES).filter(overdue_q(self.now)).order_by()
        child = CHILD_FIELD.get(self.place.level)
        if child is None:
            return {self.place.pk: queryset.count()}
        return {row[child]: row["n"] for row in queryset.values(child).annotate(n=Count("pk"))}

    @cached_property
    def categories(self) -> list[dict[str, Any]]:
        """Counters and rates per category group (top-level category) over the period."""
        model = {
            "district": RequestStreetSummary,
            "street": RequestStreetSummary,
            "community": RequestCommunitySummary,
            "compound": RequestSummary,
        }[self.place.level]
        rows = (
            self._scoped(model)
            .filter(month__gte=self.period.start, month__lte=self.period.end)
            .order_by()
            .values("category_id", "category__name", "category__name_en", "category__order")
            .annotate(**_sums())
        )
        out = []
        for row in sorted(rows, key=lambda r: (r["category__order"], r["category_id"])):
            if not any(row[name] for name in COUNTERS):
                continue
            counts = with_rates(row)
            name = row["category__name_en"] or row["category__name"] if in_english() else row["category__name"]
            out.append({"id": row["category_id"], "name": name, "counts": counts})
        return out

    @cached_property
    def top_compounds(self) -> list[dict[str, Any]]:
        """The ten compounds with most requests received in the period (not on a compound's page)."""
        if self.place.level == "compound":
            return []
        # First the ten by requests received (one sum over the compound rows, no joins), then
        # their counters and names (a few dozen rows).
        in_period = self._scoped(RequestCompoundSummary).filter(
            month__gte=self.period.start, month__lte=self.period.end
        )
        top = list(
            in_period.order_by()
            .values("compound_id")
            .annotate(received=Sum("received"))
            .filter(received__gt=0)
            .order_by("-received", "compound_id")
            .values_list("compound_id", flat=True)[:10]
        )
        if not top:
            return []
        rows = {
            row["compound_id"]: row
            for row in in_period.filter(compound_id__in=top)
            .order_by()
            .values("compound_id", "compound__name", "compound__community__name")
            .annotate(**_sums())
        }
        return [
            {
                "id": pk,
                "name": rows[pk]["compound__name"],
                "community": rows[pk]["compound__community__name"],
                "counts": with_rates(rows[pk]),
            }
            for pk in top
        ]

    @cached_property
    def children(self) -> list[dict[str, Any]]:
        """The places one level down that the user may see, each with its counters and rates."""
        level = self.place.child_level
        if level is None:
            return []
        model = CHILD_MODELS[level]
        parent = {"street": "district", "community": "street", "compound": "community"}[level]
        objects = restricted(model, self.user, VIEW).filter(**{parent: self.place.pk})
        child = CHILD_FIELD[self.place.level]
        per_child: dict[int, list[dict[str, Any]]] = {}
        for row in self._request_rows:
            if self._in_period(row):
                per_child.setdefault(row[child], []).append(row)
        out = []
        for obj in objects.order_by(*(("code",) if level != "compound" else ("name", "pk"))):
            counts = with_rates(summed(per_child.get(obj.pk, [])))
            counts["overdue"] = self.overdue_by_child.get(obj.pk, 0)
            out.append({"level": level, "obj": obj, "counts": counts})
        return out

    # --- party organisation (live, cached for a few minutes) ----------------------------------------
    @cached_property
    def organisation(self) -> dict[str, int]:
        """Branches, groups, central households and members, and what is not yet covered.

        Counted live, but the coverage of a whole district means anti-joins over every household
        (about a second at 450,000 households), so the result is kept in the cache for
        ``DASHBOARD_CACHE_SECONDS`` (default 600; 0 turns the cache off) per place and per
        scope: a registry change shows within that time.
        """
        seconds = getattr(settings, "DASHBOARD_CACHE_SECONDS", 600)
        if not seconds:
            return self._organisation()
        key = f"dashboard:organisation:{self.place.key}:{scope_key(self.user)}"
        value = cache.get(key)
        cache_lookup("dashboard", hit=value is not None)  # baohe_cache_lookups_total{cache="dashboard"}
        if value is None:
            value = self._organisation()
            cache.set(key, value, seconds)
        return value

    def _organisation(self) -> dict[str, int]:
        def count(model: type[models.Model]) -> int:
            return self._scoped(model).order_by().aggregate(n=Count("pk", distinct=True))["n"]

        out = {
            "branches": count(PartyBranch),
            # 楼栋党小组 and 功能型党小组 apart (the article counts 489 building groups; the 2
            # functional groups are another thing, issue 15), in the one query that counts them.
            **self._scoped(PartyGroup)
            .order_by()
            .aggregate(
                groups=Count("pk", distinct=True),
                building_groups=Count("pk", distinct=True, filter=Q(kind=PartyGroup.Kind.BUILDING)),
                functional_groups=Count("pk", distinct=True, filter=Q(kind=PartyGroup.Kind.FUNCTIONAL)),
            ),
            "central_households": count(CentralHousehold),
            "members": count(PartyMember),
        }
        level, pk = self.place.level, self.place.pk
        if level == "compound":
            # coverage_counts() narrows by street or community; a compound's rows by their own columns.
            for kind, model in (("compounds", Compound), ("buildings", Building), ("households", Household)):
                scoped = self._scoped(model)
                out[f"{kind}_total"] = scoped.order_by().count()
                out[f"{kind}_uncovered"] = party.uncovered(kind, self.user).filter(self.place.filter_for(model)).count()
        else:
            coverage = party.coverage_counts(
                self.user,
                community=pk if level == "community" else None,
                street=pk if level == "street" else None,
            )
            out.update(
                compounds_total=coverage["compounds_total"],
                compounds_uncovered=coverage["compounds_without_branch"],
                buildings_total=coverage["buildings_total"],
                buildings_uncovered=coverage["buildings_without_group"],
                households_total=coverage["households_total"],
                households_uncovered=coverage["households_unserved"],
            )
        return out

    # --- visits, volunteers, backbones (live) -----------------------------------------------------
    @cached_property
    def visits(self) -> dict[str, int]:
        plans = (
            self._scoped(VisitPlan)
            .order_by()
            .aggregate(
                planned=Count("pk", filter=Q(active=True)),
                overdue=Count("pk", filter=Q(active=True, next_due_on__lt=self.today)),
            )
        )
        start, end = self.period.bounds()
        done = (
            self._scoped(Visit)
            .filter(visited_at__gte=start, visited_at__lt=end)
            .order_by()
            .aggregate(done=Count("pk"), on_time=Count("pk", filter=Q(on_time=True)))
        )
        return {**plans, **done}

    @cached_property
    def volunteers(self) -> dict[str, Any]:
        active = self._scoped(Volunteer).filter(is_active=True).order_by().count()
        first, after = self.period.day_bounds()
        month_first, month_after = self.period.end, add_months(self.period.end, 1)
        in_period = Q(served_on__gte=first, served_on__lt=after)
        in_month = Q(served_on__gte=month_first, served_on__lt=month_after)
        zero = Value(0, output_field=DecimalField(max_digits=12, decimal_places=2))
        hours = (
            self._scoped(ServiceHours)
            .filter(status=ServiceHours.Status.APPROVED)
            .filter(in_period | in_month)
            .order_by()
            .aggregate(
                period_hours=Coalesce(Sum("hours", filter=in_period), zero),
                people=Count("volunteer", filter=in_period, distinct=True),
                month_hours=Coalesce(Sum("hours", filter=in_month), zero),
                month_people=Count("volunteer", filter=in_month, distinct=True),
            )
        )
        return {"active": active, **hours}

    @cached_property
    def backbones(self) -> dict[str, Any]:
        """千万工程 for the year of the period's last month: selected and trained against the target
        (targets are set per street: none for a community or compound)."""
        year = self.period.end.year
        party, mass = Backbone.Kind.PARTY, Backbone.Kind.MASS
        # An uncorrelated IN (a hashed subplan), not a join: no duplicate rows, so no COUNT(DISTINCT).
        trained = Q(pk__in=Attendance.objects.filter(attended=True).values("backbone_id"))
        counts = (
            self._scoped(Backbone)
            .filter(year=year)
            .order_by()
            .aggregate(
                party=Count("pk", filter=Q(kind=party)),
                mass=Count("pk", filter=Q(kind=mass)),
                party_trained=Count("pk", filter=Q(kind=party) & trained),
                mass_trained=Count("pk", filter=Q(kind=mass) & trained),
            )
        )
        target = {"party_quota": None, "mass_quota": None}
        if self.place.level in ("district", "street"):
            targets = BackboneTarget.objects.restrict(self.user, VIEW).filter(year=year)
            if self.place.level == "street":
                targets = targets.filter(street_id=self.place.pk)
            target = targets.order_by().aggregate(
                party_quota=Sum("party_quota"), mass_quota=Sum("mass_quota"), n=Count("pk")
            )
            if not target.pop("n"):
                target = {"party_quota": None, "mass_quota": None}
        return {"year": year, **counts, **target}

    # --- community funds (from the ledger, as of the period's end) ------------------------------------
    @cached_property
    def funds(self) -> dict[str, Any]:
        """Execution of the funds of the period's last year as it stood at the end of the period
        (now, for a period ending this month): per street (district), community (street) or fund
        (community, compound: the compound's community), the total, and spending by purpose.
        Three queries over the ledger (``funds.selectors.ledger_execution``)."""
        year = self.period.end.year
        month_after = add_months(self.period.end, 1)
        as_of = min(self.now, timezone.make_aware(datetime.combine(month_after, time.min)))
        entries = restricted(LedgerEntry, self.user, VIEW)
        level = self.place.level
        by = {"district": "street", "street": "community"}.get(level, "fund")
        if level == "street":
            entries = entries.filter(street_id=self.place.pk)
        elif level == "community":
            entries = entries.filter(community_id=self.place.pk)
        elif level == "compound":
            entries = entries.filter(community_id=self.place.obj.community_id)
        execution = funds_selectors.ledger_execution
        return {
            "year": year,
            "as_of": as_of,
            "by": by,
            "rows": execution(entries, by=by, year=year, as_of=as_of),
            "total": execution(entries, by=None, year=year, as_of=as_of)[0],
            "purposes": execution(entries, by="purpose", year=year, as_of=as_of),
        }
