"""Request API under /api/v1/.

- ``categories/`` — read-only: the active top-level categories with their active children.
- ``requests/`` — list and detail restricted by ``restrict(user)``; django-filter filters
  (status, category, compound, building, assigned_to_me, due_today, overdue) and ``search``
  (number, description); cursor pagination. Staff get the nearest deadline first
  (``ordering=due``: the "current due", ``accept_due_at`` while submitted and
  ``resolve_due_at`` after, annotated with Case/When and paged on that annotation plus id);
  residents get their newest first (``ordering=newest``). An unknown ``ordering``, a filter
  value that does not parse, or a cursor this server did not make for that ordering is 400
  with field errors. ``POST requests/`` files a request (JSON or multipart; photos as
  repeated ``photos`` files) through ``services.request_submit``.
- ``requests/counts/`` — the numbers behind the list tabs, one aggregate query.
- ``requests/{id}/<step>/`` — one endpoint per step of the workflow table
  (``workflow.STEPS``), all served by :class:`RequestStepApi`, parameterised by the step's
  :class:`StepEndpoint` (URL, input serializer, schema summary): it calls the step's service.
  The request is loaded with ``services.access_request_by_id`` (404 outside scope, before the
  input is even read); a step that does not apply answers 409, a step the user may not take
  403, bad input 400.
- ``requests/{id}/events/`` and ``requests/{id}/attachments/`` — the timeline and photos;
  residents see only what is public.
- ``requests/{id}/reveal/`` — the contact number, whole, with a reason (audited; the lists and
  details answer it masked).
- ``requests/{id}/attachments/{attachment}/public/`` — staff show a photo on the compound board
  and in Open311, or hide it again.
- The resident's steps are steps of the table too: ``urge`` (催办), ``supplement`` (补充说明),
  ``withdraw`` (撤回) by the submitter, and ``support`` (我也遇到) by another resident of the
  compound, which reaches the request on the boards they may read and answers its public
  representation (``public.py``) only.

The step view is a plain ``APIView``, so the step URLs live in :data:`urlpatterns` here
(generated from :data:`ENDPOINTS`), included from ``baohe/urls.py`` next to the router.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from baohe.api import ScopedObjectMixin, ScopedReadOnlyModelViewSet
from baohe.api_router import router
from baohe.pagination import SignedCursorPagination
from baohe.personal import RevealInput
from baohe.query import SearchFilter, read_params
from baohe.scoping import VIEW
from baohe.services import personal_reveal
from baohe.throttling import ScopedThrottle

from . import public, selectors, serializers, services, workflow
from .filters import (
    ServiceRequestFilter,
    assigned_to_me_q,
    due_today_q,
    open_q,
    overdue_q,
    with_current_due,
)
from .models import Attachment, Category, ServiceRequest

Status = ServiceRequest.Status

ORDERINGS = {"due": ("current_due", "id"), "newest": ("-id",)}


# --- helpers ---------------------------------------------------------------------------------
def with_output_data(requests):
    """``requests`` with everything the serializer reads, and their current deadline."""
    return with_current_due(requests.select_related("building"))


def request_queryset():
    return with_output_data(ServiceRequest.objects.all())


def handled_ids(user, ids):
    """Which of ``ids`` the user handles as staff (full contact details, internal notes)."""
    return set(services.requests_handled_by(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


def output(request, rows, many=False):
    """Serialize requests for ``request.user``: one query decides which rows they handle."""
    items = list(rows) if many else [rows]
    context = {"request": request, "changeable_ids": handled_ids(request.user, [row.pk for row in items])}
    return serializers.ServiceRequestSerializer(rows, many=many, context=context).data


def reload(request, pk):
    """The request as just written, for the answer (the acting user saw it a moment ago)."""
    return output(request, request_queryset().get(pk=pk))


def sees_internal(user, service_request):
    """Internal notes and the extension trail: for officials, the assignee and handling staff."""
    return (
        user.is_official
        or service_request.assigned_to_id == user.pk
        or services.requests_handled_by(user).filter(pk=service_request.pk).exists()
    )


@contextmanager
def errors_under(name):
    """A service's plain (field-less) ValidationError, answered under the input field ``name``
    (the upload checks: ``photos``); without a ``name`` it passes as it is."""
    try:
        yield
    except DjangoValidationError as error:
        if name is None or hasattr(error, "error_dict"):
            raise
        raise DjangoValidationError({name: error.messages}) from error


CONFLICT = OpenApiResponse(serializers.RequestErrorSerializer, description="当前状态不允许该操作（409）")
FORBIDDEN = OpenApiResponse(serializers.RequestErrorSerializer, description="可以查看但无权办理（403）")
NOT_FOUND = OpenApiResponse(serializers.RequestErrorSerializer, description="不存在或不在您的范围内（404）")


# --- categories ------------------------------------------------------------------------------
class CategoryViewSet(ScopedReadOnlyModelViewSet):
    """诉求分类: active top-level categories, each with its active children."""

    serializer_class = serializers.CategorySerializer
    pagination_class = None
    filter_backends = []
    queryset = Category.objects.all()

    def shape_queryset(self, queryset):
        children = Prefetch(
            "children",
            queryset=Category.objects.filter(is_active=True).order_by("order", "id"),
            to_attr="active_children",
        )
        queryset = queryset.filter(is_active=True).prefetch_related(children).order_by("order", "id")
        if self.action == "list":
            queryset = queryset.filter(parent=None)
        return queryset


# --- requests --------------------------------------------------------------------------------
class RequestCursorPagination(SignedCursorPagination):
    """Cursor pages in the order the view chooses (``ServiceRequestViewSet.cursor_ordering``)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_ordering(self, request, queryset, view):
        return view.cursor_ordering()


@extend_schema(tags=["requests"])
class ServiceRequestViewSet(mixins.CreateModelMixin, ScopedReadOnlyModelViewSet):
    """诉求: what the user may see, nearest deadline first for staff."""

    serializer_class = serializers.ServiceRequestSerializer
    filterset_class = ServiceRequestFilter
    filter_backends = [DjangoFilterBackend, SearchFilter]
    search_fields = ("number", "description")
    pagination_class = RequestCursorPagination
    lookup_value_regex = r"[0-9]+"
    queryset = ServiceRequest.objects.all()

    def shape_queryset(self, queryset):
        if self.action == "counts":
            return queryset  # one aggregate: no joins, no annotation
        if self.action == "list":
            return with_current_due(queryset)  # read as values(): no joins (names from reference.py)
        return with_output_data(queryset)

    def cursor_ordering(self):
        """The declared ``?ordering=`` (400 for an unknown one), else the reader's default."""
        requested = read_params(self.request, serializers.RequestListParamsSerializer).get("ordering")
        return ORDERINGS[requested or ("due" if self.request.user.is_portal_staff else "newest")]

    def open_only(self):
        """The staff's default view: their open work (the index ``sr_open_queue`` serves it,
        however long the community's history), unless they chose a status, searched, or asked
        for ``include_closed``. Residents see all of their own."""
        if not self.request.user.is_portal_staff:
            return False
        params = self.request.query_params
        if params.get("status") or params.get("search"):
            return False
        return not read_params(self.request, serializers.RequestListParamsSerializer).get("include_closed")

    @extend_schema(
        parameters=[serializers.RequestListParamsSerializer],
        responses=serializers.RequestListItemSerializer(many=True),
    )
    def list(self, request, *args, **kwargs):
        """The lean list: about twenty columns read with ``values()`` and written by
        ``serializers.RequestListOutput``; staff see open requests unless they ask for a status,
        search, or ``include_closed`` (``filters.ServiceRequestFilter``)."""
        self.cursor_ordering()  # a bad ?ordering= is 400 before anything is read
        queryset = self.filter_queryset(self.get_queryset())
        if self.open_only():
            queryset = queryset.filter(open_q())
        page = self.paginate_queryset(queryset.values(*serializers.LIST_COLUMNS))
        writer = serializers.RequestListOutput(request, services.may_handle_place)
        return self.get_paginated_response(writer.rows(page))

    def retrieve(self, request, *args, **kwargs):
        return Response(output(request, self.get_object()))

    @extend_schema(
        request={
            "multipart/form-data": serializers.ServiceRequestCreateSerializer,
            "application/json": serializers.ServiceRequestCreateSerializer,
        },
        responses={201: serializers.ServiceRequestSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = serializers.ServiceRequestCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        with errors_under("photos"):
            created = services.request_submit(by=request.user, **data.validated_data)
        # The answer from the row as written (no reload): the submitter handles it when the
        # place is in their change scope (services.may_handle_place: no query).
        handled = (
            {created.pk} if services.may_handle_place(request.user, created.street_id, created.community_id) else set()
        )
        context = {"request": request, "changeable_ids": handled}
        answer = serializers.ServiceRequestSerializer(created, context=context).data
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(responses=serializers.CountsSerializer, filters=True)
    @action(detail=False, methods=["get"], pagination_class=None)
    def counts(self, request):
        """How many requests each list tab holds (honours the same filters), one query."""
        queryset = self.filter_queryset(self.get_queryset())
        counts = queryset.aggregate(
            all=Count("pk"),
            submitted=Count("pk", filter=Q(status=Status.SUBMITTED)),
            accepted=Count("pk", filter=Q(status=Status.ACCEPTED)),
            in_progress=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
            resolved=Count("pk", filter=Q(status=Status.RESOLVED)),
            assigned_to_me=Count("pk", filter=assigned_to_me_q(request.user)),
            due_today=Count("pk", filter=due_today_q()),
            overdue=Count("pk", filter=overdue_q()),
        )
        return Response(serializers.CountsSerializer(counts).data)


# --- timeline and photos ---------------------------------------------------------------------
@extend_schema(tags=["requests"])
class RequestEventListApi(ScopedObjectMixin, APIView):
    """办理记录: the whole timeline for staff, only the public steps for residents."""

    access = services.access_request_by_id

    @extend_schema(responses={200: serializers.RequestEventSerializer(many=True), 404: NOT_FOUND})
    def get(self, request, pk):
        service_request = self.scoped_object()
        events = selectors.timeline_events(request=service_request, staff=sees_internal(request.user, service_request))
        return Response(serializers.RequestEventSerializer(events, many=True, context={"request": request}).data)


@extend_schema(tags=["requests"])
class RequestAttachmentListApi(ScopedObjectMixin, APIView):
    """照片 of a request (at submission and with the resolution)."""

    access = services.access_request_by_id

    @extend_schema(responses={200: serializers.AttachmentSerializer(many=True), 404: NOT_FOUND})
    def get(self, request, pk):
        service_request = self.scoped_object()
        photos = Attachment.objects.filter(request=service_request).order_by("id")
        if not sees_internal(request.user, service_request):
            photos = photos.filter(Q(event=None) | Q(event__public=True))
        return Response(serializers.AttachmentSerializer(photos, many=True, context={"request": request}).data)


# --- workflow steps --------------------------------------------------------------------------
@dataclass(frozen=True)
class StepEndpoint:
    """A workflow step (``workflow.STEPS``) on the API: its URL under ``requests/{id}/``, the
    serializer of its input (field names are the service's keyword arguments, through
    ``source=`` where the API calls them otherwise), and its summary in the schema."""

    path: str
    step: workflow.Step
    input: type[serializers.serializers.Serializer] | None
    summary: str
    media_types: tuple[str, ...] = ()  # the request body's content types, if not every parser's
    # A neighbour's step (我也遇到): the request is reached on the boards the user may read, and
    # the answer is its public representation (the neighbour may not see the request itself).
    public: bool = False


class StepSchema(AutoSchema):
    """The schema of one step endpoint, read from the view's :class:`StepEndpoint`."""

    @property
    def endpoint(self) -> StepEndpoint:
        return cast("RequestStepApi", self.view).step_endpoint

    def get_summary(self):
        return self.endpoint.summary

    def get_tags(self):
        return ["requests"]

    def get_request_serializer(self):
        endpoint = self.endpoint
        if endpoint.input is not None and endpoint.media_types:
            return dict.fromkeys(endpoint.media_types, endpoint.input)
        return endpoint.input

    def get_response_serializers(self):
        answer = serializers.PublicRequestSerializer if self.endpoint.public else serializers.ServiceRequestSerializer
        return {200: answer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


class RequestStepApi(ScopedObjectMixin, APIView):
    """One workflow step: load in scope (404), check the input (400), call the service
    (409 / 403 / 400 from the service), answer with the request as it now is."""

    endpoint: StepEndpoint | None = None  # each step's, given to as_view()
    schema = StepSchema()
    access = services.access_request_by_id

    @property
    def step_endpoint(self) -> StepEndpoint:
        if self.endpoint is None:
            raise ImproperlyConfigured("RequestStepApi.as_view(endpoint=…) names its step")
        return self.endpoint

    def scoped_object(self, action=VIEW):
        if self.step_endpoint.public:
            return get_object_or_404(public.board_requests(self.request.user), pk=self.kwargs["pk"])
        return super().scoped_object(action)

    def post(self, request, pk):
        service_request = self.scoped_object()
        endpoint = self.step_endpoint
        data = {}
        if endpoint.input is not None:
            serializer = endpoint.input(
                data=request.data, context={"request": request, "service_request": service_request}
            )
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        with errors_under(endpoint.step.errors_to):
            endpoint.step.run(request=service_request, by=request.user, **data)
        if endpoint.public:
            row = public.public_row(public.public_queryset().get(pk=service_request.pk))
            return Response(serializers.PublicRequestSerializer(row).data)
        return Response(reload(request, service_request.pk))


@extend_schema(tags=["requests"])
class AttachmentPublicApi(ScopedObjectMixin, APIView):
    """``POST requests/{id}/attachments/{attachment}/public/`` ``{"public": true}``: staff of the
    request's community show a photo on the compound board and in Open311 (or hide it again);
    404 outside scope, 403 for who may only view it."""

    access = services.access_request_by_id

    @extend_schema(
        request=serializers.PhotoPublicInputSerializer,
        responses={200: serializers.AttachmentSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
        summary="设置照片是否公开（小区公示、开放接口）",
    )
    def post(self, request, pk, attachment):
        service_request = self.scoped_object()
        photo = get_object_or_404(Attachment.objects.filter(request=service_request), pk=attachment)
        data = serializers.PhotoPublicInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo = services.attachment_set_public(attachment=photo, by=request.user, public=data.validated_data["public"])
        return Response(serializers.AttachmentSerializer(photo, context={"request": request}).data)


class RequestRevealApi(ScopedObjectMixin, APIView):
    """``POST requests/{id}/reveal/`` ``{"reason"}``: the request's contact number, whole, for who
    may handle it (staff of its community, its assignee, its submitter): one audit line each;
    403 for who may only view it, 404 outside scope; throttled per user (``THROTTLE_RATE_REVEAL``)."""

    access = services.access_request_by_id
    throttle_classes = [ScopedThrottle]
    throttle_scope = "reveal"

    @extend_schema(
        request=RevealInput,
        responses={200: serializers.ContactRevealSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
        tags=["requests"],
        summary="查看完整联系电话（记入审计日志）",
    )
    def post(self, request, pk):
        service_request = self.scoped_object()
        data = RevealInput(data=request.data)
        data.is_valid(raise_exception=True)
        numbers = personal_reveal(
            user=request.user, obj=service_request, reason=data.validated_data["reason"], request=request
        )
        return Response(serializers.ContactRevealSerializer(numbers).data)


router.register("categories", CategoryViewSet, basename="category")
router.register("requests", ServiceRequestViewSet, basename="request")

ENDPOINTS = (
    StepEndpoint("accept", workflow.ACCEPT, None, "签收"),
    StepEndpoint("assign", workflow.ASSIGN, serializers.AssignInputSerializer, "分派"),
    StepEndpoint("reply", workflow.REPLY, serializers.ReplyInputSerializer, "答复居民或内部备注"),
    StepEndpoint("extension", workflow.EXTENSION_REQUEST, serializers.ExtensionInputSerializer, "申请延期"),
    StepEndpoint(
        "extension/decide",
        workflow.EXTENSION_DECIDE,
        serializers.ExtensionDecideInputSerializer,
        "审批延期（社区书记）",
    ),
    StepEndpoint("return", workflow.RETURN, serializers.ReasonInputSerializer, "退单（退回街道改派）"),
    StepEndpoint("reroute", workflow.REROUTE, serializers.RerouteInputSerializer, "改派到小区（街道）"),
    StepEndpoint(
        "resolve",
        workflow.RESOLVE,
        serializers.ResolveInputSerializer,
        "办结",
        media_types=("multipart/form-data", "application/json"),
    ),
    StepEndpoint("reject", workflow.REJECT, serializers.ReasonInputSerializer, "不予受理"),
    StepEndpoint("duplicate", workflow.DUPLICATE, serializers.DuplicateInputSerializer, "标记为重复诉求"),
    StepEndpoint("close", workflow.CLOSE, serializers.CloseInputSerializer, "关闭（已办结的诉求）"),
    StepEndpoint("rate", workflow.RATE, serializers.RatingInputSerializer, "居民评价（不满意或未解决则重办）"),
    StepEndpoint("follow-up", workflow.FOLLOW_UP, serializers.RatingInputSerializer, "电话回访（工作人员代居民评价）"),
    StepEndpoint(
        "supervise", workflow.SUPERVISE, serializers.SuperviseInputSerializer, "督办（区、街道领导；超时的诉求）"
    ),
    StepEndpoint("urge", workflow.URGE, None, "催办（提交人；超过期限或 3 个工作日无进展，每个工作日一次）"),
    StepEndpoint(
        "supplement",
        workflow.SUPPLEMENT,
        serializers.SupplementInputSerializer,
        "补充说明（提交人；文字和照片）",
        media_types=("multipart/form-data", "application/json"),
    ),
    StepEndpoint(
        "withdraw", workflow.WITHDRAW, serializers.ReasonInputSerializer, "撤回（提交人；签收前，需填写原因）"
    ),
    StepEndpoint("support", workflow.SUPPORT, None, "我也遇到（附议：本小区其他居民）", public=True),
)

urlpatterns = [
    path("requests/<int:pk>/events/", RequestEventListApi.as_view(), name="request-events"),
    path("requests/<int:pk>/attachments/", RequestAttachmentListApi.as_view(), name="request-attachments"),
    path("requests/<int:pk>/reveal/", RequestRevealApi.as_view(), name="request-reveal"),
    path(
        "requests/<int:pk>/attachments/<int:attachment>/public/",
        AttachmentPublicApi.as_view(),
        name="request-attachment-public",
    ),
] + [
    path(
        f"requests/<int:pk>/{endpoint.path}/",
        RequestStepApi.as_view(endpoint=endpoint),
        name=f"request-{endpoint.path.replace('/', '-')}",
    )
    for endpoint in ENDPOINTS
]
