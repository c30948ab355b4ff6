from django.urls import path

from . import backbone_views, views

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
    # 千万工程: backbones against the annual targets, and the community governance academy
    path("backbones/", backbone_views.ProgressView.as_view(), name="backbones"),
    path("backbones/street/<int:pk>/", backbone_views.StreetProgressView.as_view(), name="backbone_street"),
    path("backbones/targets/new/", backbone_views.TargetCreateView.as_view(), name="backbone_target_add"),
    path("backbones/targets/<int:pk>/edit/", backbone_views.TargetUpdateView.as_view(), name="backbone_target_edit"),
    path("backbones/academy/", backbone_views.TrainingView.as_view(), name="backbone_training"),
    path("backbones/academy/sessions/new/", backbone_views.SessionCreateView.as_view(), name="backbone_session_add"),
    path("backbones/academy/sessions/<int:pk>/", backbone_views.SessionDetailView.as_view(), name="backbone_session"),
]
