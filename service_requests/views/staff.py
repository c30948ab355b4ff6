"""Staff pages: the work queue, a request with its handling steps, and entry on a resident's behalf.

Each handling step is a POST to ``/requests/<pk>/<action>/``: the request is looked up in the
user's scope (404 outside it, exactly like a missing one), the step's form validates the input,
and the view calls the step's service. A :class:`~baohe.exceptions.Conflict` (someone acted
first, or the step no longer applies) becomes an error message and a redirect back to the
request; a ``ValidationError`` re-renders the page with the errors on the form; a
``PermissionDenied`` is a 403.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from accounts.selectors import is_secretary_of
from baohe.exceptions import Conflict
from baohe.masking import mask_mobile
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW
from baohe.views import StaffRequiredMixin
from communities.models import Compound

from .. import forms, selectors, services
from ..models import Category, ServiceRequest

Status = ServiceRequest.Status
HANDLING = (Status.ACCEPTED, Status.IN_PROGRESS)
ACTIVE = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS)


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
        rows, next_cursor = selectors.cursor_page(selectors.queue_queryset(user, filters, now), values["after"])
        for row in rows:
            row.due = selectors.time_left(row.current_due, now)

        def url(**changes):
            params = filters.params(**changes)
            return f"?{urlencode(params)}" if params else "?"

        status_pills = [
            {"key": "", "label": _("全部"), "count": counts["all"]},
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
        ]
        context.update(
            rows=rows,
            filters=filters,
            status_pills=status_pills,
            flag_pills=flag_pills,
            categories=self.category_options(),
            compounds=Compound.objects.restrict(user, VIEW)
            .select_related("community")
            .order_by("community__code", "name"),
            hidden_params={k: v for k, v in filters.params().items() if k not in ("category", "compound")},
            next_url=f"?{urlencode({**filters.params(), 'after': next_cursor})}" if next_cursor else None,
            first_url=url() if values["after"] is not None else None,
        )
        return context

    def category_options(self):
        categories = list(Category.objects.select_related("parent").order_by("order", "id"))
        top = [c for c in categories if c.parent_id is None]
        options = []
        for parent in top:
            options.append((parent.pk, parent.name, False))
            options.extend((c.pk, c.name, True) for c in categories if c.parent_id == parent.pk)
        return options


# --- one request: page and handling steps -------------------------------------------------------
@dataclass
class Step:
    """One handling step: its form, when it applies, and the service call it makes."""

    name: str
    label: object
    icon: str
    form_class: type
    statuses: tuple
    button: str = "btn-outline-secondary"
    direct: bool = False  # a single button, no fields
    secretary_only: bool = False
    errors_to: str | None = None  # the field that gets a service error without a field name
    form_kwargs: dict = field(default_factory=dict)

    def applies(self, service_request, *, is_secretary):
        if service_request.status not in self.statuses:
            return False
        if self.name == "extend":
            return service_request.extension_until is None
        if self.name == "extension":
            return service_request.extension_until is not None and is_secretary
        return True

    def make_form(self, *, request, service_request, data=None, files=None):
        kwargs = {"prefix": self.name}
        if self.form_class in (forms.DuplicateForm, forms.RerouteForm):
            kwargs["user"] = request.user
        if self.form_class is forms.AssignForm:
            kwargs["service_request"] = service_request
        return self.form_class(data, files, **kwargs)


STEPS = {
    step.name: step
    for step in (
        Step(
            "accept", gettext_lazy("签收"), "check2-circle", forms.AcceptForm, (Status.SUBMITTED,), "btn-danger", True
        ),
        Step("assign", gettext_lazy("分派"), "person-plus", forms.AssignForm, HANDLING, "btn-outline-primary"),
        Step("reply", gettext_lazy("答复居民"), "chat-left-text", forms.MessageForm, (*ACTIVE, Status.RESOLVED)),
        Step("note", gettext_lazy("内部备注"), "journal-text", forms.MessageForm, (*ACTIVE, Status.RESOLVED)),
        Step(
            "resolve",
            gettext_lazy("办结"),
            "check2-all",
            forms.ResolveForm,
            HANDLING,
            "btn-success",
            errors_to="photos",
        ),
        Step("extend", gettext_lazy("申请延期"), "hourglass-split", forms.ExtensionForm, HANDLING),
        Step(
            "extension", gettext_lazy("审批延期"), "clipboard-check", forms.ExtensionDecideForm, HANDLING, "btn-warning"
        ),
        Step(
            "follow_up",
            gettext_lazy("电话回访"),
            "telephone",
            forms.FollowUpForm,
            (Status.RESOLVED,),
            "btn-outline-primary",
        ),
        Step("close", gettext_lazy("关闭"), "x-circle", forms.CloseForm, (Status.RESOLVED,)),
        Step(
            "return", gettext_lazy("退单"), "arrow-return-left", forms.ReasonForm, (Status.SUBMITTED, Status.ACCEPTED)
        ),
        Step("duplicate", gettext_lazy("标记重复"), "files", forms.DuplicateForm, ACTIVE),
        Step("reject", gettext_lazy("不予受理"), "slash-circle", forms.ReasonForm, ACTIVE, "btn-outline-danger"),
        Step(
            "reroute",
            gettext_lazy("改派"),
            "signpost-split",
            forms.RerouteForm,
            (Status.RETURNED,),
            "btn-outline-primary",
        ),
    )
}


def perform(step, *, service_request, by, data):
    """Call the step's service; returns the success message."""
    sr, number = service_request, service_request.number
    if step.name == "accept":
        services.request_accept(request=sr, by=by)
        return _("已签收诉求 %(number)s。") % {"number": number}
    if step.name == "assign":
        kind, user, label = data["target"]
        services.request_assign(request=sr, by=by, kind=kind, user=user, label=label)
        return _("已分派给 %(label)s。") % {"label": label}
    if step.name in ("reply", "note"):
        services.request_reply(request=sr, by=by, message=data["message"], public=step.name == "reply")
        return _("答复已发送给居民。") if step.name == "reply" else _("已添加内部备注。")
    if step.name == "extend":
        services.request_extension_request(request=sr, by=by, until=data["until"], reason=data["reason"])
        return _("延期申请已提交，等待社区书记审批。")
    if step.name == "extension":
        approve = data["decision"] == "approve"
        services.request_extension_decide(request=sr, by=by, approve=approve, note=data["note"])
        return _("已批准延期。") if approve else _("已驳回延期申请。")
    if step.name == "return":
        services.request_return(request=sr, by=by, reason=data["reason"])
        return _("已退回街道改派。")
    if step.name == "resolve":
        services.request_resolve(request=sr, by=by, message=data["message"], photos=data["photos"])
        return _("已办结，等待居民评价。")
    if step.name == "reject":
        services.request_reject(request=sr, by=by, reason=data["reason"])
        return _("已不予受理。")
    if step.name == "duplicate":
        services.request_mark_duplicate(request=sr, by=by, original=data["original"])
        return _("已标记为 %(original)s 的重复诉求。") % {"original": data["original"].number}
    if step.name == "close":
        services.request_close(request=sr, by=by, note=data["note"])
        return _("诉求已关闭。")
    if step.name == "follow_up":
        result = services.request_follow_up(
            request=sr, by=by, solved=data["solved"], satisfaction=data["satisfaction"], comment=data["comment"]
        )
        if result.status == Status.IN_PROGRESS:
            return _("已记录电话回访：居民不满意或未解决，已重新办理。")
        return _("已记录电话回访，诉求已关闭。")
    if step.name == "reroute":
        services.request_reroute(request=sr, by=by, compound=data["compound"])
        return _("已改派到 %(compound)s。") % {"compound": data["compound"]}
    raise Http404


def add_service_errors(form, error, fallback=None):
    """Put a service's ValidationError on the form: by field where it names one of the form's
    fields, otherwise on ``fallback`` (or the whole form)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else fallback, errors)
    else:
        form.add_error(fallback, error.messages)


def staff_detail_context(request, service_request, bound=None):
    """What the staff request page shows; ``bound`` is a form that failed (shown open)."""
    user = request.user
    now = timezone.now()
    may_handle = user.is_portal_staff and services.requests_handled_by(user).filter(pk=service_request.pk).exists()
    is_secretary = may_handle and (user.is_superuser or is_secretary_of(user, service_request.community_id))
    actions = []
    if may_handle:
        for step in STEPS.values():
            if not step.applies(service_request, is_secretary=is_secretary):
                continue
            if bound is not None and bound.prefix == step.name:
                form = bound
            else:
                form = step.make_form(request=request, service_request=service_request)
            actions.append(
                {
                    "step": step,
                    "form": form,
                    "url": reverse("service_requests:action", args=[service_request.pk, step.name]),
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
        "contact_mobile": service_request.contact_mobile if may_handle else mask_mobile(service_request.contact_mobile),
        "current_due": current_due,
        "due": selectors.time_left(current_due, now),
        "accept_due": selectors.time_left(service_request.accept_due_at, now)
        if service_request.status == Status.SUBMITTED
        else None,
        "resolve_due": selectors.time_left(service_request.resolve_due_at, now)
        if service_request.status in (*ACTIVE,)
        else None,
    }


def render_staff_detail(request, service_request, bound=None, status=200):
    context = staff_detail_context(request, service_request, bound)
    return render(request, "service_requests/staff_detail.html", context, status=status)


@require_POST
def action(request, pk, name):
    """POST /requests/<pk>/<name>/: one handling step through its service."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    step = STEPS.get(name)
    if step is None:
        raise Http404
    service_request = services.access_request_by_id(request.user, pk)
    if not request.user.is_portal_staff:
        raise PermissionDenied
    form = step.make_form(request=request, service_request=service_request, data=request.POST, files=request.FILES)
    if form.is_valid():
        try:
            message = perform(step, service_request=service_request, by=request.user, data=form.cleaned_data)
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect(service_request)
        except ValidationError as error:
            add_service_errors(form, error, step.errors_to)
        else:
            messages.success(request, message)
            return redirect(service_request)
    page_request = selectors.request_for_page(ServiceRequest.objects).get(pk=service_request.pk)
    return render_staff_detail(request, page_request, bound=form)


# --- entry on a resident's behalf ---------------------------------------------------------------
class OnBehalfView(StaffRequiredMixin, FormView):
    """代录诉求: a request that came by phone, at the counter or on a home visit.

    The compound, building and household selects hold only what the user may change; when the
    compound or building changes, htmx reloads the place fields from this same page (GET)."""

    template_name = "service_requests/on_behalf.html"
    form_class = forms.OnBehalfForm

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
