"""Notice API under /api/v1/ (on the one router, ``baohe.api_router``).

- ``notices/`` — the notices the caller may see (``restrict()``; filters community, compound,
  building, audience, pinned, requires_confirmation); ``POST`` publishes through
  ``services.notice_publish`` (images: the page's upload form); ``notices/{id}/read/`` and
  ``notices/{id}/confirm/`` mark the caller's own household; ``notices/{id}/coverage/`` (staff)
  gives ``{"rows": […], "totals": {…}}``: read-or-relayed / all households per building, with the
  households not reached.
- ``notices/{id}/relay/`` (NoticeRelayApi) — 已传达到户 for a household the caller serves.
- ``notice-receipts/`` — per-household receipts (staff: their community's; residents: their own).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from baohe.api import ScopedQuerysetMixin, ScopedReadOnlyModelViewSet, ScopedStepViewSet
from baohe.api_router import router

from . import filters, selectors, serializers, services
from .models import Notice, Receipt

TAGS = ["notices"]
NOT_FOUND = OpenApiResponse(description="不存在或不在您的范围内（404）")
CONFLICT = OpenApiResponse(description="当前状态不允许该操作（409）")
BAD_INPUT = OpenApiResponse(description="字段错误（400）")
NOTICE_ID = OpenApiParameter("notice_pk", int, OpenApiParameter.PATH, description="通知编号")
COUNT = OpenApiResponse(
    description="更新的回执数", response={"type": "object", "properties": {"changed": {"type": "integer"}}}
)


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS, responses={200: serializers.NoticeSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        tags=TAGS,
        request=serializers.NoticePublishSerializer,
        responses={201: serializers.NoticeSerializer, 400: BAD_INPUT, 403: OpenApiResponse(description="无权发布")},
    ),
)
class NoticeViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """通知公告: list, read one, publish (a service), and per-notice steps."""

    lookup_value_regex = r"[0-9]+"
    queryset = Notice.objects.order_by("-pinned", "-published_at", "-id")
    serializer_class = serializers.NoticeSerializer
    filterset_class = filters.NoticeFilter

    def shape_queryset(self, queryset):
        return queryset.select_related("compound", "building__compound").prefetch_related("images").distinct()

    def create(self, request):
        data = serializers.NoticePublishSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        if not request.user.is_portal_staff:
            raise PermissionDenied
        notice = services.notice_publish(by=request.user, request=request, **data.validated_data)
        notice = (
            Notice.objects.prefetch_related("images").select_related("compound", "building__compound").get(pk=notice.pk)
        )
        return Response(serializers.NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=TAGS, request=None, responses={200: COUNT, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark read for the caller's own households."""
        changed = services.notice_read(notice=self.get_object(), user=request.user)
        return Response({"changed": changed})

    @extend_schema(tags=TAGS, request=None, responses={200: COUNT, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """我已知晓 for the caller's own households."""
        changed = services.notice_confirm(notice=self.get_object(), user=request.user)
        return Response({"changed": changed})

    @extend_schema(tags=TAGS, responses={200: serializers.NoticeCoverageSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["get"])
    def coverage(self, request, pk=None):
        """Per building: read, confirmed, relayed, reached (read or relayed) / all households."""
        if not request.user.is_portal_staff:
            raise PermissionDenied
        result = selectors.coverage(self.get_object())
        rows = [
            {
                "building": row["building"],
                **{key: row[key] for key in ("total", "read", "confirmed", "relayed", "reached")},
                "not_reached": [receipt.household_id for receipt in row["missing"]],
            }
            for row in result["rows"]
        ]
        return Response(serializers.NoticeCoverageSerializer({"rows": rows, "totals": result["totals"]}).data)


class NoticeRelayApi(ScopedStepViewSet):
    """已传达到户: the central household or party group leader marks a household they serve."""

    queryset = Notice.objects.none()
    access = services.access_notice_by_id
    scoped_url_kwarg = "notice_pk"
    serializer_class = serializers.NoticeRelayInputSerializer

    @extend_schema(
        tags=TAGS,
        parameters=[NOTICE_ID],
        request=serializers.NoticeRelayInputSerializer,
        responses={200: serializers.NoticeReceiptSerializer, 400: BAD_INPUT, 404: NOT_FOUND, 409: CONFLICT},
    )
    def create(self, request, notice_pk=None):
        notice = self.scoped_object()
        data = serializers.NoticeRelayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.notice_relay(notice=notice, household_id=data.validated_data["household"], by=request.user)
        receipt = Receipt.objects.select_related("household__building").get(pk=receipt.pk)
        return Response(serializers.NoticeReceiptSerializer(receipt).data)


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class ReceiptViewSet(ScopedReadOnlyModelViewSet):
    """通知回执, per household."""

    lookup_value_regex = r"[0-9]+"
    queryset = Receipt.objects.select_related("household__building").order_by("notice_id", "building_id", "pk")
    serializer_class = serializers.NoticeReceiptSerializer
    filterset_class = filters.ReceiptFilter


router.register(r"notices/(?P<notice_pk>[0-9]+)/relay", NoticeRelayApi, basename="notice-relay")
router.register("notices", NoticeViewSet, basename="notice")
router.register("notice-receipts", ReceiptViewSet, basename="notice-receipt")
