"""What the meeting pages share: the staff check, form errors from services, scoped lookups."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from baohe.scoping import CHANGE, VIEW, user_scope

from ..models import Meeting, SupervisionTeam

PAGE_SIZE = 25


def staff_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_portal_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def may_change_anything(user):
    """Whether the user changes anything at all (no query: roles are cached on the user)."""
    scope = user_scope(user, CHANGE)
    return scope is None or scope.everything or bool(scope.street_ids or scope.community_ids)


def add_service_errors(form, error):
    """Show a service's ValidationError on the form: on its field where the form has one."""
    detail = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for field, errors in detail.items():
        target = field if field in form.fields else None
        for message in errors:
            form.add_error(target, message)


def _query_without_page(request):
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return f"{encoded}&" if encoded else ""


def _back(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _meeting(request, pk, action=VIEW):
    meetings = Meeting.objects.restrict(request.user, action).select_related(
        "community__street", "compound", "organiser"
    )
    return get_object_or_404(meetings, pk=pk)


def _teams(meeting):
    teams = SupervisionTeam.objects.filter(community_id=meeting.community_id)
    if meeting.compound_id:
        teams = teams.filter(Q(compound_id=meeting.compound_id) | Q(compound__isnull=True))
    return teams.order_by("name", "pk")
