"""Staff pages: activities (with the check-in sheet and the waitlist), teams, projects,
volunteers, the review of service hours in bulk, and the Excel export of hours.

Every queryset comes from ``restrict()`` (``baohe.views`` mixins or ``volunteers.selectors``):
a row outside the user's scope answers 404 exactly like a missing one. Every write goes
through ``volunteers.services``; a conflict (the waitlist moved, a deadline passed) is shown
as a message, bad input on the form.
"""

from contextlib import contextmanager
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, FormView, UpdateView

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW, may_change_anything
from baohe.views import Crumb, PagedListView, ScopedQuerysetMixin, StaffRequiredMixin, staff_required
from communities.models import Community, Household
from partybuilding.views import CommunityFilterMixin

from .. import exports, selectors, services
from ..forms import (
    ACTIVITY_WHEN,
    HOURS_STATUS_ALL,
    ActivityForm,
    ActivityQuery,
    AddMemberForm,
    HoursExportQuery,
    HoursQuery,
    HoursRecordForm,
    ProjectForm,
    ReviewForm,
    StaffSignupForm,
    TeamForm,
    VolunteerQuery,
    VolunteerRegisterForm,
)
from ..models import (
    Activity,
    PointsEntry,
    ServiceHours,
    ServiceProject,
    Signup,
    TeamMembership,
    Volunteer,
    VolunteerTeam,
)

PAGE_SIZE = 50


@contextmanager
def service_messages(request):
    """Show a service's conflict or validation error as a message (nothing was written)."""
    try:
        yield
    except Conflict as error:
        messages.error(request, str(error.message))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)


def home_crumb():
    return Crumb(gettext_lazy("志愿服务"), reverse("volunteers:activities"))


class CommunityListMixin(CommunityFilterMixin):
    """partybuilding's ``?community=`` filter, and the list's parsed parameters carried over to
    the pagination links (``page_query``)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = {key: getattr(value, "pk", value) for key, value in self.query.items() if value not in (None, "")}
        context["page_query"] = f"{urlencode(params)}&" if params else ""
        return context


# --- activities -------------------------------------------------------------------------------------
class ActivityListView(StaffRequiredMixin, CommunityListMixin, PagedListView):
    template_name = "volunteers/activity_list.html"
    context_object_name = "activities"
    paginate_by = PAGE_SIZE
    query_form = ActivityQuery

    @property
    def when(self):
        return self.query["when"]

    def get_queryset(self):
        return selectors.activity_rows(self.request.user, community=self.selected_community, when=self.when)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            when=self.when,
            whens=ACTIVITY_WHEN,
            when_filter=[("when", self.when)],
            can_add=may_change_anything(self.request.user),
        )
        return context


class ActivityDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """An activity: its sign-ups as the check-in sheet, the waitlist, and signing someone up."""

    model = Activity
    template_name = "volunteers/activity_detail.html"
    context_object_name = "activity"

    def get_queryset(self):
        return selectors.with_signup_counts(super().get_queryset()).select_related(
            "project", "team", "compound", "community"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity, user = self.object, self.request.user
        confirmed, waiting = selectors.checkin_sheet(activity)
        can_change = services.staff_rows(Activity, user).filter(pk=activity.pk).exists()
        now = timezone.now()
        context.update(
            breadcrumbs=[home_crumb()],
            confirmed=confirmed,
            waiting=waiting,
            can_change=can_change,
            can_check_in=can_change and timezone.localdate(now) >= timezone.localtime(activity.starts_at).date(),
            signup_open=now <= activity.signup_deadline,
            signup_form=StaffSignupForm(user=user, activity=activity) if can_change else None,
        )
        return context


class ActivityFormView(StaffRequiredMixin, ScopedQuerysetMixin):
    model = Activity
    form_class = ActivityForm
    template_name = "volunteers/form.html"
    scope_action = CHANGE
    title = ""
    success_message = ""

    def get_queryset(self):
        return services.staff_rows(Activity, self.request.user).select_related("project")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def save(self, form):
        return services.activity_save(instance=form.save(commit=False), by=self.request.user)

    def form_valid(self, form):
        try:
            self.object = self.save(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"object": self.object})
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        return self.object.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=self.title, breadcrumbs=[home_crumb()], cancel_url=reverse("volunteers:activities"))
        return context


class ActivityCreateView(ActivityFormView, CreateView):
    title = gettext_lazy("新建志愿活动")
    success_message = gettext_lazy("已发布活动 %(object)s。")

    def get_initial(self):
        initial = super().get_initial()
        now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        initial.update(
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=2),
            signup_deadline=now + timedelta(days=2),
            capacity=20,
        )
        return initial


class ActivityUpdateView(ActivityFormView, UpdateView):
    title = gettext_lazy("编辑志愿活动")
    success_message = gettext_lazy("已保存活动 %(object)s。")


@staff_required
@require_POST
def activity_check_in(request, pk):
    """Check the ticked volunteers in (the check-in sheet)."""
    activity = services.access_activity_by_id(request.user, pk, CHANGE)
    with service_messages(request):
        result = services.signup_check_in(
            activity_id=activity.pk, signup_ids=request.POST.getlist("signups"), by=request.user
        )
        if result.checked_in:
            messages.success(
                request,
                _("已签到 %(count)s 人，服务时长已登记，待审核。") % {"count": len(result.checked_in)},
            )
        if result.already:
            messages.info(
                request, _("%(names)s 此前已签到。") % {"names": "、".join(str(s.volunteer) for s in result.already)}
            )
    return redirect(activity)


@staff_required
@require_POST
def activity_signup(request, pk):
    """Staff sign a volunteer up (confirmed, or waitlisted when full)."""
    activity = services.access_activity_by_id(request.user, pk, CHANGE)
    form = StaffSignupForm(request.POST, user=request.user, activity=activity)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(activity)
    with service_messages(request):
        signup = services.signup_create(
            activity_id=activity.pk, volunteer=form.cleaned_data["volunteer"], by=request.user
        )
        if signup.status == Signup.Status.CONFIRMED:
            messages.success(request, _("已为 %(name)s 报名。") % {"name": signup.volunteer})
        else:
            messages.warning(request, _("名额已满，%(name)s 已进入候补。") % {"name": signup.volunteer})
    return redirect(activity)


@staff_required
@require_POST
def signup_cancel(request, pk):
    signup = get_object_or_404(services.staff_rows(Signup, request.user).select_related("activity"), pk=pk)
    with service_messages(request):
        cancelled, promoted = services.signup_cancel(signup_id=signup.pk, by=request.user)
        messages.success(request, _("已取消 %(name)s 的报名。") % {"name": cancelled.volunteer})
        for row in promoted:
            messages.info(request, _("%(name)s 已由候补转为正式报名，并已通知。") % {"name": row.volunteer})
    return redirect(signup.activity)


# --- teams --------------------------------------------------------------------------------------------
class TeamListView(StaffRequiredMixin, CommunityListMixin, PagedListView):
    template_name = "volunteers/team_list.html"
    context_object_name = "teams"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        queryset = selectors.team_rows(self.request.user)
        if self.selected_community is not None:
            queryset = queryset.filter(community=self.selected_community)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(breadcrumbs=[home_crumb()], can_add=may_change_anything(self.request.user))
        return context


class TeamDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    model = VolunteerTeam
    template_name = "volunteers/team_detail.html"
    context_object_name = "team"

    def get_queryset(self):
        return super().get_queryset().select_related("community", "compound", "leader__resident")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        team, user = self.object, self.request.user
        memberships = (
            TeamMembership.objects.restrict(user, VIEW)
            .filter(team=team)
            .select_related("volunteer__resident__household__building__compound")
            .order_by("joined_on", "pk")
        )
        can_change = services.staff_rows(VolunteerTeam, user).filter(pk=team.pk).exists()
        context.update(
            breadcrumbs=[home_crumb(), Crumb(gettext_lazy("志愿服务队"), reverse("volunteers:teams"))],
            memberships=memberships,
            activities=selectors.activity_rows(user, when="upcoming").filter(team=team)[:20],
            can_change=can_change,
            add_form=AddMemberForm(user=user, team=team) if can_change else None,
        )
        return context


class RegistryFormView(StaffRequiredMixin, ScopedQuerysetMixin):
    """Create or edit a team or a project (``scoped_save`` through the service)."""

    template_name = "volunteers/form.html"
    scope_action = CHANGE
    title = ""
    success_message = ""
    list_url_name = ""
    save_service = None

    def get_queryset(self):
        return services.staff_rows(self.model, self.request.user)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        try:
            self.object = type(self).save_service(instance=form.save(commit=False), by=self.request.user)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"object": self.object})
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        return reverse(self.list_url_name)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        list_url = reverse(self.list_url_name)
        context.update(title=self.title, breadcrumbs=[home_crumb()], cancel_url=list_url)
        return context


class TeamCreateView(RegistryFormView, CreateView):
    model = VolunteerTeam
    form_class = TeamForm
    title = gettext_lazy("新建志愿服务队")
    success_message = gettext_lazy("已新建志愿服务队 %(object)s。")
    list_url_name = "volunteers:teams"
    save_service = services.team_save

    def get_success_url(self):
        return self.object.get_absolute_url()


class TeamUpdateView(RegistryFormView, UpdateView):
    model = VolunteerTeam
    form_class = TeamForm
    title = gettext_lazy("编辑志愿服务队")
    success_message = gettext_lazy("已保存志愿服务队 %(object)s。")
    list_url_name = "volunteers:teams"
    save_service = services.team_save

    def get_success_url(self):
        return self.object.get_absolute_url()


@staff_required
@require_POST
def team_add_member(request, pk):
    team = get_object_or_404(services.staff_rows(VolunteerTeam, request.user), pk=pk)
    form = AddMemberForm(request.POST, user=request.user, team=team)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(team)
    with service_messages(request):
        membership = services.team_add_member(team=team, volunteer=form.cleaned_data["volunteer"], by=request.user)
        messages.success(request, _("%(name)s 已加入 %(team)s。") % {"name": membership.volunteer, "team": team})
    return redirect(team)


@staff_required
@require_POST
def team_remove_member(request, pk):
    membership = get_object_or_404(
        services.staff_rows(TeamMembership, request.user).select_related("team", "volunteer__resident"), pk=pk
    )
    services.team_remove_member(membership=membership, by=request.user)
    messages.success(
        request, _("已将 %(name)s 移出 %(team)s。") % {"name": membership.volunteer, "team": membership.team}
    )
    return redirect(membership.team)


# --- projects ----------------------------------------------------------------------------------------
class ProjectListView(StaffRequiredMixin, CommunityListMixin, PagedListView):
    template_name = "volunteers/project_list.html"
    context_object_name = "projects"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        queryset = (
            ServiceProject.objects.restrict(self.request.user, VIEW)
            .select_related("community", "owner")
            .annotate(
                activity_count=selectors.count_of(Activity, "project"),
                approved_hours=selectors.sum_of(ServiceHours, "project", "hours", status=ServiceHours.Status.APPROVED),
            )
            .order_by("community__code", "name", "pk")
        )
        if self.selected_community is not None:
            queryset = queryset.filter(community=self.selected_community)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        changeable = set(
            services.staff_rows(ServiceProject, self.request.user)
            .filter(pk__in=[p.pk for p in context["projects"]])
            .values_list("pk", flat=True)
        )
        context.update(
            breadcrumbs=[home_crumb()], can_add=may_change_anything(self.request.user), changeable=changeable
        )
        return context


class ProjectCreateView(RegistryFormView, CreateView):
    model = ServiceProject
    form_class = ProjectForm
    title = gettext_lazy("新建服务项目")
    success_message = gettext_lazy("已新建服务项目 %(object)s。")
    list_url_name = "volunteers:projects"
    save_service = services.project_save


class ProjectUpdateView(RegistryFormView, UpdateView):
    model = ServiceProject
    form_class = ProjectForm
    title = gettext_lazy("编辑服务项目")
    success_message = gettext_lazy("已保存服务项目 %(object)s。")
    list_url_name = "volunteers:projects"
    save_service = services.project_save


# --- volunteers ----------------------------------------------------------------------------------------
class VolunteerListView(StaffRequiredMixin, CommunityListMixin, PagedListView):
    template_name = "volunteers/volunteer_list.html"
    context_object_name = "volunteers"
    paginate_by = PAGE_SIZE
    query_form = VolunteerQuery

    def get_queryset(self):
        queryset = selectors.volunteers_for_staff(self.request.user)
        if self.selected_community is not None:
            queryset = queryset.filter(community=self.selected_community)
        if self.query["q"]:
            queryset = queryset.filter(resident__name__contains=self.query["q"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            breadcrumbs=[home_crumb()],
            can_add=may_change_anything(self.request.user),
            q=self.query["q"] or "",
        )
        return context


class VolunteerDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    model = Volunteer
    template_name = "volunteers/volunteer_detail.html"
    context_object_name = "volunteer"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("resident__household__building__compound", "community")
            .prefetch_related(
                Prefetch("memberships", queryset=TeamMembership.objects.select_related("team").order_by("pk"))
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        volunteer, user = self.object, self.request.user
        context.update(
            breadcrumbs=[home_crumb(), Crumb(gettext_lazy("志愿者"), reverse("volunteers:volunteers"))],
            totals=selectors.volunteer_totals(volunteer),
            hours=selectors.hours_rows(user).filter(volunteer=volunteer)[:50],
            points=PointsEntry.objects.restrict(user, VIEW)
            .filter(volunteer=volunteer)
            .order_by("-created_at", "-id")[:50],
        )
        return context


class VolunteerRegisterView(StaffRequiredMixin, FormView):
    form_class = VolunteerRegisterForm
    template_name = "volunteers/form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        try:
            volunteer = services.volunteer_register(
                resident=form.cleaned_data["resident"], skills=form.cleaned_data["skills"], by=self.request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("已登记志愿者 %(name)s。") % {"name": volunteer})
        return redirect(volunteer)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=_("登记志愿者"), breadcrumbs=[home_crumb()], cancel_url=reverse("volunteers:volunteers"))
        return context


# --- hours: review, record, export ------------------------------------------------------------------------
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
    content = exports.hours_workbook(selectors.hours_by_team_month(queryset, year), year=year, community=community)
    response = HttpResponse(content, content_type=exports.XLSX)
    filename = _("志愿服务时长-%(year)s.xlsx") % {"year": year}
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@staff_required
def household_services(request, pk):
    """The household page's ledger of services received (loaded into the page by htmx; a
    page of its own without JavaScript)."""
    household = get_object_or_404(
        Household.objects.restrict(request.user, VIEW).select_related("building__compound"), pk=pk
    )
    context = {"section": selectors.household_services(household, request.user), "household": household}
    if request.headers.get("HX-Request"):
        return render(request, "volunteers/_household_ledger.html", context)
    context["breadcrumbs"] = [Crumb(str(household), household.get_absolute_url())]
    return render(request, "volunteers/household_services.html", context)
