"""Resident pages, phone first: submit a request (我要反映), my requests (我的诉求), one request
with its public progress, and the rating when it is resolved.

A resident reaches only their own requests (``restrict()`` lets a row's submitter see it) and
only the public steps of them: internal notes never reach these pages.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.staging import keep_photos
from communities.models import Building, Resident

from .. import forms, personal_data, public, selectors, services, workflow
from ..models import ServiceRequest
from .board import items_for

Status = ServiceRequest.Status
MINE_PAGE_SIZE = 20


def resident_records(user):
    """The user's registered residences (household → building → compound)."""
    return list(Resident.objects.filter(user=user).select_related("household__building__compound").order_by("id"))


@login_required
def submit(request):
    """我要反映: category, place (prefilled with the resident's building), description, photos."""
    if request.user.is_portal_staff:
        return redirect("service_requests:new")
    records = resident_records(request.user)
    if not records:
        return render(request, "service_requests/submit.html", {"records": records})
    home = records[0].household
    form = forms.ResidentSubmitForm(
        request.POST or None, request.FILES or None, user=request.user, initial={"building": home.building_id}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        building = data["building"]
        household = next((r.household for r in records if r.household.building_id == building.pk), None)
        record = next((r for r in records if r.household_id == getattr(household, "pk", None)), records[0])
        try:
            service_request = services.request_submit(
                by=request.user,
                category=data["category"],
                description=data["description"],
                compound=building.compound,
                building=building,
                household=household,
                address=data["address"],
                contact_name=record.name,
                contact_mobile=request.user.mobile or record.mobile,
                contact_time=data["contact_time"],
                photos=data["photos"],
            )
        except ValidationError as error:
            add_service_errors(form, error, "photos")
        else:
            messages.success(
                request,
                _("您的诉求已提交，编号 %(number)s。社区会在时限内签收办理，进展会通知您。")
                % {"number": service_request.number},
            )
            return redirect(service_request)
    if request.method == "POST":
        keep_photos(form, request.user)  # the chosen photos come back as thumbnails
    return render(request, "service_requests/submit.html", {"records": records, "form": form})


@login_required
def similar(request):
    """htmx partial: open requests in the chosen building and category, before submitting.

    Both come from the page's own selects; a value that does not parse shows no box (a notice
    would have nowhere to appear in this fragment and would surface on a later page)."""
    rows = []
    values = read_query(request, forms.SimilarQuery, notify=False)
    if values["building"] is not None and values["category"] is not None:
        building = Building.objects.restrict(request.user).filter(pk=values["building"]).first()
        category = selectors.leaf_categories().filter(pk=values["category"]).first()
        if building is not None and category is not None:
            similar = services.similar_open_requests(building=building, category=category)
            ids = list(similar.values_list("pk", flat=True))
            rows = items_for(request.user, list(public.public_queryset().filter(pk__in=ids).order_by("-id")))
    return render(request, "service_requests/_similar.html", {"items": rows})


@login_required
def mine(request):
    """我的诉求: the resident's requests, newest first, with status and deadline."""
    now = timezone.now()
    page_number = read_query(request, forms.PageQuery)["page"]
    page = Paginator(selectors.my_requests(request.user).order_by("-id"), MINE_PAGE_SIZE).get_page(page_number)
    for row in page.object_list:
        row.due = selectors.time_left(row.current_due, now)
    return render(request, "service_requests/mine.html", {"page": page, "rows": page.object_list})


def can_rate(service_request, user):
    """The rating step (``workflow.RATE``) applies: resolved, theirs, within the rating window."""
    submitter = service_request.submitted_by_id == user.pk
    actors = {workflow.Actor.SUBMITTER} if submitter else set()
    return service_request.resolved_at is not None and workflow.RATE.allows(service_request, actors, timezone.now())


@dataclass(frozen=True)
class FollowUp:
    """A step the resident takes on their own request (``workflow.STEPS``): its form and what
    they are told when it is done. Posted to ``/requests/<pk>/my/<name>/``."""

    step: workflow.Step
    form_class: type[forms.BaseForm]
    icon: str
    button: str
    done: Callable[[ServiceRequest], str]
    arguments: Callable[[dict[str, Any]], dict[str, Any]] = dict

    @property
    def name(self):
        return self.step.name


FOLLOW_UPS = {
    item.name: item
    for item in (
        FollowUp(
            workflow.URGE,
            forms.UrgeForm,
            "bell",
            "btn-warning",
            done=lambda result: _("已催办，社区会尽快办理。"),
        ),
        FollowUp(
            workflow.SUPPLEMENT,
            forms.SupplementForm,
            "plus-square",
            "btn-outline-primary",
            done=lambda result: _("补充说明已提交。"),
        ),
        FollowUp(
            workflow.WITHDRAW,
            forms.WithdrawForm,
            "arrow-counterclockwise",
            "btn-outline-danger",
            done=lambda result: _("诉求已撤回。"),
        ),
    )
}


def follow_up_actions(service_request, user, bound=None, now=None):
    """The follow-up steps the submitter may take now, each with its form (``bound``: one that failed)."""
    if service_request.submitted_by_id != user.pk:
        return []
    now = now or timezone.now()
    actions = []
    for item in FOLLOW_UPS.values():
        if service_request.status not in item.step.statuses:
            continue
        conflict = item.step.conflict(service_request, now)  # why not now (催办: too early, or urged today)
        if bound is not None and bound.prefix == item.name:
            form = bound
        else:
            form = item.form_class(prefix=item.name)
        actions.append(
            {
                "item": item,
                "form": form,
                "allowed": conflict is None,
                "reason": conflict[0] if conflict else "",
                "open": form is bound,
            }
        )
    return actions


def render_resident_detail(request, service_request, rating_form=None, status=200, bound=None):
    now = timezone.now()
    events, photos = selectors.timeline(request=service_request, staff=False)
    current_due = selectors.current_due_of(service_request)
    if rating_form is None and can_rate(service_request, request.user):
        rating_form = forms.RatingForm(prefix="rate")
    context = {
        "sr": service_request,
        "events": events,
        "photos": photos,
        "is_submitter": service_request.submitted_by_id == request.user.pk,
        "current_due": current_due,
        "due": selectors.time_left(current_due, now),
        "rating_form": rating_form if can_rate(service_request, request.user) else None,
        "rate_step": workflow.RATE,
        "follow_ups": follow_up_actions(service_request, request.user, bound, now),
    }
    return render(request, "service_requests/resident_detail.html", context, status=status)


@require_POST
@login_required
def rate(request, pk):
    """The submitter rates a resolved request; 不满意 or 未解决 sends it back (已重新办理)."""
    service_request = services.access_request_by_id(request.user, pk)
    form = forms.RatingForm(request.POST, prefix="rate")
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = services.request_rate(
                request=service_request,
                by=request.user,
                solved=data["solved"],
                satisfaction=data["satisfaction"],
                comment=data["comment"],
            )
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect(service_request)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if result.status == Status.IN_PROGRESS:
                messages.warning(request, _("很抱歉没能让您满意，您的诉求已重新办理，社区会尽快联系您。"))
            else:
                messages.success(request, _("感谢您的评价！"))
            return redirect(service_request)
    page_request = selectors.request_for_page(ServiceRequest.objects).get(pk=service_request.pk)
    return render_resident_detail(request, page_request, rating_form=form)


@require_POST
@login_required
def follow_up(request, pk, name):
    """POST /requests/<pk>/my/<name>/: the submitter urges, adds to or withdraws their request
    (404 outside scope; 403 for who may see it but did not file it; 409 when the step does not
    apply now, shown as a message)."""
    item = FOLLOW_UPS.get(name)
    if item is None:
        raise Http404
    service_request = services.access_request_by_id(request.user, pk)
    form = item.form_class(request.POST, request.FILES, prefix=item.name, user=request.user)
    if form.is_valid():
        try:
            result = item.step.run(request=service_request, by=request.user, **item.arguments(form.cleaned_data))
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect(service_request)
        except ValidationError as error:
            add_service_errors(form, error, item.step.errors_to)
        else:
            messages.success(request, item.done(result))
            return redirect(service_request)
    keep_photos(form, request.user)  # 补充照片 stay chosen across the error
    page_request = selectors.request_for_page(ServiceRequest.objects).get(pk=service_request.pk)
    return render_resident_detail(request, page_request, bound=form)


@login_required
def personal_data_request(request, kind):
    """申请更正 / 申请删除 from 我的信息: the form, then an ordinary request in its own category
    (``personal_data.personal_data_request_submit``), answered by the community in its queue."""
    if kind not in personal_data.CATEGORIES:
        raise Http404
    form = forms.PersonalDataRequestForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            service_request = personal_data.personal_data_request_submit(
                user=request.user, kind=kind, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("您的申请已提交，编号 %(number)s。社区会在时限内办理，进展会通知您。")
                % {"number": service_request.number},
            )
            return redirect(service_request)
    title = _("申请更正个人信息") if kind == personal_data.CORRECTION else _("申请删除个人信息")
    return render(request, "service_requests/personal_data_request.html", {"form": form, "title": title, "kind": kind})
