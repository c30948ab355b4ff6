from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("", views.home, name="home"),
    path("mine/", views.mine, name="mine"),
    path("record/<int:household_id>/", views.record, name="record"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/photo/", views.photo, name="photo"),
    path("list/", views.visit_list, name="list"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/overdue/", views.overdue, name="overdue"),
    path("coverage/generate/", views.generate, name="generate"),
    path("rounds/<int:community_id>/", views.round_edit, name="round"),
]
