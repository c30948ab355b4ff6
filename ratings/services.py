"""Every write of a 四美一好 rating (ARCHITECTURE rule 2): open a round, score a building, approve.

- :func:`round_open` — a community's staff or secretary (whoever may change the community)
  opens the round of a quarter; one per community and quarter.
- :func:`rating_score` — while the round is open, the same people record a building's scores
  (one per active criterion, 0–100, agreed by the party branch and the residents'
  representatives), a note and photos (``baohe.uploads``); again to correct it. The building's
  score is :func:`weighted_score` of them, exactly (``Decimal``, rounded half up to 0.01).
- :func:`round_approve` — the community secretary (or an administrator) approves the round:
  every rated building at or above ``pass_score`` passes, and from then on carries the badge of
  that year (``selectors.building_badges``). An approved round is final.

Each locks the round (``select_for_update``), checks the state, writes a ``RatingEvent`` and
one audit line; refusals are ``Conflict`` (409) or ``ValidationError`` (400) and write nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import is_administrator, is_secretary_of
from baohe import staging
from baohe.exceptions import Conflict, OutOfScope
from baohe.models import AuditEntry
from baohe.scoping import CHANGE, VIEW, check_in_scope
from baohe.services import audit
from baohe.uploads import check_images
from communities.models import Building, Community

from .models import (
    DEFAULT_CRITERIA,
    SCORE_MAX,
    BuildingRating,
    Criterion,
    CriterionScore,
    RatingEvent,
    RatingPhoto,
    RatingRound,
)

SCORE_STEP = Decimal("0.01")
BUILDING_ELSEWHERE = gettext_lazy("这个楼栋不属于本轮评定的社区。")


# --- the rule ---------------------------------------------------------------------------------
def weighted_score(scores: Mapping[Any, Decimal], weights: Mapping[Any, Decimal]) -> Decimal:
    """The weighted mean of ``scores`` by ``weights`` (same keys), to 0.01, half up.

    ``{"a": 90, "b": 80}`` with weights ``{"a": 3, "b": 1}`` is (270 + 80) / 4 = 87.50."""
    if set(scores) != set(weights) or not weights:
        raise ValueError("scores and weights must name the same criteria")
    total_weight = sum(weights.values(), Decimal(0))
    weighted = sum((Decimal(scores[key]) * weights[key] for key in weights), Decimal(0))
    return (weighted / total_weight).quantize(SCORE_STEP, rounding=ROUND_HALF_UP)


def parse_score(value: Any, label: str) -> Decimal:
    """One criterion's score: a number 0–100 with at most two decimals."""
    message = _("“%(criterion)s”请填写 0 到 100 之间的分数。") % {"criterion": label}
    try:
        text = str(value).strip()
        if not text.isascii():
            raise InvalidOperation
        score = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(message, code="invalid") from None
    if not score.is_finite() or score < 0 or score > SCORE_MAX or score != score.quantize(SCORE_STEP):
        raise ValidationError(message, code="range")
    return score


def criteria_ensure_defaults() -> int:
    """Create the default criteria (:data:`~ratings.models.DEFAULT_CRITERIA`) when the district has
    none at all; returns how many were created. Never touches a set the district has changed."""
    if Criterion.objects.exists():
        return 0
    Criterion.objects.bulk_create(
        [
            Criterion(code=code, name=name, description=description, weight=Decimal(weight), order=index)
            for index, (code, name, description, weight) in enumerate(DEFAULT_CRITERIA, start=1)
        ],
        ignore_conflicts=True,
    )
    return len(DEFAULT_CRITERIA)


# --- access -----------------------------------------------------------------------------------
def access_round_by_id(user: User, pk: Any, action: str = VIEW) -> RatingRound:
    """The round if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    found = RatingRound.objects.restrict(user, action).select_related("community__street").filter(pk=pk).first()
    if found is None:
        raise OutOfScope(RatingRound._meta.verbose_name)
    return found


def may_approve(user: User, round: RatingRound) -> bool:
    """The community's secretary, or an administrator."""
    return bool(user.is_authenticated and (is_administrator(user) or is_secretary_of(user, round.community_id)))


def _locked(round: RatingRound) -> RatingRound:
    return RatingRound.objects.select_for_update().get(pk=round.pk)


def _event(round: RatingRound, kind: str, by: User, rating: BuildingRating | None = None, message: str = "") -> None:
    RatingEvent.objects.create(round=round, rating=rating, kind=kind, by=by, message=message[:200])


# --- steps ------------------------------------------------------------------------------------
def round_open(
    *,
    community: Community,
    year: int,
    quarter: int,
    by: User,
    pass_score: Decimal | None = None,
    request: HttpRequest | None = None,
) -> RatingRound:
    """Open ``community``'s round of ``year`` Q``quarter``; 404 outside ``by``'s change scope."""
    if not Community.objects.restrict(by, CHANGE).filter(pk=community.pk).exists():
        raise OutOfScope(Community._meta.verbose_name)
    round = RatingRound(community=community, year=year, quarter=quarter, opened_by=by)
    if pass_score is not None:
        round.pass_score = pass_score
    with transaction.atomic():
        criteria_ensure_defaults()
        round.full_clean()
        round.save()
        check_in_scope(round, by, CHANGE)
        _event(round, RatingEvent.Kind.OPENED, by)
        audit(user=by, action=AuditEntry.Action.CREATE, obj=round, request=request)
    return round


def rating_score(
    *,
    round: RatingRound,
    building: Building,
    scores: Mapping[int, Any],
    by: User,
    note: str = "",
    representatives: int = 0,
    photos: Iterable[Any] = (),
    request: HttpRequest | None = None,
) -> BuildingRating:
    """Record (or correct) ``building``'s scores in the open ``round``: ``scores`` maps each
    active criterion's id to a score 0–100. Returns the rating with its weighted score."""
    if not RatingRound.objects.restrict(by, CHANGE).filter(pk=round.pk).exists():
        raise OutOfScope(RatingRound._meta.verbose_name)
    if building.community_id != round.community_id:
        raise ValidationError({"building": BUILDING_ELSEWHERE}, code="building")
    criteria = list(Criterion.objects.filter(active=True))
    if not criteria:
        raise ValidationError(_("区里尚未设置四美一好评分项。"), code="no_criteria")
    errors: dict[str, list[str]] = {}
    values: dict[int, Decimal] = {}
    for criterion in criteria:
        raw = scores.get(criterion.pk)
        if raw in (None, ""):
            errors.setdefault("scores", []).append(_("请为“%(criterion)s”打分。") % {"criterion": criterion.name})
            continue
        try:
            values[criterion.pk] = parse_score(raw, criterion.name)
        except ValidationError as error:
            errors.setdefault("scores", []).extend(error.messages)
    unknown = set(scores) - {c.pk for c in criteria}
    if unknown:
        errors.setdefault("scores", []).append(_("有不在评分项中的分数。"))
    if errors:
        raise ValidationError(errors)
    weights = {c.pk: c.weight for c in criteria}
    total = weighted_score(values, weights)
    with transaction.atomic():
        locked = _locked(round)
        if locked.status != RatingRound.Status.OPEN:
            raise Conflict(_("本轮评定已审定，不能再修改评分。"), code="approved")
        rating = BuildingRating.objects.select_for_update().filter(round=locked, building=building).first()
        existing_photos = rating.photos.count() if rating else 0
        checked = check_images(list(photos), existing=existing_photos)
        if rating is None:
            rating = BuildingRating(round=locked, building=building)
        rating.score, rating.note, rating.representatives, rating.scored_by = total, note, representatives, by
        rating.full_clean(exclude=["round", "building"] if rating.pk else None)
        rating.save()
        check_in_scope(rating, by, CHANGE)
        CriterionScore.objects.filter(rating=rating).delete()
        CriterionScore.objects.bulk_create(
            [
                CriterionScore(
                    rating=rating,
                    criterion_id=pk,
                    score=values[pk],
                    weight=weights[pk],
                    street_id=rating.street_id,
                    community_id=rating.community_id,
                )
                for pk in values
            ]
        )
        for image in checked:
            RatingPhoto.objects.create(
                rating=rating,
                file=image.content,
                content_type=image.content_type,
                size=image.size,
                width=image.width,
                height=image.height,
            )
        staging.consume(list(photos))  # photos kept across a form error: attached now
        _event(locked, RatingEvent.Kind.SCORED, by, rating, message=f"{building.label} {total}")
        audit(
            user=by,
            action=AuditEntry.Action.UPDATE,
            obj=rating,
            request=request,
            detail={"score": str(total), "scores": {str(k): str(v) for k, v in values.items()}},
        )
    return rating


def round_approve(*, round: RatingRound, by: User, request: HttpRequest | None = None) -> RatingRound:
    """The secretary approves ``round``: each rated building passes at ``pass_score`` or above."""
    if not RatingRound.objects.restrict(by, VIEW).filter(pk=round.pk).exists():
        raise OutOfScope(RatingRound._meta.verbose_name)
    if not may_approve(by, round):
        raise PermissionDenied(_("只有本社区书记可以审定评定结果。"))
    with transaction.atomic():
        locked = _locked(round)
        if locked.status != RatingRound.Status.OPEN:
            raise Conflict(_("本轮评定已审定。"), code="approved")
        ratings = BuildingRating.objects.filter(round=locked)
        if not ratings.exists():
            raise Conflict(_("还没有楼栋评分，不能审定。"), code="empty")
        for rating in ratings.select_for_update():
            rating.passed = rating.score >= locked.pass_score
            rating.save(update_fields=["passed"])
        locked.status, locked.approved_by, locked.approved_at = RatingRound.Status.APPROVED, by, timezone.now()
        locked.save(update_fields=["status", "approved_by", "approved_at"])
        passed = ratings.filter(passed=True).count()
        _event(locked, RatingEvent.Kind.APPROVED, by, message=_("达标楼栋 %(count)s 个") % {"count": passed})
        audit(user=by, action=AuditEntry.Action.UPDATE, obj=locked, request=request, detail={"approved": passed})
    round.status, round.approved_by, round.approved_at = locked.status, locked.approved_by, locked.approved_at
    return round
