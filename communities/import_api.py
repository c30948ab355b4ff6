"""Registry import on the API (issue 17), for the same people as the pages (staff and secretary
of a community; 404 for anyone else, officials included):

- ``POST /api/v1/communities/{community_pk}/imports/`` (multipart ``file``, optional ``kind``:
  ``residents``, the default, or ``party``): upload; the same
  checks as the page (a refused file: 400 with the reason, nothing stored); 201 with the job;
- ``GET /api/v1/imports/``, ``GET /api/v1/imports/{id}/``: status, progress, counts, the dry run,
  the result and (one job) the report ``[[row, column, message], …]``;
- ``POST /api/v1/imports/{import_pk}/apply/``: start or resume the apply (409 when it may not).

The work is ``communities.services.imports``; the marked sheet is on the page.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from baohe.api import ScopedReadOnlyModelViewSet, ScopedStepViewSet
from baohe.api_router import router
from baohe.models import ImportJob
from baohe.scoping import CHANGE

from .models import Community
from .services import imports as import_services

TAGS = ["imports"]


class ImportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


NOT_FOUND = OpenApiResponse(ImportErrorSerializer, description="不存在或不在您的范围内（404）")
CONFLICT = OpenApiResponse(ImportErrorSerializer, description="现在不能执行（409）")
BAD_INPUT = OpenApiResponse(description="文件被拒绝或字段错误（400）")


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(read_only=True, help_text="当前步骤（校验或导入）的百分比")

    class Meta:
        model = ImportJob
        fields = (
            "id",
            "community",
            "kind",
            "filename",
            "file_format",
            "encoding",
            "sha256",
            "size",
            "status",
            "progress",
            "total_rows",
            "checked_rows",
            "error_rows",
            "applied_rows",
            "plan",
            "result",
            "failure",
            "created_at",
            "finished_at",
        )
        read_only_fields = fields


class ImportJobDetailSerializer(ImportJobSerializer):
    class Meta(ImportJobSerializer.Meta):
        fields = (*ImportJobSerializer.Meta.fields, "errors")
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=".xlsx，或 .csv（UTF-8 或 GB18030）")
    kind = serializers.ChoiceField(
        choices=ImportJob.Kind.choices,
        default=ImportJob.Kind.RESIDENTS,
        help_text="residents（住户与居民，默认）、party（党员与中心户）或 fees（物业费缴纳率）",
    )


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS, responses={200: ImportJobDetailSerializer, 404: NOT_FOUND}),
)
class ImportJobViewSet(ScopedReadOnlyModelViewSet):
    """导入任务: the jobs of the communities the user may change."""

    queryset = ImportJob.objects.all()
    serializer_class = ImportJobSerializer
    lookup_value_regex = r"[0-9]+"

    def get_serializer_class(self):
        return ImportJobDetailSerializer if self.action == "retrieve" else ImportJobSerializer

    def shape_queryset(self, queryset):
        queryset = queryset.restrict(self.request.user, CHANGE).defer("content").order_by("-created_at", "-id")
        return queryset if self.action == "retrieve" else queryset.defer("content", "errors")


class ImportUploadApi(ScopedStepViewSet):
    """上传导入文件: ``POST communities/{community_pk}/imports/`` (multipart)."""

    serializer_class = ImportUploadSerializer
    queryset = Community.objects.none()
    scoped_model = Community
    scoped_url_kwarg = "community_pk"
    parser_classes = (MultiPartParser,)

    @extend_schema(
        tags=TAGS,
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportJobSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def create(self, request, community_pk=None):
        community = self.scoped_object(CHANGE)
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = import_services.import_upload(
            by=request.user,
            community=community,
            upload=data.validated_data["file"],
            request=request,
            kind=data.validated_data["kind"],
        )
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)


class ImportApplyApi(ScopedStepViewSet):
    """确认导入: ``POST imports/{import_pk}/apply/`` starts (or resumes) the background apply."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()
    access = import_services.access_import_by_id
    scoped_url_kwarg = "import_pk"

    @extend_schema(tags=TAGS, request=None, responses={202: ImportJobSerializer, 404: NOT_FOUND, 409: CONFLICT})
    def create(self, request, import_pk=None):
        job = import_services.import_apply_start(by=request.user, job=self.scoped_object(CHANGE))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


router.register("imports", ImportJobViewSet, basename="import")
router.register(r"communities/(?P<community_pk>[0-9]+)/imports", ImportUploadApi, basename="community-import")
router.register(r"imports/(?P<import_pk>[0-9]+)/apply", ImportApplyApi, basename="import-apply")
