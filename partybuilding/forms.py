"""Party organisation forms, and the rules on their many-to-many choices.

Every model choice is restricted to the user's change scope (``ScopedModelForm``). Django's
``Model.clean()`` cannot see many-to-many values (they are set after the row is saved), so
the rules on them live here as plain functions that the forms and the API serializers share:

- a branch covers only compounds of its own community;
- a group covers only buildings of its branch's community;
- a central household serves only households of its own community, and not itself.

Each returns ``None`` or the Chinese message to show on the field.

The pages' GET parameters are declared here too (``baohe.query.QueryForm``, read with
``read_query``): ``CommunityQuery`` is the one ``?community=`` filter of every list that has one
(volunteers' lists included), ``YearQuery`` the 千万工程 pages' ``?year=``.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from baohe.forms import ScopedModelForm
from baohe.query import ChoiceField, IdField, QueryForm, YearField
from communities.widgets import use_autocomplete

from .models import (
    Backbone,
    BackboneTarget,
    CentralHousehold,
    Course,
    PartyBranch,
    PartyGroup,
    PartyMember,
    TrainingSession,
)

NAME_SEPARATOR = "、"


def _names(rows):
    return NAME_SEPARATOR.join(str(row) for row in rows)


def branch_compounds_error(community, compounds):
    """A branch covers compounds of its own community only."""
    outside = [compound for compound in compounds if compound.community_id != community.pk]
    if not outside:
        return None
    return _("小区 %(names)s 不属于社区 %(community)s，党支部只能覆盖本社区的小区。") % {
        "names": _names(outside),
        "community": community,
    }


def group_buildings_error(branch, buildings):
    """A group covers buildings of its branch's community only."""
    outside = [building for building in buildings if building.community_id != branch.community_id]
    if not outside:
        return None
    return _("楼栋 %(names)s 不属于党支部 %(branch)s 所在社区，党小组只能覆盖本社区的楼栋。") % {
        "names": _names(f"{building.compound.name}{building.label}" for building in outside),
        "branch": branch,
    }


def served_households_error(household, served):
    """A central household serves households of its own community, other than itself."""
    if any(row.pk == household.pk for row in served):
        return _("中心户不能把自己这一户列为联系服务的住户。")
    outside = [row for row in served if row.community_id != household.community_id]
    if not outside:
        return None
    return _("住户 %(names)s 不在中心户所在社区，不能联系服务。") % {"names": _names(outside)}


def central_household_taken_error(household, instance=None):
    """A household is at most one central household."""
    taken = CentralHousehold.objects.filter(household=household)
    if instance is not None and instance.pk:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        return _("该党员所在的住户已经是党员中心户。")
    return None


def _member_label(member):
    return member.resident.name


def _building_label(building):
    return f"{building.compound.name} {building.label}"


def _household_label(household):
    return f"{household.building.compound.name} {household.building.label} {household.address}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PartyBranchForm(ScopedModelForm):
    class Meta:
        model = PartyBranch
        fields = ("community", "name", "kind", "compounds", "secretary", "founded_on")
        widgets = {"founded_on": DateInput(), "compounds": forms.SelectMultiple(attrs={"size": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        compounds = self.fields["compounds"]
        compounds.queryset = compounds.queryset.select_related("community").order_by("community__code", "name")
        compounds.label_from_instance = lambda compound: f"{compound.community.name} · {compound.name}"
        if self.instance.pk:
            # A branch stays in its community (its members and groups live there); its
            # secretary is one of its own members.
            self.fields["community"].disabled = True
            secretary = self.fields["secretary"]
            secretary.queryset = secretary.queryset.filter(branch=self.instance).select_related("resident")
            secretary.label_from_instance = _member_label
        else:
            del self.fields["secretary"]

    def clean(self):
        cleaned = super().clean()
        community, compounds = cleaned.get("community"), cleaned.get("compounds")
        if community is not None and compounds:
            error = branch_compounds_error(community, compounds)
            if error:
                self.add_error("compounds", error)
        return cleaned


class PartyGroupForm(ScopedModelForm):
    class Meta:
        model = PartyGroup
        fields = ("branch", "name", "kind", "buildings", "leader")
        widgets = {"buildings": forms.SelectMultiple(attrs={"size": 10})}

    def __init__(self, *args, branch=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branch is not None:
            # Created under the branch the page names.
            self.fields["branch"].disabled = True
        branch = branch or (self.instance.branch if self.instance.branch_id else None)
        buildings = self.fields["buildings"]
        buildings.queryset = buildings.queryset.select_related("compound").order_by("compound__name", "number")
        if branch is not None:
            buildings.queryset = buildings.queryset.filter(community_id=branch.community_id)
        buildings.label_from_instance = _building_label
        if self.instance.pk:
            # A group stays in its branch; its leader is one of its own members.
            self.fields["branch"].disabled = True
            self.fields["branch"].queryset = self.fields["branch"].queryset.filter(pk=self.instance.branch_id)
            leader = self.fields["leader"]
            leader.queryset = leader.queryset.filter(group=self.instance).select_related("resident")
            leader.label_from_instance = _member_label
        else:
            del self.fields["leader"]

    def clean(self):
        cleaned = super().clean()
        branch, buildings = cleaned.get("branch"), cleaned.get("buildings")
        if branch is not None and buildings:
            error = group_buildings_error(branch, buildings)
            if error:
                self.add_error("buildings", error)
        return cleaned


class PartyMemberForm(ScopedModelForm):
    class Meta:
        model = PartyMember
        fields = ("resident", "branch", "group", "joined_on")
        widgets = {"joined_on": DateInput()}

    def __init__(self, *args, branch=None, **kwargs):
        super().__init__(*args, **kwargs)
        branch = branch or (self.instance.branch if self.instance.branch_id else None)
        resident, group = self.fields["resident"], self.fields["group"]
        resident.queryset = resident.queryset.select_related("household__building")
        resident.label_from_instance = lambda r: f"{r.name}（{r.household.building.label} {r.household.address}）"
        group.queryset = group.queryset.select_related("branch")
        group.label_from_instance = lambda g: f"{g.branch.name} · {g.name}"
        if branch is not None:
            # Members of a branch live in its community; their group is in the same community.
            group.queryset = group.queryset.filter(community_id=branch.community_id)
            if not self.instance.pk:
                # Registered in the branch the page names, from its community's residents.
                self.fields["branch"].disabled = True
                resident.queryset = resident.queryset.filter(
                    community_id=branch.community_id, party_membership__isnull=True
                )
                use_autocomplete(resident, "residents", community=branch.community_id)
        if self.instance.pk:
            # The membership belongs to one resident; render only that one choice.
            resident.disabled = True
            resident.queryset = resident.queryset.filter(pk=self.instance.resident_id)


class CentralHouseholdForm(ScopedModelForm):
    """The household is the member's own; the form asks for the member and whom they serve."""

    class Meta:
        model = CentralHousehold
        fields = ("member", "served_households", "rated_on")
        widgets = {"rated_on": DateInput()}
        help_texts = {"member": gettext_lazy("中心户即该党员所在的住户。")}

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        member = member or (self.instance.member if self.instance.member_id else None)
        member_field, served = self.fields["member"], self.fields["served_households"]
        member_field.queryset = member_field.queryset.select_related("resident__household__building")
        member_field.label_from_instance = lambda m: f"{m.resident.name}（{_household_label_short(m)}）"
        served.queryset = served.queryset.select_related("building__compound").order_by(
            "compound__name", "building__number", "unit", "room"
        )
        served.label_from_instance = _household_label
        use_autocomplete(served, "households")
        if member is not None:
            community_id = member.community_id
            member_field.queryset = member_field.queryset.filter(community_id=community_id)
            served.queryset = served.queryset.filter(community_id=community_id).exclude(pk=member.resident.household_id)
            use_autocomplete(served, "households", community=community_id)
            self.initial.setdefault("member", member.pk)

    def clean(self):
        cleaned = super().clean()
        member = cleaned.get("member")
        if member is None:
            return cleaned
        household = member.resident.household
        error = central_household_taken_error(household, self.instance)
        if error:
            self.add_error("member", error)
            return cleaned
        # The central household is the member's own household.
        self.instance.household = household
        served = cleaned.get("served_households")
        if served:
            error = served_households_error(household, served)
            if error:
                self.add_error("served_households", error)
        return cleaned


def _household_label_short(member):
    household = member.resident.household
    return f"{household.building.label} {household.address}"


# --- 千万工程 -----------------------------------------------------------------------------------------
class BackboneTargetForm(ScopedModelForm):
    class Meta:
        model = BackboneTarget
        fields = ("street", "year", "party_quota", "mass_quota")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["street"].disabled = True
            self.fields["year"].disabled = True


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class TrainingSessionForm(ScopedModelForm):
    class Meta:
        model = TrainingSession
        fields = ("course", "street", "community", "starts_at", "place", "teacher")
        widgets = {"starts_at": DateTimeInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.fields["course"].queryset = Course.objects.filter(is_active=True).order_by("name")
        community = self.fields["community"]
        community.queryset = community.queryset.select_related("street").order_by("code")
        community.label_from_instance = lambda c: f"{c.street.name} · {c.name}"
        # Street-level sessions are for street staff; the street choice also lists the street
        # of a community the user works in, so community staff can open a session there.
        from communities.models import Street

        self.fields["street"].queryset = Street.objects.restrict(self.user, "view").order_by("code")

    def clean(self):
        cleaned = super().clean()
        street, community = cleaned.get("street"), cleaned.get("community")
        if street is not None and community is None:
            from communities.models import Street

            if not Street.objects.restrict(self.user, "change").filter(pk=street.pk).exists():
                self.add_error("community", _("您只能在自己的社区开班，请选择社区。"))
        return cleaned


# --- GET parameters of the pages (baohe.query) --------------------------------------------------------
def this_year():
    return timezone.localdate().year


class CommunityQuery(QueryForm):
    """``?community=<id>``: one of ``communities`` (those the user may see). An id that does not
    parse, or names a community outside that list, is ignored with a notice."""

    community = IdField(label=gettext_lazy("社区"))

    def __init__(self, data=None, *, communities, **kwargs):
        super().__init__(data, **kwargs)
        self.communities = communities

    def clean_community(self):
        pk = self.cleaned_data.get("community")
        if pk is None:
            return None
        community = next((c for c in self.communities if c.pk == pk), None)
        if community is None:
            raise ValidationError(gettext_lazy("社区不存在或不在您的范围内。"), code="not_found")
        return community


class BranchQuery(CommunityQuery):
    kind = ChoiceField(label=gettext_lazy("类型"), choices=PartyBranch.Kind.choices)


class YearQuery(QueryForm):
    """``?year=`` of the 千万工程 pages (default: this year)."""

    year = YearField(label=gettext_lazy("年度"), initial=this_year)


class StreetProgressQuery(YearQuery):
    kind = ChoiceField(label=gettext_lazy("类别"), choices=Backbone.Kind.choices)


class TargetQuery(YearQuery):
    """What a new target starts from: ``?street=`` (one the user may change) and ``?year=``."""

    street = IdField(label=gettext_lazy("街道"))
