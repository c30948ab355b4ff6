"""Personal numbers (mobile and ID numbers): one masking rule for every output, one reveal.

ARCHITECTURE rule 5. A mobile number is shown ``138****5678`` and an ID number
``3401**********1234`` (``baohe.masking``) on every page, API answer, admin screen, export,
Open311 answer and notification, to everyone. The full number of ONE record is shown only through
an explicit reveal (``baohe.services.personal_reveal``) by someone who may change the record,
with a reason from :class:`RevealReason`; each reveal is one ``AuditEntry(VIEW_PERSONAL)``.

The pieces every output uses, so no app masks by hand:

- templates: the ``masked_mobile`` / ``masked_id`` filters (``baohe/templatetags/portal.py``);
- API: :class:`MaskedMobileField` / :class:`MaskedIdNumberField` (write the full number, read
  the masked one; the schema says so);
- forms: :class:`PersonalNumbersFormMixin` (an edit form never renders the old number: its input
  is empty, the masked value is the help text, and empty means "unchanged");
- admin: :class:`PersonalNumbersModelForm`, :func:`masked_display` columns and read-only fields,
  :class:`PersonalSearchMixin` (a whole number finds its row, a part of one finds nothing);
- exports: ``baohe.exports`` (masked unless a privileged export with a reason).

A model with personal numbers names them in ``PERSONAL_FIELDS`` (``{"mobile": "mobile", ...}``:
field name → kind), which the reveal, the forms and the walk test read.
"""

import re

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from .masking import mask_id_number, mask_mobile

MOBILE = "mobile"
ID_NUMBER = "id_number"
MASKERS = {MOBILE: mask_mobile, ID_NUMBER: mask_id_number}

# What the masking makes of a value: the API schema's patterns (a blank value is the schema's other branch).
MASKED_PATTERNS = {
    MOBILE: r"^[^*]{0,3}\*+[^*]{0,4}$",
    ID_NUMBER: r"^[^*]{0,4}\*+[^*]{0,4}$",
}


class RevealReason(models.TextChoices):
    """Why a staff member reveals one record's full number (kept on the audit line)."""

    VISIT = "visit", _("入户走访核实")
    REQUEST = "request", _("办理诉求联系")
    CORRECTION = "correction", _("信息更正")
    OTHER = "other", _("其他")


def mask(kind, value):
    """``value`` masked by the rule for ``kind`` (:data:`MOBILE` or :data:`ID_NUMBER`)."""
    return MASKERS[kind](value)


def personal_fields(model_or_obj):
    """``{field name: kind}`` of a model's personal numbers (empty when it has none)."""
    return dict(getattr(model_or_obj, "PERSONAL_FIELDS", {}) or {})


def mobile_like(value):
    """Whether ``value`` is a mainland mobile number (a resident's username is one)."""
    return bool(value) and re.fullmatch(r"1[3-9][0-9]{9}", str(value)) is not None


def masked_values(obj):
    """``{field: masked value}`` for each personal number of ``obj``."""
    return {name: mask(kind, getattr(obj, name)) for name, kind in personal_fields(obj).items()}


# --- API ------------------------------------------------------------------------------------------
class MaskedPersonalField(serializers.CharField):
    """A personal number: written in full (the model's validators apply), always read masked."""

    kind = MOBILE

    def to_representation(self, value):
        return mask(self.kind, value)


class MaskedMobileField(MaskedPersonalField):
    kind = MOBILE


class MaskedIdNumberField(MaskedPersonalField):
    kind = ID_NUMBER


class MaskedPersonalFieldSchema(OpenApiSerializerFieldExtension):
    target_class = MaskedPersonalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {
                "type": "string",
                "pattern": MASKED_PATTERNS[self.target.kind],
                "description": "打码显示；完整号码须经 reveal 接口查看（记入审计日志）",
            }
        return auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)


class RevealInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RevealReason.choices, label=_("查看原因"))


# --- forms ----------------------------------------------------------------------------------------
class PersonalNumbersFormMixin:
    """An edit form that takes a new full number but never shows the old one.

    For each field of the model's ``PERSONAL_FIELDS`` on the form: when editing a saved row the
    input starts empty, the help text shows the masked current value, and an empty input keeps
    it (so a number cannot be erased through the form; the retention rules erase numbers).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self._kept_personal = {}
        if instance is None or instance.pk is None:
            return
        for name, kind in self.personal_fields_of(instance).items():
            field = self.fields.get(name)
            if field is None:
                continue
            current = getattr(instance, name)
            self.initial[name] = ""
            field.required = False
            if current:
                self._kept_personal[name] = current
                field.help_text = _("当前：%(masked)s。留空则不修改。") % {"masked": mask(kind, current)}
                field.widget.attrs["placeholder"] = mask(kind, current)

    def personal_fields_of(self, instance):
        return personal_fields(instance)

    def clean(self):
        cleaned = super().clean()
        for name, current in self._kept_personal.items():
            if name in cleaned and not cleaned[name]:
                cleaned[name] = current
        return cleaned


class RevealForm(forms.Form):
    """The page's reveal button: the reason, from the short list."""

    reason = forms.ChoiceField(label=_("查看原因"), choices=RevealReason.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs["class"] = "form-select form-select-sm"


class PersonalNumbersModelForm(PersonalNumbersFormMixin, forms.ModelForm):
    """The admin's form for a model with personal numbers (``ModelAdmin.form``)."""


def masked_display(field_name, kind=MOBILE, description=None):
    """An admin column / read-only field showing ``field_name`` masked (for ``list_display`` and
    ``readonly_fields`` in place of the raw field)."""

    def show(model_admin, obj):  # a method of the ModelAdmin it is assigned to
        return mask(kind, getattr(obj, field_name))

    show.short_description = description or field_name
    show.__name__ = f"masked_{field_name}"
    return show


class PersonalSearchMixin:
    """Admin search that never works as an oracle on personal numbers: ``search_fields`` name no
    number; a term that is a whole mobile / ID number finds the rows with exactly that number
    (``personal_search(queryset, term)``), never a part of one."""

    def personal_search(self, queryset, term):
        return queryset.none()

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = (search_term or "").strip()
        if re.fullmatch(r"1[3-9][0-9]{9}|[0-9]{17}[0-9Xx]", term):
            results = results | self.personal_search(queryset, term)
        return results, may_have_duplicates
