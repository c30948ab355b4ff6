"""Party organisation API: /api/v1/party-branches, party-groups, party-members,
central-households, backbones (plain CRUD, ``baohe.api.ScopedModelViewSet``: restricted by
``restrict()``, every write one checked transaction) and the read-only party-coverage.

千万工程: ``backbone-targets`` (one per street and year; street staff write),
``backbone-progress`` (per street against the year's target), ``training-courses`` (the
academy's catalogue, read-only), ``training-sessions``, ``training-attendances`` and
``training-sessions/{session_pk}/attendance/`` (save a session's attendance sheet)."""

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.response import Response

from baohe.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, ScopedStepViewSet
from baohe.api_router import router
from baohe.query import query_errors, read_params
from communities.models import Building, Compound, Household
from communities.services import households_changed

from . import filters, selectors, serializers, services
from .models import (
    Attendance,
    Backbone,
    BackboneTarget,
    CentralHousehold,
    Course,
    PartyBranch,
    PartyGroup,
    PartyMember,
    TrainingSession,
)


class IsPortalStaff(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_portal_staff)


class PartyBranchViewSet(ScopedModelViewSet):
    queryset = PartyBranch.objects.prefetch_related(
        Prefetch("compounds", queryset=Compound.objects.only("pk").order_by("pk"))
    ).order_by("pk")
    serializer_class = serializers.PartyBranchSerializer
    filterset_class = filters.PartyBranchFilter
    search_fields = ("name",)


class PartyGroupViewSet(ScopedModelViewSet):
    queryset = PartyGroup.objects.prefetch_related(
        Prefetch("buildings", queryset=Building.objects.only("pk").order_by("pk"))
    ).order_by("pk")
    serializer_class = serializers.PartyGroupSerializer
    filterset_class = filters.PartyGroupFilter
    search_fields = ("name",)


class PartyMemberViewSet(ScopedModelViewSet):
    queryset = PartyMember.objects.select_related("resident").order_by("pk")
    serializer_class = serializers.PartyMemberSerializer
    filterset_class = filters.PartyMemberFilter
    search_fields = ("resident__name",)


class CentralHouseholdViewSet(ScopedModelViewSet):
    queryset = CentralHousehold.objects.prefetch_related(
        Prefetch("served_households", queryset=Household.objects.only("pk").order_by("pk"))
    ).order_by("pk")
    serializer_class = serializers.CentralHouseholdSerializer
    filterset_class = filters.CentralHouseholdFilter

    def _save(self, serializer):
        # The households it served and serves now: their visit plans follow at once.
        with transaction.atomic():
            before = services.central_household_reach(serializer.instance)
            super()._save(serializer)
            households_changed(before | services.central_household_reach(serializer.instance))


class BackboneViewSet(ScopedModelViewSet):
    queryset = Backbone.objects.select_related("resident").order_by("-year", "pk")
    serializer_class = serializers.BackboneSerializer
    filterset_class = filters.BackboneFilter
    search_fields = ("resident__name",)


class PartyCoverageViewSet(viewsets.ViewSet):
    """How many compounds lack a branch, buildings a group, and households a central
    household, inside the user's scope (optionally one street or community)."""

    permission_classes = [IsPortalStaff]

    @extend_schema(
        parameters=[serializers.CoverageQuerySerializer],
        responses={
            200: serializers.CoverageSerializer,
            400: query_errors(serializers.CoverageQuerySerializer),
        },
    )
    def list(self, request):
        params = read_params(request, serializers.CoverageQuerySerializer)
        counts = selectors.coverage_counts(request.user, **params)
        return Response(serializers.CoverageSerializer(counts).data)


router.register("party-branches", PartyBranchViewSet, basename="party-branch")
router.register("party-groups", PartyGroupViewSet, basename="party-group")
router.register("party-members", PartyMemberViewSet, basename="party-member")
router.register("central-households", CentralHouseholdViewSet, basename="central-household")
router.register("backbones", BackboneViewSet, basename="backbone")
router.register("party-coverage", PartyCoverageViewSet, basename="party-coverage")


# --- 千万工程: targets, progress and the community governance academy ----------------------------------
class BackboneTargetViewSet(ScopedModelViewSet):
    """Annual targets per street (one per street and year); street staff and administrators write."""

    queryset = BackboneTarget.objects.order_by("-year", "street_id")
    serializer_class = serializers.BackboneTargetSerializer
    filterset_class = filters.BackboneTargetFilter
    permission_classes = [IsPortalStaff]


class BackboneProgressViewSet(viewsets.ViewSet):
    """Per street, the year's backbones (party and mass, selected and trained) against its
    target, for the streets whose backbones the user sees in full."""

    permission_classes = [IsPortalStaff]

    @extend_schema(
        parameters=[serializers.BackboneProgressQuerySerializer],
        responses={
            200: serializers.BackboneProgressSerializer(many=True),
            400: query_errors(serializers.BackboneProgressQuerySerializer),
        },
    )
    def list(self, request):
        params = read_params(request, serializers.BackboneProgressQuerySerializer)
        year = params.get("year") or timezone.localdate().year
        rows, _totals = selectors.backbone_progress(request.user, year)
        return Response(serializers.BackboneProgressSerializer([{**row, "year": year} for row in rows], many=True).data)


class CourseViewSet(ScopedReadOnlyModelViewSet):
    """社区治理学院's course catalogue (kept by administrators in the admin; public to portal staff)."""

    queryset = Course.objects.order_by("name")
    serializer_class = serializers.CourseSerializer
    permission_classes = [IsPortalStaff]


class TrainingSessionViewSet(ScopedModelViewSet):
    queryset = TrainingSession.objects.annotate(
        attended=Count("attendances", filter=Q(attendances__attended=True))
    ).order_by("-starts_at", "pk")
    serializer_class = serializers.TrainingSessionSerializer
    filterset_class = filters.TrainingSessionFilter
    permission_classes = [IsPortalStaff]
    lookup_value_regex = r"[0-9]+"

    def _save(self, serializer):
        super()._save(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)  # with ``attended``


class AttendanceViewSet(ScopedReadOnlyModelViewSet):
    queryset = Attendance.objects.select_related("backbone__resident").order_by("pk")
    serializer_class = serializers.AttendanceSerializer
    filterset_class = filters.AttendanceFilter
    permission_classes = [IsPortalStaff]


class SessionAttendanceApi(ScopedStepViewSet):
    """签到表: save a session's attendance as the user's roster sees it (ticked = attended)."""

    serializer_class = serializers.AttendanceSheetSerializer
    permission_classes = [IsPortalStaff]
    scoped_model = TrainingSession
    scoped_url_kwarg = "session_pk"

    @extend_schema(
        parameters=[OpenApiParameter("session_pk", int, OpenApiParameter.PATH, description="培训班次 id")],
        request=serializers.AttendanceSheetSerializer,
        responses={200: serializers.AttendanceSerializer(many=True)},
    )
    def create(self, request, session_pk):
        session = self.scoped_object()
        data = serializers.AttendanceSheetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.attendance_record(session_id=session.pk, attended_ids=data.validated_data["attended"], by=request.user)
        # The sheet as the user's roster sees it (their scope's rows of this session).
        rows = Attendance.objects.restrict(request.user).filter(session=session).select_related("backbone__resident")
        return Response(serializers.AttendanceSerializer(rows.order_by("pk"), many=True).data)


router.register("backbone-targets", BackboneTargetViewSet, basename="backbone-target")
router.register("backbone-progress", BackboneProgressViewSet, basename="backbone-progress")
router.register("training-courses", CourseViewSet, basename="training-course")
router.register(
    r"training-sessions/(?P<session_pk>[0-9]+)/attendance", SessionAttendanceApi, basename="session-attendance"
)
router.register("training-sessions", TrainingSessionViewSet, basename="training-session")
router.register("training-attendances", AttendanceViewSet, basename="training-attendance")
