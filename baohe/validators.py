"""Validators for Chinese mobile and resident identity card numbers."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

mobile_validator = RegexValidator(
    r"^1[3-9]\d{9}$",
    _("请输入 11 位中国大陆手机号码，如 13812345678。"),
    code="invalid_mobile",
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def validate_id_number(value):
    """An 18-character resident ID (GB 11643): 17 digits and a check character."""
    value = (value or "").upper()
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        raise ValidationError(_("身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X。"), code="invalid_id")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对。"), code="invalid_id_checksum")


def id_check_char(first17):
    """The check character for 17 digits (used by the demo data)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]
