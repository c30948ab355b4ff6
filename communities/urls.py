from django.urls import path

from . import transfer_views, views

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
    path("resident/<int:pk>/leave/", views.resident_leave, name="resident_leave"),
    path("my-data/", views.my_data, name="my_data"),
    path("my-data/download.json", views.my_data_download, {"fmt": "json"}, name="my_data_json"),
    path("my-data/download.xlsx", views.my_data_download, {"fmt": "xlsx"}, name="my_data_xlsx"),
    path("my-building/", views.my_building, name="my_building"),
    path("transfers/", transfer_views.transfer_list, name="transfers"),
    path("transfers/new/", transfer_views.transfer_add, name="transfer_add"),
    path("transfers/<int:pk>/", transfer_views.transfer_detail, name="transfer"),
    path("transfers/<int:pk>/approve/", transfer_views.transfer_approve, name="transfer_approve"),
    path("transfers/<int:pk>/reject/", transfer_views.transfer_reject, name="transfer_reject"),
    path("transfers/<int:pk>/cancel/", transfer_views.transfer_cancel, name="transfer_cancel"),
]
