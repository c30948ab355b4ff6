"""Base page machinery, the home redirect, the health checks (``/healthz`` liveness, ``/readyz``
readiness) and the API docs page.

Pages that show scoped rows use :class:`ScopedQuerysetMixin`: the queryset comes from
``restrict(user, scope_action)``, so a row outside the user's scope answers 404 exactly as a
missing one does. Staff pages add :class:`StaffRequiredMixin` (function views:
:func:`staff_required`; residents get 403).
Create/update pages use :class:`ScopedFormViewMixin`: the form's choices are restricted and
the save goes through ``scoped_save``, which re-checks the row inside the transaction.
:func:`staged_upload` shows a photo kept for a form with an error (``baohe.staging``) to its owner.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.generic import ListView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from kombu import pools
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError
from rest_framework.exceptions import NotAuthenticated
from rest_framework.renderers import JSONRenderer

from .celery import app as celery_app
from .celery import heartbeat_read
from .query import parse_int
from .scoping import CHANGE, VIEW
from .services import scoped_save
from .staging import thumbnail_row
from .todo import todo_items, todo_sections


class StaffRequiredMixin(LoginRequiredMixin):
    """Pages for people who work in the portal; residents are refused (403)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_portal_staff:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def staff_required(view):
    """Function views for people who work in the portal: sign in first; residents get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_portal_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class Crumb:
    """A breadcrumb that is not a registry row (``includes/breadcrumbs.html`` needs both)."""

    def __init__(self, label, url):
        self.label, self.url = label, url

    def __str__(self):
        return str(self.label)

    def get_absolute_url(self):
        return self.url


def query_without_page(request):
    """The current query string without ``page``, as ``a=1&b=2&`` for pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return f"{encoded}&" if encoded else ""


class ScopedQuerysetMixin:
    """The page's rows are ``Model.objects.restrict(user, scope_action)``."""

    scope_action = VIEW

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, self.scope_action)


class PagedListView(ListView):
    """A ``ListView`` whose ``?page=`` never answers 404: a page that is not a number is the first
    page, one past the end the last (``Paginator.get_page``), as on every other list."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(
            queryset,
            page_size,
            orphans=self.get_paginate_orphans(),
            allow_empty_first_page=self.get_allow_empty(),
        )
        number = parse_int(self.kwargs.get(self.page_kwarg) or self.request.GET.get(self.page_kwarg, ""), min_value=1)
        page = paginator.get_page(number or 1)
        return paginator, page, page.object_list, page.has_other_pages()


class ScopedFormViewMixin(ScopedQuerysetMixin):
    """Create/update pages: scoped choices, one checked transaction, a success message."""

    scope_action = CHANGE
    success_message = ""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def save_form(self, form):
        with transaction.atomic():
            instance = scoped_save(instance=form.save(commit=False), by=self.request.user, request=self.request)
            form.save_m2m()
        return instance

    def form_valid(self, form):
        try:
            self.object = self.save_form(form)
        except ValidationError as error:
            # A rule checked only at save time: show it on the form; nothing was written.
            form.add_error(None, error.messages)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message % {"object": self.object})
        return HttpResponseRedirect(self.get_success_url())


@login_required
def home(request):
    """Staff (and officials) land on 我的待办, residents on their building."""
    if request.user.is_portal_staff:
        return redirect("todo")
    return redirect("communities:my_building")


@staff_required
def todo(request):
    """我的待办: every app's items for the user (``baohe.todo``), by section, each a count and the
    link to its filtered list; a few rows under the items that show them (the newest requests to
    accept first)."""
    items = todo_items(request.user, timezone.now())
    return render(request, "todo.html", {"sections": todo_sections(items), "items": items})


@login_required
def staged_upload(request, token):
    """GET /uploads/staged/<token>/: the thumbnail of a photo staged for a form with an error, only
    for the user who chose it (404 for anyone else, a tampered or an expired token); never sniffed
    or cached."""
    row = thumbnail_row(request.user, token)
    if row is None:
        raise Http404
    response = FileResponse(row.file.open("rb"), content_type=row.content_type, as_attachment=False)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


HEARTBEAT_STALE_SECONDS = 120  # beat sends one every 30 s: four missed in a row is "stale"


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any database failure is reported, not raised
        return f"error: {error.__class__.__name__}"
    return "ok"


def _check_broker():
    """PING the broker over a connection from kombu's pool (one per broker URL, kept between
    probes, as the producers' are), with one-second timeouts: no new connection per probe."""
    try:
        with pools.connections[celery_app.connection_for_write(connect_timeout=1)].acquire(
            block=True, timeout=1
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
            client = getattr(conn.default_channel, "client", None)  # Redis: the channel's client
            if client is not None and hasattr(client, "ping"):
                client.ping()
    except (BrokerError, RedisError, OSError) as error:
        return f"error: {error.__class__.__name__}"
    return "ok"


def _check_worker(now):
    try:
        last = heartbeat_read()
    except (RedisError, OSError, ValueError) as error:
        return {"status": f"unknown: {error.__class__.__name__}", "last_heartbeat": None, "age_seconds": None}
    if last is None:
        return {"status": "unknown", "last_heartbeat": None, "age_seconds": None}
    age = max(0, round((now - last).total_seconds()))
    return {
        "status": "ok" if age <= HEARTBEAT_STALE_SECONDS else "stale",
        "last_heartbeat": timezone.localtime(last).isoformat(),
        "age_seconds": age,
    }


@never_cache
def healthz(request):
    """Liveness, cheap enough to probe every second: the process answers and its database
    connection works (``SELECT 1``; 503 without it). No broker connection, no cache read: those
    are :func:`readyz`'s."""
    database = _check_database()
    ok = database == "ok"
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": {"database": database}}, status=200 if ok else 503
    )


@never_cache
def readyz(request):
    """The state of each part the portal needs, as JSON.

    ``database`` decides the HTTP status: without it nothing works (503, ``"error"``). The
    broker (PING through a pooled connection) and the worker's heartbeat are reported too, but
    their failure answers 200 with ``"degraded"``: residents can still file requests and staff
    handle them (rule 3: reminders and deliveries are rows the worker catches up on), so a load
    balancer must not take the web servers out of service for it; monitoring alerts on
    ``"degraded"`` instead.
    """
    checks = {"database": _check_database(), "broker": _check_broker()}
    worker = _check_worker(timezone.now())
    if checks["database"] != "ok":
        status, code = "error", 503
    elif checks["broker"] != "ok" or worker["status"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks, "worker_heartbeat": worker}, status=code)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI at ``/api/docs/`` under the Content-Security-Policy: the page loads its init
    script as a file (``?script``) and its CSS from static/, with nothing inline.

    Readers: :class:`~baohe.permissions.ApiDocsAccess` (signed-in staff). A visitor who is not
    signed in is sent to the login page and back; a signed-in resident gets 403.
    """

    template_name = "api/swagger_ui.html"

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class ApiSchemaView(SpectacularAPIView):
    """The OpenAPI schema at ``/api/schema/`` for :class:`~baohe.permissions.ApiDocsAccess`
    readers. A refusal answers JSON ``{"detail": …}`` like the rest of /api/, not a YAML
    document in the schema's own media type."""

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
