"""Visit API serializers: plans and visits (read-only) and the input of ``VisitRecordApi``."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from baohe.query import ApiId, validate_datetime
from service_requests.selectors import leaf_categories

from .models import Purpose, Visit, VisitPlan


class VisitPlanSerializer(serializers.ModelSerializer):
    household_label = serializers.CharField(source="household.__str__", read_only=True)
    rule_label = serializers.CharField(source="get_rule_display", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = VisitPlan
        fields = (
            "id",
            "street",
            "community",
            "compound",
            "household",
            "household_label",
            "rule",
            "rule_label",
            "interval_days",
            "visitor_user",
            "visitor_label",
            "next_due_on",
            "last_visited_on",
            "overdue",
            "active",
        )
        read_only_fields = fields

    def get_overdue(self, plan) -> bool:
        return plan.active and plan.next_due_on < timezone.localdate()


class VisitSerializer(serializers.ModelSerializer):
    household_label = serializers.CharField(source="household.__str__", read_only=True)
    purpose_label = serializers.CharField(source="get_purpose_display", read_only=True)
    photo_url = serializers.SerializerMethodField()
    request_number = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = (
            "id",
            "street",
            "community",
            "compound",
            "household",
            "household_label",
            "plan",
            "visitor",
            "visitor_label",
            "visited_at",
            "purpose",
            "purpose_label",
            "notes",
            "photo_url",
            "due_on",
            "on_time",
            "request",
            "request_number",
            "created_at",
        )
        read_only_fields = fields

    def get_photo_url(self, visit) -> str | None:
        if not visit.photo:
            return None
        from django.urls import reverse

        url = reverse("visits:photo", args=[visit.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_request_number(self, visit) -> str | None:
        return visit.request.number if visit.request_id else None


class VisitRecordInputSerializer(serializers.Serializer):
    """记录一次走访. ``need_category`` + ``need_description`` (both or neither) open a request
    with channel "visit" linked to the visit. JSON or multipart (``photo`` as a file)."""

    household = ApiId(help_text="住户 id（须是您可以走访的住户）")
    purpose = serializers.ChoiceField(choices=Purpose.choices, help_text="走访事由（八个到家）")
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    visited_at = serializers.DateTimeField(
        required=False, allow_null=True, validators=[validate_datetime], help_text="默认为现在"
    )
    photo = serializers.FileField(required=False, allow_null=True, allow_empty_file=False)
    plan = ApiId(required=False, allow_null=True, help_text="走访计划 id（可选）")
    need_category = serializers.PrimaryKeyRelatedField(
        queryset=leaf_categories(), required=False, allow_null=True, help_text="发现的需求：诉求分类 id（二级）"
    )
    need_description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="发现的需求：描述"
    )

    def validate(self, attrs):
        category, description = attrs.get("need_category"), (attrs.get("need_description") or "").strip()
        if category is not None and not description:
            raise serializers.ValidationError({"need_description": [_("请描述发现的需求。")]})
        if description and category is None:
            raise serializers.ValidationError({"need_category": [_("请选择发现的需求属于哪一类。")]})
        attrs["need"] = {"category": category, "description": description} if category is not None else None
        return attrs
