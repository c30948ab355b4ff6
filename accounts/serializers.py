from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from baohe.masking import redact_numbers
from baohe.personal import MaskedMobileField
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
