"""Volunteer forms. Every model choice is limited to the user's change scope
(``baohe.forms.ScopedModelForm``); the saves go through ``volunteers.services``.

The staff lists' GET parameters are declared here too (``baohe.query.QueryForm``, read with
``read_query``), built on partybuilding's one ``?community=`` filter (``CommunityQuery``)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.forms import RowChoiceField, ScopedFormMixin, ScopedModelForm, StyledFormMixin
from baohe.query import ChoiceField, IdField, QueryForm, TextField, YearField, parse_int
from communities.models import Household, Resident
from communities.widgets import use_autocomplete
from partybuilding.forms import CommunityQuery, this_year

from .models import Activity, ServiceHours, ServiceProject, Volunteer, VolunteerTeam


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _resident_label(resident):
    household = resident.household
    return f"{resident.name}（{household.building.compound.name} {household.building.label} {household.address}）"


def _volunteer_label(volunteer):
    return _resident_label(volunteer.resident)


def _volunteer_choices(field, community_id=None):
    field.queryset = (
        field.queryset.filter(is_active=True)
        .select_related("resident__household__building__compound")
        .order_by("resident__name", "pk")
    )
    if community_id is not None:
        field.queryset = field.queryset.filter(community_id=community_id)
    field.label_from_instance = _volunteer_label


class TeamForm(ScopedModelForm):
    class Meta:
        model = VolunteerTeam
        fields = ("community", "compound", "name", "description", "leader", "founded_on", "is_active")
        widgets = {"founded_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        compound = self.fields["compound"]
        compound.queryset = compound.queryset.select_related("community").order_by("community__code", "name")
        compound.label_from_instance = lambda c: f"{c.community.name} · {c.name}"
        if self.instance.pk:
            # A team stays in its community; its leader is one of its members.
            self.fields["community"].disabled = True
            compound.queryset = compound.queryset.filter(community_id=self.instance.community_id)
            leader = self.fields["leader"]
            _volunteer_choices(leader)
            leader.queryset = leader.queryset.filter(memberships__team=self.instance)
        else:
            del self.fields["leader"]

    def clean(self):
        cleaned = super().clean()
        community, compound = cleaned.get("community"), cleaned.get("compound")
        if community is not None and compound is not None and compound.community_id != community.pk:
            self.add_error(
                "compound",
                _("小区 %(compound)s 不属于社区 %(community)s。") % {"compound": compound, "community": community},
            )
        return cleaned


class ProjectForm(ScopedModelForm):
    class Meta:
        model = ServiceProject
        fields = ("community", "kind", "name", "description", "owner", "is_active")
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = owner.queryset.select_related("community").order_by("community__code", "name")
        owner.label_from_instance = lambda t: f"{t.community.name} · {t.name}"
        if self.instance.pk:
            self.fields["community"].disabled = True
            owner.queryset = owner.queryset.filter(community_id=self.instance.community_id)


class ActivityForm(ScopedModelForm):
    class Meta:
        model = Activity
        fields = (
            "project",
            "title",
            "description",
            "team",
            "visibility",
            "compound",
            "place",
            "starts_at",
            "ends_at",
            "signup_deadline",
            "capacity",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "signup_deadline": DateTimeInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at", "signup_deadline"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        project, team, compound = self.fields["project"], self.fields["team"], self.fields["compound"]
        project.queryset = (
            project.queryset.filter(is_active=True).select_related("community").order_by("community__code", "name")
        )
        project.label_from_instance = lambda p: f"{p.community.name} · {p.name}"
        team.queryset = team.queryset.select_related("community").order_by("community__code", "name")
        team.label_from_instance = lambda t: f"{t.community.name} · {t.name}"
        compound.queryset = compound.queryset.select_related("community").order_by("community__code", "name")
        compound.label_from_instance = lambda c: f"{c.community.name} · {c.name}"
        if self.instance.pk:
            community_id = self.instance.community_id
            project.queryset = project.queryset.filter(community_id=community_id)
            team.queryset = team.queryset.filter(community_id=community_id)
            compound.queryset = compound.queryset.filter(community_id=community_id)


class VolunteerRegisterForm(ScopedFormMixin, StyledFormMixin, forms.Form):
    """Staff register a resident of their community as a volunteer."""

    resident = RowChoiceField(label=_("居民"), queryset=Resident.objects.all())
    skills = forms.CharField(label=_("特长技能"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        resident = self.fields["resident"]
        resident.queryset = (
            resident.queryset.filter(volunteer__isnull=True)
            .select_related("household__building__compound")
            .order_by("household__compound__name", "name", "pk")
        )
        resident.label_from_instance = _resident_label
        use_autocomplete(resident, "residents")


class AddMemberForm(ScopedFormMixin, StyledFormMixin, forms.Form):
    volunteer = RowChoiceField(label=_("志愿者"), queryset=Volunteer.objects.all())

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        _volunteer_choices(self.fields["volunteer"], team.community_id)
        self.fields["volunteer"].queryset = self.fields["volunteer"].queryset.exclude(memberships__team=team)


class StaffSignupForm(ScopedFormMixin, StyledFormMixin, forms.Form):
    """Staff sign a volunteer up (e.g. an elderly volunteer without a phone)."""

    volunteer = RowChoiceField(label=_("志愿者"), queryset=Volunteer.objects.all())

    def __init__(self, *args, activity, **kwargs):
        super().__init__(*args, **kwargs)
        _volunteer_choices(self.fields["volunteer"], activity.community_id)


class HoursRecordForm(ScopedModelForm):
    """Hours served outside an activity's check-in (a meal round, a doctor's visit …)."""

    class Meta:
        model = ServiceHours
        fields = ("volunteer", "project", "team", "served_on", "hours", "households", "note")
        widgets = {"served_on": DateInput(), "households": forms.SelectMultiple(attrs={"size": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _volunteer_choices(self.fields["volunteer"])
        project, team, households = self.fields["project"], self.fields["team"], self.fields["households"]
        project.queryset = project.queryset.select_related("community").order_by("community__code", "name")
        project.label_from_instance = lambda p: f"{p.community.name} · {p.name}"
        team.queryset = team.queryset.select_related("community").order_by("community__code", "name")
        team.label_from_instance = lambda t: f"{t.community.name} · {t.name}"
        households.queryset = (
            Household.objects.restrict(self.user, self.scope_action)
            .select_related("building__compound")
            .order_by("compound__name", "building__number", "unit", "room")
        )
        households.label_from_instance = lambda h: f"{h.building.compound.name} {h.building.label} {h.address}"
        self.fields["served_on"].initial = timezone.localdate()


class IdListField(forms.Field):
    """Ids from repeated checkboxes (``ids=3&ids=7``); the service decides which exist."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = {parse_int(v, min_value=1) for v in values}
        if None in ids:
            raise forms.ValidationError(_("编号必须是整数。"))
        return sorted(ids)


class ReviewForm(StyledFormMixin, forms.Form):
    """Bulk approval or rejection of hours (the ids come from the list's checkboxes)."""

    ACTIONS = (("approve", _("审核通过")), ("reject", _("不通过")))

    ids = IdListField(error_messages={"required": _("请至少选择一条服务时长。")})
    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(label=_("不通过原因"), max_length=200, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("请填写未通过的原因。"))
        return cleaned


# --- GET parameters of the staff lists and the export (baohe.query) --------------------------------------
ACTIVITY_WHEN = (("upcoming", _("未结束")), ("past", _("已结束")), ("all", _("全部")))
HOURS_STATUS_ALL = "all"


class ActivityQuery(CommunityQuery):
    when = ChoiceField(label=_("时间"), choices=ACTIVITY_WHEN, initial="upcoming")


class HoursQuery(CommunityQuery):
    """Pending hours unless ``?status=`` names another status, or ``all``."""

    status = ChoiceField(
        label=_("状态"),
        choices=[*ServiceHours.Status.choices, (HOURS_STATUS_ALL, _("全部"))],
        initial=ServiceHours.Status.PENDING,
    )


class VolunteerQuery(CommunityQuery):
    q = TextField(label=_("姓名"))


class HoursExportQuery(QueryForm):
    """The export's ``?year=`` (default: this year) and ``?community=``: an id, looked up in the
    user's scope by the view (one outside it answers 404, like a missing one)."""

    year = YearField(label=_("年度"), initial=this_year)
    community = IdField(label=_("社区"))
