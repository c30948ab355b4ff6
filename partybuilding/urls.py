from django.urls import path

from . import views

app_name = "partybuilding"
urlpatterns = [
    path("", views.BranchListView.as_view(), name="home"),
    path("branch/<int:pk>/", views.BranchDetailView.as_view(), name="branch"),
    path("group/<int:pk>/", views.GroupDetailView.as_view(), name="group"),
    path("central-household/<int:pk>/", views.CentralHouseholdDetailView.as_view(), name="central_household"),
]
