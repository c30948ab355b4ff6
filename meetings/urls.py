"""Meeting pages: /meetings/… (staff)."""

from django.urls import path

from .views.staff import meetings, work

app_name = "meetings"
urlpatterns = [
    path("", meetings.meeting_list, name="list"),
    path("new/", meetings.meeting_create, name="create"),
    path("<int:pk>/", meetings.meeting_detail, name="detail"),
    path("<int:pk>/edit/", meetings.meeting_edit, name="edit"),
    path("<int:pk>/attendance/", meetings.meeting_attendance, name="attendance"),
    path("<int:pk>/minutes/", meetings.meeting_minutes, name="minutes"),
    path("<int:pk>/cancel/", meetings.meeting_cancel, name="cancel"),
    path("actions/", work.action_list, name="actions"),
    path("actions/<int:pk>/complete/", work.action_complete, name="action_complete"),
    path("decisions/<int:pk>/team/", work.decision_team, name="decision_team"),
    path("decisions/<int:pk>/inspect/", work.inspection_record, name="inspect"),
    path("inspections/<int:pk>/photo/", work.inspection_photo, name="inspection_photo"),
    path("teams/", work.team_list, name="teams"),
    path("teams/new/", work.team_create, name="team_create"),
    path("teams/<int:pk>/edit/", work.team_edit, name="team_edit"),
]
