"""Every API view that serves model rows stands on a scoped base (``baohe/api.py``).

The test walks the whole URL conf: the one router (``baohe.api_router``) and every other
pattern under ``/api/``. Each view class must either

* restrict its queryset through :class:`~baohe.api.ScopedQuerysetMixin` (the scoped
  read-only and CRUD viewsets) *without* overriding ``get_queryset`` (a view shapes its rows
  in ``shape_queryset``, after ``restrict()``), or
* reach its one row through :class:`~baohe.api.ScopedObjectMixin` with an ``access`` helper or
  a ``scoped_model`` (workflow steps, reads below one row),

or be named in :data:`NOT_MODEL_ROWS` below, with the reason it serves no rows of its own.
(Open311 under ``/open311/`` is public by design: anonymised rows for any client, see
``service_requests.open311``.)
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from rest_framework import viewsets
from rest_framework.routers import DefaultRouter

from baohe.api import ScopedObjectMixin, ScopedQuerysetMixin, ScopedReadOnlyModelViewSet, ScopedStepViewSet
from communities.models import Household

# Views that serve no model rows of their own, each with why it needs no scoped base.
NOT_MODEL_ROWS = {
    # The router's index: links to the endpoints, no rows.
    "rest_framework.routers.APIRootView",
    # The OpenAPI schema and its Swagger page describe the API, no rows (staff only: ApiDocsAccess).
    "baohe.views.ApiSchemaView",
    "baohe.views.ApiDocsView",
    # Sign-in and registration: anonymous, about the caller's own credentials.
    "accounts.api.TokenApi",
    "accounts.api.RegisterCodeApi",
    "accounts.api.RegisterApi",
    # The signed-in user's own account (request.user), nobody else's: who they are, and revoking
    # the token they call with or all of their own tokens.
    "accounts.api.MeApi",
    "accounts.api.TokenLogoutApi",
    "accounts.api.TokenLogoutAllApi",
    # 我的信息: the signed-in person's own data (rows found by request.user, never by the URL).
    "communities.api.MyDataApi",
    # Counts, not rows: computed by selectors that restrict() every table they read.
    "partybuilding.api.PartyCoverageViewSet",
    "partybuilding.api.BackboneProgressViewSet",
    # 我的待办: counts (and a few rows) of the signed-in user's own work, from providers that read
    # requests_handled_by / restrict() (tests/service_requests/test_todo.py tests its scope).
    "baohe.api.TodoApi",
    # Writes whose rows come in the body, not the URL: the service reaches each one in the
    # user's scope (volunteers.services.staff_rows, visits.services.access_household_for_visit)
    # and answers 404 for any outside it.
    "volunteers.api.HoursApproveApi",
    "volunteers.api.HoursRejectApi",
    "visits.api.VisitRecordApi",
    # The audit trail: its lines are not registry rows (no restrict()); who reads which lines is
    # accounts.selectors.audit_entries_for (tests/accounts/test_audit_page.py tests its scope).
    "accounts.api.AuditEntryListApi",
}


def api_views(patterns, prefix=""):
    """``{view class: first route}`` of every DRF view under ``api/`` in ``patterns``."""
    found = {}
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            for cls, where in api_views(entry.url_patterns, route).items():
                found.setdefault(cls, where)
        elif isinstance(entry, URLPattern) and route.lstrip("^").startswith("api/"):
            cls = getattr(entry.callback, "cls", None)
            if cls is not None:
                found.setdefault(cls, route)
    return found


def name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def unscoped(cls):
    """Why ``cls`` is not scoped, or ``None`` when it is."""
    if name(cls) in NOT_MODEL_ROWS:
        return None
    if issubclass(cls, ScopedQuerysetMixin):
        if cls.get_queryset is not ScopedQuerysetMixin.get_queryset:
            return "overrides get_queryset (shape the rows in shape_queryset, after restrict())"
        return None
    if issubclass(cls, ScopedObjectMixin):
        if cls.access is None and cls.scoped_model is None:
            return "a ScopedObjectMixin without access or scoped_model"
        return None
    return "stands on no scoped base (baohe.api) and is not in NOT_MODEL_ROWS"


def problems(patterns):
    return {f"{name(cls)} ({route})": why for cls, route in api_views(patterns).items() if (why := unscoped(cls))}


def test_every_api_view_in_the_url_conf_is_scoped():
    views = api_views(get_resolver().url_patterns)
    assert len(views) > 50  # the walk reaches the router and the other API patterns
    assert problems(get_resolver().url_patterns) == {}


def test_every_allowed_view_is_still_in_the_url_conf():
    reachable = {name(cls) for cls in api_views(get_resolver().url_patterns)}
    assert NOT_MODEL_ROWS - reachable == set()


# --- the test fails when a view is made unscoped on purpose ---------------------------------------
class PlainHouseholdViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Household.objects.all()


class HouseholdViewSetThatForgets(ScopedReadOnlyModelViewSet):
    queryset = Household.objects.all()

    def get_queryset(self):
        return Household.objects.all()


class StepWithoutAccess(ScopedStepViewSet):
    queryset = Household.objects.none()

    def create(self, request, pk=None):
        raise NotImplementedError


class ScopedHouseholdViewSet(ScopedReadOnlyModelViewSet):
    queryset = Household.objects.all()


@pytest.mark.parametrize(
    ("view", "why"),
    [
        (PlainHouseholdViewSet, "stands on no scoped base"),
        (HouseholdViewSetThatForgets, "overrides get_queryset"),
        (StepWithoutAccess, "without access or scoped_model"),
    ],
)
def test_an_unscoped_view_on_the_router_is_caught(view, why):
    router = DefaultRouter()
    router.register("households", ScopedHouseholdViewSet, basename="fine")
    router.register("more-households", view, basename="broken")
    patterns = [path("api/v1/", include(router.urls))]
    found = problems(patterns)
    assert list(found) == [f"{name(view)} (api/v1/^more-households/$)"]
    assert why in found[f"{name(view)} (api/v1/^more-households/$)"]
