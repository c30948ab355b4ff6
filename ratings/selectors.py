"""Reads of 四美一好 ratings that pages, the API and the template tags share.

- :func:`building_badges` — the public part: the years in which each building passed an
  approved round (the badge on the building page, the resident's home and the compound board).
- :func:`compound_merit` — the compound board's section (2 queries): its badged buildings and the monthly
  property-fee rates (``communities.selectors.fee_rate_trend``).
- :func:`round_rows` — a round's page: every building of the community with its rating.
- :func:`rankings` — approved ratings of a quarter ranked per community and per street, and the
  community summary (buildings rated and passed, mean score, mean fee rate of the quarter's last
  month) and the same per street, for the rankings dashboard. Each is a fixed number of
  queries, whatever the rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from accounts.models import User
from baohe.scoping import VIEW
from communities.models import Building, Community, Compound, CompoundFeeRate, Street
from communities.selectors import fee_rate_trend

from .models import BuildingRating, Criterion, CriterionScore, RatingRound

Status = RatingRound.Status
TWO_PLACES = Decimal("0.01")


def building_badges(building_ids: Iterable[int]) -> dict[int, list[int]]:
    """``{building id: [years, newest first]}`` of the 四美一好 badges the buildings carry (one query)."""
    ids = sorted(set(building_ids))
    badges: dict[int, list[int]] = defaultdict(list)
    if not ids:
        return {}
    rows = (
        BuildingRating.objects.filter(building_id__in=ids, passed=True, round__status=Status.APPROVED)
        .values_list("building_id", "round__year")
        .distinct()
        .order_by("building_id", "-round__year")
    )
    for building_id, year in rows:
        badges[building_id].append(year)
    return dict(badges)


@dataclass
class CompoundMerit:
    badged: list[tuple[Building, list[int]]] = field(default_factory=list)
    latest_round: str = ""  # the latest approved round's period label
    trend: list[tuple[dt.date, Decimal]] = field(default_factory=list)


def compound_merit(compound: Compound, *, months: int = 12) -> CompoundMerit:
    """What the compound board shows of ratings and fees: its badged buildings with their years
    and the latest round they passed, and the fee trend (2 queries)."""
    passed = (
        BuildingRating.objects.filter(building__compound=compound, passed=True, round__status=Status.APPROVED)
        .select_related("building", "round")
        .order_by("building_id", "-round__year", "-round__quarter")
    )
    badged: dict[int, tuple[Building, list[int]]] = {}
    latest: RatingRound | None = None
    for rating in passed:
        building, years = badged.setdefault(rating.building_id, (rating.building, []))
        if rating.round.year not in years:
            years.append(rating.round.year)
        if latest is None or (rating.round.year, rating.round.quarter) > (latest.year, latest.quarter):
            latest = rating.round
    return CompoundMerit(
        badged=list(badged.values()),
        latest_round=str(latest.period_label) if latest else "",
        trend=fee_rate_trend(compound, months=months),
    )


def criteria() -> list[Criterion]:
    return list(Criterion.objects.filter(active=True))


@dataclass
class RoundRow:
    building: Building
    rating: BuildingRating | None


def round_rows(round: RatingRound) -> list[RoundRow]:
    """Every building of the round's community, with its rating (scores and photos) if scored (4 queries)."""
    ratings = {
        r.building_id: r
        for r in BuildingRating.objects.filter(round=round).prefetch_related(
            Prefetch("scores", queryset=CriterionScore.objects.select_related("criterion")), "photos"
        )
    }
    buildings = Building.objects.filter(community_id=round.community_id).select_related("compound")
    return [RoundRow(b, ratings.get(b.pk)) for b in buildings.order_by("compound__name", "compound_id", "pk")]


@dataclass
class RankedRating:
    rating: BuildingRating
    community_rank: int
    street_rank: int


@dataclass
class StreetSummary:
    street: Street
    rated: int = 0
    passed: int = 0
    mean_score: Decimal | None = None
    fee_rate: Decimal | None = None


@dataclass
class CommunitySummary:
    community: Community
    rated: int
    passed: int
    mean_score: Decimal | None
    fee_rate: Decimal | None


def _rank(rows: list[BuildingRating], key: str) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of ``rows`` by score within each ``key`` group."""
    ranks: dict[int, int] = {}
    groups: dict[int, list[BuildingRating]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    for members in groups.values():
        members.sort(key=lambda r: -r.score)
        for index, row in enumerate(members):
            if index and row.score == members[index - 1].score:
                ranks[row.pk] = ranks[members[index - 1].pk]
            else:
                ranks[row.pk] = index + 1
    return ranks


def _quantize(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def visible_ratings(user: User) -> QuerySet[BuildingRating]:
    return BuildingRating.objects.restrict(user, VIEW).filter(round__status=Status.APPROVED)


def rankings(user: User, *, year: int, quarter: int, street_id: int | None = None) -> dict[str, Any]:
    """The quarter's approved ratings the user may see, ranked, and the per-community summary
    and the per-street totals (4 queries: ratings, communities with counts, fee rates by
    community and by street)."""
    ratings = visible_ratings(user).filter(round__year=year, round__quarter=quarter)
    if street_id:
        ratings = ratings.filter(street_id=street_id)
    rows = list(ratings.select_related("building__compound", "community", "street").order_by("-score", "building_id"))
    community_ranks, street_ranks = _rank(rows, "community_id"), _rank(rows, "street_id")
    ranked = [RankedRating(r, community_ranks[r.pk], street_ranks[r.pk]) for r in rows]

    communities = Community.objects.restrict(user, VIEW).select_related("street")
    if street_id:
        communities = communities.filter(street_id=street_id)
    period = Q(rating_rounds__year=year, rating_rounds__quarter=quarter, rating_rounds__status=Status.APPROVED)
    communities = communities.annotate(
        rated=Count("rating_rounds__ratings", filter=period),
        passed=Count("rating_rounds__ratings", filter=period & Q(rating_rounds__ratings__passed=True)),
        mean_score=Avg("rating_rounds__ratings__score", filter=period),
    ).order_by("street__code", "code")
    last_month = dt.date(year, quarter * 3, 1)
    fees = dict(
        CompoundFeeRate.objects.filter(community__in=[c.pk for c in communities], month=last_month)
        .values("community_id")
        .annotate(mean=Avg("rate"))
        .values_list("community_id", "mean")
    )
    summary = [
        CommunitySummary(c, c.rated, c.passed, _quantize(c.mean_score), _quantize(fees.get(c.pk))) for c in communities
    ]
    street_fees = dict(
        CompoundFeeRate.objects.filter(community__in=[c.pk for c in communities], month=last_month)
        .values("street_id")
        .annotate(mean=Avg("rate"))
        .values_list("street_id", "mean")
    )
    streets: dict[int, StreetSummary] = {}
    for row in summary:
        street = streets.setdefault(row.community.street_id, StreetSummary(row.community.street))
        street.rated += row.rated
        street.passed += row.passed
    for street_pk, street in streets.items():
        scores = [r.score for r in rows if r.street_id == street_pk]
        street.mean_score = _quantize(sum(scores) / len(scores)) if scores else None
        street.fee_rate = _quantize(street_fees.get(street_pk))
    return {"ranked": ranked, "summary": summary, "streets": list(streets.values()), "fee_month": last_month}
