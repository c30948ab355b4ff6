"""Notice API serializers: narrow read output, the publish input, and the relay input."""

from rest_framework import serializers

from baohe.api import ScopedRelatedField
from baohe.query import ApiId, validate_datetime
from communities.models import Building, Community, Compound

from .models import Notice, Receipt


class NoticeSerializer(serializers.ModelSerializer):
    audience_label = serializers.CharField(source="get_audience_display", read_only=True)
    place_label = serializers.CharField(read_only=True)
    image_urls = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = (
            "id",
            "street",
            "community",
            "audience",
            "audience_label",
            "compound",
            "building",
            "place_label",
            "title",
            "body",
            "pinned",
            "expires_at",
            "requires_confirmation",
            "published_at",
            "households_total",
            "image_urls",
        )
        read_only_fields = fields

    def get_image_urls(self, notice) -> list[str]:
        return [image.get_absolute_url() for image in notice.images.all()]


class NoticePublishSerializer(serializers.Serializer):
    """发布通知: the places are limited to what the caller may change (``ScopedRelatedField``)."""

    community = ScopedRelatedField(queryset=Community.objects.all())
    audience = serializers.ChoiceField(choices=Notice.Audience.choices)
    compound = ScopedRelatedField(queryset=Compound.objects.all(), required=False, allow_null=True)
    building = ScopedRelatedField(queryset=Building.objects.all(), required=False, allow_null=True)
    title = serializers.CharField(max_length=100)
    body = serializers.CharField(max_length=5000)
    pinned = serializers.BooleanField(required=False, default=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, validators=[validate_datetime])
    requires_confirmation = serializers.BooleanField(required=False, default=False)


class NoticeReceiptSerializer(serializers.ModelSerializer):
    household_label = serializers.CharField(source="household.__str__", read_only=True)

    class Meta:
        model = Receipt
        fields = (
            "id",
            "notice",
            "household",
            "household_label",
            "building",
            "read_at",
            "confirmed_at",
            "relayed_at",
            "relayed_by",
        )
        read_only_fields = fields


class NoticeRelayInputSerializer(serializers.Serializer):
    household = ApiId()


class NoticeCoverageRowSerializer(serializers.Serializer):
    building = serializers.IntegerField()
    total = serializers.IntegerField()
    read = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    relayed = serializers.IntegerField()
    reached = serializers.IntegerField()
    not_reached = serializers.ListField(child=serializers.IntegerField(), help_text="未传达住户的编号")


class NoticeCoverageTotalsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    read = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    relayed = serializers.IntegerField()
    reached = serializers.IntegerField()


class NoticeCoverageSerializer(serializers.Serializer):
    rows = NoticeCoverageRowSerializer(many=True)
    totals = NoticeCoverageTotalsSerializer()
