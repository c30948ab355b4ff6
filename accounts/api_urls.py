from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenApi.as_view(), name="api-token"),
    path("auth/logout/", api.TokenLogoutApi.as_view(), name="api-logout"),
    path("auth/logout-all/", api.TokenLogoutAllApi.as_view(), name="api-logout-all"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("audit/", api.AuditEntryListApi.as_view(), name="api-audit"),
    path("register/code/", api.RegisterCodeApi.as_view(), name="api-register-code"),
    path("register/", api.RegisterApi.as_view(), name="api-register"),
]
