from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenApi.as_view(), name="api-token"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("register/code/", api.RegisterCodeApi.as_view(), name="api-register-code"),
    path("register/", api.RegisterApi.as_view(), name="api-register"),
]
