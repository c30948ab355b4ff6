"""Funds API serializers: narrow read output and the input of each step."""

from decimal import Decimal

from rest_framework import serializers

from baohe.api import ScopedRelatedField
from meetings.models import Decision

from .models import Fund, LedgerEntry, Proposal, ProposalFile

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01"), "coerce_to_string": True}


class FundSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    available = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Fund
        fields = (
            "id",
            "street",
            "community",
            "year",
            "kind",
            "kind_label",
            "name",
            "budget",
            "committed",
            "paid",
            "available",
        )
        read_only_fields = fields


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = ("id", "fund", "proposal", "kind", "account", "amount", "reverses", "reason", "created_at")
        read_only_fields = fields


class ProposalFileSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ProposalFile
        fields = ("id", "kind", "content_type", "size", "url", "created_at")
        read_only_fields = fields


class ProposalSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    purpose_label = serializers.CharField(source="get_purpose_display", read_only=True)
    files = ProposalFileSerializer(many=True, read_only=True)

    class Meta:
        model = Proposal
        fields = (
            "id",
            "street",
            "community",
            "fund",
            "title",
            "purpose",
            "purpose_label",
            "description",
            "amount",
            "paid_amount",
            "payee",
            "decision",
            "service_project",
            "status",
            "status_label",
            "approved_at",
            "reviewed_at",
            "paid_at",
            "closed_reason",
            "created_at",
            "files",
        )
        read_only_fields = fields


class ProposalSubmitSerializer(serializers.Serializer):
    """新建支出申请: the fund and decision are limited to what the caller may change."""

    fund = ScopedRelatedField(queryset=Fund.objects.all())
    title = serializers.CharField(max_length=100)
    purpose = serializers.ChoiceField(choices=Proposal.Purpose.choices)
    amount = serializers.DecimalField(**MONEY)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    payee = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    decision = ScopedRelatedField(queryset=Decision.objects.all(), required=False, allow_null=True, default=None)
    quotes = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=6)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class PaySerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    payee = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    receipts = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=6)


class FilesSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ProposalFile.Kind.choices)
    files = serializers.ListField(child=serializers.FileField(), max_length=6)


class BudgetSerializer(serializers.Serializer):
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"), coerce_to_string=True)
    reason = serializers.CharField(max_length=300)
