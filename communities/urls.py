from django.urls import path

from . import views

app_name = "communities"
urlpatterns = [
    path("", views.home, name="home"),
    path("district/<int:pk>/", views.DistrictDetailView.as_view(), name="district"),
    path("street/<int:pk>/", views.StreetDetailView.as_view(), name="street"),
    path("community/<int:pk>/", views.CommunityDetailView.as_view(), name="community"),
    path("community/<int:pk>/residents.xlsx", views.roster_export, name="roster_export"),
    path("community/<int:community_pk>/compounds/new/", views.CompoundCreateView.as_view(), name="compound_add"),
    path("compound/<int:pk>/", views.CompoundDetailView.as_view(), name="compound"),
    path("compound/<int:pk>/edit/", views.CompoundUpdateView.as_view(), name="compound_edit"),
    path("compound/<int:compound_pk>/buildings/new/", views.BuildingCreateView.as_view(), name="building_add"),
    path("building/<int:pk>/", views.BuildingDetailView.as_view(), name="building"),
    path("building/<int:pk>/edit/", views.BuildingUpdateView.as_view(), name="building_edit"),
    path("building/<int:building_pk>/households/new/", views.HouseholdCreateView.as_view(), name="household_add"),
    path("household/<int:pk>/", views.HouseholdDetailView.as_view(), name="household"),
    path("household/<int:pk>/edit/", views.HouseholdUpdateView.as_view(), name="household_edit"),
    path("household/<int:household_pk>/residents/new/", views.ResidentCreateView.as_view(), name="resident_add"),
    path("resident/<int:pk>/", views.ResidentDetailView.as_view(), name="resident"),
    path("resident/<int:pk>/reveal/", views.ResidentRevealView.as_view(), name="resident_reveal"),
    path("resident/<int:pk>/edit/", views.ResidentUpdateView.as_view(), name="resident_edit"),
    path("my-building/", views.my_building, name="my_building"),
]
