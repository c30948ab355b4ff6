"""Base form machinery: every model choice limited to the user's scope."""

from django import forms

from .scoping import CHANGE


class ScopedFormMixin:
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
