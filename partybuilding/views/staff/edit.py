"""Creating and editing party rows (branch, group, member, central household): a create happens
under a parent the user may change; the save is ``scoped_save`` (re-checked in its transaction)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, UpdateView

from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE
from baohe.views import ScopedFormViewMixin, StaffRequiredMixin
from communities.models import Community
from communities.services import households_changed

from ...forms import CentralHouseholdForm, CommunityQuery, PartyBranchForm, PartyGroupForm, PartyMemberForm
from ...models import CentralHousehold, PartyBranch, PartyGroup, PartyMember
from ...services import central_household_reach
from ..common import branch_crumbs, party_home_crumb


class PartyFormView(StaffRequiredMixin, ScopedFormViewMixin):
    """Create or edit a party row; a create happens under a parent the user may change."""

    template_name = "partybuilding/form.html"
    parent_model = None
    parent_kwarg = None
    parent_field = None
    parent_related = ()
    title = ""

    def get_parent(self):
        if not self.parent_kwarg:
            return None
        if not hasattr(self, "_parent"):
            parents = self.parent_model.objects.restrict(self.request.user, CHANGE)
            if self.parent_related:
                parents = parents.select_related(*self.parent_related)
            self._parent = get_object_or_404(parents, pk=self.kwargs[self.parent_kwarg])
        return self._parent

    def get_initial(self):
        initial = super().get_initial()
        if self.parent_field and self.get_parent() is not None:
            initial[self.parent_field] = self.get_parent()
        return initial

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:
            # A rule only the saved row can check (scoped_save runs full_clean again).
            add_service_errors(form, error)
            return self.form_invalid(form)

    def get_success_url(self):
        return self.object.get_absolute_url()

    def anchor_crumbs(self):
        return [party_home_crumb()]

    def cancel_url(self):
        return reverse("partybuilding:home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=self.title, breadcrumbs=self.anchor_crumbs(), cancel_url=self.cancel_url())
        return context


class BranchFormMixin:
    model = PartyBranch
    form_class = PartyBranchForm

    def get_queryset(self):
        return super().get_queryset().select_related("community")


class BranchCreateView(BranchFormMixin, PartyFormView, CreateView):
    title = _("新增党支部")
    success_message = _("已新增党支部 %(object)s。")

    def get_initial(self):
        initial = super().get_initial()
        communities = Community.objects.restrict(self.request.user, CHANGE).order_by("code")
        community = read_query(self.request, CommunityQuery, communities=communities)["community"]
        if community is not None:
            initial["community"] = community
        return initial


class BranchUpdateView(BranchFormMixin, PartyFormView, UpdateView):
    title = _("编辑党支部")
    success_message = _("已保存党支部 %(object)s。")

    def anchor_crumbs(self):
        return branch_crumbs(self.object)

    def cancel_url(self):
        return self.object.get_absolute_url()


class GroupFormMixin:
    model = PartyGroup
    form_class = PartyGroupForm

    def get_queryset(self):
        return super().get_queryset().select_related("branch__community")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["branch"] = self.get_parent() if self.parent_kwarg else self.object.branch
        return kwargs


class GroupCreateView(GroupFormMixin, PartyFormView, CreateView):
    parent_model = PartyBranch
    parent_kwarg = "branch_pk"
    parent_field = "branch"
    parent_related = ("community",)
    title = _("新增党小组")
    success_message = _("已新增党小组 %(object)s。")

    def anchor_crumbs(self):
        return branch_crumbs(self.get_parent())

    def cancel_url(self):
        return self.get_parent().get_absolute_url()


class GroupUpdateView(GroupFormMixin, PartyFormView, UpdateView):
    title = _("编辑党小组")
    success_message = _("已保存党小组 %(object)s。")

    def anchor_crumbs(self):
        return branch_crumbs(self.object.branch) + [self.object]

    def cancel_url(self):
        return self.object.get_absolute_url()


class MemberFormMixin:
    model = PartyMember
    form_class = PartyMemberForm

    def get_queryset(self):
        return super().get_queryset().select_related("branch__community", "resident")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["branch"] = self.get_parent() if self.parent_kwarg else self.object.branch
        return kwargs

    def get_success_url(self):
        return reverse("partybuilding:member", args=[self.object.pk])


class MemberCreateView(MemberFormMixin, PartyFormView, CreateView):
    parent_model = PartyBranch
    parent_kwarg = "branch_pk"
    parent_field = "branch"
    parent_related = ("community",)
    title = _("新增党员")
    success_message = _("已登记党员 %(object)s。")

    def anchor_crumbs(self):
        return branch_crumbs(self.get_parent())

    def cancel_url(self):
        return self.get_parent().get_absolute_url()


class MemberUpdateView(MemberFormMixin, PartyFormView, UpdateView):
    title = _("编辑党员")
    success_message = _("已保存党员 %(object)s。")

    def anchor_crumbs(self):
        return branch_crumbs(self.object.branch)

    def cancel_url(self):
        return reverse("partybuilding:member", args=[self.object.pk])


class CentralHouseholdFormMixin:
    model = CentralHousehold
    form_class = CentralHouseholdForm

    def get_queryset(self):
        return super().get_queryset().select_related("member__branch__community", "member__resident")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["member"] = self.get_parent() if self.parent_kwarg else self.object.member
        return kwargs

    def save_form(self, form):
        # The households it served and serves now: their visit plans follow at once.
        with transaction.atomic():
            before = central_household_reach(getattr(self, "object", None))
            instance = super().save_form(form)
            households_changed(before | central_household_reach(instance))
        return instance


class CentralHouseholdCreateView(CentralHouseholdFormMixin, PartyFormView, CreateView):
    parent_model = PartyMember
    parent_kwarg = "member_pk"
    parent_field = "member"
    parent_related = ("resident", "branch__community")
    title = _("设立党员中心户")
    success_message = _("已设立党员中心户 %(object)s。")

    def anchor_crumbs(self):
        return branch_crumbs(self.get_parent().branch)

    def cancel_url(self):
        return reverse("partybuilding:member", args=[self.get_parent().pk])


class CentralHouseholdUpdateView(CentralHouseholdFormMixin, PartyFormView, UpdateView):
    title = _("编辑党员中心户")
    success_message = _("已保存党员中心户 %(object)s。")

    def anchor_crumbs(self):
        return branch_crumbs(self.object.member.branch)

    def cancel_url(self):
        return self.object.get_absolute_url()
