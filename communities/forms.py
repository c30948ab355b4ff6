"""Registry forms. Every model choice is restricted to the user's change scope (ScopedModelForm)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from baohe.forms import ScopedModelForm
from baohe.personal import PersonalNumbersFormMixin

from .models import Building, Compound, Household, Resident


class CompoundForm(ScopedModelForm):
    class Meta:
        model = Compound
        fields = (
            "community",
            "name",
            "kind",
            "grid",
            "address",
            "property_company",
            "fee_collection_rate",
            "handed_over",
        )


class BuildingForm(ScopedModelForm):
    class Meta:
        model = Building
        fields = ("compound", "number", "name", "units", "floors", "head")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A building stays in its compound; its head is one of its own residents.
            self.fields["compound"].disabled = True
            self.fields["head"].queryset = self.fields["head"].queryset.filter(household__building=self.instance)
        else:
            del self.fields["head"]


class HouseholdForm(ScopedModelForm):
    class Meta:
        model = Household
        fields = (
            "building",
            "unit",
            "room",
            "lives_alone_elderly",
            "elderly",
            "disabled",
            "low_income",
            "is_rented",
            "note",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = self.fields["building"].queryset.select_related("compound")
        self.fields["building"].label_from_instance = lambda b: f"{b.compound.name} {b.label}"


class ResidentForm(PersonalNumbersFormMixin, ScopedModelForm):
    """An edit never shows the old mobile or ID number: empty keeps it (``baohe.personal``)."""

    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)

    class Meta:
        model = Resident
        fields = ("household", "name", "mobile", "id_number", "gender", "birth_year", "relation")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = self.fields["household"].queryset.select_related("building")
        self.fields["household"].label_from_instance = lambda h: f"{h.building.label} {h.address}"

    def clean_id_number(self):
        return (self.cleaned_data.get("id_number") or "").strip().upper()
