"""通知公告 pages: /notices/…"""

from django.urls import path

from . import views

app_name = "notices"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("new/", views.notice_new, name="new"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("<int:pk>/confirm/", views.notice_confirm, name="confirm"),
    path("<int:pk>/relay/", views.notice_relay_list, name="relay_list"),
    path("<int:pk>/relay/<int:household_id>/", views.notice_relay, name="relay"),
    path("<int:pk>/coverage/", views.notice_coverage, name="coverage"),
    path("images/<int:pk>/", views.notice_image, name="image"),
]
