"""Party organisation API: /api/v1/party-branches, party-groups, party-members,
central-households, backbones (plain CRUD, ``baohe.api.ScopedModelViewSet``: restricted by
``restrict()``, every write one checked transaction) and the read-only party-coverage."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from baohe.api import ScopedModelViewSet
from baohe.api_router import router
from communities.models import Building, Compound, Household

from . import filters, selectors, serializers
from .models import Backbone, CentralHousehold, PartyBranch, PartyGroup, PartyMember


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
        parameters=[
            OpenApiParameter("community", int, description="社区 id"),
            OpenApiParameter("street", int, description="街道 id"),
        ],
        responses=serializers.CoverageSerializer,
    )
    def list(self, request):
        params = {}
        for name in ("community", "street"):
            raw = request.query_params.get(name, "")
            if raw:
                if not raw.isdigit():
                    return Response({name: [_("请输入整数编号。")]}, status=status.HTTP_400_BAD_REQUEST)
                params[name] = int(raw)
        counts = selectors.coverage_counts(request.user, **params)
        return Response(serializers.CoverageSerializer(counts).data)


router.register("party-branches", PartyBranchViewSet, basename="party-branch")
router.register("party-groups", PartyGroupViewSet, basename="party-group")
router.register("party-members", PartyMemberViewSet, basename="party-member")
router.register("central-households", CentralHouseholdViewSet, basename="central-household")
router.register("backbones", BackboneViewSet, basename="backbone")
router.register("party-coverage", PartyCoverageViewSet, basename="party-coverage")
