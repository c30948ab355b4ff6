"""四美一好 API under /api/v1/ (on the one router, ``baohe.api_router``).

- ``rating-criteria/`` — the district's criteria and weights (read-only; set in the admin).
- ``rating-rounds/`` — the rounds the caller may see (``?community=``, ``?year=``, ``?quarter=``,
  ``?status=``); ``POST`` opens one (``services.round_open``; 400 with field errors, 404 for a
  community outside the caller's change scope); ``rating-rounds/{id}/score/`` records a
  building's scores (``{"building", "scores": {"<criterion id>": 0–100}, "note",
  "representatives"}``; photos through the page's upload form); ``rating-rounds/{id}/approve/``
  (the community secretary; 403 for others, 409 once approved or with nothing scored).
- ``building-ratings/`` — the ratings with their criterion scores (``?round=``, ``?building=``,
  ``?passed=``).
Residents see none of these rows (their part is the badge on their pages).
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from baohe.api import ScopedQuerysetMixin, ScopedReadOnlyModelViewSet
from baohe.api_router import router
from baohe.query import FilterSet, FlagFilter, IdFilter, NumberFilter
from baohe.scoping import CHANGE
from communities.models import Building

from . import serializers, services
from .models import BuildingRating, Criterion, RatingRound

TAGS = ["ratings"]
NOT_FOUND = OpenApiResponse(description="不存在或不在您的范围内（404）")
CONFLICT = OpenApiResponse(description="当前状态不允许该操作（409）")
BAD_INPUT = OpenApiResponse(description="字段错误（400）")


class RoundFilter(FilterSet):
    community = IdFilter()
    year = NumberFilter()
    quarter = NumberFilter()

    class Meta:
        model = RatingRound
        fields = ("community", "year", "quarter", "status")


class RatingFilter(FilterSet):
    round = IdFilter()
    building = IdFilter()
    passed = FlagFilter()

    class Meta:
        model = BuildingRating
        fields = ("round", "building", "passed")


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class CriterionViewSet(ScopedReadOnlyModelViewSet):
    queryset = Criterion.objects.filter(active=True).order_by("order", "id")
    serializer_class = serializers.CriterionSerializer


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS, responses={200: serializers.RatingRoundSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        tags=TAGS,
        request=serializers.RoundOpenSerializer,
        responses={201: serializers.RatingRoundSerializer, 400: BAD_INPUT},
    ),
)
class RatingRoundViewSet(
    ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = r"[0-9]+"
    queryset = RatingRound.objects.order_by("-year", "-quarter", "community_id")
    serializer_class = serializers.RatingRoundSerializer
    filterset_class = RoundFilter

    def create(self, request):
        data = serializers.RoundOpenSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        round = services.round_open(by=request.user, request=request, **data.validated_data)
        return Response(serializers.RatingRoundSerializer(round).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS,
        request=serializers.RatingScoreSerializer,
        responses={200: serializers.BuildingRatingSerializer, 400: BAD_INPUT, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def score(self, request, pk=None):
        """Record (or correct) one building's scores while the round is open."""
        round = services.access_round_by_id(request.user, pk, CHANGE)
        data = serializers.RatingScoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        building = Building.objects.filter(community_id=round.community_id, pk=data.validated_data["building"]).first()
        if building is None:
            raise ValidationError({"building": services.BUILDING_ELSEWHERE})
        rating = services.rating_score(
            round=round,
            building=building,
            scores=data.validated_data["scores"],
            note=data.validated_data["note"],
            representatives=data.validated_data["representatives"],
            by=request.user,
            request=request,
        )
        rating = (
            BuildingRating.objects.select_related("building").prefetch_related("scores", "photos").get(pk=rating.pk)
        )
        return Response(serializers.BuildingRatingSerializer(rating).data)

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={
            200: serializers.RatingRoundSerializer,
            403: OpenApiResponse(description="非本社区书记"),
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The community secretary approves the round: who passed is fixed."""
        round = services.round_approve(
            round=services.access_round_by_id(request.user, pk), by=request.user, request=request
        )
        return Response(serializers.RatingRoundSerializer(round).data)


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class BuildingRatingViewSet(ScopedReadOnlyModelViewSet):
    queryset = BuildingRating.objects.order_by("round_id", "-score", "building_id")
    serializer_class = serializers.BuildingRatingSerializer
    filterset_class = RatingFilter

    def shape_queryset(self, queryset):
        return queryset.select_related("building").prefetch_related("scores", "photos")


router.register("rating-criteria", CriterionViewSet, basename="rating-criterion")
router.register("rating-rounds", RatingRoundViewSet, basename="rating-round")
router.register("building-ratings", BuildingRatingViewSet, basename="building-rating")
