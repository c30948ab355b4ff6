"""Request pages: staff (``staff.py``), residents (``resident.py``) and the compound board with
我也遇到 (``board.py``), plus what staff and residents share:
the request page itself (the ``detail`` URL that notifications link to, shown to staff with
its handling steps and to the submitting resident with its public progress) and the photos.
"""

import os

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers

from .. import selectors, services
from ..models import Attachment, ServiceRequest
from .board import board, board_home, board_photo, support
from .resident import follow_up, mine, personal_data_request, rate, render_resident_detail, similar, submit
from .staff import (
    OnBehalfView,
    QueueView,
    action,
    approval_decide,
    approvals,
    photo_public,
    render_staff_detail,
    reveal,
)

__all__ = [
    "OnBehalfView",
    "QueueView",
    "action",
    "approval_decide",
    "approvals",
    "reveal",
    "attachment",
    "board",
    "board_home",
    "board_photo",
    "follow_up",
    "photo_public",
    "support",
    "detail",
    "home",
    "mine",
    "new",
    "personal_data_request",
    "rate",
    "similar",
    "submit",
]


@login_required
def home(request):
    """Staff start at the work queue, residents at their own requests."""
    if request.user.is_portal_staff:
        return redirect("service_requests:queue")
    return redirect("service_requests:mine")


on_behalf = OnBehalfView.as_view()


def new(request):
    """Staff enter a request on a resident's behalf; residents submit their own."""
    if request.user.is_authenticated and not request.user.is_portal_staff:
        return redirect("service_requests:submit")
    return on_behalf(request)


@login_required
def detail(request, pk):
    """One request: 404 outside the user's scope; staff get the handling page, the submitting
    resident (or a volunteer it is assigned to) the public progress page."""
    found = services.access_request_by_id(request.user, pk)
    service_request = selectors.request_for_page(ServiceRequest.objects).get(pk=found.pk)
    if request.user.is_portal_staff:
        return render_staff_detail(request, service_request)
    return render_resident_detail(request, service_request)


@login_required
def attachment(request, pk):
    """A request's photo, only for those who may see it (404 otherwise), never sniffed or cached."""
    photo = get_object_or_404(Attachment.objects.restrict(request.user), pk=pk)
    response = FileResponse(
        photo.file.open("rb"),
        content_type=photo.content_type,
        as_attachment=False,
        filename=os.path.basename(photo.file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)  # personal photos: never kept by a browser or proxy
    return response
