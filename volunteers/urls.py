from django.urls import path

from .views import resident, staff

app_name = "volunteers"
urlpatterns = [
    # residents (phone first)
    path("my/", resident.my_home, name="my_home"),
    path("my/activity/<int:pk>/", resident.my_activity, name="my_activity"),
    path("my/activity/<int:pk>/signup/", resident.my_signup, name="my_signup"),
    path("my/activity/<int:pk>/cancel/", resident.my_cancel, name="my_cancel"),
    path("my/hours/", resident.my_hours, name="my_hours"),
    path("my/teams/", resident.my_teams, name="my_teams"),
    path("my/teams/<int:pk>/join/", resident.my_team_join, name="my_team_join"),
    path("my/teams/<int:pk>/leave/", resident.my_team_leave, name="my_team_leave"),
    # staff
    path("", staff.ActivityListView.as_view(), name="activities"),
    path("activity/new/", staff.ActivityCreateView.as_view(), name="activity_add"),
    path("activity/<int:pk>/", staff.ActivityDetailView.as_view(), name="activity"),
    path("activity/<int:pk>/edit/", staff.ActivityUpdateView.as_view(), name="activity_edit"),
    path("activity/<int:pk>/check-in/", staff.activity_check_in, name="activity_check_in"),
    path("activity/<int:pk>/signup/", staff.activity_signup, name="activity_signup"),
    path("signup/<int:pk>/cancel/", staff.signup_cancel, name="signup_cancel"),
    path("teams/", staff.TeamListView.as_view(), name="teams"),
    path("team/new/", staff.TeamCreateView.as_view(), name="team_add"),
    path("team/<int:pk>/", staff.TeamDetailView.as_view(), name="team"),
    path("team/<int:pk>/edit/", staff.TeamUpdateView.as_view(), name="team_edit"),
    path("team/<int:pk>/members/add/", staff.team_add_member, name="team_add_member"),
    path("membership/<int:pk>/remove/", staff.team_remove_member, name="team_remove_member"),
    path("projects/", staff.ProjectListView.as_view(), name="projects"),
    path("project/new/", staff.ProjectCreateView.as_view(), name="project_add"),
    path("project/<int:pk>/edit/", staff.ProjectUpdateView.as_view(), name="project_edit"),
    path("people/", staff.VolunteerListView.as_view(), name="volunteers"),
    path("people/new/", staff.VolunteerRegisterView.as_view(), name="volunteer_add"),
    path("people/<int:pk>/", staff.VolunteerDetailView.as_view(), name="volunteer"),
    path("hours/", staff.HoursListView.as_view(), name="hours"),
    path("hours/new/", staff.HoursRecordView.as_view(), name="hours_add"),
    path("hours/review/", staff.hours_review, name="hours_review"),
    path("hours/export.xlsx", staff.hours_export, name="hours_export"),
    path("household/<int:pk>/services/", staff.household_services, name="household_services"),
]
