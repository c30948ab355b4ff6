"""Funds API under /api/v1/ (on the one router, ``baohe.api_router``).

- ``funds/`` — the funds the caller may see (filters community, year, kind);
  ``POST funds/{id}/budget/`` (street staff) sets the budget with a reason.
- ``fund-entries/`` — the ledger lines (read only; filters fund, proposal, kind, account).
- ``fund-proposals/`` — spending proposals; ``POST`` submits one (``multipart`` for quotes);
  steps ``POST fund-proposals/{id}/approve/``, ``street-approve/``, ``reject/``, ``withdraw/``,
  ``pay/`` (with receipts), ``files/``, ``reverse-payment/`` call the same services as the pages.

Residents see none of these (the public side is the compound board); another community's rows
answer 404.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from baohe.api import ScopedQuerysetMixin, ScopedReadOnlyModelViewSet
from baohe.api_router import router

from . import filters, serializers, services
from .models import Fund, LedgerEntry, Proposal

TAGS = ["funds"]
NOT_FOUND = OpenApiResponse(description="不存在或不在您的范围内（404）")
CONFLICT = OpenApiResponse(description="当前状态不允许该操作，或经费余额不足（409）")
BAD_INPUT = OpenApiResponse(description="字段错误（400）")
FORBIDDEN = OpenApiResponse(description="无权办理（403）")


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class FundViewSet(ScopedReadOnlyModelViewSet):
    """社区经费: one community's fund for one year with its running totals."""

    lookup_value_regex = r"[0-9]+"
    queryset = Fund.objects.order_by("-year", "community_id", "kind", "pk")
    serializer_class = serializers.FundSerializer
    filterset_class = filters.FundFilter

    @extend_schema(
        tags=TAGS,
        request=serializers.BudgetSerializer,
        responses={200: serializers.FundSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def budget(self, request, pk=None):
        """调整预算 (street staff), with a reason."""
        data = serializers.BudgetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fund = services.fund_adjust_budget(fund=self.get_object(), by=request.user, **data.validated_data)
        return Response(serializers.FundSerializer(fund).data)


@extend_schema_view(list=extend_schema(tags=TAGS), retrieve=extend_schema(tags=TAGS))
class LedgerEntryViewSet(ScopedReadOnlyModelViewSet):
    """经费流水: append-only ledger lines."""

    lookup_value_regex = r"[0-9]+"
    queryset = LedgerEntry.objects.order_by("fund_id", "pk")
    serializer_class = serializers.LedgerEntrySerializer
    filterset_class = filters.LedgerEntryFilter


STEP = {200: serializers.ProposalSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


@extend_schema_view(
    list=extend_schema(tags=TAGS),
    retrieve=extend_schema(tags=TAGS, responses={200: serializers.ProposalSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        tags=TAGS,
        request=serializers.ProposalSubmitSerializer,
        responses={201: serializers.ProposalSerializer, 400: BAD_INPUT, 403: FORBIDDEN},
    ),
)
class ProposalViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """支出申请: list, read one, submit, and each step (the services' own)."""

    lookup_value_regex = r"[0-9]+"
    queryset = Proposal.objects.order_by("-created_at", "-id")
    serializer_class = serializers.ProposalSerializer
    filterset_class = filters.ProposalFilter

    def shape_queryset(self, queryset):
        return queryset.prefetch_related("files")

    def _answer(self, proposal, code=status.HTTP_200_OK):
        proposal = Proposal.objects.prefetch_related("files").get(pk=proposal.pk)
        return Response(serializers.ProposalSerializer(proposal).data, status=code)

    def create(self, request):
        if not request.user.is_portal_staff:
            raise PermissionDenied
        data = serializers.ProposalSubmitSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        proposal = services.proposal_submit(by=request.user, **data.validated_data)
        return self._answer(proposal, status.HTTP_201_CREATED)

    @extend_schema(tags=TAGS, request=serializers.NoteSerializer, responses=STEP)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """书记审批: commits the amount (409 when the fund has not enough left)."""
        data = serializers.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.proposal_approve(proposal=self.get_object(), by=request.user, **data.validated_data)
        )

    @extend_schema(tags=TAGS, request=serializers.NoteSerializer, responses=STEP)
    @action(detail=True, methods=["post"], url_path="street-approve")
    def street_approve(self, request, pk=None):
        """街道审核通过."""
        data = serializers.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_street_approve(proposal=self.get_object(), by=request.user, **data.validated_data)
        return self._answer(proposal)

    @extend_schema(tags=TAGS, request=serializers.ReasonSerializer, responses=STEP)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = serializers.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.proposal_reject(proposal=self.get_object(), by=request.user, **data.validated_data)
        )

    @extend_schema(tags=TAGS, request=serializers.ReasonSerializer, responses=STEP)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = serializers.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.proposal_withdraw(proposal=self.get_object(), by=request.user, **data.validated_data)
        )

    @extend_schema(tags=TAGS, request=serializers.PaySerializer, responses=STEP)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        """登记支付 with receipts (multipart ``receipts``; at least one, now or uploaded before)."""
        data = serializers.PaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_pay(proposal=self.get_object(), by=request.user, **data.validated_data)
        return self._answer(proposal)

    @extend_schema(tags=TAGS, request=serializers.FilesSerializer, responses=STEP)
    @action(detail=True, methods=["post"])
    def files(self, request, pk=None):
        """Add quotes or receipts (photos or PDF, checked by content)."""
        data = serializers.FilesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = self.get_object()
        services.proposal_add_files(proposal=proposal, by=request.user, **data.validated_data)
        return self._answer(proposal)

    @extend_schema(tags=TAGS, request=serializers.ReasonSerializer, responses=STEP)
    @action(detail=True, methods=["post"], url_path="reverse-payment")
    def reverse_payment(self, request, pk=None):
        """冲正支付: a reversal of a wrongly recorded payment."""
        data = serializers.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.payment_reverse(proposal=self.get_object(), by=request.user, **data.validated_data)
        )


router.register("funds", FundViewSet, basename="fund")
router.register("fund-entries", LedgerEntryViewSet, basename="fund-entry")
router.register("fund-proposals", ProposalViewSet, basename="fund-proposal")
