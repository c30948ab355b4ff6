"""Registry API: /api/v1/districts, streets, communities, compounds, buildings, households,
residents. Plain CRUD (``baohe.api.ScopedModelViewSet``): restricted by ``restrict()``,
filtered by django-filter, every write one checked transaction. Districts, streets and
communities are read-only here (``ScopedReadOnlyModelViewSet``; administrators keep them in the admin).

Residents' mobile and ID numbers are answered masked; ``POST residents/{id}/reveal/`` with
``{"reason"}`` answers one resident's full numbers to staff who may change the record (403 for
who may only view it, 404 outside scope), one audit line each, throttled per user
(``THROTTLE_RATE_REVEAL``).

A resident's ID number is answered by scope when it is a duplicate (``services.resident_id_number_check``:
a resident the user sees is named; one registered elsewhere is an audited, rate-limited lookup
that answers 400 pointing to a 迁入 request, or 429 over the cap). There is no filter or search
by mobile or ID number.

迁入 requests: ``transfers/`` lists those either side of which the user sees (``?direction=
incoming|outgoing``, ``?status=``) and ``POST`` asks for one (``services.transfer_request``);
``transfers/{id}/approve/``, ``reject/`` and ``cancel/`` are the steps (404 outside both sides,
403 for the side that may not take the step, 409 once decided).

Residents' status steps: ``POST residents/{id}/move-away/`` and ``…/record-death/`` with
``{"left_on": "YYYY-MM-DD"}`` (``services.resident_move_away`` / ``resident_record_death``).
The resident list shows 在住 unless ``?status=`` says otherwise (``all`` for every status); the
household list leaves archived households out unless ``?archived=true``.
``GET me/data/`` (``api_urls.py``): everything held about the signed-in person, audited.
"""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from baohe.api import ScopedModelViewSet, ScopedQuerysetMixin, ScopedReadOnlyModelViewSet, ScopedStepViewSet
from baohe.api_router import router
from baohe.personal import RevealInput
from baohe.scoping import CHANGE
from baohe.services import personal_reveal
from baohe.throttling import ScopedThrottle

from . import filters, personal_data, serializers, services
from .models import (
    Building,
    Community,
    Compound,
    CompoundFeeRate,
    District,
    Household,
    Resident,
    ResidentTransfer,
    Street,
)
from .services.fees import fee_rate_record

RESIDENT_NOT_FOUND = OpenApiResponse(serializers.ResidentErrorSerializer, description="不存在或不在您的范围内（404）")
RESIDENT_CONFLICT = OpenApiResponse(serializers.ResidentErrorSerializer, description="该居民已不是在住状态（409）")
BAD_INPUT = OpenApiResponse(description="字段错误（400）")


class DistrictViewSet(ScopedReadOnlyModelViewSet):
    queryset = District.objects.order_by("pk")
    serializer_class = serializers.DistrictSerializer


class StreetViewSet(ScopedReadOnlyModelViewSet):
    queryset = Street.objects.order_by("code")
    serializer_class = serializers.StreetSerializer
    filterset_class = filters.StreetFilter
    search_fields = ("name",)


class CommunityViewSet(ScopedReadOnlyModelViewSet):
    queryset = Community.objects.order_by("code")
    serializer_class = serializers.CommunitySerializer
    filterset_class = filters.CommunityFilter
    search_fields = ("name",)


class CompoundViewSet(ScopedModelViewSet):
    queryset = Compound.objects.order_by("pk")
    serializer_class = serializers.CompoundSerializer
    filterset_class = filters.CompoundFilter
    search_fields = ("name", "grid", "property_company")


class BuildingViewSet(ScopedModelViewSet):
    queryset = Building.objects.order_by("compound_id", "number")
    serializer_class = serializers.BuildingSerializer
    filterset_class = filters.BuildingFilter
    search_fields = ("number", "name")


class HouseholdViewSet(ScopedModelViewSet):
    queryset = Household.objects.order_by("building_id", "unit", "room")
    serializer_class = serializers.HouseholdSerializer
    filterset_class = filters.HouseholdFilter

    def _save(self, serializer):
        # Its visit plans follow its flags at once (services.households_changed), as on the page.
        with transaction.atomic():
            super()._save(serializer)
            services.households_changed([serializer.instance.pk])


class ResidentViewSet(ScopedModelViewSet):
    queryset = Resident.objects.order_by("pk")
    serializer_class = serializers.ResidentSerializer
    filterset_class = filters.ResidentFilter
    search_fields = ("name",)
    throttle_scope = None  # set on the reveal action only

    @extend_schema(request=RevealInput, responses=serializers.ResidentRevealSerializer)
    @action(
        detail=True,
        methods=["post"],
        throttle_classes=[ScopedThrottle],
        throttle_scope="reveal",
        filter_backends=[],
        pagination_class=None,
    )
    def reveal(self, request, pk=None):
        """One resident's full mobile and ID number, with a reason (audited)."""
        resident = self.get_object()  # 404 outside the view scope, 403 if the user may not change it
        data = RevealInput(data=request.data)
        data.is_valid(raise_exception=True)
        numbers = personal_reveal(
            user=request.user, obj=resident, reason=data.validated_data["reason"], request=request
        )
        return Response(serializers.ResidentRevealSerializer(numbers).data)


TRANSFER_TAGS = ["transfers"]
NOT_FOUND = OpenApiResponse(serializers.TransferErrorSerializer, description="不存在或不在您的范围内（404）")
FORBIDDEN = OpenApiResponse(serializers.TransferErrorSerializer, description="可以查看但无权办理（403）")
CONFLICT = OpenApiResponse(serializers.TransferErrorSerializer, description="申请已处理（409）")
LIMITED = OpenApiResponse(serializers.TransferErrorSerializer, description="跨社区查询已达每日上限（429）")


def transfer_answer(request, transfer, status_code=status.HTTP_200_OK):
    transfer = services.access_transfer_by_id(request.user, transfer.pk)
    return Response(serializers.TransferSerializer(transfer, context={"request": request}).data, status=status_code)


@extend_schema_view(
    list=extend_schema(tags=TRANSFER_TAGS),
    retrieve=extend_schema(tags=TRANSFER_TAGS, responses={200: serializers.TransferSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        tags=TRANSFER_TAGS,
        request=serializers.TransferCreateSerializer,
        responses={201: serializers.TransferSerializer, 400: BAD_INPUT, 404: NOT_FOUND, 429: LIMITED},
    ),
)
class TransferViewSet(mixins.CreateModelMixin, ScopedReadOnlyModelViewSet):
    """迁入申请: seen from both sides; the person's name masked for the requesting side until approved."""

    queryset = ResidentTransfer.objects.all()
    serializer_class = serializers.TransferSerializer
    filterset_class = filters.TransferFilter
    lookup_value_regex = r"[0-9]+"

    def shape_queryset(self, queryset):
        return queryset.select_related(
            "resident", "source_community", "community", "requested_by", "decided_by"
        ).order_by("-created_at", "-id")

    def create(self, request, *args, **kwargs):
        data = serializers.TransferCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        transfer = services.transfer_request(by=request.user, request=request, **data.validated_data)
        return transfer_answer(request, transfer, status.HTTP_201_CREATED)


class TransferStepApi(ScopedStepViewSet):
    """A step on one 迁入 request: ``POST transfers/{transfer_pk}/<step>/`` with an optional ``note``."""

    serializer_class = serializers.TransferDecisionSerializer
    queryset = ResidentTransfer.objects.none()
    access = services.access_transfer_by_id
    scoped_url_kwarg = "transfer_pk"

    def note(self):
        data = serializers.TransferDecisionSerializer(data=self.request.data, context={"request": self.request})
        data.is_valid(raise_exception=True)
        return data.validated_data["note"]


def step_schema():
    return extend_schema(
        tags=TRANSFER_TAGS,
        request=serializers.TransferDecisionSerializer,
        responses={
            200: serializers.TransferSerializer,
            400: BAD_INPUT,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )


class TransferApproveApi(TransferStepApi):
    """同意迁入 (the community where the person is registered)."""

    @step_schema()
    def create(self, request, transfer_pk=None):
        transfer = self.scoped_object()
        transfer = services.transfer_approve(by=request.user, transfer=transfer, note=self.note(), request=request)
        return transfer_answer(request, transfer)


class TransferRejectApi(TransferStepApi):
    """拒绝迁入 (the community where the person is registered; ``note`` required)."""

    @step_schema()
    def create(self, request, transfer_pk=None):
        transfer = self.scoped_object()
        transfer = services.transfer_reject(by=request.user, transfer=transfer, note=self.note(), request=request)
        return transfer_answer(request, transfer)


class TransferCancelApi(TransferStepApi):
    """撤回迁入申请 (the requesting community)."""

    @step_schema()
    def create(self, request, transfer_pk=None):
        transfer = self.scoped_object()
        transfer = services.transfer_cancel(by=request.user, transfer=transfer)
        return transfer_answer(request, transfer)


class ResidentLeaveApi(ScopedStepViewSet):
    """迁出 / 去世 of one resident in the user's change scope (another community's: 404)."""

    queryset = Resident.objects.none()
    scoped_model = Resident
    scoped_url_kwarg = "resident_pk"
    serializer_class = serializers.ResidentLeaveInputSerializer
    service = staticmethod(services.resident_move_away)

    def create(self, request, resident_pk=None):
        resident = self.scoped_object(CHANGE)
        data = serializers.ResidentLeaveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # A future date (ValidationError) answers 400, a resident no longer living (Conflict) 409.
        type(self).service(resident=resident, by=request.user, on=data.validated_data["left_on"], request=request)
        resident = Resident.objects.get(pk=resident.pk)
        return Response(serializers.ResidentSerializer(resident, context={"request": request}).data)


RESIDENT_ID = OpenApiParameter("resident_pk", int, OpenApiParameter.PATH, description="居民 id")


def _leave_schema(summary):
    return extend_schema(
        tags=["residents"],
        summary=summary,
        parameters=[RESIDENT_ID],
        request=serializers.ResidentLeaveInputSerializer,
        responses={
            200: serializers.ResidentSerializer,
            400: BAD_INPUT,
            404: RESIDENT_NOT_FOUND,
            409: RESIDENT_CONFLICT,
        },
    )


class ResidentMoveAwayApi(ResidentLeaveApi):
    service = staticmethod(services.resident_move_away)

    @_leave_schema("迁出")
    def create(self, request, resident_pk=None):
        return super().create(request, resident_pk)


class ResidentRecordDeathApi(ResidentLeaveApi):
    service = staticmethod(services.resident_record_death)

    @_leave_schema("去世")
    def create(self, request, resident_pk=None):
        return super().create(request, resident_pk)


class MyDataApi(APIView):
    """我的信息: everything the portal holds about the signed-in person, numbers masked
    (``communities.personal_data``). Each call is a DATA_DOWNLOAD line in the audit log."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["me"], responses={200: serializers.PersonalDataSerializer})
    def get(self, request):
        sections = personal_data.personal_data(request.user)
        personal_data.download_audit(user=request.user, request=request, sections=sections, fmt="api")
        return Response(personal_data.as_json(sections, user=request.user))


router.register(r"residents/(?P<resident_pk>[0-9]+)/move-away", ResidentMoveAwayApi, basename="resident-move-away")
router.register(
    r"residents/(?P<resident_pk>[0-9]+)/record-death", ResidentRecordDeathApi, basename="resident-record-death"
)
router.register("districts", DistrictViewSet, basename="district")
router.register("streets", StreetViewSet, basename="street")
router.register("communities", CommunityViewSet, basename="community")
router.register("compounds", CompoundViewSet, basename="compound")
router.register("buildings", BuildingViewSet, basename="building")
router.register("households", HouseholdViewSet, basename="household")
router.register("residents", ResidentViewSet, basename="resident")
router.register(r"transfers/(?P<transfer_pk>[0-9]+)/approve", TransferApproveApi, basename="transfer-approve")
router.register(r"transfers/(?P<transfer_pk>[0-9]+)/reject", TransferRejectApi, basename="transfer-reject")
router.register(r"transfers/(?P<transfer_pk>[0-9]+)/cancel", TransferCancelApi, basename="transfer-cancel")
router.register("transfers", TransferViewSet, basename="transfer")


@extend_schema_view(
    create=extend_schema(
        request=serializers.FeeRateInputSerializer, responses={201: serializers.FeeRateSerializer, 400: BAD_INPUT}
    )
)
class FeeRateViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """物业费缴纳率 per compound and month; ``POST`` records or corrects one month
    (``services.fees.fee_rate_record``; the compound must be in the caller's change scope)."""

    lookup_value_regex = r"[0-9]+"
    queryset = CompoundFeeRate.objects.order_by("compound_id", "-month")
    serializer_class = serializers.FeeRateSerializer
    filterset_class = filters.FeeRateFilter

    def create(self, request):
        data = serializers.FeeRateInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        row = fee_rate_record(by=request.user, request=request, **data.validated_data)
        return Response(serializers.FeeRateSerializer(row).data, status=status.HTTP_201_CREATED)


router.register("fee-rates", FeeRateViewSet, basename="fee-rate")

# The import endpoints live in their own module; importing it registers them on the router.
from . import import_api  # noqa: E402, F401
