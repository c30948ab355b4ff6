"""Base form machinery: every model choice limited to the user's scope."""

from django import forms

from .scoping import CHANGE


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
