"""Notice pages: /notices/ (residents: their notices; staff: the notices in scope with coverage),
a notice (residents: read on opening, 我已知晓, and 已传达到户 for the households they serve),
发布通知, coverage per building, and a notice's images (only for those who may see it).

Every row comes through ``restrict()`` or ``services.access_notice_by_id``: another community's
notice answers 404 exactly like a missing one.
"""

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import may_change_anything
from baohe.views import query_without_page, staff_required

from . import selectors, services
from .forms import NoticeForm, StaffListQuery
from .models import Notice, NoticeImage, Receipt

PAGE_SIZE = 20


@login_required
def notice_list(request):
    """Residents: their active notices, pinned first. Staff: the notices in scope with coverage."""
    if not request.user.is_portal_staff:
        notices = list(selectors.notices_for_resident(request.user)[:50])
        to_relay = list(selectors.notices_to_relay(request.user)[:20])
        return render(request, "notices/list.html", {"notices": notices, "to_relay": to_relay})
    query = read_query(request, StaffListQuery)
    page = Paginator(selectors.notices_for_staff(request.user), PAGE_SIZE).get_page(query["page"])
    context = {"page": page, "query": query_without_page(request), "can_publish": may_change_anything(request.user)}
    return render(request, "notices/staff_list.html", context)


def _with_images(notice: Notice) -> Notice:
    return (
        Notice.objects.filter(pk=notice.pk)
        .select_related("community", "compound", "building__compound", "published_by")
        .prefetch_related(Prefetch("images", queryset=NoticeImage.objects.order_by("pk")))
        .get()
    )


@login_required
def notice_detail(request, pk):
    """Opening a notice marks it read for the resident's household."""
    notice = _with_images(services.access_notice_by_id(request.user, pk))
    if request.user.is_portal_staff:
        return render(request, "notices/detail.html", {"notice": notice, "staff": True})
    services.notice_read(notice=notice, user=request.user)
    mine = list(Receipt.objects.filter(notice=notice, household__residents__user=request.user).distinct())
    context = {
        "notice": notice,
        "mine": mine,
        "confirmed": bool(mine) and all(r.confirmed_at for r in mine),
        "serves": selectors.served_households(request.user).filter(notice_receipts__notice=notice).exists(),
    }
    return render(request, "notices/detail.html", context)


@login_required
def notice_relay_list(request, pk):
    """传达到户: the households of this notice that the user serves (central household, party
    group leader), with 已传达到户 for those not reached. Looking here reads nothing for the
    user's own household: they act for the households they serve."""
    notice = services.access_notice_by_id(request.user, pk)
    rows = selectors.relay_rows(notice, request.user)
    if not rows:
        raise Http404
    return render(request, "notices/relay.html", {"notice": notice, "relay_rows": rows})


@login_required
@require_POST
def notice_confirm(request, pk):
    notice = services.access_notice_by_id(request.user, pk)
    try:
        services.notice_confirm(notice=notice, user=request.user)
    except Conflict as error:
        messages.warning(request, error.message)
    else:
        messages.success(request, _("已确认：您已知晓这条通知。"))
    return redirect(notice)


@login_required
@require_POST
def notice_relay(request, pk, household_id):
    """已传达到户 for one household the user serves (404 for any other)."""
    notice = services.access_notice_by_id(request.user, pk)
    try:
        receipt = services.notice_relay(notice=notice, household_id=household_id, by=request.user)
    except Conflict as error:
        messages.warning(request, error.message)
    else:
        messages.success(request, _("已标记 %(household)s 已传达到户。") % {"household": receipt.household.address})
    return redirect("notices:relay_list", pk=notice.pk)


@staff_required
def notice_new(request):
    if not may_change_anything(request.user):
        raise PermissionDenied
    form = NoticeForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = services.notice_publish(
                by=request.user,
                community=data["community"],
                audience=data["audience"],
                compound=data["compound"],
                building=data["building"],
                title=data["title"],
                body=data["body"],
                pinned=data["pinned"],
                expires_at=data["expires_at"],
                requires_confirmation=data["requires_confirmation"],
                images=data["images"],
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("通知已发布，送达 %(count)s 户。") % {"count": notice.households_total})
            return redirect("notices:coverage", pk=notice.pk)
    return render(request, "notices/form.html", {"form": form})


@staff_required
def notice_coverage(request, pk):
    """Per building: read or relayed / all households, and who was not reached."""
    notice = services.access_notice_by_id(request.user, pk)
    notice = _with_images(notice)
    return render(request, "notices/coverage.html", {"notice": notice, **selectors.coverage(notice)})


@login_required
def notice_image(request, pk):
    """A notice's image, only for those who may see the notice (404 otherwise), never cached."""
    image = get_object_or_404(NoticeImage.objects.restrict(request.user), pk=pk)
    response = FileResponse(
        image.file.open("rb"),
        content_type=image.content_type,
        as_attachment=False,
        filename=os.path.basename(image.file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response
