"""Volunteer serializers: registry rows (``ScopedModelSerializer``: related choices limited to
the user's change scope, ``full_clean()`` on every write) and the input/output shapes of the
workflow endpoints (sign up, cancel, check in, approve)."""

from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from baohe.api import ScopedModelSerializer, ScopedRelatedField
from baohe.query import ApiId, ApiYear
from communities.models import Household, Resident

from .models import Activity, PointsEntry, ServiceHours, ServiceProject, Signup, Volunteer, VolunteerTeam


def _unchanged(serializer, field, value, message):
    instance = serializer.instance
    if instance is not None and value != getattr(instance, field):
        raise serializers.ValidationError(message)
    return value


class VolunteerSerializer(ScopedModelSerializer):
    name = serializers.CharField(source="resident.name", read_only=True)
    approved_hours = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    points_balance = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Volunteer
        fields = (
            "id",
            "street",
            "community",
            "resident",
            "name",
            "skills",
            "joined_on",
            "is_active",
            "approved_hours",
            "points_balance",
        )
        read_only_fields = ("street", "community", "joined_on", "is_active")


class VolunteerRegisterSerializer(serializers.Serializer):
    resident = ScopedRelatedField(queryset=Resident.objects.all())
    skills = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class VolunteerTeamSerializer(ScopedModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = VolunteerTeam
        fields = (
            "id",
            "street",
            "community",
            "compound",
            "name",
            "description",
            "leader",
            "founded_on",
            "is_active",
            "member_count",
        )
        read_only_fields = ("street",)

    def validate_community(self, community):
        return _unchanged(self, "community", community, _("志愿服务队不能移到其他社区。"))

    def validate(self, attrs):
        if self.instance is None and attrs.get("leader") is not None:
            raise serializers.ValidationError({"leader": [_("请先保存志愿服务队并加入队员，再指定队长。")]})
        return super().validate(attrs)


class ServiceProjectSerializer(ScopedModelSerializer):
    class Meta:
        model = ServiceProject
        fields = ("id", "street", "community", "kind", "name", "description", "owner", "is_active")
        read_only_fields = ("street",)

    def validate_community(self, community):
        return _unchanged(self, "community", community, _("服务项目不能移到其他社区。"))


class ActivitySerializer(ScopedModelSerializer):
    confirmed_count = serializers.IntegerField(read_only=True)
    waitlist_count = serializers.IntegerField(read_only=True)
    places_left = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = (
            "id",
            "street",
            "community",
            "project",
            "team",
            "compound",
            "visibility",
            "title",
            "description",
            "place",
            "starts_at",
            "ends_at",
            "signup_deadline",
            "capacity",
            "confirmed_count",
            "waitlist_count",
            "places_left",
        )
        read_only_fields = ("street", "community")

    def get_places_left(self, activity) -> int:
        confirmed = getattr(activity, "confirmed_count", None)
        if confirmed is None:
            return activity.capacity
        return max(0, activity.capacity - confirmed)

    def validate_project(self, project):
        if self.instance is not None and project.community_id != self.instance.community_id:
            raise serializers.ValidationError(_("活动不能移到其他社区的项目。"))
        return project


class SignupSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.resident.name", read_only=True)
    waitlist_position = serializers.SerializerMethodField()

    class Meta:
        model = Signup
        fields = (
            "id",
            "activity",
            "volunteer",
            "volunteer_name",
            "status",
            "queued_at",
            "confirmed_at",
            "promoted_at",
            "cancelled_at",
            "checked_in_at",
            "waitlist_position",
        )
        read_only_fields = fields

    def get_waitlist_position(self, signup) -> int | None:
        positions = self.context.get("waitlist_positions")
        if positions is None or signup.status != Signup.Status.WAITLISTED:
            return None
        return positions.get(signup.pk)


class SignupInputSerializer(serializers.Serializer):
    """Residents send nothing (they sign themselves up); staff name the volunteer."""

    volunteer = ScopedRelatedField(queryset=Volunteer.objects.all(), required=False, allow_null=True)


class CancelInputSerializer(serializers.Serializer):
    """Residents send nothing (their own sign-up); staff name the sign-up to cancel."""

    signup = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class CancelOutputSerializer(serializers.Serializer):
    signup = SignupSerializer()
    promoted = SignupSerializer(many=True)


class ServiceHoursSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.resident.name", read_only=True)
    households = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ServiceHours
        fields = (
            "id",
            "street",
            "community",
            "volunteer",
            "volunteer_name",
            "project",
            "activity",
            "team",
            "signup",
            "served_on",
            "hours",
            "households",
            "note",
            "status",
            "reviewed_at",
            "reject_reason",
        )
        read_only_fields = fields


class ServiceHoursInputSerializer(serializers.Serializer):
    volunteer = ScopedRelatedField(queryset=Volunteer.objects.all())
    project = ScopedRelatedField(queryset=ServiceProject.objects.all(), required=False, allow_null=True)
    activity = ScopedRelatedField(queryset=Activity.objects.all(), required=False, allow_null=True)
    team = ScopedRelatedField(queryset=VolunteerTeam.objects.all(), required=False, allow_null=True)
    served_on = serializers.DateField()
    hours = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal("24"))
    households = ScopedRelatedField(queryset=Household.objects.all(), many=True, required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs.get("activity") is None and attrs.get("project") is None:
            raise serializers.ValidationError({"project": [_("请选择服务项目（或活动）。")]})
        return attrs


class CheckInOutputSerializer(serializers.Serializer):
    signup = SignupSerializer()
    hours = ServiceHoursSerializer(allow_null=True)
    already = serializers.BooleanField()


class IdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=500)


class RejectSerializer(IdsSerializer):
    reason = serializers.CharField(max_length=200)


class ReviewOutputSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.ListField(child=serializers.IntegerField())
    hours = serializers.DecimalField(max_digits=12, decimal_places=2)
    points = serializers.DecimalField(max_digits=12, decimal_places=2)


class PointsEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PointsEntry
        fields = ("id", "volunteer", "hours", "points", "reason", "created_at")
        read_only_fields = fields


class TeamJoinInputSerializer(serializers.Serializer):
    """Residents send nothing (they join themselves); staff name the volunteer."""

    volunteer = ScopedRelatedField(queryset=Volunteer.objects.all(), required=False, allow_null=True)


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    volunteer = serializers.IntegerField(source="volunteer_id")
    joined_on = serializers.DateField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class HoursExportQuerySerializer(serializers.Serializer):
    year = ApiYear(required=False, help_text="年度（默认今年）")
    community = ApiId(required=False, help_text="社区 id")
