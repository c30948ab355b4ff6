from django.urls import path

from .views.staff import backbones, edit, organisation

app_name = "partybuilding"
urlpatterns = [
    path("", organisation.BranchListView.as_view(), name="home"),
    path("coverage/<str:kind>/", organisation.CoverageView.as_view(), name="coverage"),
    path("branch/new/", edit.BranchCreateView.as_view(), name="branch_add"),
    path("branch/<int:pk>/", organisation.BranchDetailView.as_view(), name="branch"),
    path("branch/<int:pk>/edit/", edit.BranchUpdateView.as_view(), name="branch_edit"),
    path("branch/<int:branch_pk>/groups/new/", edit.GroupCreateView.as_view(), name="group_add"),
    path("branch/<int:branch_pk>/members/new/", edit.MemberCreateView.as_view(), name="member_add"),
    path("group/<int:pk>/", organisation.GroupDetailView.as_view(), name="group"),
    path("group/<int:pk>/edit/", edit.GroupUpdateView.as_view(), name="group_edit"),
    path("member/<int:pk>/", organisation.MemberDetailView.as_view(), name="member"),
    path("member/<int:pk>/edit/", edit.MemberUpdateView.as_view(), name="member_edit"),
    path(
        "member/<int:member_pk>/central-household/new/",
        edit.CentralHouseholdCreateView.as_view(),
        name="central_household_add",
    ),
    path("central-household/<int:pk>/", organisation.CentralHouseholdDetailView.as_view(), name="central_household"),
    path(
        "central-household/<int:pk>/edit/",
        edit.CentralHouseholdUpdateView.as_view(),
        name="central_household_edit",
    ),
    # 千万工程: backbones against the annual targets, and the community governance academy
    path("backbones/", backbones.ProgressView.as_view(), name="backbones"),
    path("backbones/street/<int:pk>/", backbones.StreetProgressView.as_view(), name="backbone_street"),
    path("backbones/targets/new/", backbones.TargetCreateView.as_view(), name="backbone_target_add"),
    path("backbones/targets/<int:pk>/edit/", backbones.TargetUpdateView.as_view(), name="backbone_target_edit"),
    path("backbones/academy/", backbones.TrainingView.as_view(), name="backbone_training"),
    path("backbones/academy/sessions/new/", backbones.SessionCreateView.as_view(), name="backbone_session_add"),
    path("backbones/academy/sessions/<int:pk>/", backbones.SessionDetailView.as_view(), name="backbone_session"),
]
