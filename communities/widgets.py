"""Choosing a resident or a household in a staff form: a search-as-you-type box (Tom Select,
vendored under ``static/vendor/tom-select/``) over a scoped JSON endpoint
(``communities.views.autocomplete``, ``/registry/autocomplete/<kind>/?q=``), instead of a
``<select>`` of the whole community.

The widgets render only the chosen option(s) (as Django admin's autocomplete does), so a form
page no longer loads thousands of rows; the form field keeps its queryset and validates the
submitted id against it (scope included), exactly as before. Without JavaScript the select
shows the current choice only.
"""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext

from baohe.query import parse_int

AUTOCOMPLETE_MEDIA = forms.Media(
    css={"all": ["vendor/tom-select/tom-select.bootstrap5.min.css"]},
    js=["vendor/tom-select/tom-select.complete.min.js", "js/autocomplete.js"],
)


class AutocompleteMixin:
    """``kind`` is ``"residents"`` or ``"households"``; ``community`` narrows the endpoint's
    answers to one community (e.g. the households a central household may serve)."""

    def __init__(self, kind, attrs=None, community=None):
        self.kind, self.community = kind, community
        super().__init__(attrs=attrs)

    @property
    def media(self):
        return AUTOCOMPLETE_MEDIA

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        url = reverse("communities:autocomplete", args=[self.kind])
        if self.community is not None:
            url += f"?community={int(self.community)}"
        attrs["data-autocomplete"] = url
        attrs["data-no-results"] = gettext("没有找到，请输入姓名、房号（如 5栋 301）或手机尾号")
        attrs.setdefault("placeholder", gettext("输入姓名、房号或手机尾号搜索"))
        return attrs

    def optgroups(self, name, value, attrs=None):
        """Only the chosen values, read from the field's queryset (never the whole of it)."""
        selected = {str(v) for v in value if v not in (None, "")}
        groups = []
        if not self.is_required and not self.allow_multiple_selected:
            groups.append((None, [self.create_option(name, "", "", not selected, 0)], 0))
        if not selected:
            return groups
        choices = self.choices
        ids = [pk for pk in (parse_int(v, min_value=1) for v in selected) if pk is not None]
        queryset = choices.queryset.filter(pk__in=ids)
        for index, obj in enumerate(queryset, start=1):
            option_value = choices.field.prepare_value(obj)
            label = choices.field.label_from_instance(obj)
            groups.append((None, [self.create_option(name, option_value, label, True, index)], index))
        return groups


class AutocompleteSelect(AutocompleteMixin, forms.Select):
    pass


class AutocompleteSelectMultiple(AutocompleteMixin, forms.SelectMultiple):
    pass


def use_autocomplete(field: forms.ModelChoiceField, kind: str, community: int | None = None) -> None:
    """Give a form's resident or household field the autocomplete box (call in the form's
    ``__init__``, after narrowing its queryset or before: the field keeps them in step)."""
    multiple = isinstance(field, forms.ModelMultipleChoiceField)
    widget_class = AutocompleteSelectMultiple if multiple else AutocompleteSelect
    widget = widget_class(kind, attrs=dict(field.widget.attrs), community=community)
    widget.is_required = field.required
    widget.choices = field.choices
    field.widget = widget
