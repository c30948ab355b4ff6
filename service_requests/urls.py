"""Request pages: /requests/… (the staff queue and handling steps, the resident's pages, the
compound board)."""

from django.urls import path

from . import views

app_name = "service_requests"
urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/extension/", views.approval_decide, name="approval_decide"),
    path("new/", views.new, name="new"),
    path("submit/", views.submit, name="submit"),
    path("mine/", views.mine, name="mine"),
    path("similar/", views.similar, name="similar"),
    path("my-data/<slug:kind>/", views.personal_data_request, name="personal_data_request"),
    path("attachment/<int:pk>/", views.attachment, name="attachment"),
    path("attachment/<int:pk>/public/", views.photo_public, name="photo_public"),
    path("board/", views.board_home, name="board_home"),
    path("board/<int:compound>/", views.board, name="board"),
    path("board/photo/<int:pk>/", views.board_photo, name="board_photo"),
    path("<int:pk>/support/", views.support, name="support"),
    path("<int:pk>/my/<slug:name>/", views.follow_up, name="follow_up"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/<slug:name>/", views.action, name="action"),
]
