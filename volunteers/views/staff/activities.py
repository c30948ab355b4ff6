"""Staff pages for activities: the list, one activity with its check-in sheet and waitlist,
creating and editing one, signing a volunteer up and cancelling a sign-up."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, UpdateView

from baohe.forms import add_service_errors
from baohe.scoping import CHANGE, may_change_anything
from baohe.views import PagedListView, ScopedQuerysetMixin, StaffRequiredMixin, staff_required

from ... import selectors, services
from ...forms import ACTIVITY_WHEN, ActivityForm, ActivityQuery, StaffSignupForm
from ...models import Activity, Signup
from ..common import PAGE_SIZE, CommunityListMixin, home_crumb, service_messages


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
