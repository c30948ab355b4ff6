"""Request API serializers: output shapes, the create input, and one input serializer per
workflow step (the step itself is a service; these only check the shape of what came in).

Related-object choices are limited to what the requesting user may use: residents pick
their own compound and household, staff anything in their change scope.

Output tells the schema's truth: a choice the row has not made yet (``solved``,
``satisfaction``, ``assignee_kind`` …) is ``null``, never ``""`` outside its enum
(``baohe.api.BlankChoicesAsNullMixin``); the contact mobile is always masked (``138****5678``,
``baohe.personal.MaskedMobileField``): ``POST requests/{id}/reveal/`` answers it whole, audited.
"""

import copy

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import empty

from accounts.models import User
from accounts.selectors import worker_roles
from baohe.api import BlankChoicesAsNullMixin
from baohe.personal import MaskedMobileField
from baohe.scoping import CHANGE, VIEW
from communities.models import Building, Compound, Household, Resident

from . import reference
from .models import Attachment, Category, RequestEvent, ServiceRequest

Channel = ServiceRequest.Channel
STAFF_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.VISIT)


class StrictBooleanField(serializers.BooleanField):
    """A boolean that is required in form posts too (DRF reads a missing checkbox as false)."""

    default_empty_html = empty


# --- categories ------------------------------------------------------------------------------
class CategoryChildSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ("id", "name", "code", "description", "accept_within_hours", "resolve_within_days")


class CategorySerializer(serializers.ModelSerializer):
    children = CategoryChildSerializer(many=True, read_only=True, source="active_children")

    class Meta:
        model = Category
        fields = (
            "id",
            "parent",
            "name",
            "code",
            "description",
            "accept_within_hours",
            "resolve_within_days",
            "children",
        )


# --- output ----------------------------------------------------------------------------------
class ServiceRequestSerializer(BlankChoicesAsNullMixin, serializers.ModelSerializer):
    """A request as its reader may see it.

    ``context["changeable_ids"]`` holds the ids the user may handle; everyone else (officials,
    who read only) sees no internal extension details. The contact mobile is masked for
    everyone (the reveal endpoint answers it whole).
    """

    # Names from this process's copies of the reference data (reference.py), not from joins.
    category_name = serializers.SerializerMethodField()
    compound_name = serializers.SerializerMethodField()
    community_name = serializers.SerializerMethodField()
    building_label = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    current_due_at = serializers.SerializerMethodField()
    is_open = serializers.BooleanField(read_only=True)
    can_handle = serializers.SerializerMethodField()
    contact_mobile = MaskedMobileField(read_only=True, allow_blank=True, label=gettext_lazy("联系电话"))

    class Meta:
        model = ServiceRequest
        fields = (
            "id",
            "number",
            "category",
            "category_name",
            "description",
            "street",
            "community",
            "community_name",
            "compound",
            "compound_name",
            "building",
            "building_label",
            "household",
            "address",
            "latitude",
            "longitude",
            "channel",
            "channel_display",
            "status",
            "status_display",
            "is_open",
            "submitted_by",
            "contact_name",
            "contact_mobile",
            "contact_time",
            "accept_due_at",
            "resolve_due_at",
            "current_due_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "assignee_kind",
            "assigned_to",
            "assignee_label",
            "duplicate_of",
            "reopen_count",
            "return_count",
            "extension_count",
            "extension_until",
            "extension_reason",
            "solved",
            "satisfaction",
            "rating_comment",
            "rated_at",
            "supporter_count",
            "urge_count",
            "urged_at",
            "created_at",
            "updated_at",
            "can_handle",
        )
        read_only_fields = fields

    _built_fields: dict = {}

    def get_fields(self):
        """The fields, built from the model once per language and copied for each use (building
        fifty model fields costs about 4 ms a time; a copy a quarter of that)."""
        key = (type(self), get_language())
        built = ServiceRequestSerializer._built_fields.get(key)
        if built is None:
            built = ServiceRequestSerializer._built_fields[key] = super().get_fields()
        return copy.deepcopy(built)

    def _can_handle(self, instance):
        return instance.pk in self.context.get("changeable_ids", ())

    def get_category_name(self, instance) -> str:
        ref = reference.categories().get(instance.category_id)
        return ref.label if ref is not None else str(instance.category)

    def get_compound_name(self, instance) -> str:
        return reference.compound_names().get(instance.compound_id) or instance.compound.name

    def get_community_name(self, instance) -> str:
        return reference.community_names().get(instance.community_id) or instance.community.name

    def get_building_label(self, instance) -> str:
        return instance.building.label if instance.building_id else ""

    def get_current_due_at(self, instance) -> str:
        due = getattr(instance, "current_due", None)
        if due is None:
            due = (
                instance.accept_due_at
                if instance.status == ServiceRequest.Status.SUBMITTED
                else instance.resolve_due_at
            )
        return serializers.DateTimeField().to_representation(due)

    def get_can_handle(self, instance) -> bool:
        return self._can_handle(instance)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._can_handle(instance):
            data["extension_until"] = None
            data["extension_reason"] = ""
        return data


class RequestEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = RequestEvent
        fields = (
            "id",
            "kind",
            "kind_display",
            "actor",
            "actor_name",
            "message",
            "public",
            "from_status",
            "to_status",
            "created_at",
        )
        read_only_fields = fields

    def get_actor_name(self, event) -> str:
        return str(event.actor) if event.actor_id else ""


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ("id", "event", "url", "content_type", "size", "width", "height", "public", "created_at")
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        request = self.context.get("request")
        url = attachment.get_absolute_url()
        return request.build_absolute_uri(url) if request is not None else url


class CountsSerializer(serializers.Serializer):
    all = serializers.IntegerField()
    submitted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    resolved = serializers.IntegerField()
    assigned_to_me = serializers.IntegerField()
    due_today = serializers.IntegerField()
    overdue = serializers.IntegerField()


class RequestListParamsSerializer(serializers.Serializer):
    """``GET requests/``'s own query parameter (the filters are ``filters.ServiceRequestFilter``)."""

    ordering = serializers.ChoiceField(
        choices=[("due", "当前期限最近的在前（工作人员默认）"), ("newest", "最新的在前（居民默认）")],
        required=False,
        allow_blank=True,
    )
    include_closed = serializers.BooleanField(
        required=False,
        default=False,
        help_text="工作人员默认只看未办结的诉求（待签收、已签收、办理中）；为真时也列出其余状态的。"
        "选了状态或搜索时不受此限。",
    )


class RequestErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


# --- input: submit ---------------------------------------------------------------------------
class PhotosField(serializers.ListField):
    """``photos``: any number of files under one multipart name (checked by the service)."""

    child = serializers.FileField(allow_empty_file=False)

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_empty", True)
        super().__init__(**kwargs)


class ScopedChoiceField(serializers.PrimaryKeyRelatedField):
    """A related row among those the requesting user may use: ``rows(user)`` gives them, built
    only when the field has a value to look up (a submission names its compound, seldom a
    building, household or resident: building all four restricted querysets for every
    submission was a tenth of its CPU, issue 14). Nobody signed in may use none."""

    def __init__(self, *, rows, **kwargs):
        self.rows = rows
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.queryset.none()
        return self.rows(user)


def _resident_compounds(user):
    return Compound.objects.filter(pk__in=sorted(user.get_scope(VIEW).compound_ids))


def _compounds(user):
    return Compound.objects.restrict(user, CHANGE) if user.is_portal_staff else _resident_compounds(user)


def _buildings(user):
    if user.is_portal_staff:
        return Building.objects.restrict(user, CHANGE)
    return Building.objects.filter(compound__in=sorted(user.get_scope(VIEW).compound_ids))


def _households(user):
    if user.is_portal_staff:
        return Household.objects.restrict(user, CHANGE)
    return Household.objects.filter(pk__in=sorted(user.get_scope(VIEW).household_ids))


def _resident_users(user):
    if not user.is_portal_staff:
        return User.objects.none()
    return User.objects.filter(is_active=True, resident_records__in=Resident.objects.restrict(user, CHANGE)).distinct()


class ServiceRequestCreateSerializer(serializers.Serializer):
    """File a request: a resident for their own compound, staff on a resident's behalf."""

    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(is_active=True))
    description = serializers.CharField(max_length=2000)
    compound = ScopedChoiceField(queryset=Compound.objects.none(), rows=_compounds)
    building = ScopedChoiceField(queryset=Building.objects.none(), rows=_buildings, required=False, allow_null=True)
    household = ScopedChoiceField(queryset=Household.objects.none(), rows=_households, required=False, allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    contact_mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    contact_time = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in (Channel.ONLINE, *STAFF_CHANNELS)],
        required=False,
        help_text="居民：online（默认）；工作人员代录入：phone / walk_in / visit（必填）",
    )
    resident_user = ScopedChoiceField(
        queryset=User.objects.none(),
        rows=_resident_users,
        required=False,
        allow_null=True,
        help_text="代录入时：居民的账号 id（可选）",
    )
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )
    photos = PhotosField()

    def validate(self, attrs):
        user = self.context["request"].user
        channel = attrs.get("channel")
        if user.is_portal_staff:
            if channel not in STAFF_CHANNELS:
                raise serializers.ValidationError(
                    {"channel": [_("代居民录入时请选择来源渠道：电话、来访或走访发现。")]}
                )
        else:
            if channel not in (None, Channel.ONLINE):
                raise serializers.ValidationError({"channel": [_("居民只能网上提交诉求。")]})
            if attrs.get("resident_user") is not None:
                raise serializers.ValidationError({"resident_user": [_("只有工作人员代录入时才能指定居民。")]})
            attrs["channel"] = Channel.ONLINE
            if attrs.get("household") is None:
                # A resident files from home: their household in that compound, when there is one.
                own = [h for h in self.fields["household"].get_queryset() if h.compound_id == attrs["compound"].pk]
                if len(own) == 1:
                    attrs["household"] = own[0]
        household = attrs.get("household")
        if household is not None:
            if household.compound_id != attrs["compound"].pk:
                raise serializers.ValidationError({"household": [_("该住户不在所选小区。")]})
            if attrs.get("building") is None:
                attrs["building"] = household.building
        return attrs


# --- input: workflow steps -------------------------------------------------------------------
# Each step's validated_data are its service's keyword arguments (api.RequestStepApi passes them on).
class RequestContextMixin:
    @property
    def service_request(self):
        return self.context["service_request"]

    @property
    def user(self):
        return self.context["request"].user


class AssignInputSerializer(RequestContextMixin, serializers.Serializer):
    # validated_data holds the service's arguments (kind, user, label): the step endpoint passes them on.
    assignee_kind = serializers.ChoiceField(choices=ServiceRequest.AssigneeKind.choices, source="kind")
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        required=False,
        allow_null=True,
        help_text="承办人账号：本社区（或所属街道）的工作人员，或本社区居民（党小组长、中心户、志愿者）",
    )
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("service_request")
        if request is not None:
            self.fields["user"].queryset = assignable_users(request)

    def validate(self, attrs):
        if attrs.get("user") is None and not attrs.get("label", "").strip():
            raise serializers.ValidationError({"user": [_("请选择承办人。")]})
        return attrs


def assignable_users(request):
    """Who may be given a request: who works in its community (its staff and its street's staff,
    ``accounts.selectors.worker_roles``), or residents of its community."""
    workers = worker_roles(community_id=request.community_id, street_id=request.street_id)
    return User.objects.filter(
        Q(pk__in=workers.values("user_id")) | Q(resident_records__community_id=request.community_id),
        is_active=True,
    ).distinct()


class ReplyInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000)
    public = serializers.BooleanField(default=True, help_text="true：答复居民；false：内部备注")


class ExtensionInputSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=300)


class ExtensionDecideInputSerializer(serializers.Serializer):
    approve = StrictBooleanField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SuperviseInputSerializer(serializers.Serializer):
    """督办: the note and the date the community must now resolve the request by."""

    note = serializers.CharField(max_length=500)
    due_at = serializers.DateTimeField()


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class RerouteInputSerializer(RequestContextMixin, serializers.Serializer):
    compound = serializers.PrimaryKeyRelatedField(queryset=Compound.objects.none())
    building = serializers.PrimaryKeyRelatedField(queryset=Building.objects.none(), required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["compound"].queryset = Compound.objects.restrict(request.user, CHANGE)
            self.fields["building"].queryset = Building.objects.restrict(request.user, CHANGE)


class ResolveInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000)
    photos = PhotosField()


class DuplicateInputSerializer(serializers.Serializer):
    original = serializers.PrimaryKeyRelatedField(queryset=ServiceRequest.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["original"].queryset = ServiceRequest.objects.restrict(request.user, VIEW)


class CloseInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RatingInputSerializer(serializers.Serializer):
    solved = serializers.ChoiceField(choices=ServiceRequest.Solved.choices)
    satisfaction = serializers.ChoiceField(choices=ServiceRequest.Satisfaction.choices)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SupplementInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000)
    photos = PhotosField()


class PhotoPublicInputSerializer(serializers.Serializer):
    public = StrictBooleanField(help_text="true：公开到小区公示和开放接口；false：不公开")


class PublicRequestSerializer(serializers.Serializer):
    """A request as anyone may read it (``public.PublicRequest``: anonymised, no names, no unit or room)."""

    number = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField()
    deadline_met = serializers.BooleanField(allow_null=True)
    description = serializers.CharField()
    reply = serializers.CharField()
    satisfaction = serializers.CharField()
    supporters = serializers.IntegerField()
    compound = serializers.CharField()


class ContactRevealSerializer(serializers.Serializer):
    """The answer of a reveal: one request's contact number, whole."""

    contact_mobile = serializers.CharField()


# --- the lean list ---------------------------------------------------------------------------
#: The columns the staff queue (API list and page) reads: no joins, no personal data.
LIST_COLUMNS = (
    "id",
    "number",
    "category_id",
    "description",
    "street_id",
    "community_id",
    "compound_id",
    "building_id",
    "channel",
    "status",
    "current_due",
    "assignee_kind",
    "assignee_label",
    "assigned_to_id",
    "urge_count",
    "supporter_count",
    "created_at",
)


class RequestListItemSerializer(serializers.Serializer):
    """The shape of one row of ``GET requests/`` (the schema; :class:`RequestListOutput` writes
    it). The full record, with contact and rating, is ``GET requests/{id}/``."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    url = serializers.CharField(help_text=gettext_lazy("该诉求的 API 地址"))
    category = serializers.IntegerField()
    category_name = serializers.CharField()
    description = serializers.CharField()
    community = serializers.IntegerField()
    community_name = serializers.CharField()
    compound = serializers.IntegerField()
    compound_name = serializers.CharField()
    building = serializers.IntegerField(allow_null=True)
    building_label = serializers.CharField(allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    channel_display = serializers.CharField()
    status = serializers.ChoiceField(choices=ServiceRequest.Status.choices)
    status_display = serializers.CharField()
    current_due_at = serializers.DateTimeField()
    assignee_label = serializers.CharField(allow_blank=True)
    assigned_to = serializers.IntegerField(allow_null=True)
    urge_count = serializers.IntegerField()
    supporter_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    can_handle = serializers.BooleanField()


def _iso(value, tz):
    """As DRF's DateTimeField writes it: in the current time zone, ISO 8601 (``Z`` for UTC)."""
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class RequestListOutput:
    """Writes list rows (``values(*LIST_COLUMNS)`` dicts) for one request: the labels are
    translated once, names come from this process's reference copies (``reference.py``), the
    URL is one template filled per row, and "may handle" is read from the user's scope."""

    def __init__(self, request, may_handle):
        self.user = request.user
        self.may_handle = may_handle
        self.statuses = {value: str(label) for value, label in ServiceRequest.Status.choices}
        self.channels = {value: str(label) for value, label in Channel.choices}
        self.categories = reference.categories()
        self.compounds = reference.compound_names()
        self.communities = reference.community_names()
        self.labels = reference.Labels()
        self.tz = timezone.get_current_timezone()
        self.url_prefix, self.url_suffix = reverse("request-detail", args=[0]).rsplit("0", 1)

    def category_name(self, pk):
        ref = self.categories.get(pk)
        return ref.label if ref is not None else str(Category.objects.get(pk=pk))

    def rows(self, rows):
        buildings = reference.buildings({row["building_id"] for row in rows if row["building_id"]})
        out = []
        for row in rows:
            pk = row["id"]
            building_id = row["building_id"]
            out.append(
                {
                    "id": pk,
                    "number": row["number"],
                    "url": f"{self.url_prefix}{pk}{self.url_suffix}",
                    "category": row["category_id"],
                    "category_name": self.category_name(row["category_id"]),
                    "description": row["description"],
                    "community": row["community_id"],
                    "community_name": self.communities.get(row["community_id"], ""),
                    "compound": row["compound_id"],
                    "compound_name": self.compounds.get(row["compound_id"], ""),
                    "building": building_id,
                    "building_label": self.labels.building(*buildings[building_id]) if building_id else "",
                    "channel": row["channel"],
                    "channel_display": self.channels.get(row["channel"], row["channel"]),
                    "status": row["status"],
                    "status_display": self.statuses.get(row["status"], row["status"]),
                    "current_due_at": _iso(row["current_due"], self.tz),
                    "assignee_label": row["assignee_label"],
                    "assigned_to": row["assigned_to_id"],
                    "urge_count": row["urge_count"],
                    "supporter_count": row["supporter_count"],
                    "created_at": _iso(row["created_at"], self.tz),
                    "can_handle": self.may_handle(self.user, row["street_id"], row["community_id"]),
                }
            )
        return out
