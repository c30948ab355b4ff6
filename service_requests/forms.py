"""Request forms: the resident's submission, staff entry on a resident's behalf, and one small
form per handling step. Forms only validate and shape input; the step itself is a service
(``services.py``), which the view calls with ``cleaned_data``. The GET parameters the pages
read are declared here too (``baohe.query.QueryForm``s, read with ``read_query``).
"""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from accounts.selectors import community_staff
from baohe import query, staging
from baohe.forms import RowChoiceField, StyledFormMixin
from baohe.scoping import CHANGE, VIEW
from communities.models import Building, Compound, Household, Resident
from partybuilding.models import CentralHousehold, PartyGroup

from . import selectors
from .models import ServiceRequest
from .selectors import SORTS

contact_phone_validator = RegexValidator(r"^[0-9+\- ]{5,20}$", _("请输入有效的联系电话。"))


# --- building blocks ----------------------------------------------------------------------------
# The photo field is the platform's (baohe.staging): 拍照/相册, photos kept across a form error.
PhotosField = staging.PhotosField


class CategoryChoiceField(forms.TypedChoiceField):
    """A leaf category from a select with one optgroup per parent category."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("诉求分类"))
        super().__init__(coerce=int, empty_value=None, **kwargs)

    def load(self):
        self.choices = [("", _("请选择分类")), *selectors.category_choices()]
        self.leaves = {c.pk: c for c in selectors.leaf_categories()}

    def clean(self, value):
        pk = super().clean(value)
        if pk is None:
            return None
        category = self.leaves.get(pk)
        if category is None:
            raise forms.ValidationError(_("请选择一个具体的（二级）分类。"))
        return category


def building_label(building):
    return f"{building.compound.name} {building.label}"


class BaseForm(StyledFormMixin, forms.Form):
    """A plain form with Bootstrap classes; ``user`` (optional here) resolves staged photos."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


# --- submission ---------------------------------------------------------------------------------
class ResidentSubmitForm(BaseForm):
    """A resident files a request about their building (or another building of their compound)."""

    category = CategoryChoiceField()
    building = RowChoiceField(label=_("发生地点"), queryset=Building.objects.none(), empty_label=None)
    address = forms.CharField(
        label=_("具体位置"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：2单元楼道、地下车库入口")}),
    )
    description = forms.CharField(
        label=_("诉求内容"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": _("请描述您遇到的问题和希望怎样解决")}),
    )
    photos = PhotosField()
    contact_time = forms.CharField(
        label=_("方便联系的时间"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：工作日晚上 7 点后")}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].load()
        compounds = user.get_scope(VIEW).compound_ids
        buildings = Building.objects.filter(compound_id__in=sorted(compounds)).select_related("compound")
        self.fields["building"].queryset = buildings.order_by("compound__name", *Building._meta.ordering)
        self.fields["building"].label_from_instance = building_label


STAFF_CHANNELS = [
    (value, label)
    for value, label in ServiceRequest.Channel.choices
    if value in (ServiceRequest.Channel.PHONE, ServiceRequest.Channel.WALK_IN, ServiceRequest.Channel.VISIT)
]


class OnBehalfForm(BaseForm):
    """Staff enter a request that came by phone, at the counter or on a visit."""

    channel = forms.ChoiceField(label=_("来源渠道"), choices=STAFF_CHANNELS)
    category = CategoryChoiceField()
    compound = RowChoiceField(label=_("小区"), queryset=Compound.objects.none(), empty_label=_("请选择小区"))
    building = RowChoiceField(
        label=_("楼栋"), queryset=Building.objects.none(), required=False, empty_label=_("（不限楼栋）")
    )
    household = RowChoiceField(
        label=_("住户"), queryset=Household.objects.none(), required=False, empty_label=_("（不限住户）")
    )
    address = forms.CharField(label=_("具体位置"), max_length=200, required=False)
    description = forms.CharField(label=_("诉求内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    contact_name = forms.CharField(label=_("联系人"), max_length=50)
    contact_mobile = forms.CharField(label=_("联系电话"), max_length=20, validators=[contact_phone_validator])
    contact_time = forms.CharField(label=_("方便联系的时间"), max_length=50, required=False)
    photos = PhotosField()

    PLACE_FIELDS = ("compound", "building", "household")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].load()
        self.fields["compound"].queryset = (
            Compound.objects.restrict(user, CHANGE).select_related("community").order_by("community__code", "name")
        )
        self.fields["compound"].label_from_instance = lambda c: f"{c.community.name} · {c.name}"
        # Buildings follow the chosen compound and households the chosen building (the page
        # reloads these two selects with htmx when the choice above them changes).
        compound_id = self._chosen("compound")
        building_id = self._chosen("building")
        buildings = Building.objects.restrict(user, CHANGE)
        self.fields["building"].queryset = (
            buildings.filter(compound_id=compound_id) if compound_id else buildings.none()
        )
        households = Household.objects.restrict(user, CHANGE).select_related("building")
        self.fields["household"].queryset = (
            households.filter(building_id=building_id, building__compound_id=compound_id)
            if building_id and compound_id
            else households.none()
        )
        self.fields["household"].label_from_instance = lambda h: h.address

    def _chosen(self, name):
        raw = self.data.get(name) if self.is_bound else self.initial.get(name)
        return query.parse_int(getattr(raw, "pk", raw) or "", min_value=1)

    def clean(self):
        cleaned = super().clean()
        compound, building, household = (cleaned.get(name) for name in self.PLACE_FIELDS)
        if building is not None and compound is not None and building.compound_id != compound.pk:
            self.add_error("building", _("楼栋不在所选小区。"))
        if household is not None and building is not None and household.building_id != building.pk:
            self.add_error("household", _("该住户不在所选楼栋。"))
        return cleaned

    def resident_user(self):
        """The account of the resident in the chosen household with the contact mobile, if any."""
        household = self.cleaned_data.get("household")
        mobile = self.cleaned_data.get("contact_mobile")
        if household is None or not mobile:
            return None
        record = (
            Resident.objects.with_mobile(mobile)
            .filter(household=household, user__isnull=False)
            .select_related("user")
            .first()
        )
        return record.user if record else None


# --- handling steps -----------------------------------------------------------------------------
class AcceptForm(BaseForm):
    pass


class AssignForm(BaseForm):
    """分派: to a staff member of the request's community, the building's party group leader, a
    central household of the building, or a volunteer team by name."""

    VOLUNTEER_TEAM = "volunteer_team"

    assignee = forms.ChoiceField(label=_("承办方"))
    team_label = forms.CharField(
        label=_("志愿服务队名称"), max_length=100, required=False, help_text=_("分派给志愿服务队时填写")
    )

    def __init__(self, *args, service_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = {}
        kinds = ServiceRequest.AssigneeKind
        staff = community_staff(service_request.community_id).order_by("name", "username")
        staff_options = []
        for user in staff:
            key = f"staff:{user.pk}"
            self.targets[key] = (kinds.STAFF, user, str(user))
            staff_options.append((key, str(user)))
        party_options = []
        if service_request.building_id:
            groups = (
                PartyGroup.objects.filter(buildings=service_request.building_id, leader__isnull=False)
                .select_related("leader__resident__user")
                .order_by("name")
            )
            for group in groups:
                key = f"party_group:{group.pk}"
                label = f"{group.name} · {group.leader.resident.name}"
                self.targets[key] = (kinds.PARTY_GROUP, group.leader.resident.user, label)
                party_options.append((key, label))
            centrals = (
                CentralHousehold.objects.filter(household__building_id=service_request.building_id)
                .select_related("member__resident__user", "household")
                .order_by("household_id")
            )
            for central in centrals:
                key = f"central_household:{central.pk}"
                label = f"{central.member.resident.name}（{central.household.address}）"
                self.targets[key] = (kinds.CENTRAL_HOUSEHOLD, central.member.resident.user, label)
                party_options.append((key, label))
        choices = [("", _("请选择承办方"))]
        if staff_options:
            choices.append((kinds.STAFF.label, staff_options))
        if party_options:
            choices.append((_("楼栋党小组长 / 党员中心户"), party_options))
        choices.append((kinds.VOLUNTEER_TEAM.label, [(self.VOLUNTEER_TEAM, _("志愿服务队（填写名称）"))]))
        self.fields["assignee"].choices = choices

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("assignee")
        if key == self.VOLUNTEER_TEAM:
            label = (cleaned.get("team_label") or "").strip()
            if not label:
                self.add_error("team_label", _("请填写志愿服务队名称。"))
            cleaned["target"] = (ServiceRequest.AssigneeKind.VOLUNTEER_TEAM, None, label)
        elif key:
            cleaned["target"] = self.targets[key]
        return cleaned


class MessageForm(BaseForm):
    message = forms.CharField(label=_("内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(BaseForm):
    reason = forms.CharField(label=_("理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ExtensionForm(ReasonForm):
    until = forms.DateTimeField(
        label=_("延期至"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    field_order = ("until", "reason")


class ExtensionDecideForm(BaseForm):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("deny", _("驳回"))], widget=forms.HiddenInput)
    note = forms.CharField(label=_("审批意见"), max_length=200, required=False)


class SuperviseForm(BaseForm):
    """督办 (workflow.SUPERVISE): the official's note and the date the community must now finish by."""

    due_at = forms.DateTimeField(
        label=_("督办期限"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    note = forms.CharField(label=_("督办意见"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(MessageForm):
    photos = PhotosField(label=_("办结照片"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].label = _("办理结果")


# --- the resident's follow-up (workflow.URGE, SUPPLEMENT, WITHDRAW) and 我也遇到 (SUPPORT) ----------
class UrgeForm(BaseForm):
    pass


class SupportForm(BaseForm):
    pass


class SupplementForm(MessageForm):
    photos = PhotosField(label=_("补充照片"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].label = _("补充说明")


class WithdrawForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("撤回原因")


class PhotoPublicForm(BaseForm):
    """Staff mark a request's photo public (the compound board, Open311) or private again."""

    public = forms.TypedChoiceField(
        label=_("公开"), choices=[("1", _("公开")), ("0", _("不公开"))], coerce=lambda value: value == "1"
    )


class DuplicateForm(BaseForm):
    original = forms.CharField(
        label=_("原诉求编号"), max_length=20, widget=forms.TextInput(attrs={"placeholder": "BH-20260101-0001"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_original(self):
        number = self.cleaned_data["original"].strip().upper()
        original = ServiceRequest.objects.restrict(self.user, VIEW).filter(number=number).first()
        if original is None:
            raise forms.ValidationError(_("未找到编号为 %(number)s 的诉求。") % {"number": number})
        return original


class CloseForm(BaseForm):
    note = forms.CharField(label=_("备注"), max_length=300, required=False)


class RatingForm(BaseForm):
    """是否解决 / 是否满意 as big radio buttons, and a comment."""

    solved = forms.ChoiceField(label=_("是否解决"), choices=ServiceRequest.Solved.choices, widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(
        label=_("是否满意"), choices=ServiceRequest.Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("评价意见"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FollowUpForm(RatingForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].label = _("回访记录")


class RerouteForm(BaseForm):
    compound = RowChoiceField(label=_("改派到小区"), queryset=Compound.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = (
            Compound.objects.restrict(user, CHANGE).select_related("community").order_by("community__code", "name")
        )
        self.fields["compound"].label_from_instance = lambda c: f"{c.community.name} · {c.name}"


# --- query parameters (GET) ---------------------------------------------------------------------
# A refused choice is not echoed back (Django's message would repeat whatever was sent).
NOT_A_CHOICE = {"invalid_choice": _("不是可选的值。")}


class QueueQuery(query.QueryForm):
    """The work queue's filters (``selectors.QueueFilter.params`` writes them back) and its cursor."""

    status = query.ChoiceField(
        label=_("状态"),
        choices=[("open", _("待办")), ("all", _("全部")), *ServiceRequest.Status.choices],
        error_messages=NOT_A_CHOICE,
    )
    category = query.IdField(label=_("分类"))
    compound = query.IdField(label=_("小区"))
    mine = query.ChoiceField(label=_("分派给我"), choices=[("1", _("是"))], error_messages=NOT_A_CHOICE)
    due = query.ChoiceField(
        label=_("时限"), choices=[("today", _("今日到期")), ("overdue", _("已超时"))], error_messages=NOT_A_CHOICE
    )
    q = query.TextField(label=_("搜索"))
    sort = query.ChoiceField(label=_("排序"), choices=SORTS, error_messages=NOT_A_CHOICE)
    supervised = query.ChoiceField(
        label=_("督办"), choices=[("1", _("督办中")), ("late", _("督办后仍逾期"))], error_messages=NOT_A_CHOICE
    )
    after = query.TextField(label=_("分页位置"), max_length=512)

    def clean_after(self):
        """A cursor the queue handed out, decoded; anything else is refused (the first page shows)."""
        token = self.cleaned_data["after"]
        if not token:
            return None
        try:
            return selectors.decode_cursor(token)
        except query.InvalidCursor:
            raise forms.ValidationError(_("分页位置无效，已回到第一页。"), code="invalid_cursor") from None


class OnBehalfQuery(query.QueryForm):
    """What the on-behalf page (and its htmx reload of the place fields) is opened with."""

    channel = query.ChoiceField(label=_("来源渠道"), choices=STAFF_CHANNELS, error_messages=NOT_A_CHOICE)
    category = query.IdField(label=_("诉求分类"))
    compound = query.IdField(label=_("小区"))
    building = query.IdField(label=_("楼栋"))
    household = query.IdField(label=_("住户"))


class SimilarQuery(query.QueryForm):
    """The similar-requests box: the building and category chosen so far."""

    building = query.IdField(label=_("发生地点"))
    category = query.IdField(label=_("诉求分类"))


class BoardQuery(query.QueryForm):
    """The compound board's filter (open / finished) and page."""

    status = query.ChoiceField(
        label=_("状态"), choices=[("open", _("办理中")), ("closed", _("已办结"))], error_messages=NOT_A_CHOICE
    )
    page = query.IntegerField(label=_("页码"), min_value=1)


class PageQuery(query.QueryForm):
    page = query.IntegerField(label=_("页码"), min_value=1)


class PersonalDataRequestForm(StyledFormMixin, forms.Form):
    """Ask for a correction (what is wrong, what it should be) or a deletion (what, and why) of
    one's personal information, from the 我的信息 page (``personal_data.personal_data_request_submit``)."""

    item = forms.CharField(
        label=_("哪一项信息"), max_length=100, help_text=_("如 手机号、出生年份、住址、整条居民登记")
    )
    current = forms.CharField(label=_("现在登记的内容"), max_length=200, required=False)
    wanted = forms.CharField(label=_("应改为"), max_length=200, required=False)
    reason = forms.CharField(
        label=_("删除理由"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == "correction":
            del self.fields["reason"]
            self.fields["wanted"].required = True
        else:
            del self.fields["current"]
            del self.fields["wanted"]
            self.fields["reason"].required = True
