from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from baohe.masking import redact_numbers
from baohe.models import AuditEntry
from baohe.personal import MaskedMobileField
from baohe.query import check_date
from baohe.validators import mobile_validator

from .models import Role, User


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ("id", "kind", "street", "community")


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user; their mobile number masked like everyone's (``baohe.personal``)."""

    roles = RoleSerializer(many=True, read_only=True)
    mobile = MaskedMobileField(read_only=True, allow_blank=True, allow_null=True)
    username = serializers.SerializerMethodField()

    def get_username(self, user) -> str:
        """A resident's username is their mobile number: masked like it."""
        return redact_numbers(user.get_username())

    class Meta:
        model = User
        fields = ("id", "username", "name", "mobile", "roles")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("手机号或用户名"))
    password = serializers.CharField(label=_("密码"), style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        label=_("验证码"),
        required=False,
        allow_blank=True,
        max_length=20,
        help_text=_("工作人员、书记、领导和管理员必填：验证器上的 6 位数字或一个备用码。"),
    )
    device = serializers.CharField(
        label=_("设备名称"),
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=_("在“我的设备”中显示的名称；不填时用 User-Agent。"),
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("只在此时返回一次；请求时放在 Authorization: Token <token> 中。"))
    expiry = serializers.DateTimeField()
    device = serializers.CharField()


class RegisterCodeSerializer(serializers.Serializer):
    mobile = serializers.CharField(label=_("手机号"), validators=[mobile_validator])


class RegisterSerializer(serializers.Serializer):
    mobile = serializers.CharField(label=_("手机号"), validators=[mobile_validator])
    code = serializers.CharField(label=_("短信验证码"), max_length=6)
    password = serializers.CharField(label=_("密码"), trim_whitespace=False, write_only=True)
    name = serializers.CharField(label=_("姓名"), max_length=50, required=False, allow_blank=True)


# --- the audit trail (审计日志) ------------------------------------------------------------------
class AuditQuerySerializer(serializers.Serializer):
    """``GET /api/v1/audit/`` filters (``accounts.selectors.audit_entries_filter``); bad ones are 400."""

    person = serializers.CharField(required=False, allow_blank=True, max_length=150, help_text=_("登录名或姓名"))
    object_type = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_("如 communities.resident")
    )
    object_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    action = serializers.ChoiceField(required=False, allow_blank=True, choices=AuditEntry.Action.choices)
    date_from = serializers.DateField(required=False, allow_null=True, validators=[check_date])
    date_to = serializers.DateField(required=False, allow_null=True, validators=[check_date])


class AuditEntrySerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "created_at",
            "user",
            "username",
            "action",
            "action_label",
            "object_type",
            "object_id",
            "object_repr",
            "reason",
            "changes",
            "detail",
            "street",
            "community",
            "ip_address",
        )
        read_only_fields = fields
