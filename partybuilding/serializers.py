"""Party organisation serializers. Related choices are limited to the user's change scope,
the model's ``full_clean()`` runs on every write (``baohe.api.ScopedModelSerializer``), and
the many-to-many rules shared with the forms (``partybuilding.forms``) answer 400 with a
field error."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from baohe.api import ScopedModelSerializer
from baohe.query import ApiId, ApiYear
from communities.models import Street

from .forms import (
    branch_compounds_error,
    central_household_taken_error,
    group_buildings_error,
    served_households_error,
)
from .models import (
    Attendance,
    Backbone,
    BackboneTarget,
    CentralHousehold,
    Course,
    PartyBranch,
    PartyGroup,
    PartyMember,
    TrainingSession,
)


def _unchanged(serializer, field, value, message):
    """``field`` may be set on create but not changed afterwards."""
    instance = serializer.instance
    if instance is not None and value != getattr(instance, field):
        raise serializers.ValidationError(message)
    return value


class PartyBranchSerializer(ScopedModelSerializer):
    class Meta:
        model = PartyBranch
        fields = ("id", "street", "community", "name", "kind", "compounds", "secretary", "founded_on")
        read_only_fields = ("street",)

    def validate_community(self, community):
        return _unchanged(self, "community", community, _("党支部不能移到其他社区。"))

    def validate(self, attrs):
        if self.instance is None and attrs.get("secretary") is not None:
            raise serializers.ValidationError({"secretary": [_("请先保存党支部并登记党员，再指定支部书记。")]})
        attrs = super().validate(attrs)
        community = attrs.get("community") or self.instance.community
        compounds = attrs.get("compounds")
        if compounds:
            error = branch_compounds_error(community, compounds)
            if error:
                raise serializers.ValidationError({"compounds": [error]})
        return attrs


class PartyGroupSerializer(ScopedModelSerializer):
    class Meta:
        model = PartyGroup
        fields = ("id", "street", "community", "branch", "name", "kind", "buildings", "leader")
        read_only_fields = ("street", "community")

    def validate_branch(self, branch):
        return _unchanged(self, "branch", branch, _("党小组不能移到其他党支部。"))

    def validate(self, attrs):
        if self.instance is None and attrs.get("leader") is not None:
            raise serializers.ValidationError({"leader": [_("请先保存党小组并编入党员，再指定党小组长。")]})
        attrs = super().validate(attrs)
        branch = attrs.get("branch") or self.instance.branch
        buildings = attrs.get("buildings")
        if buildings:
            error = group_buildings_error(branch, buildings)
            if error:
                raise serializers.ValidationError({"buildings": [error]})
        return attrs


class PartyMemberSerializer(ScopedModelSerializer):
    name = serializers.CharField(source="resident.name", read_only=True)

    class Meta:
        model = PartyMember
        fields = ("id", "street", "community", "resident", "name", "branch", "group", "joined_on")
        read_only_fields = ("street", "community")

    def validate_resident(self, resident):
        return _unchanged(self, "resident", resident, _("不能把党员记录改到另一位居民名下。"))


class CentralHouseholdSerializer(ScopedModelSerializer):
    """The household is the member's own: it follows ``member`` and is not sent."""

    class Meta:
        model = CentralHousehold
        fields = ("id", "street", "community", "household", "member", "served_households", "rated_on")
        read_only_fields = ("street", "community", "household")

    def validate(self, attrs):
        member = attrs.get("member")
        if member is not None:
            household = member.resident.household
            error = central_household_taken_error(household, self.instance)
            if error:
                raise serializers.ValidationError({"member": [error]})
            attrs["household"] = household
        attrs = super().validate(attrs)
        household = attrs.get("household") or self.instance.household
        served = attrs.get("served_households")
        if served:
            error = served_households_error(household, served)
            if error:
                raise serializers.ValidationError({"served_households": [error]})
        return attrs


class BackboneSerializer(ScopedModelSerializer):
    """Street and community follow the resident."""

    name = serializers.CharField(source="resident.name", read_only=True)

    class Meta:
        model = Backbone
        fields = ("id", "street", "community", "resident", "name", "kind", "year", "specialty")
        read_only_fields = ("street", "community")

    def validate(self, attrs):
        resident = attrs.get("resident")
        if resident is not None:
            attrs["street"], attrs["community"] = resident.street, resident.community
        return super().validate(attrs)


class CoverageQuerySerializer(serializers.Serializer):
    community = ApiId(required=False, help_text="社区 id")
    street = ApiId(required=False, help_text="街道 id")


@extend_schema_serializer(many=False)  # one object, though the view's action is ``list``
class CoverageSerializer(serializers.Serializer):
    """How much of the user's scope the party organisation does not yet cover."""

    compounds_without_branch = serializers.IntegerField()
    buildings_without_group = serializers.IntegerField()
    households_unserved = serializers.IntegerField()
    compounds_total = serializers.IntegerField()
    buildings_total = serializers.IntegerField()
    households_total = serializers.IntegerField()


# --- 千万工程 ------------------------------------------------------------------------------------------
class BackboneTargetSerializer(ScopedModelSerializer):
    class Meta:
        model = BackboneTarget
        fields = ("id", "street", "year", "party_quota", "mass_quota")

    def validate_street(self, street):
        instance = self.instance
        if instance is not None and street != instance.street:
            raise serializers.ValidationError(_("目标不能改到其他街道。"))
        return street


class CourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ("id", "name", "description", "hours", "is_active")


class VisibleStreetField(serializers.PrimaryKeyRelatedField):
    """A street the user sees (community staff open sessions in their community of it; the
    saved row must still lie in their change scope)."""

    def get_queryset(self):
        request = self.context.get("request")
        return Street.objects.restrict(request.user if request else None, "view")


class TrainingSessionSerializer(ScopedModelSerializer):
    attended = serializers.IntegerField(read_only=True)
    street = VisibleStreetField()
    # The catalogue is public: choosing a course needs no change scope on it (a scoped field
    # would offer a community worker no course at all).
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.filter(is_active=True))

    class Meta:
        model = TrainingSession
        fields = ("id", "course", "street", "community", "starts_at", "place", "teacher", "attended")


class AttendanceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="backbone.resident.name", read_only=True)

    class Meta:
        model = Attendance
        fields = ("id", "session", "backbone", "name", "attended", "street", "community")
        read_only_fields = fields


class AttendanceSheetSerializer(serializers.Serializer):
    """The backbones (of the user's roster for the session) who attended; the rest are absent."""

    attended = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=True, max_length=2000)


class BackboneProgressQuerySerializer(serializers.Serializer):
    year = ApiYear(required=False, help_text="年度（默认今年）")


class BackboneProgressSerializer(serializers.Serializer):
    street = serializers.IntegerField(source="place.pk")
    street_name = serializers.CharField(source="place.name")
    year = serializers.IntegerField()
    party = serializers.IntegerField()
    mass = serializers.IntegerField()
    party_trained = serializers.IntegerField()
    mass_trained = serializers.IntegerField()
    party_quota = serializers.IntegerField(allow_null=True)
    mass_quota = serializers.IntegerField(allow_null=True)
    party_percent = serializers.FloatField(allow_null=True)
    mass_percent = serializers.FloatField(allow_null=True)
