"""Meeting forms. Forms validate and shape input; every write is a service (``services.py``)
that the view calls with ``cleaned_data``. Model choices are limited to the user's scope
(``baohe.forms.ScopedFormMixin``) or to the meeting at hand."""

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.forms import RowChoiceField, ScopedFormMixin, ScopedModelForm, StyledFormMixin
from baohe.query import (
    ChoiceField,
    FlagField,
    IdField,
    IntegerField,
    QueryForm,
    TextField,
    parse_int,
    validate_datetime,
)
from baohe.uploads import MAX_BYTES
from communities.models import Community, Compound, Resident
from service_requests.models import ServiceRequest

from . import selectors
from .models import Invitee, Meeting, SupervisionTeam
from .services import MAX_DECISIONS

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

INVITE_GROUPS = (
    ("requesters", _("提出诉求的居民")),
    ("heads", _("楼栋长")),
    ("party", _("党支部书记和楼栋党小组长")),
    ("property", _("物业公司")),
    ("volunteers", _("义务监督队队员")),
)
# Words in a line of "other invitees" that name the role (the first that matches wins).
ROLE_WORDS = (
    ("楼栋长", Invitee.Role.BUILDING_HEAD),
    ("党员", Invitee.Role.PARTY_MEMBER),
    ("物业", Invitee.Role.PROPERTY_COMPANY),
    ("志愿者", Invitee.Role.VOLUNTEER),
    ("监督", Invitee.Role.VOLUNTEER),
    ("居民", Invitee.Role.RESIDENT),
)
SEPARATORS = re.compile(r"[\s,，、;；]+")


def parse_people(text):
    """``[{"role", "name"}]`` from lines like "娄某 志愿者" or "和美物业公司" (role guessed, else 其他)."""
    people = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = [p for p in SEPARATORS.split(line) if p]
        name, rest = parts[0], " ".join(parts[1:])
        role = next((r for word, r in ROLE_WORDS if word in rest), None)
        role = role or next((r for word, r in ROLE_WORDS if word in name), Invitee.Role.OTHER)
        people.append({"role": role, "name": name[:100], "resident": None})
    return people


class RequestChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, request):
        description = request.description if len(request.description) <= 40 else request.description[:40] + "…"
        return f"{request.number} · {request.category.name} · {request.compound.name} · {description}"


class CompoundChoiceField(RowChoiceField):
    def label_from_instance(self, compound):
        return f"{compound.community.name} · {compound.name}"


class UserChoiceField(RowChoiceField):
    def label_from_instance(self, user):
        return str(user)


class ResidentChoiceField(RowChoiceField):
    def label_from_instance(self, resident):
        return f"{resident.name}（{resident.household.building.label}）"


class ResidentsChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, resident):
        return f"{resident.name}（{resident.household.building.label}）"


# --- what the pages read from the query string (baohe.query: a bad value is ignored, with a notice) ---
class IdListField(TextField):
    """Comma-separated ids, e.g. ``?requests=12,15``: every one an id (``baohe.query.IdField``)."""

    default_error_messages = {"invalid": _("请输入以逗号分隔的编号，如 12,15。")}
    MAX_IDS = 50

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 1000)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return []
        ids = [parse_int(part, min_value=1) for part in text.split(",")]
        if None in ids or len(ids) > self.MAX_IDS:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return ids


class MeetingListQuery(QueryForm):
    community = IdField(label=_("社区"))
    compound = IdField(label=_("小区"))
    status = ChoiceField(label=_("状态"), choices=Meeting.Status.choices)
    kind = ChoiceField(label=_("会议形式"), choices=Meeting.Kind.choices)
    q = TextField(label=_("搜索"), max_length=50)
    minutes = ChoiceField(label=_("纪要待记录"), choices=(("missing", _("纪要待记录")),))
    page = IntegerField(label=_("页码"), min_value=1)


class MeetingCreateQuery(QueryForm):
    requests = IdListField(label=_("由诉求发起"))


class ActionListQuery(QueryForm):
    STATES = ("open", "overdue", "done", "all")

    state = ChoiceField(label=_("状态"), choices=[(state, state) for state in STATES], initial="open")
    mine = FlagField(label=_("我负责的"))
    community = IdField(label=_("社区"))
    page = IntegerField(label=_("页码"), min_value=1)


class TeamCommunityForm(forms.Form):
    """The community a new supervision team belongs to (a link's ``?community=`` or the form's
    hidden field): one of ``communities``, the ones the user may change."""

    community = IdField(label=_("社区"))

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.communities = {c.pk: c for c in communities}

    def clean_community(self):
        pk = self.cleaned_data["community"]
        if pk is not None and pk not in self.communities:
            raise forms.ValidationError(_("没有这个社区，或您无权在该社区新建监督队。"), code="not_found")
        return self.communities.get(pk)


# --- planning a meeting ---------------------------------------------------------------------------
class MeetingForm(ScopedFormMixin, forms.Form):
    """计划一次会议: for a community or one compound, optionally from residents' open requests."""

    community = RowChoiceField(label=_("社区"), queryset=Community.objects.order_by("code"))
    compound = CompoundChoiceField(
        label=_("小区"),
        queryset=Compound.objects.select_related("community").order_by("community__code", "name"),
        required=False,
        empty_label=_("全社区"),
        help_text=_("为某个小区召开时选择；不选即为全社区"),
    )
    topic = forms.CharField(label=_("议题"), max_length=200, error_messages={"required": _("请填写议题。")})
    kind = forms.ChoiceField(label=_("会议形式"), choices=Meeting.Kind.choices, initial=Meeting.Kind.COUNCIL)
    scheduled_at = forms.DateTimeField(
        label=_("会议时间"),
        widget=DATETIME_WIDGET,
        validators=[validate_datetime],
        error_messages={"required": _("请填写会议时间。")},
    )
    place = forms.CharField(label=_("地点"), max_length=200, error_messages={"required": _("请填写会议地点。")})
    agenda = forms.CharField(
        label=_("议程"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("一、通报情况；二、听取意见；三、协商表决")}),
    )
    requests = RequestChoiceField(
        label=_("由诉求发起"),
        queryset=ServiceRequest.objects.none(),
        required=False,
        help_text=_("勾选本社区未办结的诉求，会议将回应它们；待签收的诉求会同时签收，并告知居民。"),
    )
    invite = forms.MultipleChoiceField(
        label=_("邀请"),
        choices=INVITE_GROUPS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=["requesters", "heads", "party", "property"],
    )
    other_invitees = forms.CharField(
        label=_("其他参会人员"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("每行一位，如：\n王某 居民代表\n施工单位项目经理")}),
        help_text=_("每行一位：姓名或单位，后面可写身份（楼栋长、党员、物业、志愿者、居民）"),
    )

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.editing = editing
        if editing:
            for name in ("community", "requests", "invite", "other_invitees"):
                del self.fields[name]
        else:
            self.fields["requests"].queryset = selectors.open_requests(user)
        for name in ("requests", "invite"):
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        community = data.get("community") or (self.initial.get("community") if self.editing else None)
        compound = data.get("compound")
        if community is not None and compound is not None and compound.community_id != community.pk:
            self.add_error(
                "compound",
                _("小区「%(compound)s」不属于社区「%(community)s」。")
                % {"compound": compound.name, "community": community.name},
            )
        for request in data.get("requests") or ():
            if community is not None and request.community_id != community.pk:
                self.add_error(
                    "requests",
                    _("诉求 %(number)s 不属于社区「%(community)s」，不能纳入本次会议。")
                    % {"number": request.number, "community": community.name},
                )
        return data

    def invitees(self):
        data = self.cleaned_data
        people = selectors.suggested_invitees(
            community=data["community"],
            compound=data.get("compound"),
            requests=data.get("requests") or (),
            groups=tuple(data.get("invite") or ()),
        )
        return people + parse_people(data.get("other_invitees"))


class CancelForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=300, error_messages={"required": _("请填写取消原因。")})


# --- attendance -----------------------------------------------------------------------------------
class InviteeChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, invitee):
        return f"{invitee.name}（{invitee.get_role_display()}）"


class AttendanceForm(StyledFormMixin, forms.Form):
    """到会情况: who of the invitees came, walk-ins, and when the meeting was held."""

    held_at = forms.DateTimeField(label=_("实际召开时间"), widget=DATETIME_WIDGET, validators=[validate_datetime])
    attended = InviteeChoiceField(label=_("到会人员"), queryset=Invitee.objects.none(), required=False)
    extra = forms.CharField(
        label=_("临时到会人员"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("每行一位：姓名 身份")}),
    )

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attended"].queryset = meeting.invitees.order_by("pk")
        self.fields["attended"].widget.attrs["class"] = "form-check-input"
        self.initial.setdefault("held_at", timezone.localtime(meeting.took_place_at))
        self.initial.setdefault("attended", [i.pk for i in meeting.invitees.all() if i.attended])


# --- the minutes ----------------------------------------------------------------------------------
class MinutesForm(StyledFormMixin, forms.Form):
    held_at = forms.DateTimeField(label=_("实际召开时间"), widget=DATETIME_WIDGET, validators=[validate_datetime])
    minutes = forms.CharField(
        label=_("会议纪要"),
        max_length=10000,
        error_messages={"required": _("请填写会议纪要。")},
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": _("到会情况、讨论经过、表决结果")}),
    )

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("held_at", timezone.localtime(meeting.took_place_at))


class DecisionForm(StyledFormMixin, forms.Form):
    """One row of the minutes: a decision and one action item for it. A row whose decision is
    left empty but whose task is filled adds another action item to the decision above."""

    text = forms.CharField(
        label=_("决议内容"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    task = forms.CharField(label=_("落实事项"), max_length=300, required=False, help_text=_("不填则同决议内容"))
    owner = UserChoiceField(label=_("负责人"), queryset=None, required=False, empty_label=_("（填写负责单位）"))
    owner_label = forms.CharField(
        label=_("负责单位"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：物业公司")}),
    )
    due_on = forms.DateField(label=_("完成期限"), required=False, widget=DATE_WIDGET, validators=[validate_datetime])
    requests = forms.ModelMultipleChoiceField(
        label=_("回应的诉求"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    supervision_team = RowChoiceField(label=_("义务监督队"), queryset=None, required=False, empty_label=_("（不指定）"))

    def __init__(self, *args, meeting, owners, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["requests"].queryset = meeting.requests.order_by("pk")
        self.fields["requests"].initial = list(meeting.requests.order_by("pk").values_list("pk", flat=True))
        self.fields["requests"].widget.attrs["class"] = "form-check-input"
        self.fields["requests"].label_from_instance = lambda r: r.number
        self.fields["supervision_team"].queryset = teams

    def clean(self):
        data = super().clean()
        if not (data.get("text") or data.get("task")):
            if data.get("due_on") or data.get("owner") or data.get("owner_label"):
                self.add_error("text", _("请填写决议内容。"))
            return data
        if data.get("due_on") is None and "due_on" not in self.errors:
            self.add_error("due_on", _("请填写完成期限。"))
        elif data.get("due_on") and data["due_on"] < timezone.localdate():
            self.add_error("due_on", _("完成期限不能早于今天。"))
        if data.get("owner") is None and not (data.get("owner_label") or "").strip() and "owner" not in self.errors:
            self.add_error("owner", _("请选择负责人，或填写负责单位。"))
        return data


class BaseDecisionFormSet(forms.BaseFormSet):
    def decisions(self, first_row_error=None):
        """The service's ``decisions`` list; a row with only a task joins the decision above."""
        decisions = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            text, task = (data.get("text") or "").strip(), (data.get("task") or "").strip()
            if not (text or task):
                continue
            item = {
                "task": task,
                "owner": data.get("owner"),
                "owner_label": data.get("owner_label", ""),
                "due_on": data.get("due_on"),
                "requests": list(data.get("requests") or ()),
            }
            if text:
                decisions.append(
                    {"text": text, "supervision_team": data.get("supervision_team"), "action_items": [item]}
                )
            elif decisions:
                decisions[-1]["action_items"].append(item)
            else:
                form.add_error("text", _("第一行请填写决议内容。"))
        return decisions


DecisionFormSet = forms.formset_factory(
    DecisionForm, formset=BaseDecisionFormSet, extra=4, max_num=MAX_DECISIONS, validate_max=True
)


# --- action items and supervision ----------------------------------------------------------------
class CompleteForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("完成情况"), max_length=500, required=False)


class AttachTeamForm(StyledFormMixin, forms.Form):
    supervision_team = RowChoiceField(label=_("义务监督队"), queryset=None, required=False)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervision_team"].queryset = teams


class InspectionForm(StyledFormMixin, forms.Form):
    """监督检查: when, who of the team, OK or a problem found, what they saw, and a photo."""

    inspected_at = forms.DateTimeField(label=_("检查时间"), widget=DATETIME_WIDGET, validators=[validate_datetime])
    inspector = ResidentChoiceField(label=_("监督员"), queryset=Resident.objects.none(), required=False)
    ok = forms.TypedChoiceField(
        label=_("检查结论"),
        choices=(("1", _("质量合格")), ("0", _("发现问题，需整改"))),
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    finding = forms.CharField(
        label=_("检查情况"),
        max_length=2000,
        error_messages={"required": _("请填写检查情况。")},
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("检查了什么，发现什么问题，是否已要求整改")}),
    )
    photo = forms.FileField(
        label=_("照片"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text=_("可选，JPEG、PNG 或 WebP，不超过 10 MB"),
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("inspected_at", timezone.localtime().replace(second=0, microsecond=0))
        if team is not None:
            ids = [team.leader_id, *team.members.values_list("pk", flat=True)]
            self.fields["inspector"].queryset = (
                Resident.objects.filter(pk__in=[pk for pk in ids if pk])
                .select_related("household__building")
                .order_by("name", "pk")
            )
        self.fields["ok"].widget.attrs.pop("class", None)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.size is not None and photo.size > MAX_BYTES:
            raise forms.ValidationError(_("照片超过 10 MB，请压缩后再上传。"))
        return photo


class SupervisionTeamForm(ScopedModelForm):
    """义务监督队: a name, the compound it watches, a leader and members among active residents."""

    leader = ResidentChoiceField(label=_("队长"), queryset=Resident.objects.none(), required=False)
    members = ResidentsChoiceField(label=_("队员"), queryset=Resident.objects.none(), required=False)

    class Meta:
        model = SupervisionTeam
        fields = ("compound", "name", "leader", "members", "note")
        field_classes = {"compound": CompoundChoiceField}

    def __init__(self, *args, user, community, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.instance.community = community
        self.fields["compound"].queryset = (
            self.fields["compound"].queryset.filter(community=community).select_related("community")
        )
        self.fields["compound"].empty_label = _("全社区")
        candidates = selectors.team_candidates(community=community)
        self.fields["leader"].queryset = candidates
        self.fields["members"].queryset = candidates
        self.fields["members"].widget.attrs["class"] = "form-check-input"
