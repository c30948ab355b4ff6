"""Registry endpoints that are not a router's viewset: ``GET /api/v1/me/data/`` (我的信息)."""

from django.urls import path

from .api import MyDataApi

urlpatterns = [path("me/data/", MyDataApi.as_view(), name="me-data")]
