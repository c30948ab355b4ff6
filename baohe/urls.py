"""URL map: pages per app, the REST API under /api/v1/, OpenAPI, admin, health and metrics."""

from django.contrib import admin
from django.urls import include, path

from . import api, metrics, views
from .api_router import router

urlpatterns = [
    path("", views.home, name="home"),
    path("todo/", views.todo, name="todo"),
    path("healthz", views.healthz, name="healthz"),  # liveness: the process and its database
    path("readyz", views.readyz, name="readyz"),  # readiness: database, broker, worker heartbeat
    path("metrics", metrics.metrics, name="metrics"),  # METRICS_ALLOWED_IPS only
    path("i18n/", include("django.conf.urls.i18n")),
    path("uploads/staged/<str:token>/", views.staged_upload, name="staged_upload"),  # baohe.staging
    path("accounts/", include("accounts.urls")),
    path("registry/", include("communities.urls")),
    path("party/", include("partybuilding.urls")),
    path("contact/", include("reach.urls")),
    path("requests/", include("service_requests.urls")),
    path("visits/", include("visits.urls")),
    path("volunteers/", include("volunteers.urls")),
    path("meetings/", include("meetings.urls")),
    path("funds/", include("funds.urls")),
    path("open311/v2/", include("service_requests.open311_urls")),
    path("notifications/", include("notifications.urls")),
    path("notices/", include("notices.urls")),
    path("ratings/", include("ratings.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/v1/todo/", api.TodoApi.as_view(), name="api-todo"),
    path("api/v1/", include(router.urls)),
    path("api/v1/", include("service_requests.api")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("communities.api_urls")),
    # Schema and docs: signed-in staff only (baohe.permissions.ApiDocsAccess, API_DOCS_PUBLIC).
    path("api/schema/", views.ApiSchemaView.as_view(), name="schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]
