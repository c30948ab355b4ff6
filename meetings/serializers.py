"""Meeting API serializers: output shapes, and one input serializer per workflow step (the step
itself is a service; these only check the shape of what came in). Related choices are limited
to the user's scope: another community's row is "not found", exactly like a missing one."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from baohe.api import ScopedModelSerializer, ScopedRelatedField
from baohe.query import ApiId
from communities.models import Community, Compound, Resident
from service_requests.models import ServiceRequest
from service_requests.services import requests_handled_by

from .models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam


@extend_schema_field(OpenApiTypes.STR)
class PlainChoiceField(serializers.ChoiceField):
    """A choice documented as a plain string (the values in its help text): each choice set then
    appears as an enum in one schema component only (``MeetingCreate``), so drf-spectacular
    names it without a collision."""


def choices_text(choices):
    return "；".join(f"{value} {label}" for value, label in choices)


# DRF formats these with str.format().
NOT_FOUND = _("编号 {pk_value} 不存在或不在您的范围内。")
NOT_AN_ID = _("请提供编号（整数）。")


def scoped(queryset, **options):
    """A related field limited to the user's change scope, with a scope-neutral "not found"."""
    return ScopedRelatedField(
        queryset=queryset, error_messages={"does_not_exist": NOT_FOUND, "incorrect_type": NOT_AN_ID}, **options
    )


class HandledRequestField(serializers.PrimaryKeyRelatedField):
    """A request the user handles as staff (``requests_handled_by``); any other is "not found".
    (The ``queryset`` given is only what the schema describes; choices come from ``get_queryset``.)"""

    default_error_messages = {"does_not_exist": NOT_FOUND, "incorrect_type": NOT_AN_ID}

    def get_queryset(self):
        request = self.context.get("request")
        return requests_handled_by(request.user) if request is not None else ServiceRequest.objects.none()


class MeetingErrorSerializer(serializers.Serializer):
    """The body of a 403, 404 or 409 answer."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


# --- output ---------------------------------------------------------------------------------------
class InviteeSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Invitee
        fields = ("id", "meeting", "role", "role_label", "resident", "name", "attended")
        read_only_fields = fields


class ActionItemSerializer(serializers.ModelSerializer):
    meeting = serializers.IntegerField(source="decision.meeting_id", read_only=True)
    owner_name = serializers.SerializerMethodField()
    responsible = serializers.CharField(read_only=True)
    overdue = serializers.SerializerMethodField()
    request_numbers = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = (
            "id",
            "community",
            "meeting",
            "decision",
            "task",
            "owner",
            "owner_name",
            "owner_label",
            "responsible",
            "due_on",
            "overdue",
            "requests",
            "request_numbers",
            "done_at",
            "done_by",
            "done_note",
        )
        read_only_fields = fields

    def get_owner_name(self, item) -> str | None:
        return str(item.owner) if item.owner_id else None

    def get_overdue(self, item) -> bool:
        return item.is_overdue()

    def get_request_numbers(self, item) -> list[str]:
        return [r.number for r in item.requests.all()]


class InspectionSerializer(serializers.ModelSerializer):
    meeting = serializers.IntegerField(source="decision.meeting_id", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True)
    inspector_name = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = (
            "id",
            "community",
            "meeting",
            "decision",
            "team",
            "team_name",
            "inspector",
            "inspector_name",
            "inspected_at",
            "finding",
            "ok",
            "photo_url",
            "recorded_by",
        )
        read_only_fields = fields

    def get_inspector_name(self, inspection) -> str | None:
        return inspection.inspector.name if inspection.inspector_id else None

    def get_photo_url(self, inspection) -> str | None:
        if not inspection.photo:
            return None
        from django.urls import reverse

        url = reverse("meetings:inspection_photo", args=[inspection.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class DecisionSerializer(serializers.ModelSerializer):
    action_items = ActionItemSerializer(many=True, read_only=True)
    inspections = InspectionSerializer(many=True, read_only=True)
    supervision_team_name = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = (
            "id",
            "community",
            "meeting",
            "order",
            "text",
            "supervision_team",
            "supervision_team_name",
            "action_items",
            "inspections",
        )
        read_only_fields = fields

    def get_supervision_team_name(self, decision) -> str | None:
        return decision.supervision_team.name if decision.supervision_team_id else None


class MeetingSerializer(serializers.ModelSerializer):
    """A meeting in a list: what, where, when, its state and its counts."""

    community_name = serializers.CharField(source="community.name", read_only=True)
    compound_name = serializers.SerializerMethodField()
    kind = serializers.CharField(read_only=True, help_text=choices_text(Meeting.Kind.choices))
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status = serializers.CharField(read_only=True, help_text=choices_text(Meeting.Status.choices))
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organiser_name = serializers.CharField(source="organiser.__str__", read_only=True)
    request_count = serializers.IntegerField(read_only=True)
    invitee_count = serializers.IntegerField(read_only=True)
    attended_count = serializers.IntegerField(read_only=True)
    decision_count = serializers.IntegerField(read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    items_done = serializers.IntegerField(read_only=True)
    minutes_overdue_days = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = (
            "id",
            "street",
            "community",
            "community_name",
            "compound",
            "compound_name",
            "topic",
            "kind",
            "kind_label",
            "scheduled_at",
            "place",
            "organiser",
            "organiser_name",
            "status",
            "status_label",
            "agenda",
            "held_at",
            "minutes_recorded_at",
            "requests",
            "request_count",
            "invitee_count",
            "attended_count",
            "decision_count",
            "item_count",
            "items_done",
            "minutes_overdue_days",
        )
        read_only_fields = fields

    def get_compound_name(self, meeting) -> str | None:
        return meeting.compound.name if meeting.compound_id else None

    def get_minutes_overdue_days(self, meeting) -> int:
        return meeting.minutes_overdue_days()


class MeetingDetailSerializer(MeetingSerializer):
    """A meeting with its minutes, invitees, and decisions (with action items and inspections)."""

    invitees = InviteeSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta(MeetingSerializer.Meta):
        fields = (*MeetingSerializer.Meta.fields, "minutes", "cancelled_at", "cancel_reason", "invitees", "decisions")
        read_only_fields = fields


# --- input: planning ------------------------------------------------------------------------------
class InviteeInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Invitee.Role.choices)
    resident = scoped(Resident.objects.all(), required=False, allow_null=True, help_text="居民 id（可选）")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs.get("resident") is None and not (attrs.get("name") or "").strip():
            raise serializers.ValidationError({"name": [_("请填写参会人员的姓名或单位。")]})
        return attrs


class MeetingCreateSerializer(serializers.Serializer):
    """计划会议. ``requests``: open requests of the community (they are taken up: accepted if
    submitted, and the residents are told)."""

    community = scoped(Community.objects.all())
    compound = scoped(Compound.objects.all(), required=False, allow_null=True)
    topic = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Meeting.Kind.choices, default=Meeting.Kind.COUNCIL)
    scheduled_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200)
    agenda = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    organiser = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, help_text="默认为当前用户"
    )
    requests = HandledRequestField(queryset=ServiceRequest.objects.all(), many=True, required=False, default=list)
    invitees = InviteeInputSerializer(many=True, required=False, default=list)


class MeetingUpdateSerializer(serializers.Serializer):
    """修改待召开的会议 (any subset of the fields)."""

    compound = scoped(Compound.objects.all(), required=False, allow_null=True)
    topic = serializers.CharField(max_length=200, required=False)
    kind = PlainChoiceField(choices=Meeting.Kind.choices, required=False, help_text=choices_text(Meeting.Kind.choices))
    scheduled_at = serializers.DateTimeField(required=False)
    place = serializers.CharField(max_length=200, required=False)
    agenda = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    organiser = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)


class ExtraAttendeeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Invitee.Role.choices, default=Invitee.Role.OTHER)
    name = serializers.CharField(max_length=100)


class MeetingAttendanceInputSerializer(serializers.Serializer):
    """到会情况: the invitee ids who came (the others are marked absent), walk-ins, and when."""

    attended = serializers.ListField(child=ApiId(), allow_empty=True)
    held_at = serializers.DateTimeField(required=False, allow_null=True, help_text="默认为会议时间")
    extra = ExtraAttendeeSerializer(many=True, required=False, default=list)


class MeetingCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


# --- input: minutes -------------------------------------------------------------------------------
class ActionItemInputSerializer(serializers.Serializer):
    task = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="默认同决议内容"
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, help_text="负责人（用户 id）"
    )
    owner_label = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="负责单位，如物业公司"
    )
    due_on = serializers.DateField()
    requests = serializers.ListField(child=ApiId(), required=False, default=list, help_text="本次会议诉求的 id")

    def validate_due_on(self, value):
        if value < timezone.localdate():
            raise serializers.ValidationError(_("完成期限不能早于今天。"))
        return value

    def validate(self, attrs):
        if attrs.get("owner") is None and not (attrs.get("owner_label") or "").strip():
            raise serializers.ValidationError({"owner": [_("请选择负责人，或填写负责单位。")]})
        return attrs


class DecisionInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1000)
    supervision_team = scoped(SupervisionTeam.objects.all(), required=False, allow_null=True)
    action_items = ActionItemInputSerializer(many=True, allow_empty=False)


class MeetingMinutesInputSerializer(serializers.Serializer):
    """会议纪要: the minutes, when the meeting was held, and the decisions with their action items."""

    minutes = serializers.CharField(max_length=10000)
    held_at = serializers.DateTimeField(required=False, allow_null=True, help_text="默认为会议时间")
    decisions = DecisionInputSerializer(many=True, required=False, default=list)

    def to_service(self, meeting):
        """The service's ``decisions`` list, with request ids turned into the meeting's requests."""
        requests = {r.pk: r for r in meeting.requests.all()}
        decisions = []
        for decision in self.validated_data["decisions"]:
            items = []
            for item in decision["action_items"]:
                ids = item["requests"]
                unknown = [pk for pk in ids if pk not in requests]
                if unknown:
                    raise serializers.ValidationError(
                        {"decisions": [_("落实事项只能关联本次会议的诉求（%(ids)s 不是）。") % {"ids": unknown}]}
                    )
                items.append({**item, "requests": [requests[pk] for pk in ids]})
            decisions.append({**decision, "action_items": items})
        return decisions


class ActionItemCompleteInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DecisionTeamInputSerializer(serializers.Serializer):
    supervision_team = scoped(SupervisionTeam.objects.all(), allow_null=True)


class InspectionInputSerializer(serializers.Serializer):
    """监督检查. JSON, or multipart with ``photo`` as a file."""

    finding = serializers.CharField(max_length=2000)
    ok = serializers.BooleanField(default=True, help_text="质量合格：true；发现问题：false")
    inspected_at = serializers.DateTimeField(required=False, allow_null=True, help_text="默认为现在")
    inspector = scoped(Resident.objects.all(), required=False, allow_null=True, help_text="监督员（队员的居民 id）")
    photo = serializers.FileField(required=False, allow_null=True, allow_empty_file=False)


# --- supervision teams (registry-like CRUD) ---------------------------------------------------------
class SupervisionTeamSerializer(ScopedModelSerializer):
    member_names = serializers.SerializerMethodField()

    class Meta:
        model = SupervisionTeam
        fields = ("id", "street", "community", "compound", "name", "leader", "members", "member_names", "note")
        read_only_fields = ("id", "street", "member_names")
        extra_kwargs = {
            name: {"error_messages": {"does_not_exist": NOT_FOUND, "incorrect_type": NOT_AN_ID}}
            for name in ("community", "compound", "leader", "members")
        }

    def get_member_names(self, team) -> list[str]:
        return [m.name for m in team.members.all()]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        community = attrs.get("community") or (self.instance.community if self.instance else None)
        members = attrs.get("members")
        if members is not None and community is not None:
            outsiders = [m.name for m in members if m.community_id != community.pk]
            if outsiders:
                raise serializers.ValidationError(
                    {"members": [_("队员必须是本社区的居民：%(names)s") % {"names": "、".join(outsiders)}]}
                )
        return attrs
