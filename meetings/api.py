"""Meeting API under /api/v1/ (all on the one router, ``baohe.api_router``).

- ``meetings/`` — list and detail restricted by ``restrict(user)`` (filters community, compound,
  status, kind, request, minutes_missing, scheduled_after/before; search topic and place);
  ``POST`` plans a meeting through ``services.meeting_create`` (optionally from requests, with
  invitees), ``PATCH``/``PUT`` change a planned one through ``services.meeting_update``.
  There is no DELETE: a meeting is cancelled (``meetings/{id}/cancel/``), so its trail stays.
- Workflow steps, one ``<Entity><Action>Api`` each, calling its service:
  ``meetings/{id}/attendance/`` (MeetingAttendanceApi), ``meetings/{id}/minutes/``
  (MeetingMinutesApi: the minutes with decisions and action items in one transaction),
  ``meetings/{id}/cancel/`` (MeetingCancelApi), ``action-items/{id}/complete/``
  (ActionItemCompleteApi: resolves the requests whose action items are all done),
  ``meeting-decisions/{id}/team/`` (DecisionTeamApi) and ``meeting-decisions/{id}/inspections/``
  (InspectionRecordApi, JSON or multipart with a ``photo``). The meeting (item, decision) is
  looked up in the user's scope first: 404 outside it; then 403 for a row the user may see
  but not change, 400 with field errors for bad input, 409 for a step that no longer applies.
- Read-only lists: ``meeting-invitees/``, ``meeting-decisions/``, ``action-items/`` (filters
  community, meeting, decision, request, done, overdue, mine, due_before), ``inspections/``.
- ``supervision-teams/`` — plain CRUD (``ScopedModelViewSet``).
"""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from baohe.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, ScopedStepViewSet
from baohe.api_router import router
from service_requests.models import ServiceRequest

from . import filters, selectors, serializers, services
from .models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam

TAGS = ["meetings"]
NOT_FOUND = OpenApiResponse(serializers.MeetingErrorSerializer, description="不存在或不在您的范围内（404）")
FORBIDDEN = OpenApiResponse(serializers.MeetingErrorSerializer, description="可以查看但无权办理（403）")
CONFLICT = OpenApiResponse(serializers.MeetingErrorSerializer, description="当前状态不允许该操作（409）")
BAD_INPUT = OpenApiResponse(description="字段错误（400）")


def with_list(meetings):
    """What the meeting list shows: counts, place, organiser and the linked request ids."""
    return selectors.with_counts(
        meetings.select_related("community", "compound", "organiser").prefetch_related(
            Prefetch("requests", queryset=ServiceRequest.objects.only("pk").order_by("pk")),
        )
    )


def with_detail(meetings):
    """The list's data plus invitees, decisions, their action items and inspections."""
    items = ActionItem.objects.select_related("owner").prefetch_related(
        Prefetch("requests", queryset=ServiceRequest.objects.only("pk", "number").order_by("pk"))
    )
    decisions = Decision.objects.select_related("supervision_team").prefetch_related(
        Prefetch("action_items", queryset=items.order_by("pk")),
        Prefetch("inspections", queryset=Inspection.objects.select_related("team", "inspector")),
    )
    return with_list(meetings).prefetch_related(
        Prefetch("invitees", queryset=Invitee.objects.order_by("pk")),
        Prefetch("decisions", queryset=decisions.order_by("order", "pk")),
    )


def detail(request, pk, status_code=status.HTTP_200_OK):
    """The meeting as just written, for the answer (the acting user reached it a moment ago)."""
    meeting = with_detail(Meeting.objects.all()).get(pk=pk)
    data = serializers.MeetingDetailSerializer(meeting, context={"request": request}).data
    return Response(data, status=status_code)


def _path_id(name, description):
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=description)


MEETING_ID = _path_id("meeting_pk", "会议 id")
ITEM_ID = _path_id("item_pk", "落实事项 id")
DECISION_ID = _path_id("decision_pk", "决议 id")


def step_schema(parameter, input_serializer, response):
    """The OpenAPI description of one workflow step: its input, what it returns, and its errors."""
    return extend_schema(
        tags=TAGS,
        parameters=[parameter],
        request=input_serializer,
        responses={200: response, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )


# --- meetings -------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(tags=TAGS, responses=serializers.MeetingSerializer),
    retrieve=extend_schema(tags=TAGS, responses={200: serializers.MeetingDetailSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        tags=TAGS,
        request=serializers.MeetingCreateSerializer,
        responses={201: serializers.MeetingDetailSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 409: CONFLICT},
    ),
    update=extend_schema(
        tags=TAGS,
        request=serializers.MeetingUpdateSerializer,
        responses={200: serializers.MeetingDetailSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        tags=TAGS,
        request=serializers.MeetingUpdateSerializer,
        responses={200: serializers.MeetingDetailSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class MeetingViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedReadOnlyModelViewSet,
):
    """协商议事会议."""

    queryset = Meeting.objects.all()
    serializer_class = serializers.MeetingSerializer
    filterset_class = filters.MeetingFilter
    search_fields = ("topic", "place")
    ordering_fields = ("scheduled_at", "id")
    lookup_value_regex = r"[0-9]+"

    def shape_queryset(self, queryset):
        queryset = with_detail(queryset) if self.action == "retrieve" else with_list(queryset)
        return queryset.order_by("-scheduled_at", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.MeetingDetailSerializer
        if self.action == "create":
            return serializers.MeetingCreateSerializer
        if self.action in ("update", "partial_update"):
            return serializers.MeetingUpdateSerializer
        return serializers.MeetingSerializer

    def create(self, request, *args, **kwargs):
        data = serializers.MeetingCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        meeting = services.meeting_create(by=request.user, **values)
        return detail(request, meeting.pk, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        meeting = self.get_object()
        if not services.may_change_meeting(request.user, meeting.pk):
            raise PermissionDenied("您可以查看但无权修改这次会议。")
        data = serializers.MeetingUpdateSerializer(
            data=request.data, context={"request": request}, partial=kwargs.get("partial", False)
        )
        data.is_valid(raise_exception=True)
        services.meeting_update(meeting=meeting, by=request.user, **data.validated_data)
        return detail(request, meeting.pk)


class MeetingStepApi(ScopedStepViewSet):
    """A workflow step on one meeting: ``POST meetings/{meeting_pk}/<step>/``."""

    queryset = Meeting.objects.none()
    access = services.access_meeting_by_id
    scoped_url_kwarg = "meeting_pk"

    def meeting(self):
        return self.scoped_object()

    def read(self, serializer_class):
        data = serializer_class(data=self.request.data, context={"request": self.request})
        data.is_valid(raise_exception=True)
        return data


class MeetingAttendanceApi(MeetingStepApi):
    """记录到会情况: who of the invitees came (the rest are marked absent), walk-ins, when it was held."""

    serializer_class = serializers.MeetingAttendanceInputSerializer

    @step_schema(MEETING_ID, serializers.MeetingAttendanceInputSerializer, serializers.MeetingDetailSerializer)
    def create(self, request, meeting_pk=None):
        meeting = self.meeting()
        values = self.read(serializers.MeetingAttendanceInputSerializer).validated_data
        services.meeting_record_attendance(
            meeting=meeting,
            by=request.user,
            attended=values["attended"],
            held_at=values.get("held_at"),
            extra=[{**extra, "resident": None} for extra in values["extra"]],
        )
        return detail(request, meeting.pk)


class MeetingMinutesApi(MeetingStepApi):
    """记录会议纪要: the minutes with the decisions and their action items, in one transaction."""

    serializer_class = serializers.MeetingMinutesInputSerializer

    @step_schema(MEETING_ID, serializers.MeetingMinutesInputSerializer, serializers.MeetingDetailSerializer)
    def create(self, request, meeting_pk=None):
        meeting = self.meeting()
        data = self.read(serializers.MeetingMinutesInputSerializer)
        services.meeting_record_minutes(
            meeting=meeting,
            by=request.user,
            minutes=data.validated_data["minutes"],
            held_at=data.validated_data.get("held_at"),
            decisions=data.to_service(meeting),
        )
        return detail(request, meeting.pk)


class MeetingCancelApi(MeetingStepApi):
    """取消待召开的会议."""

    serializer_class = serializers.MeetingCancelInputSerializer

    @step_schema(MEETING_ID, serializers.MeetingCancelInputSerializer, serializers.MeetingDetailSerializer)
    def create(self, request, meeting_pk=None):
        meeting = self.meeting()
        values = self.read(serializers.MeetingCancelInputSerializer).validated_data
        services.meeting_cancel(meeting=meeting, by=request.user, reason=values["reason"])
        return detail(request, meeting.pk)


class ActionItemCompleteApi(ScopedStepViewSet):
    """确认落实事项完成; each linked request whose action items are now all done is resolved."""

    serializer_class = serializers.ActionItemCompleteInputSerializer
    queryset = ActionItem.objects.none()
    access = services.access_action_item_by_id
    scoped_url_kwarg = "item_pk"

    @step_schema(ITEM_ID, serializers.ActionItemCompleteInputSerializer, serializers.ActionItemSerializer)
    def create(self, request, item_pk=None):
        item = self.scoped_object()
        data = serializers.ActionItemCompleteInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.action_item_complete(item=item, by=request.user, note=data.validated_data["note"])
        item = ActionItem.objects.prefetch_related("requests").select_related("decision", "owner").get(pk=item.pk)
        return Response(serializers.ActionItemSerializer(item, context={"request": request}).data)


class DecisionStepApi(ScopedStepViewSet):
    """A step on one decision: ``POST meeting-decisions/{decision_pk}/<step>/``."""

    queryset = Decision.objects.none()
    access = services.access_decision_by_id
    scoped_url_kwarg = "decision_pk"

    def decision(self):
        return self.scoped_object()


class DecisionTeamApi(DecisionStepApi):
    """为决议指定义务监督队 (``null`` to detach)."""

    serializer_class = serializers.DecisionTeamInputSerializer

    @extend_schema(
        tags=TAGS,
        parameters=[DECISION_ID],
        request=serializers.DecisionTeamInputSerializer,
        responses={200: serializers.DecisionSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def create(self, request, decision_pk=None):
        decision = self.decision()
        data = serializers.DecisionTeamInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.decision_attach_team(decision=decision, by=request.user, team=data.validated_data["supervision_team"])
        decision = Decision.objects.prefetch_related("action_items", "inspections").get(pk=decision.pk)
        return Response(serializers.DecisionSerializer(decision, context={"request": request}).data)


class InspectionRecordApi(DecisionStepApi):
    """记录监督检查 by the decision's supervision team (JSON, or multipart with ``photo``)."""

    serializer_class = serializers.InspectionInputSerializer

    @extend_schema(
        tags=TAGS,
        parameters=[DECISION_ID],
        request={
            "application/json": serializers.InspectionInputSerializer,
            "multipart/form-data": serializers.InspectionInputSerializer,
        },
        responses={201: serializers.InspectionSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def create(self, request, decision_pk=None):
        decision = self.decision()
        data = serializers.InspectionInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        inspection = services.inspection_record(
            decision=decision,
            by=request.user,
            finding=values["finding"],
            ok=values["ok"],
            inspected_at=values.get("inspected_at"),
            inspector=values.get("inspector"),
            photo=values.get("photo"),
        )
        inspection = Inspection.objects.select_related("team", "inspector", "decision").get(pk=inspection.pk)
        return Response(
            serializers.InspectionSerializer(inspection, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


# --- read-only lists ------------------------------------------------------------------------------
@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class InviteeViewSet(ScopedReadOnlyModelViewSet):
    """参会人员."""

    lookup_value_regex = r"[0-9]+"
    queryset = Invitee.objects.order_by("meeting_id", "pk")
    serializer_class = serializers.InviteeSerializer
    filterset_class = filters.InviteeFilter


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class DecisionViewSet(ScopedReadOnlyModelViewSet):
    """决议, with their action items and inspections."""

    lookup_value_regex = r"[0-9]+"
    queryset = (
        Decision.objects.select_related("supervision_team")
        .prefetch_related(
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.select_related("owner")
                .prefetch_related(
                    Prefetch("requests", queryset=ServiceRequest.objects.only("pk", "number").order_by("pk"))
                )
                .order_by("pk"),
            ),
            Prefetch("inspections", queryset=Inspection.objects.select_related("team", "inspector")),
        )
        .order_by("-meeting_id", "order", "pk")
    )
    serializer_class = serializers.DecisionSerializer
    filterset_class = filters.DecisionFilter


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class ActionItemViewSet(ScopedReadOnlyModelViewSet):
    """落实事项 (staff: their communities; an owner: the items they answer for)."""

    lookup_value_regex = r"[0-9]+"
    queryset = (
        ActionItem.objects.select_related("decision", "owner")
        .prefetch_related(Prefetch("requests", queryset=ServiceRequest.objects.only("pk", "number").order_by("pk")))
        .order_by("due_on", "pk")
    )
    serializer_class = serializers.ActionItemSerializer
    filterset_class = filters.ActionItemFilter
    search_fields = ("task", "owner_label")


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class InspectionViewSet(ScopedReadOnlyModelViewSet):
    """监督检查记录."""

    lookup_value_regex = r"[0-9]+"
    queryset = Inspection.objects.select_related("decision", "team", "inspector").order_by("-inspected_at", "-id")
    serializer_class = serializers.InspectionSerializer
    filterset_class = filters.InspectionFilter


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS),
    create=extend_schema(tags=TAGS),
    update=extend_schema(tags=TAGS),
    partial_update=extend_schema(tags=TAGS),
    destroy=extend_schema(tags=TAGS),
)
class SupervisionTeamViewSet(ScopedModelViewSet):
    """义务监督队."""

    queryset = SupervisionTeam.objects.prefetch_related("members").order_by("community_id", "name", "pk")
    serializer_class = serializers.SupervisionTeamSerializer
    filterset_class = filters.SupervisionTeamFilter
    search_fields = ("name",)
    lookup_value_regex = r"[0-9]+"


router.register(r"meetings/(?P<meeting_pk>[0-9]+)/attendance", MeetingAttendanceApi, basename="meeting-attendance")
router.register(r"meetings/(?P<meeting_pk>[0-9]+)/minutes", MeetingMinutesApi, basename="meeting-minutes")
router.register(r"meetings/(?P<meeting_pk>[0-9]+)/cancel", MeetingCancelApi, basename="meeting-cancel")
router.register(r"action-items/(?P<item_pk>[0-9]+)/complete", ActionItemCompleteApi, basename="action-item-complete")
router.register(r"meeting-decisions/(?P<decision_pk>[0-9]+)/team", DecisionTeamApi, basename="decision-team")
router.register(
    r"meeting-decisions/(?P<decision_pk>[0-9]+)/inspections", InspectionRecordApi, basename="inspection-record"
)
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("meeting-invitees", InviteeViewSet, basename="meeting-invitee")
router.register("meeting-decisions", DecisionViewSet, basename="meeting-decision")
router.register("action-items", ActionItemViewSet, basename="action-item")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("supervision-teams", SupervisionTeamViewSet, basename="supervision-team")
