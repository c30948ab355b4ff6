"""四美一好 pages: /ratings/…"""

from django.urls import path

from . import views

app_name = "ratings"
urlpatterns = [
    path("", views.round_list, name="rounds"),
    path("rankings/", views.rankings, name="rankings"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/approve/", views.round_approve, name="approve"),
    path("rounds/<int:pk>/buildings/<int:building_pk>/", views.rating_edit, name="rate"),
    path("photos/<int:pk>/", views.rating_photo, name="photo"),
]
