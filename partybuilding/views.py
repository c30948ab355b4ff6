from django.http import HttpResponse
from django.views import View


class _V(View):
    def get(self, *a, **k):
        return HttpResponse("wip")


BranchListView = BranchDetailView = GroupDetailView = CentralHouseholdDetailView = _V
