from django.urls import path

from . import views

app_name = "partybuilding"
urlpatterns = [
    path("", views.BranchListView.as_view(), name="home"),
    path("coverage/<str:kind>/", views.CoverageView.as_view(), name="coverage"),
    path("branch/new/", views.BranchCreateView.as_view(), name="branch_add"),
    path("branch/<int:pk>/", views.BranchDetailView.as_view(), name="branch"),
    path("branch/<int:pk>/edit/", views.BranchUpdateView.as_view(), name="branch_edit"),
    path("branch/<int:branch_pk>/groups/new/", views.GroupCreateView.as_view(), name="group_add"),
    path("branch/<int:branch_pk>/members/new/", views.MemberCreateView.as_view(), name="member_add"),
    path("group/<int:pk>/", views.GroupDetailView.as_view(), name="group"),
    path("group/<int:pk>/edit/", views.GroupUpdateView.as_view(), name="group_edit"),
    path("member/<int:pk>/", views.MemberDetailView.as_view(), name="member"),
    path("member/<int:pk>/edit/", views.MemberUpdateView.as_view(), name="member_edit"),
    path(
        "member/<int:member_pk>/central-household/new/",
        views.CentralHouseholdCreateView.as_view(),
        name="central_household_add",
    ),
    path("central-household/<int:pk>/", views.CentralHouseholdDetailView.as_view(), name="central_household"),
    path(
        "central-household/<int:pk>/edit/",
        views.CentralHouseholdUpdateView.as_view(),
        name="central_household_edit",
    ),
]
