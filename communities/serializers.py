"""Registry serializers. Related choices are limited to the user's change scope and the
model's ``full_clean()`` runs on every write (``baohe.api.ScopedModelSerializer``).

A resident's mobile and ID number are written in full and always answered masked
(``baohe.personal.MaskedMobileField``); the full numbers of one resident come only from
``POST residents/{id}/reveal/`` (audited). A blank gender is answered ``null``, never ``""``
outside the enum (``baohe.api.BlankAsNullChoiceField``).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from baohe.api import ScopedModelSerializer, ScopedRelatedField, validation_error_detail
from baohe.personal import MaskedIdNumberField, MaskedMobileField
from baohe.scoping import CHANGE, VIEW
from baohe.validators import validate_id_number

from . import services
from .models import (
    Building,
    Community,
    Compound,
    CompoundFeeRate,
    District,
    Household,
    Resident,
    ResidentTransfer,
    Street,
)


class DistrictSerializer(ScopedModelSerializer):
    class Meta:
        model = District
        fields = ("id", "name", "code")


class StreetSerializer(ScopedModelSerializer):
    class Meta:
        model = Street
        fields = ("id", "district", "name", "kind", "code")


class CommunitySerializer(ScopedModelSerializer):
    class Meta:
        model = Community
        fields = ("id", "street", "name", "code", "address", "phone")


class CompoundSerializer(ScopedModelSerializer):
    class Meta:
        model = Compound
        fields = (
            "id",
            "street",
            "community",
            "name",
            "kind",
            "grid",
            "address",
            "property_company",
            "fee_collection_rate",
            "fee_rate_month",
            "handed_over",
        )
        # The rate is the latest month's (``CompoundFeeRate``): written at /api/v1/fee-rates/.
        read_only_fields = ("street", "fee_collection_rate", "fee_rate_month")


class BuildingSerializer(ScopedModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Building
        fields = ("id", "street", "community", "compound", "number", "name", "label", "units", "floors", "head")
        read_only_fields = ("street", "community")

    def validate_compound(self, compound):
        if self.instance is not None and compound != self.instance.compound:
            raise serializers.ValidationError(self.error_messages_move)
        return compound

    error_messages_move = "楼栋不能移到其他小区。/ A building cannot move to another compound."


class HouseholdSerializer(ScopedModelSerializer):
    flags = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = (
            "id",
            "street",
            "community",
            "compound",
            "building",
            "unit",
            "room",
            "lives_alone_elderly",
            "elderly",
            "disabled",
            "low_income",
            "is_rented",
            "note",
            "flags",
            "archived_at",
        )
        read_only_fields = ("street", "community", "compound", "archived_at")

    def get_flags(self, household) -> list[str]:
        return [name for name in Household.FLAG_FIELDS if getattr(household, name)]


class ResidentSerializer(ScopedModelSerializer):
    """Mobile and ID number: written in full, answered masked (``baohe.personal``)."""

    FIELD_CLASSES = {"mobile": MaskedMobileField, "id_number": MaskedIdNumberField}

    class Meta:
        model = Resident
        fields = (
            "id",
            "street",
            "community",
            "household",
            "name",
            "mobile",
            "id_number",
            "gender",
            "birth_year",
            "relation",
            "status",
            "left_on",
        )
        read_only_fields = ("street", "community", "status", "left_on")

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if field_name == "id_number":
            # A duplicate is answered by scope (services.resident_id_number_check), never by
            # DRF's district-wide "already exists".
            kwargs["validators"] = [v for v in kwargs.get("validators", []) if not isinstance(v, UniqueValidator)]
        return self.FIELD_CLASSES.get(field_name, field_class), kwargs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("id_number"):
            request = self.context["request"]
            try:
                services.resident_id_number_check(
                    by=request.user, resident=self.instance or Resident(), id_number=attrs["id_number"], request=request
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError(validation_error_detail(error)) from error
        return attrs

    def validate_id_number(self, value):
        return (value or "").strip().upper()


class ResidentRevealSerializer(serializers.Serializer):
    """The answer of a reveal: one resident's full numbers."""

    mobile = serializers.CharField()
    id_number = serializers.CharField()


# --- 迁入 requests ---------------------------------------------------------------------------------------------
class TransferSerializer(serializers.ModelSerializer):
    """A 迁入 request as either side reads it: the person's name is masked for the requesting
    side until approved (``services.shown_name``), and their record id is given only to those
    who may see it. ``direction`` is ``incoming`` when the user may decide it."""

    resident_name = serializers.SerializerMethodField()
    resident = serializers.SerializerMethodField()
    source_community_name = serializers.CharField(source="source_community.name", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.name", read_only=True)
    decided_by_name = serializers.SerializerMethodField()
    direction = serializers.SerializerMethodField()

    class Meta:
        model = ResidentTransfer
        fields = (
            "id",
            "status",
            "resident",
            "resident_name",
            "source_community",
            "source_community_name",
            "community",
            "community_name",
            "to_household",
            "requested_by",
            "requested_by_name",
            "reason",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "note",
            "direction",
            "created_at",
        )
        read_only_fields = fields

    def _visible(self) -> set[int]:
        if "visible_communities" not in self.context:
            user = self.context["request"].user
            self.context["visible_communities"] = set(
                Community.objects.restrict(user, VIEW).values_list("pk", flat=True)
            )
            self.context["decidable_communities"] = set(
                Community.objects.restrict(user, CHANGE).values_list("pk", flat=True)
            )
        return self.context["visible_communities"]

    def get_resident_name(self, transfer) -> str:
        return services.shown_name(self.context["request"].user, transfer, self._visible())

    def get_resident(self, transfer) -> int | None:
        shown = services.sees_person(self.context["request"].user, transfer, self._visible())
        return transfer.resident_id if shown else None

    def get_decided_by_name(self, transfer) -> str | None:
        return transfer.decided_by.name if transfer.decided_by_id else None

    def get_direction(self, transfer) -> str:
        self._visible()
        return "incoming" if transfer.source_community_id in self.context["decidable_communities"] else "outgoing"


class TransferCreateSerializer(serializers.Serializer):
    id_number = serializers.CharField(
        max_length=18,
        validators=[validate_id_number],
        help_text="待迁入居民的身份证号（查询记入审计日志，计入每日上限）",
    )
    to_household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.all())
    reason = serializers.CharField(max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["to_household"].queryset = Household.objects.restrict(request.user, CHANGE)


class TransferDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TransferErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


# --- status steps and personal data ---------------------------------------------------------------
class ResidentLeaveInputSerializer(serializers.Serializer):
    """迁出 / 去世: the date it happened (not after today)."""

    left_on = serializers.DateField(help_text="迁出或去世的日期")


class ResidentErrorSerializer(serializers.Serializer):
    """The body of a 403, 404 or 409 answer."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class PersonalDataFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class PersonalDataSectionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="residence, household_members, account, devices, requests, visits …")
    title = serializers.CharField()
    fields = PersonalDataFieldSerializer(many=True)
    rows = serializers.ListField(child=serializers.DictField(), help_text="每行以字段 key 为键")


class PersonalDataSerializer(serializers.Serializer):
    """我的信息: everything held about the signed-in person (numbers masked)."""

    generated_at = serializers.DateTimeField()
    user = serializers.CharField()
    sections = PersonalDataSectionSerializer(many=True)


class FeeRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompoundFeeRate
        fields = ("id", "street", "community", "compound", "month", "rate", "source")
        read_only_fields = fields


class FeeRateInputSerializer(serializers.Serializer):
    """``{"compound": id, "month": "2026-09" or "2026-09-01", "rate": 91.5}``."""

    compound = ScopedRelatedField(queryset=Compound.objects.all())
    month = serializers.DateField(input_formats=["%Y-%m", "%Y-%m-%d"])
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
