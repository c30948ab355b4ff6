from django.urls import path

from . import views

app_name = "reach"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("consent/", views.consent, name="consent"),
    path("write/<slug:role>/<int:resident_pk>/", views.write, name="write"),
    path("thread/<int:pk>/", views.thread, name="thread"),
]
