"""Visit forms: the phone form for recording a visit (with an optional found need) and the
community's staff round. Forms only validate and shape input; the writes are services."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import community_staff
from baohe.forms import RowChoiceField, StyledFormMixin
from baohe.query import FlagField, IdField, IntegerField, QueryForm, validate_datetime
from baohe.uploads import MAX_BYTES
from service_requests.forms import CategoryChoiceField

from .models import Purpose, VisitPlan, VisitRound


# --- what the pages read from the query string (baohe.query: a bad value is ignored, with a notice) ---
class MineQuery(QueryForm):
    all = FlagField(label=_("全部"))


class RecordQuery(QueryForm):
    plan = IdField(label=_("走访计划"))


class CoverageQuery(QueryForm):
    community = IdField(label=_("社区"))


class OverdueQuery(CoverageQuery):
    compound = IdField(label=_("小区"))
    page = IntegerField(label=_("页码"), min_value=1)


class VisitListQuery(OverdueQuery):
    household = IdField(label=_("住户"))
    needs = FlagField(label=_("发现需求"))


class GenerateForm(forms.Form):
    """按规则更新走访计划: for one community (the coverage page's hidden field), else every one."""

    community = IdField(label=_("社区"))


class VisitRecordForm(StyledFormMixin, forms.Form):
    """记录走访: purpose, notes, an optional photo, and optionally a need that becomes a request."""

    purpose = forms.ChoiceField(label=_("走访事由"), choices=Purpose.choices, widget=forms.RadioSelect)
    plan = RowChoiceField(
        label=_("走访计划"),
        queryset=VisitPlan.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("这个走访计划已不适用于该住户，请从“我的走访”重新进入。")},
    )
    visited_at = forms.DateTimeField(
        label=_("走访时间"),
        required=False,
        validators=[validate_datetime],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("补录以前的走访时，请改为实际走访时间"),
    )
    notes = forms.CharField(
        label=_("走访情况"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("老人身体、生活情况，聊了什么，需要跟进什么")}),
    )
    photo = forms.FileField(
        label=_("照片"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text=_("可选，JPEG、PNG 或 WebP，不超过 10 MB"),
    )
    need_found = forms.BooleanField(label=_("走访中发现需求，提交诉求"), required=False)
    need_category = CategoryChoiceField(label=_("需求分类"), required=False)
    need_description = forms.CharField(
        label=_("需求描述"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("如：家中燃气灶打不着火，老人不会修")}),
    )

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
        self.fields["need_category"].load()
        self.fields["purpose"].widget.attrs.pop("class", None)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.size is not None and photo.size > MAX_BYTES:
            raise forms.ValidationError(_("照片超过 10 MB，请压缩后再上传。"))
        return photo

    def clean(self):
        data = super().clean()
        if data.get("need_found"):
            if not data.get("need_category") and "need_category" not in self.errors:
                self.add_error("need_category", _("请选择发现的需求属于哪一类。"))
            if not (data.get("need_description") or "").strip() and "need_description" not in self.errors:
                self.add_error("need_description", _("请描述发现的需求。"))
        return data

    def need(self):
        data = self.cleaned_data
        if not data.get("need_found"):
            return None
        return {"category": data["need_category"], "description": data["need_description"]}

    def visit_time(self):
        return self.cleaned_data.get("visited_at") or timezone.now()


class VisitRoundForm(StyledFormMixin, forms.ModelForm):
    """社区走访安排: which staff member visits the community's flagged households, how often."""

    class Meta:
        model = VisitRound
        fields = ("staff", "interval_days", "active")

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community
        self.fields["staff"].queryset = community_staff(community).order_by("name", "username")
