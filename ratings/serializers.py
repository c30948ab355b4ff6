"""四美一好 API serializers: narrow read output and the step inputs."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from baohe.api import ScopedRelatedField
from baohe.query import ApiId, ApiInteger, ApiYear
from communities.models import Community

from .models import SCORE_MAX, BuildingRating, Criterion, CriterionScore, RatingRound


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ("id", "code", "name", "description", "weight", "order", "active")
        read_only_fields = fields


class RatingRoundSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    period_label = serializers.CharField(read_only=True)

    class Meta:
        model = RatingRound
        fields = (
            "id",
            "street",
            "community",
            "year",
            "quarter",
            "period_label",
            "pass_score",
            "status",
            "status_label",
            "approved_at",
        )
        read_only_fields = fields


class RoundOpenSerializer(serializers.Serializer):
    community = ScopedRelatedField(queryset=Community.objects.all())
    year = ApiYear()
    quarter = ApiInteger(min_value=1, max_value=4)
    pass_score = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=SCORE_MAX, required=False
    )


class CriterionScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = CriterionScore
        fields = ("criterion", "score", "weight")
        read_only_fields = fields


class BuildingRatingSerializer(serializers.ModelSerializer):
    scores = CriterionScoreSerializer(many=True, read_only=True)
    building_label = serializers.CharField(source="building.label", read_only=True)
    compound = serializers.IntegerField(source="building.compound_id", read_only=True)
    photo_urls = serializers.SerializerMethodField()

    class Meta:
        model = BuildingRating
        fields = (
            "id",
            "round",
            "street",
            "community",
            "compound",
            "building",
            "building_label",
            "score",
            "passed",
            "representatives",
            "note",
            "scores",
            "photo_urls",
        )
        read_only_fields = fields

    def get_photo_urls(self, rating) -> list[str]:
        return [photo.get_absolute_url() for photo in rating.photos.all()]


class RatingScoreSerializer(serializers.Serializer):
    """``{"building": id, "scores": {"<criterion id>": 90, …}, "note": "", "representatives": 5}``."""

    building = ApiId()
    scores = serializers.DictField(child=serializers.DecimalField(max_digits=6, decimal_places=2), allow_empty=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    representatives = ApiInteger(min_value=0, max_value=200, required=False, default=0)

    def validate_scores(self, value):
        parsed = {}
        for key, score in value.items():
            if not str(key).isascii() or not str(key).isdecimal():
                raise serializers.ValidationError(_("评分项编号必须是正整数。"))
            parsed[int(key)] = score
        return parsed
