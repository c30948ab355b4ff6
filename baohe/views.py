"""Base page machinery, the home redirect and the health check.

Pages that show scoped rows use :class:`ScopedQuerysetMixin`: the queryset comes from
``restrict(user, scope_action)``, so a row outside the user's scope answers 404 exactly as a
missing one does. Staff pages add :class:`StaffRequiredMixin` (residents get 403).
Create/update pages use :class:`ScopedFormViewMixin`: the form's choices are restricted and
the save goes through ``scoped_save``, which re-checks the row inside the transaction.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from .scoping import CHANGE, VIEW
from .services import scoped_save


class StaffRequiredMixin(LoginRequiredMixin):
    """Pages for people who work in the portal; residents are refused (403)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_portal_staff:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ScopedQuerysetMixin:
    """The page's rows are ``Model.objects.restrict(user, scope_action)``."""

    scope_action = VIEW

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, self.scope_action)


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
            instance = scoped_save(instance=form.save(commit=False), by=self.request.user)
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
    """Staff land on the registry, residents on their building."""
    if request.user.is_portal_staff:
        return redirect("communities:home")
    return redirect("communities:my_building")


@never_cache
def healthz(request):
    """200 with the status of each part the portal needs; 503 when one is down."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any database failure is reported, not raised
        checks["database"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
