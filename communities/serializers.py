"""Registry serializers. Related choices are limited to the user's change scope and the
model's ``full_clean()`` runs on every write (``baohe.api.ScopedModelSerializer``)."""

from rest_framework import serializers

from baohe.api import ScopedModelSerializer
from baohe.scoping import CHANGE

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
    """Mobile and ID number are masked unless the requester may change the record."""

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

    def to_representation(self, instance):
        data = super().to_representation(instance)
        changeable = self.context.get("changeable_ids")
        if changeable is None or instance.pk not in changeable:
            data["mobile"] = instance.masked_mobile
            data["id_number"] = instance.masked_id_number
        return data

    def validate_id_number(self, value):
        return (value or "").strip().upper()


def changeable_ids(user, model, ids):
    """Which of ``ids`` the user may change (one query), for unmasking personal data."""
    return set(model.objects.restrict(user, CHANGE).filter(pk__in=ids).values_list("pk", flat=True))
