"""迁入 (move-in) request pages, in the registry section: the list (tabs: addressed to my
community / sent by it), the request form, and the detail page where the source community
approves or rejects and the requesting side may withdraw. Every write is a service in
``communities.services``; a request outside both sides' scope answers 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict, RateLimited
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW, restricted
from baohe.views import Crumb, staff_required

from . import selectors, services
from .forms import TransferAddQuery, TransferDecisionForm, TransferForm, TransferListQuery
from .models import Community, Household, Resident, ResidentTransfer

PAGE_SIZE = 30


def _crumbs():
    return [Crumb(_("迁入申请"), reverse("communities:transfers"))]


@staff_required
def transfer_list(request):
    values = read_query(request, TransferListQuery)
    user = request.user
    rows = selectors.transfers_for(user=user, direction=values["tab"], status=values["status"] or None)
    page = Paginator(rows, PAGE_SIZE).get_page(values["page"] or 1)
    visible = set(restricted(Community, user, VIEW).values_list("pk", flat=True))
    pending = ResidentTransfer.Status.PENDING
    return render(
        request,
        "communities/transfer_list.html",
        {
            "tab": values["tab"],
            "status": values["status"],
            "statuses": ResidentTransfer.Status.choices,
            "page": page,
            "rows": [(transfer, services.shown_name(user, transfer, visible)) for transfer in page.object_list],
            "incoming_pending": selectors.transfers_for(user=user, direction="incoming", status=pending).count(),
            "outgoing_pending": selectors.transfers_for(user=user, direction="outgoing", status=pending).count(),
            "can_request": restricted(Household, user, CHANGE).exists(),
        },
    )


@staff_required
def transfer_add(request):
    user = request.user
    if request.method == "POST":
        form = TransferForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                transfer = services.transfer_request(
                    by=user,
                    id_number=data["id_number"],
                    to_household=data["to_household"],
                    reason=data["reason"],
                    request=request,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except RateLimited as limited:
                form.add_error("id_number", limited.message)
                response = _form_page(request, form, status=429)
                response["Retry-After"] = str(limited.wait)
                return response
            else:
                messages.success(
                    request, _("已向 %(community)s 发出迁入申请。") % {"community": transfer.source_community}
                )
                return redirect(transfer)
    else:
        household = read_query(request, TransferAddQuery)["household"]
        initial = {}
        if household and restricted(Household, user, CHANGE).filter(pk=household).exists():
            initial["to_household"] = household
        form = TransferForm(user=user, initial=initial)
    return _form_page(request, form)


def _form_page(request, form, status=200):
    return render(
        request,
        "communities/form.html",
        {
            "form": form,
            "title": _("发起迁入申请"),
            "breadcrumbs": _crumbs(),
            "cancel_url": reverse("communities:transfers"),
            "intro": _(
                "按身份证号向其登记社区申请迁入。对方同意后，该居民连同其记录迁入所选住户；"
                "对方处理前您只能看到其脱敏姓名。每次查询都记入审计日志，并计入每日跨社区查询次数。"
            ),
        },
        status=status,
    )


@staff_required
def transfer_detail(request, pk):
    user = request.user
    transfer = services.access_transfer_by_id(user, pk)
    pending = transfer.status == ResidentTransfer.Status.PENDING
    return render(
        request,
        "communities/transfer_detail.html",
        {
            "transfer": transfer,
            "name": services.shown_name(user, transfer),
            "opens_record": restricted(Resident, user, VIEW).filter(pk=transfer.resident_id).exists(),
            "can_decide": pending and services.may_decide(user, transfer),
            "can_cancel": pending and services.may_cancel(user, transfer),
            "decision_form": TransferDecisionForm(),
            "breadcrumbs": _crumbs(),
        },
    )


def _step(request, pk, act):
    transfer = services.access_transfer_by_id(request.user, pk)
    form = TransferDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else None
    if note is None:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(transfer)
    try:
        message = act(transfer, note)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except Conflict as conflict:
        messages.error(request, str(conflict.message))
    else:
        messages.success(request, message)
    return redirect(transfer)


@staff_required
@require_POST
def transfer_approve(request, pk):
    def act(transfer, note):
        services.transfer_approve(by=request.user, transfer=transfer, note=note, request=request)
        return _("已同意迁入，居民已迁入 %(community)s。") % {"community": transfer.community}

    return _step(request, pk, act)


@staff_required
@require_POST
def transfer_reject(request, pk):
    def act(transfer, note):
        services.transfer_reject(by=request.user, transfer=transfer, note=note, request=request)
        return _("已拒绝该迁入申请。")

    return _step(request, pk, act)


@staff_required
@require_POST
def transfer_cancel(request, pk):
    def act(transfer, note):
        services.transfer_cancel(by=request.user, transfer=transfer)
        return _("已撤回该迁入申请。")

    return _step(request, pk, act)
