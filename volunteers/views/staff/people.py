"""Staff pages for volunteers: the list, one volunteer with their teams, hours and points,
registering a resident as a volunteer, and a household's ledger of services received."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView

from baohe.forms import add_service_errors
from baohe.scoping import VIEW, may_change_anything
from baohe.views import Crumb, PagedListView, ScopedQuerysetMixin, StaffRequiredMixin, staff_required
from communities.models import Household

from ... import selectors, services
from ...forms import VolunteerQuery, VolunteerRegisterForm
from ...models import PointsEntry, TeamMembership, Volunteer
from ..common import PAGE_SIZE, CommunityListMixin, home_crumb


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
