"""Registry serializers. Related choices are limited to the user's change scope and the
model's ``full_clean()`` runs on every write (``baohe.api.ScopedModelSerializer``).

A resident's mobile and ID number are written in full and always answered masked
(``baohe.personal.MaskedMobileField``); the full numbers of one resident come only from
``POST residents/{id}/reveal/`` (audited). A blank gender is answered ``null``, never ``""``
outside the enum (``baohe.api.BlankAsNullChoiceField``).
"""

from rest_framework import serializers

from baohe.api import ScopedModelSerializer
from baohe.personal import MaskedIdNumberField, MaskedMobileField

from .models import Building, Community, Compound, District, Household, Resident, Street


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
            "handed_over",
        )
        read_only_fields = ("street",)


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
        )
        read_only_fields = ("street", "community", "compound")

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
        )
        read_only_fields = ("street", "community")

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        return self.FIELD_CLASSES.get(field_name, field_class), kwargs

    def validate_id_number(self, value):
        return (value or "").strip().upper()


class ResidentRevealSerializer(serializers.Serializer):
    """The answer of a reveal: one resident's full numbers."""

    mobile = serializers.CharField()
    id_number = serializers.CharField()
