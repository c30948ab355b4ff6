from django.http import HttpResponse
from django.views import View


def _stub(*a, **k):
    return HttpResponse("wip")


class _V(View):
    def get(self, *a, **k):
        return HttpResponse("wip")


home = my_building = _stub
DistrictDetailView = StreetDetailView = CommunityDetailView = CompoundCreateView = CompoundDetailView = _V
CompoundUpdateView = BuildingCreateView = BuildingDetailView = BuildingUpdateView = HouseholdCreateView = _V
HouseholdDetailView = HouseholdUpdateView = ResidentCreateView = ResidentDetailView = ResidentUpdateView = _V
