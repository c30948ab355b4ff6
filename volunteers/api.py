"""Volunteer API under /api/v1/.

Registry CRUD (``baohe.api.ScopedModelViewSet``: restricted by ``restrict()``, every write one
checked transaction; writes for staff only): ``volunteer-teams``, ``service-projects``,
``activities`` (saved through ``services.activity_save``: more places promote from the
waitlist, fewer than the confirmed sign-ups is refused). Read-only lists: ``volunteers``
(with approved hours and points balance; ``POST`` registers one), ``signups``,
``service-hours`` (``POST`` records hours, pending approval), ``points``.

Workflow endpoints, one ``<Entity><Action>Api`` each, with their own input serializer, calling
one service:

- ``POST activities/{activity_pk}/signup/`` — :class:`ActivitySignupApi`
- ``POST activities/{activity_pk}/cancel/`` — :class:`ActivityCancelApi`
- ``POST signups/{signup_pk}/check-in/`` — :class:`SignupCheckInApi`
- ``POST service-hours/approve/`` and ``service-hours/reject/`` — :class:`HoursApproveApi`,
  :class:`HoursRejectApi` (bulk, all or nothing)
- ``GET service-hours/export/?year=&community=`` — :class:`HoursExportApi` (.xlsx)
- ``POST volunteer-teams/{team_pk}/join/`` — :class:`TeamJoinApi`

They are router-registered viewsets (the router is this project's one API URL map); an
object outside the user's scope answers 404 before the input is read, a step that no longer
applies 409, bad input 400, a resident calling a staff step 403.
"""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response

from baohe.api import ScopedModelViewSet, ScopedQuerysetMixin, ScopedReadOnlyModelViewSet, ScopedStepViewSet
from baohe.api_router import router
from baohe.exports import export_response
from baohe.query import query_errors, read_params
from baohe.scoping import CHANGE, VIEW
from communities.models import Community

from . import exports, filters, selectors, serializers, services
from .models import (
    Activity,
    PointsEntry,
    ServiceHours,
    ServiceProject,
    Signup,
    TeamMembership,
    Volunteer,
    VolunteerTeam,
    points_per_hour,
)

CONFLICT = OpenApiResponse(serializers.ErrorSerializer, description="当前状态不允许该操作（409）")
FORBIDDEN = OpenApiResponse(serializers.ErrorSerializer, description="只有社区工作人员可以进行这项操作（403）")
NOT_FOUND = OpenApiResponse(serializers.ErrorSerializer, description="不存在或不在您的范围内（404）")


def path_id(name, description):
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=description)


class StaffWrites(permissions.BasePermission):
    """Everyone signed in reads what their scope allows; only staff write."""

    message = _("只有社区工作人员可以进行这项操作。")

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_portal_staff


# --- registry ------------------------------------------------------------------------------------------
class VolunteerTeamViewSet(ScopedModelViewSet):
    queryset = VolunteerTeam.objects.annotate(member_count=selectors.count_of(TeamMembership, "team")).order_by("pk")
    serializer_class = serializers.VolunteerTeamSerializer
    filterset_class = filters.VolunteerTeamFilter
    permission_classes = [StaffWrites]
    search_fields = ("name",)

    def _save(self, serializer):
        super()._save(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)  # with ``member_count``


class ServiceProjectViewSet(ScopedModelViewSet):
    queryset = ServiceProject.objects.order_by("pk")
    serializer_class = serializers.ServiceProjectSerializer
    filterset_class = filters.ServiceProjectFilter
    permission_classes = [StaffWrites]
    search_fields = ("name",)


class ActivityViewSet(ScopedModelViewSet):
    """志愿活动 with their sign-up counts; residents see those of their compound and community."""

    queryset = Activity.objects.all()
    serializer_class = serializers.ActivitySerializer
    filterset_class = filters.ActivityFilter
    permission_classes = [StaffWrites]
    search_fields = ("title", "place")
    lookup_value_regex = r"[0-9]+"

    def shape_queryset(self, queryset):
        return selectors.with_signup_counts(queryset).order_by("starts_at", "pk")

    def _save(self, serializer):
        instance = serializer.instance or Activity()
        for key, value in serializer.validated_data.items():
            setattr(instance, key, value)
        services.activity_save(instance=instance, by=self.request.user)
        serializer.instance = selectors.with_signup_counts(Activity.objects.filter(pk=instance.pk)).get()


class VolunteerViewSet(mixins.CreateModelMixin, ScopedReadOnlyModelViewSet):
    """志愿者 with approved hours and points balance. ``POST`` registers a resident (staff)."""

    queryset = Volunteer.objects.select_related("resident")
    serializer_class = serializers.VolunteerSerializer
    filterset_class = filters.VolunteerFilter
    permission_classes = [StaffWrites]
    search_fields = ("resident__name",)

    def shape_queryset(self, queryset):
        return selectors.with_totals(queryset).order_by("pk")

    @extend_schema(request=serializers.VolunteerRegisterSerializer, responses={201: serializers.VolunteerSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.VolunteerRegisterSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        volunteer = services.volunteer_register(by=request.user, **data.validated_data)
        row = self.get_queryset().get(pk=volunteer.pk)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class SignupViewSet(ScopedReadOnlyModelViewSet):
    queryset = Signup.objects.select_related("volunteer__resident").order_by("pk")
    serializer_class = serializers.SignupSerializer
    filterset_class = filters.SignupFilter
    lookup_value_regex = r"[0-9]+"


class ServiceHoursViewSet(mixins.CreateModelMixin, ScopedReadOnlyModelViewSet):
    """服务时长. ``POST`` records hours served outside a check-in (staff), pending approval."""

    queryset = (
        ServiceHours.objects.select_related("volunteer__resident")
        .prefetch_related("households")
        .order_by("-served_on", "-pk")
    )
    serializer_class = serializers.ServiceHoursSerializer
    filterset_class = filters.ServiceHoursFilter
    permission_classes = [StaffWrites]
    lookup_value_regex = r"[0-9]+"

    @extend_schema(request=serializers.ServiceHoursInputSerializer, responses={201: serializers.ServiceHoursSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.ServiceHoursInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        row = services.hours_record(by=request.user, **values)
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)


class PointsEntryViewSet(ScopedReadOnlyModelViewSet):
    """积分流水: earned per approved hour; a volunteer's balance is the sum of their entries."""

    queryset = PointsEntry.objects.order_by("-created_at", "-pk")
    serializer_class = serializers.PointsEntrySerializer
    filterset_class = filters.PointsEntryFilter


# --- workflow -------------------------------------------------------------------------------------------
def _signup_data(signup):
    positions = {}
    if signup.status == Signup.Status.WAITLISTED:
        positions[signup.pk] = selectors.waitlist_position(signup)
    return serializers.SignupSerializer(signup, context={"waitlist_positions": positions}).data


@extend_schema(tags=["activities"])
class ActivitySignupApi(ScopedStepViewSet):
    """报名: a confirmed place while one is left, else the waitlist. Residents sign themselves
    up (and are registered as volunteers on their first sign-up); staff name a volunteer."""

    serializer_class = serializers.SignupInputSerializer
    access = services.access_activity_by_id
    scoped_url_kwarg = "activity_pk"

    @extend_schema(
        parameters=[path_id("activity_pk", "活动 id")],
        request=serializers.SignupInputSerializer,
        responses={201: serializers.SignupSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def create(self, request, activity_pk):
        activity = self.scoped_object()
        data = serializers.SignupInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        signup = services.signup_create(
            activity_id=activity.pk, by=request.user, volunteer=data.validated_data.get("volunteer")
        )
        return Response(_signup_data(signup), status=status.HTTP_201_CREATED)


@extend_schema(tags=["activities"])
class ActivityCancelApi(ScopedStepViewSet):
    """取消报名: the resident's own sign-up, or (staff) the one named. A freed place goes to
    the earliest waitlisted, who is told."""

    serializer_class = serializers.CancelInputSerializer
    access = services.access_activity_by_id
    scoped_url_kwarg = "activity_pk"

    @extend_schema(
        parameters=[path_id("activity_pk", "活动 id")],
        request=serializers.CancelInputSerializer,
        responses={200: serializers.CancelOutputSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    def create(self, request, activity_pk):
        activity = self.scoped_object()
        data = serializers.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signup_id = data.validated_data.get("signup")
        if signup_id is None:
            signup, promoted = services.signup_cancel_own(activity_id=activity.pk, by=request.user)
        else:
            get_object_or_404(Signup.objects.restrict(request.user, CHANGE), pk=signup_id, activity=activity)
            signup, promoted = services.signup_cancel(signup_id=signup_id, by=request.user)
        return Response(
            {
                "signup": serializers.SignupSerializer(signup).data,
                "promoted": serializers.SignupSerializer(promoted, many=True).data,
            }
        )


@extend_schema(tags=["activities"])
class SignupCheckInApi(ScopedStepViewSet):
    """签到 (staff): the volunteer came; the activity's length is recorded as pending hours."""

    serializer_class = serializers.CheckInOutputSerializer
    scoped_url_kwarg = "signup_pk"

    @staticmethod
    def access(user, pk, action=CHANGE):
        """The sign-up in the user's change scope as staff (not as the volunteer who signed up)."""
        return get_object_or_404(services.staff_rows(Signup, user), pk=pk)

    @extend_schema(
        parameters=[path_id("signup_pk", "报名 id")],
        request=None,
        responses={200: serializers.CheckInOutputSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def create(self, request, signup_pk):
        services.require_staff(request.user)
        signup = self.scoped_object(CHANGE)
        result = services.signup_check_in(activity_id=signup.activity_id, signup_ids=[signup.pk], by=request.user)
        signup = Signup.objects.select_related("volunteer__resident").get(pk=signup.pk)
        hours = ServiceHours.objects.filter(signup=signup).first()
        return Response(
            {
                "signup": serializers.SignupSerializer(signup).data,
                "hours": serializers.ServiceHoursSerializer(hours).data if hours else None,
                "already": bool(result.already),
            }
        )


def _review_output(result):
    rate = points_per_hour()
    hours = sum((row.hours for row in result.done), Decimal("0.00"))
    return {
        "done": [row.pk for row in result.done],
        "skipped": [row.pk for row in result.skipped],
        "hours": hours,
        "points": (hours * rate).quantize(Decimal("0.01")),
    }


@extend_schema(tags=["service-hours"])
class HoursApproveApi(viewsets.GenericViewSet):
    """审核通过 (staff, bulk): every pending row earns hours × points-per-hour points. All or
    nothing: an id outside the user's scope answers 404; rows already reviewed are skipped."""

    serializer_class = serializers.IdsSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        request=serializers.IdsSerializer,
        responses={200: serializers.ReviewOutputSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def create(self, request):
        services.require_staff(request.user)
        data = serializers.IdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.hours_approve(hours_ids=data.validated_data["ids"], by=request.user)
        return Response(serializers.ReviewOutputSerializer(_review_output(result)).data)


@extend_schema(tags=["service-hours"])
class HoursRejectApi(viewsets.GenericViewSet):
    """不通过 (staff, bulk), with a reason; no points."""

    serializer_class = serializers.RejectSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        request=serializers.RejectSerializer,
        responses={200: serializers.ReviewOutputSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def create(self, request):
        services.require_staff(request.user)
        data = serializers.RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.hours_reject(
            hours_ids=data.validated_data["ids"], reason=data.validated_data["reason"], by=request.user
        )
        output = _review_output(result)
        output["points"] = Decimal("0.00")
        return Response(serializers.ReviewOutputSerializer(output).data)


@extend_schema(tags=["service-hours"])
class HoursExportApi(ScopedQuerysetMixin, viewsets.GenericViewSet):
    """Approved hours per team and month of a year, as an Excel workbook (staff)."""

    queryset = ServiceHours.objects.all()
    pagination_class = None
    filter_backends = []
    serializer_class = None

    @extend_schema(
        parameters=[serializers.HoursExportQuerySerializer],
        responses={
            (200, exports.XLSX): OpenApiTypes.BINARY,
            400: query_errors(serializers.HoursExportQuerySerializer),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def list(self, request):
        services.require_staff(request.user)
        params = read_params(request, serializers.HoursExportQuerySerializer)
        year = params.get("year") or timezone.localdate().year
        queryset = self.get_queryset()
        community = None
        if params.get("community") is not None:
            community = get_object_or_404(Community.objects.restrict(request.user, VIEW), pk=params["community"])
            queryset = queryset.filter(community=community)
        rows = selectors.hours_by_team_month(queryset, year)
        return export_response(
            request=request,
            book=exports.hours_book(rows, year=year, community=community),
            filename=f"volunteer-hours-{year}.xlsx",
            table="volunteers.servicehours",
            rows=len(rows),
            filters={"year": year, "community": community},
            place=community,
        )


@extend_schema(tags=["volunteer-teams"])
class TeamJoinApi(ScopedStepViewSet):
    """加入志愿服务队: a resident joins a team of their community; staff add a volunteer."""

    serializer_class = serializers.TeamJoinInputSerializer
    scoped_model = VolunteerTeam
    scoped_url_kwarg = "team_pk"

    @extend_schema(
        parameters=[path_id("team_pk", "志愿服务队 id")],
        request=serializers.TeamJoinInputSerializer,
        responses={201: serializers.MembershipSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    def create(self, request, team_pk):
        team = self.scoped_object()
        data = serializers.TeamJoinInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        volunteer = data.validated_data.get("volunteer")
        if volunteer is None:
            membership = services.team_join(team_id=team.pk, by=request.user)
        else:
            services.require_staff(request.user)
            membership = services.team_add_member(team=team, volunteer=volunteer, by=request.user)
        return Response(serializers.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


# Workflow routes first: their fixed words must not be taken for an id.
router.register(r"activities/(?P<activity_pk>[0-9]+)/signup", ActivitySignupApi, basename="activity-signup")
router.register(r"activities/(?P<activity_pk>[0-9]+)/cancel", ActivityCancelApi, basename="activity-cancel")
router.register(r"signups/(?P<signup_pk>[0-9]+)/check-in", SignupCheckInApi, basename="signup-check-in")
router.register("service-hours/approve", HoursApproveApi, basename="hours-approve")
router.register("service-hours/reject", HoursRejectApi, basename="hours-reject")
router.register("service-hours/export", HoursExportApi, basename="hours-export")
router.register(r"volunteer-teams/(?P<team_pk>[0-9]+)/join", TeamJoinApi, basename="team-join")
router.register("volunteer-teams", VolunteerTeamViewSet, basename="volunteer-team")
router.register("service-projects", ServiceProjectViewSet, basename="service-project")
router.register("activities", ActivityViewSet, basename="activity")
router.register("volunteers", VolunteerViewSet, basename="volunteer")
router.register("signups", SignupViewSet, basename="signup")
router.register("service-hours", ServiceHoursViewSet, basename="service-hours")
router.register("points", PointsEntryViewSet, basename="points-entry")
