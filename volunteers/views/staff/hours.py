"""Staff pages for service hours: the list, the review in bulk (approve or reject the ticked
rows), recording hours by hand, and the Excel export of a year's hours per team and month."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from baohe.exports import export_response
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import VIEW, may_change_anything
from baohe.views import PagedListView, StaffRequiredMixin, staff_required
from communities.models import Community

from ... import exports, selectors, services
from ...forms import HOURS_STATUS_ALL, HoursExportQuery, HoursQuery, HoursRecordForm, ReviewForm
from ...models import ServiceHours
from ..common import PAGE_SIZE, CommunityListMixin, home_crumb, service_messages


class HoursListView(StaffRequiredMixin, CommunityListMixin, PagedListView):
    """Service hours to review (pending by default), approved or rejected in bulk."""

    template_name = "volunteers/hours_list.html"
    context_object_name = "rows"
    paginate_by = PAGE_SIZE
    query_form = HoursQuery

    @property
    def status(self):
        status = self.query["status"]
        return "" if status == HOURS_STATUS_ALL else status

    def get_queryset(self):
        return selectors.hours_rows(self.request.user, status=self.status, community=self.selected_community)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            breadcrumbs=[home_crumb()],
            status=self.status,
            statuses=ServiceHours.Status.choices,
            status_filter=[("status", self.status or "all")],
            can_review=may_change_anything(self.request.user),
            year=timezone.localdate().year,
            years=range(timezone.localdate().year, timezone.localdate().year - 5, -1),
            review_form=kwargs.get("review_form") or ReviewForm(),
        )
        return context


@staff_required
@require_POST
def hours_review(request):
    """Approve (points are earned) or reject the ticked hours, all in one transaction."""
    form = ReviewForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("volunteers:hours")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    with service_messages(request):
        if data["action"] == "approve":
            result = services.hours_approve(hours_ids=data["ids"], by=request.user)
            if result.done:
                total = sum((row.hours for row in result.done), start=selectors.ZERO)
                messages.success(
                    request,
                    _("已审核通过 %(count)s 条，共 %(hours)s 小时，积分已发放。")
                    % {"count": len(result.done), "hours": total},
                )
        else:
            result = services.hours_reject(hours_ids=data["ids"], by=request.user, reason=data["reason"])
            if result.done:
                messages.success(request, _("已退回 %(count)s 条服务时长。") % {"count": len(result.done)})
        if result.skipped:
            messages.info(request, _("%(count)s 条此前已审核，未重复处理。") % {"count": len(result.skipped)})
    return redirect(back)


class HoursRecordView(StaffRequiredMixin, FormView):
    form_class = HoursRecordForm
    template_name = "volunteers/form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            row = services.hours_record(
                by=self.request.user,
                volunteer=data["volunteer"],
                project=data["project"],
                team=data["team"],
                served_on=data["served_on"],
                hours=data["hours"],
                households=data["households"],
                note=data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("已登记 %(row)s，待审核。") % {"row": row})
        return redirect("volunteers:hours")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=_("登记服务时长"), breadcrumbs=[home_crumb()], cancel_url=reverse("volunteers:hours"))
        return context


@staff_required
def hours_export(request):
    """Approved hours per team and month of a year, as an Excel workbook."""
    query = read_query(request, HoursExportQuery)
    year, community = query["year"], None
    queryset = ServiceHours.objects.restrict(request.user, VIEW)
    if query["community"] is not None:
        community = get_object_or_404(Community.objects.restrict(request.user, VIEW), pk=query["community"])
        queryset = queryset.filter(community=community)
    rows = selectors.hours_by_team_month(queryset, year)
    return export_response(
        request=request,
        book=exports.hours_book(rows, year=year, community=community),
        filename=_("志愿服务时长-%(year)s.xlsx") % {"year": year},
        table="volunteers.servicehours",
        rows=len(rows),
        filters={"year": year, "community": community},
        place=community,
    )
