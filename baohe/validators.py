"""Validators for Chinese mobile and resident identity card numbers, and the one rule for free text."""

import re

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
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]\Z")  # ASCII only: "²".isdigit() is true


def validate_id_number(value):
    """An 18-character resident ID (GB 11643): 17 digits and a check character."""
    value = (value or "").upper()
    if not _ID_SHAPE.match(value):
        raise ValidationError(_("身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X。"), code="invalid_id")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对。"), code="invalid_id_checksum")


def id_check_char(first17):
    """The check character for 17 digits (used by the demo data)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


# --- free text (rule 4) ---------------------------------------------------------------------------
# C0 control characters except tab, line feed and carriage return (browsers send CRLF from a
# <textarea>), DEL, UTF-16 surrogates (a JSON "\ud800" decodes to one; no database stores it) and
# the two non-characters XML 1.0 forbids. NUL is left to the ProhibitNullCharactersValidator that
# Django and DRF already put on every text field (one message per problem, not two). Refused rather than stripped: a silent change to what a
# resident typed is worse than a clear message, and a client that sends them has a bug to see.
_FORBIDDEN_TEXT = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# What XML 1.0 cannot carry at all (its Char production), for output of rows written before the rule.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def validate_text(value):
    """Free text from users: no control characters (tab and newlines are fine). Installed on every
    text field, beside the NUL check Django and DRF already put there."""
    if isinstance(value, str) and _FORBIDDEN_TEXT.search(value):
        raise ValidationError(
            _("不能包含控制字符（如 NUL、\\x01、\\x1b），请删去后重试。"),
            code="control_characters",
        )


def xml_safe(text):
    """``text`` without the characters XML 1.0 forbids (every Open311 XML answer parses)."""
    return _NOT_XML.sub("", text)


def install_text_rule():
    """Put :func:`validate_text` on the two base text fields every input passes through.

    - Django's ``forms.CharField`` (pages, admin, query forms, django-filter): its
      ``default_validators``, which Django adds to any validators a field declares.
    - DRF's ``serializers.CharField`` (the API): DRF drops ``default_validators`` when a field is
      given ``validators=`` (every unique model field is), so the rule is appended after DRF's own
      ``__init__``, the way DRF itself appends its NUL and surrogate validators there.

    One rule then covers every form and serializer, declared or generated, with no per-field
    wiring (``tests/test_input_rules.py`` walks them all). Called once from ``BaoheConfig.ready()``.
    """
    from django import forms
    from rest_framework import serializers

    if validate_text not in forms.CharField.default_validators:
        forms.CharField.default_validators = [*forms.CharField.default_validators, validate_text]

    drf_init = serializers.CharField.__init__
    if getattr(drf_init, "text_rule", False):
        return

    def __init__(self, **kwargs):
        drf_init(self, **kwargs)
        if validate_text not in self.validators:
            self.validators.append(validate_text)

    __init__.text_rule = True
    serializers.CharField.__init__ = __init__
