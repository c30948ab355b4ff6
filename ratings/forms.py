"""Forms of the 四美一好 pages: open a round, score a building, the rankings' query."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.forms import RowChoiceField, ScopedFormMixin, StyledFormMixin
from baohe.query import ChoiceField, DecimalField, IdField, IntegerField, QueryForm, YearField
from baohe.staging import PhotosField
from communities.models import Community

from .models import DEFAULT_PASS_SCORE, SCORE_MAX, Criterion

QUARTERS = [(q, _("第%(quarter)s季度") % {"quarter": q}) for q in (1, 2, 3, 4)]


def current_quarter():
    today = timezone.localdate()
    return today.year, (today.month - 1) // 3 + 1


class RoundOpenForm(ScopedFormMixin, forms.Form):
    """发起评定: a community the user may change, a year and quarter, the pass score."""

    community = RowChoiceField(Community.objects.order_by("code"), label=_("社区"))
    year = YearField(label=_("年度"))
    quarter = forms.TypedChoiceField(label=_("季度"), choices=QUARTERS, coerce=int)
    pass_score = DecimalField(
        label=_("达标分数"), min_value=0, max_value=SCORE_MAX, decimal_places=2, initial=DEFAULT_PASS_SCORE
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        year, quarter = current_quarter()
        self.fields["year"].initial, self.fields["quarter"].initial = year, quarter
        if self.fields["community"].queryset.count() == 1:
            self.fields["community"].initial = self.fields["community"].queryset.first()


class RatingForm(StyledFormMixin, forms.Form):
    """楼栋评分: one field per active criterion (``score_<id>``), representatives, note, photos."""

    representatives = IntegerField(label=_("参评居民代表人数"), min_value=0, max_value=200, initial=0)
    note = forms.CharField(label=_("评语"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("照片"), help_text=_("楼道、活动等照片，最多 6 张"))  # baohe.staging

    def __init__(self, *args, criteria: list[Criterion], rating=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # staged photos are this user's (baohe.staging)
        self.criteria = criteria
        current = {s.criterion_id: s.score for s in rating.scores.all()} if rating else {}
        for criterion in reversed(criteria):
            field = DecimalField(
                label=f"{criterion.name}（{_('权重')} {criterion.weight.normalize()}）",
                min_value=0,
                max_value=SCORE_MAX,
                decimal_places=2,
                help_text=criterion.description,
                initial=current.get(criterion.pk),
                widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal", "class": "form-control"}),
            )
            self.fields = {f"score_{criterion.pk}": field, **self.fields}
        if rating is not None:
            self.fields["representatives"].initial = rating.representatives
            self.fields["note"].initial = rating.note

    def scores(self):
        return {c.pk: self.cleaned_data[f"score_{c.pk}"] for c in self.criteria}


class RankingsQuery(QueryForm):
    year = YearField(required=False)
    quarter = ChoiceField(required=False, choices=[("", "")] + [(str(q), str(q)) for q in (1, 2, 3, 4)])
    street = IdField(required=False)
