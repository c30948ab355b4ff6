"""Meeting pages: /meetings/… (staff)."""

from django.urls import path

from . import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_create, name="create"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/attendance/", views.meeting_attendance, name="attendance"),
    path("<int:pk>/minutes/", views.meeting_minutes, name="minutes"),
    path("<int:pk>/cancel/", views.meeting_cancel, name="cancel"),
    path("actions/", views.action_list, name="actions"),
    path("actions/<int:pk>/complete/", views.action_complete, name="action_complete"),
    path("decisions/<int:pk>/team/", views.decision_team, name="decision_team"),
    path("decisions/<int:pk>/inspect/", views.inspection_record, name="inspect"),
    path("inspections/<int:pk>/photo/", views.inspection_photo, name="inspection_photo"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
]
