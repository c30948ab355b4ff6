"""Base form machinery: every model choice limited to the user's scope, and a service's
``ValidationError`` shown on the form that sent the input (:func:`add_service_errors`). A form's
``PhotosField`` (``baohe.staging``) resolves its staged photos for the form's ``user``."""

from django import forms
from django.core.exceptions import ValidationError

from .query import parse_int
from .scoping import CHANGE
from .staging import PhotosField


class RowChoiceField(forms.ModelChoiceField):
    """Django's ``ModelChoiceField`` keyed by the row id in ASCII digits only, as every id the
    portal reads (``baohe.query.IdField``): Django's own takes ``"١٢"`` for 12 (``int()`` reads
    any script's digits), so a hostile value could name a real row. Anything else is "not one of
    the choices"."""

    def to_python(self, value):
        if (
            self.to_field_name is None
            and value not in self.empty_values
            and not isinstance(value, self.queryset.model)
            and parse_int(value, min_value=1) is None
        ):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return super().to_python(value)


class StyledFormMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        # Staged photos (baohe.staging) are resolved for the form's user: another user's token is none.
        for field in self.fields.values():
            if isinstance(field, PhotosField):
                field.user = getattr(self, "user", None)
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"


class ScopedFormMixin(StyledFormMixin):
    """Takes ``user=`` and restricts every model-choice field to what that user may change.

    A choice outside the user's scope is then simply "not one of the available choices",
    so a form can never attach a row to another community's compound or building.
    """

    scope_action = CHANGE

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and hasattr(queryset, "restrict"):
                field.queryset = queryset.restrict(user, self.scope_action)


class ScopedModelForm(ScopedFormMixin, forms.ModelForm):
    pass


def add_service_errors(
    form: forms.BaseForm,
    error: ValidationError,
    fallback: str | None = None,
    *,
    rename: dict[str, str] | None = None,
) -> None:
    """Show a ``ValidationError`` raised by a service (or a model's ``full_clean``) on ``form``.

    Each message goes on the field it names where the form has that field (``rename`` maps a
    service's name to the form's, e.g. ``{"password": "password1"}``); anything else, and an
    error that names no field, goes on ``fallback`` (default: the whole form).
    """
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            name = (rename or {}).get(name, name)
            form.add_error(name if name in form.fields else fallback, errors)
    else:
        form.add_error(fallback, error)
