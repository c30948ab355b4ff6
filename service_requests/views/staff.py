"""Staff pages: the work queue, a request with its handling steps, and entry on a resident's behalf.

Each handling step is a POST to ``/requests/<pk>/<action>/``, one :class:`Button` per step of
the workflow table (``workflow.STEPS``: the page shows a button when the step applies to the
request and the user, and a POST calls the step's service): the request is looked up in the
user's scope (404 outside it, exactly like a missing one), the button's form validates the
input, and the view calls the step's service. A :class:`~baohe.exceptions.Conflict` (someone acted
first, or the step no longer applies) becomes an error message and a redirect back to the
request; a ``ValidationError`` re-renders the page with the errors on the form; a
``PermissionDenied`` is a 403.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.masking import mask_mobile
from baohe.personal import RevealForm, RevealReason
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW, may_change_anything
from baohe.services import personal_reveal
from baohe.staging import keep_photos
from baohe.throttling import throttle_wait, throttled_message
from baohe.views import StaffRequiredMixin, staff_required
from communities.models import Compound

from .. import forms, reference, selectors, services, todo, workflow
from ..models import Attachment, ServiceRequest

Status = ServiceRequest.Status


# --- the work queue -----------------------------------------------------------------------------
class QueueView(StaffRequiredMixin, TemplateView):
    """诉求工作台: requests in scope, most urgent deadline first, with counted filter pills."""

    template_name = "service_requests/queue.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        now = timezone.now()
        values = read_query(self.request, forms.QueueQuery)
        filters = selectors.QueueFilter.from_query(values)
        counts = selectors.queue_counts(user, filters, now)
        rows, next_cursor = selectors.cursor_page(
            selectors.queue_queryset(user, filters, now), filters.sort, values["after"]
        )
        rows = selectors.queue_page_rows(rows, now)

        def url(**changes):
            params = filters.params(**changes)
            return f"?{urlencode(params)}" if params else "?"

        status_pills = [
            {"key": "all", "label": _("全部"), "count": counts["all"]},
            {"key": "open", "label": _("待办"), "count": counts["open"]},
            *({"key": value, "label": label, "count": counts[value]} for value, label in Status.choices),
        ]
        for pill in status_pills:
            pill.update(url=url(status=pill["key"]), active=filters.status == pill["key"])
        flag_pills = [
            {
                "key": "mine",
                "label": _("分派给我"),
                "count": counts["mine"],
                "active": filters.mine,
                "url": url(mine="" if filters.mine else "1"),
            },
            {
                "key": "due_today",
                "label": _("今日到期"),
                "count": counts["due_today"],
                "active": filters.due_today,
                "url": url(due="" if filters.due_today else "today"),
            },
            {
                "key": "overdue",
                "label": _("已超时"),
                "count": counts["overdue"],
                "active": filters.overdue,
                "url": url(due="" if filters.overdue else "overdue"),
            },
            {
                "key": "supervised",
                "label": _("督办中"),
                "count": counts["supervised"],
                "active": bool(filters.supervised),
                "url": url(supervised="" if filters.supervised else "1"),
            },
        ]
        context.update(
            rows=rows,
            unassigned=_("未分派"),
            filters=filters,
            status_pills=status_pills,
            flag_pills=flag_pills,
            categories=self.category_options(),
            compounds=reference.compound_options(user),  # (pk, name), kept per scope: no query
            hidden_params={k: v for k, v in filters.params().items() if k not in ("category", "compound", "q", "sort")},
            sorts=selectors.SORTS,
            next_url=f"?{urlencode({**filters.params(), 'after': next_cursor})}" if next_cursor else None,
            first_url=url() if values["after"] is not None else None,
            may_enter=may_change_anything(user),  # 代录诉求: only who may file in some compound
        )
        return context

    def category_options(self):
        """Every category, children under their parent, from this process's copy (no query)."""
        categories = sorted(reference.categories().values(), key=lambda c: (c.order, c.pk))
        top = [c for c in categories if c.parent_id is None]
        options = []
        for parent in top:
            options.append((parent.pk, parent.shown_name, False))
            options.extend((c.pk, c.shown_name, True) for c in categories if c.parent_id == parent.pk)
        return options


# --- one request: page and handling steps -------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Button:
    """A handling step on the staff request page: the workflow step it takes (``workflow.STEPS``:
    when it applies, who may take it, its service), the form that collects its input, and how
    it looks. ``name`` is its URL (``/requests/<pk>/<name>/``) and its form prefix."""

    name: str
    step: workflow.Step
    icon: str
    form_class: type[forms.BaseForm]
    button: str = "btn-outline-secondary"  # the Bootstrap style
    direct: bool = False  # a single button, no fields
    label: Any = None  # the step's label unless the page calls it otherwise
    confirm: Any = None  # the step's confirmation unless the page calls it otherwise
    # The service's keyword arguments from the form's cleaned_data (by default, as they are).
    arguments: Callable[[dict[str, Any]], dict[str, Any]] = dict
    # The success message, from the request as the step left it and the form's cleaned_data.
    done: Callable[[ServiceRequest, dict[str, Any]], str] = field(kw_only=True)

    def __post_init__(self):
        if self.label is None:
            object.__setattr__(self, "label", self.step.label)
        if self.confirm is None:
            object.__setattr__(self, "confirm", self.step.confirm)

    @property
    def errors_to(self) -> str | None:
        return self.step.errors_to

    def make_form(self, *, request, service_request, data=None, files=None):
        kwargs = {"prefix": self.name}
        if self.form_class in (forms.DuplicateForm, forms.RerouteForm) or "photos" in self.form_class.base_fields:
            kwargs["user"] = request.user  # scoped choices; staged photos (baohe.staging) are the user's
        if self.form_class is forms.AssignForm:
            kwargs["service_request"] = service_request
        return self.form_class(data, files, **kwargs)

    def perform(self, *, service_request, by, data) -> str:
        """Take the step through its service; returns the success message."""
        result = self.step.run(request=service_request, by=by, **self.arguments(data))
        return self.done(result, data)


def _assign_arguments(data):
    kind, user, label = data["target"]
    return {"kind": kind, "user": user, "label": label}


def _followed_up(result, data):
    if result.status == Status.IN_PROGRESS:
        return _("已记录电话回访：居民不满意或未解决，已重新办理。")
    return _("已记录电话回访，诉求已关闭。")


def _extension_decided(result, data):
    return _("已批准延期。") if data["decision"] == "approve" else _("已驳回延期申请。")


BUTTONS = {
    button.name: button
    for button in (
        Button(
            "accept",
            workflow.ACCEPT,
            "check2-circle",
            forms.AcceptForm,
            "btn-danger",
            direct=True,
            done=lambda result, data: _("已签收诉求 %(number)s。") % {"number": result.number},
        ),
        Button(
            "assign",
            workflow.ASSIGN,
            "person-plus",
            forms.AssignForm,
            "btn-outline-primary",
            arguments=_assign_arguments,
            done=lambda result, data: _("已分派给 %(label)s。") % {"label": data["target"][2]},
        ),
        Button(
            "reply",
            workflow.REPLY,
            "chat-left-text",
            forms.MessageForm,
            label=gettext_lazy("答复居民"),
            confirm=gettext_lazy("确认答复居民"),
            arguments=lambda data: {"message": data["message"], "public": True},
            done=lambda result, data: _("答复已发送给居民。"),
        ),
        Button(
            "note",
            workflow.REPLY,
            "journal-text",
            forms.MessageForm,
            label=gettext_lazy("内部备注"),
            confirm=gettext_lazy("确认内部备注"),
            arguments=lambda data: {"message": data["message"], "public": False},
            done=lambda result, data: _("已添加内部备注。"),
        ),
        Button(
            "resolve",
            workflow.RESOLVE,
            "check2-all",
            forms.ResolveForm,
            "btn-success",
            done=lambda result, data: _("已办结，等待居民评价。"),
        ),
        Button(
            "extend",
            workflow.EXTENSION_REQUEST,
            "hourglass-split",
            forms.ExtensionForm,
            done=lambda result, data: _("延期申请已提交，等待社区书记审批。"),
        ),
        Button(
            "extension",
            workflow.EXTENSION_DECIDE,
            "clipboard-check",
            forms.ExtensionDecideForm,
            "btn-warning",
            arguments=lambda data: {"approve": data["decision"] == "approve", "note": data["note"]},
            done=_extension_decided,
        ),
        Button(
            "follow_up",
            workflow.FOLLOW_UP,
            "telephone",
            forms.FollowUpForm,
            "btn-outline-primary",
            label=gettext_lazy("电话回访"),
            confirm=gettext_lazy("确认电话回访"),
            done=_followed_up,
        ),
        Button("close", workflow.CLOSE, "x-circle", forms.CloseForm, done=lambda result, data: _("诉求已关闭。")),
        Button(
            "return",
            workflow.RETURN,
            "arrow-return-left",
            forms.ReasonForm,
            done=lambda result, data: _("已退回街道改派。"),
        ),
        Button(
            "duplicate",
            workflow.DUPLICATE,
            "files",
            forms.DuplicateForm,
            label=gettext_lazy("标记重复"),
            confirm=gettext_lazy("确认标记重复"),
            done=lambda result, data: _("已标记为 %(original)s 的重复诉求。") % {"original": data["original"].number},
        ),
        Button(
            "reject",
            workflow.REJECT,
            "slash-circle",
            forms.ReasonForm,
            "btn-outline-danger",
            done=lambda result, data: _("已不予受理。"),
        ),
        Button(
            "supervise",
            workflow.SUPERVISE,
            "megaphone",
            forms.SuperviseForm,
            "btn-danger",
            done=lambda result, data: _("已督办诉求 %(number)s，社区书记已收到通知。") % {"number": result.number},
        ),
        Button(
            "reroute",
            workflow.REROUTE,
            "signpost-split",
            forms.RerouteForm,
            "btn-outline-primary",
            done=lambda result, data: _("已改派到 %(compound)s。") % {"compound": data["compound"]},
        ),
    )
}


def staff_detail_context(request, service_request, bound=None, revealed=None, reveal_form=None):
    """What the staff request page shows; ``bound`` is a form that failed (shown open);
    ``revealed`` the contact number just revealed (:func:`reveal`), else it is masked."""
    user = request.user
    now = timezone.now()
    actors = services.actors_of(user, service_request) if user.is_portal_staff else frozenset()
    may_handle = workflow.Actor.STAFF in actors
    actions = []
    if may_handle or workflow.Actor.OFFICIAL in actors:  # officials: 督办 only
        for button in BUTTONS.values():
            if not button.step.allows(service_request, actors, now):
                continue
            if bound is not None and bound.prefix == button.name:
                form = bound
            else:
                form = button.make_form(request=request, service_request=service_request)
            actions.append(
                {
                    "step": button,
                    "form": form,
                    "url": reverse("service_requests:action", args=[service_request.pk, button.name]),
                    "open": form is bound,
                }
            )
    events, photos = selectors.timeline(request=service_request, staff=True)
    current_due = selectors.current_due_of(service_request)
    return {
        "sr": service_request,
        "events": events,
        "photos": photos,
        "actions": actions,
        "may_handle": may_handle,
        "staff_view": True,
        "contact_mobile": mask_mobile(service_request.contact_mobile),
        "revealed": revealed,
        "reveal_form": reveal_form or (RevealForm() if may_handle and service_request.contact_mobile else None),
        "current_due": current_due,
        "due": selectors.time_left(current_due, now),
        "accept_due": selectors.time_left(service_request.accept_due_at, now)
        if service_request.status == Status.SUBMITTED
        else None,
        "resolve_due": selectors.time_left(service_request.resolve_due_at, now)
        if service_request.status in workflow.OPEN
        else None,
    }


def render_staff_detail(request, service_request, bound=None, status=200, **reveal):
    context = staff_detail_context(request, service_request, bound, **reveal)
    return render(request, "service_requests/staff_detail.html", context, status=status)


@require_POST
def reveal(request, pk):
    """POST /requests/<pk>/reveal/: the contact number, whole, on the page this once, with a
    reason (``baohe.services.personal_reveal``: one audit line; 404 outside scope, 403 for who
    may only view the request; throttled per user with the API, ``THROTTLE_RATE_REVEAL``)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    found = services.access_request_by_id(request.user, pk)
    if not request.user.is_portal_staff:
        raise PermissionDenied
    page_request = selectors.request_for_page(ServiceRequest.objects).get(pk=found.pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render_staff_detail(request, page_request, status=400, reveal_form=form)
    wait = throttle_wait(request, "reveal")
    if wait is not None:
        form.add_error(None, throttled_message(wait))
        response = render_staff_detail(request, page_request, status=429, reveal_form=form)
        response["Retry-After"] = str(wait)
        return response
    numbers = personal_reveal(user=request.user, obj=found, reason=form.cleaned_data["reason"], request=request)
    revealed = {"contact_mobile": numbers["contact_mobile"], "reason": RevealReason(form.cleaned_data["reason"]).label}
    return render_staff_detail(request, page_request, revealed=revealed)


@require_POST
def action(request, pk, name):
    """POST /requests/<pk>/<name>/: one handling step through its service."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    button = BUTTONS.get(name)
    if button is None:
        raise Http404
    service_request = services.access_request_by_id(request.user, pk)
    if not request.user.is_portal_staff:
        raise PermissionDenied
    form = button.make_form(request=request, service_request=service_request, data=request.POST, files=request.FILES)
    if form.is_valid():
        try:
            message = button.perform(service_request=service_request, by=request.user, data=form.cleaned_data)
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect(service_request)
        except ValidationError as error:
            add_service_errors(form, error, button.errors_to)
        else:
            messages.success(request, message)
            return redirect(service_request)
    keep_photos(form, request.user)  # 办结照片 stay chosen across the error
    page_request = selectors.request_for_page(ServiceRequest.objects).get(pk=service_request.pk)
    return render_staff_detail(request, page_request, bound=form)


@require_POST
def photo_public(request, pk):
    """POST /requests/attachment/<pk>/public/: staff of the request's community mark a photo
    public (the compound board, Open311) or private again (404 outside scope, 403 for who may
    only view it)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    photo = get_object_or_404(Attachment.objects.restrict(request.user, VIEW).select_related("request"), pk=pk)
    form = forms.PhotoPublicForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择是否公开。"))
        return redirect(photo.request)
    public = form.cleaned_data["public"]
    services.attachment_set_public(attachment=photo, by=request.user, public=public)
    messages.success(request, _("照片已公开到小区公示。") if public else _("照片已取消公开。"))
    return redirect(photo.request)


# --- entry on a resident's behalf ---------------------------------------------------------------
class OnBehalfView(StaffRequiredMixin, FormView):
    """代录诉求: a request that came by phone, at the counter or on a home visit.

    The compound, building and household selects hold only what the user may change; when the
    compound or building changes, htmx reloads the place fields from this same page (GET)."""

    template_name = "service_requests/on_behalf.html"
    form_class = forms.OnBehalfForm

    def dispatch(self, request, *args, **kwargs):
        # Read-only officials file nothing: no compound would be offered (the sidebar hides the link).
        if request.user.is_authenticated and request.user.is_portal_staff and not may_change_anything(request.user):
            raise PermissionDenied(_("您的账号只能查看，不能代录诉求。"))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        """On GET, the choices so far (htmx reloads the place fields with them); a user who
        works in exactly one compound starts with it chosen."""
        initial = super().get_initial()
        if self.request.method != "GET":
            return initial
        values = read_query(self.request, forms.OnBehalfQuery)
        initial.update({name: value for name, value in values.items() if value not in (None, "")})
        if "compound" not in initial:
            compounds = list(Compound.objects.restrict(self.request.user, CHANGE).values_list("pk", flat=True)[:2])
            if len(compounds) == 1:
                initial["compound"] = compounds[0]
        return initial

    def form_invalid(self, form):
        keep_photos(form, self.request.user)  # the chosen photos come back as thumbnails
        return super().form_invalid(form)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            service_request = services.request_submit(
                by=self.request.user,
                category=data["category"],
                description=data["description"],
                compound=data["compound"],
                building=data["building"],
                household=data["household"],
                address=data["address"],
                contact_name=data["contact_name"],
                contact_mobile=data["contact_mobile"],
                contact_time=data["contact_time"],
                channel=data["channel"],
                photos=data["photos"],
                resident_user=form.resident_user(),
            )
        except ValidationError as error:
            add_service_errors(form, error, "photos")
            return self.form_invalid(form)
        messages.success(self.request, _("已代录诉求，编号 %(number)s。") % {"number": service_request.number})
        return redirect(service_request)


# --- 审批: what waits for the secretary's decision -------------------------------------------------
def _approvals_context(request):
    user = request.user
    now = timezone.now()
    extensions = list(
        todo.pending_extensions(user)
        .select_related("category__parent", "compound", "assigned_to")
        .order_by("updated_at", "id")
    )
    for row in extensions:
        row.due = selectors.time_left(row.resolve_due_at, now)
    returned = list(todo.returned_requests(user).select_related("category__parent", "compound")[:50])
    return {"extensions": extensions, "returned": returned}


@staff_required
def approvals(request):
    """审批: the secretary's list of extension requests (approve or deny each from the list, through
    the step's service: ``workflow.EXTENSION_DECIDE``) and of returned requests waiting for the
    street. Other staff get 403; a secretary sees only their communities' rows."""
    if not request.user.is_secretary:
        raise PermissionDenied
    return render(request, "service_requests/approvals.html", _approvals_context(request))


@require_POST
@staff_required
def approval_decide(request, pk):
    """POST /requests/approvals/<pk>/extension/: approve or deny one extension from the list (404
    outside scope, 403 for who is not the community's secretary, a message on a conflict)."""
    service_request = services.access_request_by_id(request.user, pk)
    button = BUTTONS["extension"]
    form = button.make_form(request=request, service_request=service_request, data=request.POST)
    if form.is_valid():
        try:
            message = button.perform(service_request=service_request, by=request.user, data=form.cleaned_data)
        except Conflict as conflict:
            messages.error(request, conflict.message)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{service_request.number}：{message}")
        return redirect("service_requests:approvals")
    context = _approvals_context(request)
    context["error_pk"] = service_request.pk
    context["error_form"] = form
    return render(request, "service_requests/approvals.html", context, status=400)
