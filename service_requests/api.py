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
- ``requests/{id}/<step>/`` — one ``<Entity><Action>Api`` view per workflow step, each with
  its own input serializer, calling its service. The request is loaded with
  ``services.access_request_by_id`` (404 outside scope, before the input is even read); a
  step that does not apply answers 409, a step the user may not take 403, bad input 400.
- ``requests/{id}/events/`` and ``requests/{id}/attachments/`` — the timeline and photos;
  residents see only what is public.

The step views are plain ``APIView``\\ s, so they live in :data:`urlpatterns` here, included
from ``baohe/urls.py`` next to the router.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch, Q
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from baohe.api import ScopedObjectMixin, ScopedReadOnlyModelViewSet
from baohe.api_router import router
from baohe.pagination import SignedCursorPagination
from baohe.query import SearchFilter, read_params

from . import selectors, serializers, services
from .filters import (
    ServiceRequestFilter,
    assigned_to_me_q,
    due_today_q,
    overdue_q,
    with_current_due,
)
from .models import Attachment, Category, ServiceRequest

Status = ServiceRequest.Status

ORDERINGS = {"due": ("current_due", "id"), "newest": ("-id",)}


# --- helpers ---------------------------------------------------------------------------------
def with_output_data(requests):
    """``requests`` with everything the serializer reads, and their current deadline."""
    return with_current_due(requests.select_related("category__parent", "community", "compound", "building"))


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
def photo_errors():
    """Upload checks raise a plain (field-less) ValidationError: answer it under ``photos``."""
    try:
        yield
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            raise
        raise DjangoValidationError({"photos": error.messages}) from error


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
        return with_output_data(queryset)

    def cursor_ordering(self):
        """The declared ``?ordering=`` (400 for an unknown one), else the reader's default."""
        requested = read_params(self.request, serializers.RequestListParamsSerializer).get("ordering")
        return ORDERINGS[requested or ("due" if self.request.user.is_portal_staff else "newest")]

    @extend_schema(parameters=[serializers.RequestListParamsSerializer])
    def list(self, request, *args, **kwargs):
        self.cursor_ordering()  # a bad ?ordering= is 400 before anything is read
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(output(request, page, many=True))

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
        with photo_errors():
            created = services.request_submit(by=request.user, **data.validated_data)
        return Response(reload(request, created.pk), status=status.HTTP_201_CREATED)

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
class RequestActionApi(ScopedObjectMixin, APIView):
    """One workflow step: load in scope (404), check the input (400), call the service
    (409 / 403 / 400 from the service), answer with the request as it now is."""

    input_serializer = None
    access = services.access_request_by_id

    def handle(self, request, pk):
        service_request = self.scoped_object()
        data = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(
                data=request.data, context={"request": request, "service_request": service_request}
            )
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.perform(service_request, request.user, data)
        return Response(reload(request, service_request.pk))

    def perform(self, service_request, user, data):
        raise NotImplementedError


def step_schema(input_serializer, summary):
    return extend_schema(
        summary=summary,
        tags=["requests"],
        request=input_serializer,
        responses={
            200: serializers.ServiceRequestSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )


class RequestAcceptApi(RequestActionApi):
    @step_schema(None, "签收")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_accept(request=service_request, by=user)


class RequestAssignApi(RequestActionApi):
    input_serializer = serializers.AssignInputSerializer

    @step_schema(input_serializer, "分派")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_assign(
            request=service_request,
            by=user,
            kind=data["assignee_kind"],
            user=data.get("user"),
            label=data["label"],
        )


class RequestReplyApi(RequestActionApi):
    input_serializer = serializers.ReplyInputSerializer

    @step_schema(input_serializer, "答复居民或内部备注")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_reply(request=service_request, by=user, message=data["message"], public=data["public"])


class RequestExtensionApi(RequestActionApi):
    input_serializer = serializers.ExtensionInputSerializer

    @step_schema(input_serializer, "申请延期")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_extension_request(request=service_request, by=user, until=data["until"], reason=data["reason"])


class RequestExtensionDecideApi(RequestActionApi):
    input_serializer = serializers.ExtensionDecideInputSerializer

    @step_schema(input_serializer, "审批延期（社区书记）")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_extension_decide(request=service_request, by=user, approve=data["approve"], note=data["note"])


class RequestReturnApi(RequestActionApi):
    input_serializer = serializers.ReasonInputSerializer

    @step_schema(input_serializer, "退单（退回街道改派）")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_return(request=service_request, by=user, reason=data["reason"])


class RequestRerouteApi(RequestActionApi):
    input_serializer = serializers.RerouteInputSerializer

    @step_schema(input_serializer, "改派到小区（街道）")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_reroute(
            request=service_request, by=user, compound=data["compound"], building=data.get("building")
        )


class RequestResolveApi(RequestActionApi):
    input_serializer = serializers.ResolveInputSerializer

    @extend_schema(
        summary="办结",
        tags=["requests"],
        request={
            "multipart/form-data": serializers.ResolveInputSerializer,
            "application/json": serializers.ResolveInputSerializer,
        },
        responses={200: serializers.ServiceRequestSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        with photo_errors():
            services.request_resolve(
                request=service_request, by=user, message=data["message"], photos=data.get("photos", ())
            )


class RequestRejectApi(RequestActionApi):
    input_serializer = serializers.ReasonInputSerializer

    @step_schema(input_serializer, "不予受理")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_reject(request=service_request, by=user, reason=data["reason"])


class RequestDuplicateApi(RequestActionApi):
    input_serializer = serializers.DuplicateInputSerializer

    @step_schema(input_serializer, "标记为重复诉求")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_mark_duplicate(request=service_request, by=user, original=data["original"])


class RequestCloseApi(RequestActionApi):
    input_serializer = serializers.CloseInputSerializer

    @step_schema(input_serializer, "关闭（已办结的诉求）")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_close(request=service_request, by=user, note=data["note"])


class RequestRateApi(RequestActionApi):
    input_serializer = serializers.RatingInputSerializer

    @step_schema(input_serializer, "居民评价（不满意或未解决则重办）")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_rate(
            request=service_request,
            by=user,
            solved=data["solved"],
            satisfaction=data["satisfaction"],
            comment=data["comment"],
        )


class RequestFollowUpApi(RequestActionApi):
    input_serializer = serializers.RatingInputSerializer

    @step_schema(input_serializer, "电话回访（工作人员代居民评价）")
    def post(self, request, pk):
        return self.handle(request, pk)

    def perform(self, service_request, user, data):
        services.request_follow_up(
            request=service_request,
            by=user,
            solved=data["solved"],
            satisfaction=data["satisfaction"],
            comment=data["comment"],
        )


router.register("categories", CategoryViewSet, basename="category")
router.register("requests", ServiceRequestViewSet, basename="request")

STEPS = {
    "accept": RequestAcceptApi,
    "assign": RequestAssignApi,
    "reply": RequestReplyApi,
    "extension": RequestExtensionApi,
    "extension/decide": RequestExtensionDecideApi,
    "return": RequestReturnApi,
    "reroute": RequestRerouteApi,
    "resolve": RequestResolveApi,
    "reject": RequestRejectApi,
    "duplicate": RequestDuplicateApi,
    "close": RequestCloseApi,
    "rate": RequestRateApi,
    "follow-up": RequestFollowUpApi,
}

urlpatterns = [
    path("requests/<int:pk>/events/", RequestEventListApi.as_view(), name="request-events"),
    path("requests/<int:pk>/attachments/", RequestAttachmentListApi.as_view(), name="request-attachments"),
] + [
    path(f"requests/<int:pk>/{step}/", view.as_view(), name=f"request-{step.replace('/', '-')}")
    for step, view in STEPS.items()
]
