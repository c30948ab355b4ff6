"""Registry API: /api/v1/districts, streets, communities, compounds, buildings, households,
residents. Plain CRUD (``baohe.api.ScopedModelViewSet``): restricted by ``restrict()``,
filtered by django-filter, every write one checked transaction. Districts, streets and
communities are read-only here (``ScopedReadOnlyModelViewSet``; administrators keep them in the admin)."""

from baohe.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from baohe.api_router import router

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

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        instances = args[0] if args else None
        if instances is not None:
            rows = instances if isinstance(instances, list | tuple) else [instances]
            ids = [row.pk for row in rows if getattr(row, "pk", None)]
            (serializer.child if hasattr(serializer, "child") else serializer).context["changeable_ids"] = (
                serializers.changeable_ids(self.request.user, Resident, ids)
            )
        return serializer


router.register("districts", DistrictViewSet, basename="district")
router.register("streets", StreetViewSet, basename="street")
router.register("communities", CommunityViewSet, basename="community")
router.register("compounds", CompoundViewSet, basename="compound")
router.register("buildings", BuildingViewSet, basename="building")
router.register("households", HouseholdViewSet, basename="household")
router.register("residents", ResidentViewSet, basename="resident")
