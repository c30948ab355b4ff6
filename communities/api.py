"""Registry API: /api/v1/districts, streets, communities, compounds, buildings, households,
residents. Plain CRUD (``baohe.api.ScopedModelViewSet``): restricted by ``restrict()``,
filtered by django-filter, every write one checked transaction. Districts, streets and
communities are read-only here (``ScopedReadOnlyModelViewSet``; administrators keep them in the admin).

Residents' mobile and ID numbers are answered masked; ``POST residents/{id}/reveal/`` with
``{"reason"}`` answers one resident's full numbers to staff who may change the record (403 for
who may only view it, 404 outside scope), one audit line each, throttled per user
(``THROTTLE_RATE_REVEAL``)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from baohe.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from baohe.api_router import router
from baohe.personal import RevealInput
from baohe.services import personal_reveal
from baohe.throttling import ScopedThrottle

from . import filters, serializers
from .models import Building, Community, Compound, District, Household, Resident, Street


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


router.register("districts", DistrictViewSet, basename="district")
router.register("streets", StreetViewSet, basename="street")
router.register("communities", CommunityViewSet, basename="community")
router.register("compounds", CompoundViewSet, basename="compound")
router.register("buildings", BuildingViewSet, basename="building")
router.register("households", HouseholdViewSet, basename="household")
router.register("residents", ResidentViewSet, basename="resident")
