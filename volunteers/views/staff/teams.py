"""Staff pages for teams (志愿服务队) and service projects (服务项目): lists, a team with its
members, creating and editing either."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, UpdateView

from baohe.forms import add_service_errors
from baohe.scoping import CHANGE, VIEW, may_change_anything
from baohe.views import Crumb, PagedListView, ScopedQuerysetMixin, StaffRequiredMixin, staff_required

from ... import selectors, services
from ...forms import AddMemberForm, ProjectForm, TeamForm
from ...models import Activity, ServiceHours, ServiceProject, TeamMembership, VolunteerTeam
from ..common import PAGE_SIZE, CommunityListMixin, home_crumb, service_messages


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
