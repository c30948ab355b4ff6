"""Party organisation pages: the branches in scope, the coverage of compounds, buildings and
households, and one branch, group, member or central household.

Lists use ``select_related`` / ``prefetch_related`` and counting subqueries, so each page
costs a fixed number of queries."""

from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView

from baohe.scoping import VIEW, may_change_anything
from baohe.views import PagedListView, ScopedQuerysetMixin, StaffRequiredMixin
from communities.models import Building, Compound, Household

from ... import selectors
from ...forms import BranchQuery
from ...models import CentralHousehold, PartyBranch, PartyGroup, PartyMember
from ..common import PAGE_SIZE, CommunityFilterMixin, branch_crumbs, may_change, party_home_crumb


class BranchListView(StaffRequiredMixin, CommunityFilterMixin, ScopedQuerysetMixin, PagedListView):
    """All branches in scope, with their groups, members and compounds, and what is not yet covered."""

    model = PartyBranch
    template_name = "partybuilding/branch_list.html"
    context_object_name = "branches"
    paginate_by = PAGE_SIZE
    query_form = BranchQuery

    def get_queryset(self):
        queryset = (
            super()
            .get_queryset()
            .select_related("community", "secretary__resident")
            .annotate(
                group_count=selectors.count_of(PartyGroup, "branch"),
                member_count=selectors.count_of(PartyMember, "branch"),
            )
            .prefetch_related(Prefetch("compounds", queryset=Compound.objects.order_by("name")))
            .order_by("community__code", "name", "pk")
        )
        if self.selected_community is not None:
            queryset = queryset.filter(community=self.selected_community)
        if self.query["kind"]:
            queryset = queryset.filter(kind=self.query["kind"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        coverage = selectors.coverage_counts(self.request.user, community=self.selected_community)
        query = f"?community={self.selected_community.pk}" if self.selected_community else ""
        context.update(
            kinds=PartyBranch.Kind.choices,
            selected_kind=self.query["kind"] or "",
            coverage_cards=[
                {
                    "kind": "compounds",
                    "label": _("无党支部的小区"),
                    "count": coverage["compounds_without_branch"],
                    "total": coverage["compounds_total"],
                    "url": reverse("partybuilding:coverage", args=["compounds"]) + query,
                },
                {
                    "kind": "buildings",
                    "label": _("无党小组的楼栋"),
                    "count": coverage["buildings_without_group"],
                    "total": coverage["buildings_total"],
                    "url": reverse("partybuilding:coverage", args=["buildings"]) + query,
                },
                {
                    "kind": "households",
                    "label": _("未联系中心户的住户"),
                    "count": coverage["households_unserved"],
                    "total": coverage["households_total"],
                    "url": reverse("partybuilding:coverage", args=["households"]) + query,
                },
            ],
            can_add=may_change_anything(self.request.user),
            add_url=reverse("partybuilding:branch_add") + query,
        )
        return context


class CoverageView(StaffRequiredMixin, CommunityFilterMixin, PagedListView):
    """The compounds without a branch, buildings without a group, or households unserved."""

    template_name = "partybuilding/coverage.html"
    context_object_name = "rows"
    paginate_by = PAGE_SIZE
    TITLES = {
        "compounds": _("无党支部覆盖的小区"),
        "buildings": _("无党小组覆盖的楼栋"),
        "households": _("未由党员中心户联系服务的住户"),
    }

    def get_queryset(self):
        kind = self.kwargs["kind"]
        if kind not in selectors.COVERAGE_KINDS:
            raise Http404
        filters = {"community": self.selected_community} if self.selected_community else {}
        queryset = selectors.uncovered(kind, self.request.user, **filters)
        if kind == "compounds":
            return queryset.select_related("community").order_by("community__code", "name", "pk")
        if kind == "buildings":
            return queryset.select_related("compound", "community").order_by(
                "community__code", "compound__name", "number", "pk"
            )
        return queryset.select_related("building__compound", "community").order_by(
            "community__code", "compound__name", "building__number", "unit", "room", "pk"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        title = self.TITLES[self.kwargs["kind"]]
        context.update(
            kind=self.kwargs["kind"],
            title=title,
            breadcrumbs=[party_home_crumb()]
            + ([party_home_crumb(self.selected_community)] if self.selected_community else []),
            other_kinds=[
                (kind, label, reverse("partybuilding:coverage", args=[kind])) for kind, label in self.TITLES.items()
            ],
        )
        return context


# --- detail pages ----------------------------------------------------------------------------
class BranchDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """A branch: its compounds, its groups (leader, members, buildings) and its members."""

    model = PartyBranch
    template_name = "partybuilding/branch_detail.html"
    context_object_name = "branch"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("community__street", "secretary__resident")
            .prefetch_related(Prefetch("compounds", queryset=Compound.objects.order_by("name")))
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, branch = self.request.user, self.object
        groups = (
            PartyGroup.objects.restrict(user, VIEW)
            .filter(branch=branch)
            .select_related("leader__resident")
            .annotate(member_count=selectors.count_of(PartyMember, "group"))
            .prefetch_related(
                Prefetch(
                    "buildings",
                    queryset=Building.objects.select_related("compound").order_by("compound__name", "number"),
                )
            )
            .order_by("name", "pk")
        )
        members = (
            PartyMember.objects.restrict(user, VIEW)
            .filter(branch=branch)
            .select_related("resident__household__building__compound", "group")
            .order_by("group__name", "resident__name", "pk")
        )
        context.update(
            breadcrumbs=branch_crumbs(branch)[:-1],
            groups=groups,
            members=members,
            can_change=may_change(branch, user),
        )
        return context


class GroupDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """A group: its members, the buildings it covers and the central households in them."""

    model = PartyGroup
    template_name = "partybuilding/group_detail.html"
    context_object_name = "group"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("branch__community", "leader__resident")
            .prefetch_related(
                Prefetch(
                    "buildings",
                    queryset=Building.objects.select_related("compound").order_by("compound__name", "number"),
                )
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, group = self.request.user, self.object
        members = (
            PartyMember.objects.restrict(user, VIEW)
            .filter(group=group)
            .select_related("resident__household__building__compound")
            .order_by("resident__name", "pk")
        )
        centrals = (
            CentralHousehold.objects.restrict(user, VIEW)
            .filter(household__building__party_groups=group)
            .select_related("household__building__compound", "member__resident")
            .annotate(served_count=selectors.count_of(selectors.ServedHousehold, "centralhousehold"))
            .order_by("household__building__number", "household__unit", "household__room", "pk")
        )
        context.update(
            breadcrumbs=branch_crumbs(group.branch),
            members=members,
            central_households=centrals,
            can_change=may_change(group, user),
        )
        return context


class MemberDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """A party member: where they live, their branch and group, the central household they run."""

    model = PartyMember
    template_name = "partybuilding/member_detail.html"
    context_object_name = "member"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "resident__household__building__compound",
                "branch__community",
                "group",
            )
            .prefetch_related(
                Prefetch(
                    "central_households",
                    queryset=CentralHousehold.objects.select_related("household__building").order_by("pk"),
                )
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = self.object
        crumbs = branch_crumbs(member.branch)
        if member.group is not None:
            crumbs.append(member.group)
        context.update(
            breadcrumbs=crumbs,
            is_secretary=member.branch.secretary_id == member.pk,
            is_leader=member.group is not None and member.group.leader_id == member.pk,
            can_change=may_change(member, self.request.user),
        )
        return context


class CentralHouseholdDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """A central household: the household, its party member, and the households it serves."""

    model = CentralHousehold
    template_name = "partybuilding/central_household_detail.html"
    context_object_name = "central"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "household__building__compound",
                "member__resident",
                "member__branch__community",
                "member__group",
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, central = self.request.user, self.object
        served = (
            Household.objects.restrict(user, VIEW)
            .filter(served_by=central)
            .select_related("building__compound")
            .order_by("compound__name", "building__number", "unit", "room")
        )
        crumbs = branch_crumbs(central.member.branch)
        if central.member.group is not None:
            crumbs.append(central.member.group)
        context.update(breadcrumbs=crumbs, served=served, can_change=may_change(central, user))
        return context
