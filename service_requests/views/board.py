"""小区公示 (the compound board) and 我也遇到 (附议), phone first.

The board lists what neighbours reported in one compound and what became of it, in the public
representation only (``public.py``: anonymised text, no names, no unit or room, photos only
when staff marked them public). Its residents and the staff who serve it read it signed in;
anyone may when ``PUBLIC_COMPOUND_BOARD`` is on; everyone else gets 404 (anonymous visitors
are sent to sign in). A resident of the compound may join an open request there or from the
similar-requests box on the submit page (``workflow.SUPPORT``, ``services.request_support``).
"""

import os
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.query import read_query
from baohe.scoping import VIEW
from communities.models import Compound

from .. import forms, public, services, workflow
from ..models import Attachment, RequestSupporter, ServiceRequest

BOARD_PAGE_SIZE = 20


def _may_read(request):
    """Anonymous visitors read boards only when they are public."""
    return request.user.is_authenticated or settings.PUBLIC_COMPOUND_BOARD


def supported_ids(user, ids):
    """Which of ``ids`` the user has joined (one query)."""
    if not user.is_authenticated or not ids:
        return set()
    return set(RequestSupporter.objects.filter(user=user, request_id__in=ids).values_list("request_id", flat=True))


@dataclass(frozen=True)
class BoardItem:
    """A public row and what the reader may do with it: ``mine`` (theirs: a link to their own
    page), ``joined`` (already supported), ``can_join`` (the SUPPORT step allows them now)."""

    row: public.PublicRequest
    mine: bool = False
    joined: bool = False
    can_join: bool = False


def items_for(user, requests):
    """``requests`` (rows of ``public.public_queryset``) as :class:`BoardItem` for ``user``."""
    rows = public.public_rows(requests)
    if not user.is_authenticated:
        return [BoardItem(row) for row in rows]
    joined = supported_ids(user, [row.pk for row in rows])
    items = []
    for request, row in zip(requests, rows, strict=True):
        # Who the reader is for each row without a query per row: its submitter or a neighbour.
        actors = {
            actor
            for actor in (workflow.Actor.SUBMITTER, workflow.Actor.NEIGHBOUR)
            if services.acts_as(actor, user, request)
        }
        items.append(
            BoardItem(
                row,
                mine=workflow.Actor.SUBMITTER in actors,
                joined=row.pk in joined,
                can_join=row.pk not in joined and workflow.SUPPORT.allows(request, actors, timezone.now()),
            )
        )
    return items


@login_required
def board_home(request):
    """小区公示 from the menu: the board of the resident's (or staff member's first) compound."""
    compound = Compound.objects.restrict(request.user, VIEW).order_by("name", "pk").first()  # their own
    if compound is None:
        raise Http404
    return redirect("service_requests:board", compound=compound.pk)


def board(request, compound):
    """One compound's board: the counts, then the requests newest first (open / finished)."""
    if not _may_read(request):
        return redirect_to_login(request.get_full_path())
    place = get_object_or_404(public.board_compounds(request.user).select_related("community"), pk=compound)
    values = read_query(request, forms.BoardQuery)
    queryset = public.public_queryset().filter(compound=place)
    counts = public.shown_in_public(ServiceRequest.objects.filter(compound=place)).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=~Q(status__in=public.CLOSED_STATUSES)),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        on_time=Count("pk", filter=Q(resolved_at__isnull=False, resolved_at__lte=F("resolve_due_at"))),
    )
    if values["status"] == "open":
        queryset = queryset.exclude(status__in=public.CLOSED_STATUSES)
    elif values["status"] == "closed":
        queryset = queryset.filter(status__in=public.CLOSED_STATUSES)
    page = Paginator(queryset.order_by("-id"), BOARD_PAGE_SIZE).get_page(values["page"])
    items = items_for(request.user, list(page.object_list))
    context = {"compound": place, "items": items, "page": page, "counts": counts, "status": values["status"] or ""}
    return render(request, "service_requests/board.html", context)


@require_POST
def support(request, pk):
    """我也遇到: join an open request of one's compound (idempotent). From the board (a form) or
    the submit page's similar-requests box (htmx: the item is answered in place)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = get_object_or_404(public.board_requests(request.user), pk=pk)
    form = forms.SupportForm(request.POST)
    form.is_valid()
    error = None
    try:
        services.request_support(request=found, by=request.user)
    except Conflict as conflict:
        error = conflict.message
    except PermissionDenied as denied:
        if request.headers.get("HX-Request"):
            error = str(denied) or _("只有本小区的其他居民可以附议。")
        else:
            raise
    if request.headers.get("HX-Request"):
        item = BoardItem(public.public_row(public.public_queryset().get(pk=found.pk)), joined=error is None)
        return render(request, "service_requests/_support.html", {"item": item, "error": error})
    if error is None:
        messages.success(request, _("已附议：诉求有进展时会通知您。"))
    else:
        messages.error(request, error)
    return redirect(f"{reverse('service_requests:board', args=[found.compound_id])}#r{found.pk}")


def board_photo(request, pk):
    """A photo staff marked public, for whoever may read its compound's board (404 otherwise)."""
    if not _may_read(request):
        return redirect_to_login(request.get_full_path())
    photo = get_object_or_404(
        Attachment.objects.filter(public=True, request__in=public.board_requests(request.user).values("pk")), pk=pk
    )
    response = FileResponse(
        photo.file.open("rb"),
        content_type=photo.content_type,
        as_attachment=False,
        filename=os.path.basename(photo.file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response
