"""Visit API under /api/v1/.

- ``visit-plans/`` — read-only, restricted by ``restrict(user)`` (staff: their communities;
  a party volunteer: the plans they visit); filters community, compound, household, rule,
  active, overdue, mine, due_before.
- ``visits/`` — read-only, the same way; filters community, compound, household, plan,
  purpose, visited_after/before, has_request.
- ``visits/record/`` — ``VisitRecordApi``: POST records a visit through
  ``services.visit_record`` (JSON, or multipart with a ``photo``); ``need_category`` +
  ``need_description`` open a request with channel "visit" linked to the visit. A household
  the user may not visit answers 404, bad input 400 with field errors, success 201 with the visit.

All three are viewsets on the one router (``baohe.api_router``), so they need no URL line.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from baohe.api import ScopedReadOnlyModelViewSet
from baohe.api_router import router

from . import filters, serializers, services
from .models import Visit, VisitPlan

NOT_FOUND = OpenApiResponse(description="不存在或不在您的范围内 / not found or out of scope")


@extend_schema_view(list=extend_schema(tags=["visits"]), retrieve=extend_schema(tags=["visits"]))
class VisitPlanViewSet(ScopedReadOnlyModelViewSet):
    """走访计划: who visits which household how often, and when the next visit is due."""

    queryset = VisitPlan.objects.select_related("household__building").order_by("next_due_on", "id")
    serializer_class = serializers.VisitPlanSerializer
    filterset_class = filters.VisitPlanFilter
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ("next_due_on", "id")


@extend_schema_view(list=extend_schema(tags=["visits"]), retrieve=extend_schema(tags=["visits"]))
class VisitViewSet(ScopedReadOnlyModelViewSet):
    """走访记录."""

    queryset = Visit.objects.select_related("household__building", "request").order_by("-visited_at", "-id")
    serializer_class = serializers.VisitSerializer
    filterset_class = filters.VisitFilter
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ("visited_at", "id")


class VisitRecordApi(viewsets.GenericViewSet):
    """记录走访 (and open a request for a need found on the visit)."""

    serializer_class = serializers.VisitRecordInputSerializer
    pagination_class = None
    filter_backends = ()

    @extend_schema(
        tags=["visits"],
        request={
            "application/json": serializers.VisitRecordInputSerializer,
            "multipart/form-data": serializers.VisitRecordInputSerializer,
        },
        responses={201: serializers.VisitSerializer, 400: OpenApiResponse(description="字段错误"), 404: NOT_FOUND},
    )
    def create(self, request, *args, **kwargs):
        data = serializers.VisitRecordInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        household = services.access_household_for_visit(request.user, values["household"])
        plan = None
        if values.get("plan"):
            plan = VisitPlan.objects.filter(pk=values["plan"], household=household).first()
            if plan is None:
                return Response({"plan": ["该走访计划不属于这一户。"]}, status=status.HTTP_400_BAD_REQUEST)
        visit = services.visit_record(
            by=request.user,
            household=household,
            purpose=values["purpose"],
            notes=values.get("notes", ""),
            visited_at=values.get("visited_at"),
            photo=values.get("photo"),
            need=values["need"],
            plan=plan,
        )
        visit = Visit.objects.select_related("household__building", "request").get(pk=visit.pk)
        return Response(
            serializers.VisitSerializer(visit, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


router.register("visits/record", VisitRecordApi, basename="visit-record")
router.register("visit-plans", VisitPlanViewSet, basename="visit-plan")
router.register("visits", VisitViewSet, basename="visit")
