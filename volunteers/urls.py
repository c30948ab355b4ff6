from django.urls import path

from .views import resident
from .views.staff import activities, hours, people, teams

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
    path("", activities.ActivityListView.as_view(), name="activities"),
    path("activity/new/", activities.ActivityCreateView.as_view(), name="activity_add"),
    path("activity/<int:pk>/", activities.ActivityDetailView.as_view(), name="activity"),
    path("activity/<int:pk>/edit/", activities.ActivityUpdateView.as_view(), name="activity_edit"),
    path("activity/<int:pk>/check-in/", activities.activity_check_in, name="activity_check_in"),
    path("activity/<int:pk>/signup/", activities.activity_signup, name="activity_signup"),
    path("signup/<int:pk>/cancel/", activities.signup_cancel, name="signup_cancel"),
    path("teams/", teams.TeamListView.as_view(), name="teams"),
    path("team/new/", teams.TeamCreateView.as_view(), name="team_add"),
    path("team/<int:pk>/", teams.TeamDetailView.as_view(), name="team"),
    path("team/<int:pk>/edit/", teams.TeamUpdateView.as_view(), name="team_edit"),
    path("team/<int:pk>/members/add/", teams.team_add_member, name="team_add_member"),
    path("membership/<int:pk>/remove/", teams.team_remove_member, name="team_remove_member"),
    path("projects/", teams.ProjectListView.as_view(), name="projects"),
    path("project/new/", teams.ProjectCreateView.as_view(), name="project_add"),
    path("project/<int:pk>/edit/", teams.ProjectUpdateView.as_view(), name="project_edit"),
    path("people/", people.VolunteerListView.as_view(), name="volunteers"),
    path("people/new/", people.VolunteerRegisterView.as_view(), name="volunteer_add"),
    path("people/<int:pk>/", people.VolunteerDetailView.as_view(), name="volunteer"),
    path("hours/", hours.HoursListView.as_view(), name="hours"),
    path("hours/new/", hours.HoursRecordView.as_view(), name="hours_add"),
    path("hours/review/", hours.hours_review, name="hours_review"),
    path("hours/export.xlsx", hours.hours_export, name="hours_export"),
    path("household/<int:pk>/services/", people.household_services, name="household_services"),
]
