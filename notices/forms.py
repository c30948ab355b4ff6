"""The publish form (staff) and the list's query parameters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from baohe.forms import RowChoiceField, ScopedFormMixin
from baohe.query import DateTimeField, IntegerField, QueryForm
from communities.models import Building, Community, Compound

from .models import Notice
from .services import MAX_IMAGES


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ImagesField(forms.FileField):
    """Up to ``MAX_IMAGES`` images from one ``<input type=file multiple>``; the content check
    (Pillow, size, pixels, re-encoding) is the upload pipeline's, in the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/*"}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > MAX_IMAGES:
            raise forms.ValidationError(
                _("每条通知最多 %(max)s 张图片（本次 %(count)s 张）。") % {"max": MAX_IMAGES, "count": len(files)}
            )
        return [super(ImagesField, self).clean(item, initial) for item in files]


class BuildingChoiceField(RowChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.compound.name} · {obj.label}"


class NoticeForm(ScopedFormMixin, forms.Form):
    """发布通知: every place choice is limited to what the user may change."""

    community = RowChoiceField(Community.objects.order_by("code"), label=_("社区"))
    audience = forms.ChoiceField(label=_("发布范围"), choices=Notice.Audience.choices)
    compound = RowChoiceField(
        Compound.objects.order_by("name"), label=_("小区"), required=False, help_text=_("发布到小区时选择")
    )
    building = BuildingChoiceField(
        Building.objects.select_related("compound").order_by("compound__name", "number"),
        label=_("楼栋"),
        required=False,
        help_text=_("发布到楼栋时选择"),
    )
    title = forms.CharField(label=_("标题"), max_length=100)
    body = forms.CharField(label=_("正文"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    expires_at = DateTimeField(
        label=_("有效期至"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("留空表示长期有效"),
    )
    images = ImagesField(label=_("图片"), help_text=_("最多 6 张，JPEG、PNG 或 WebP，每张不超过 10 MB"))
    pinned = forms.BooleanField(label=_("置顶"), required=False)
    requires_confirmation = forms.BooleanField(label=_("需确认"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        communities = self.fields["community"].queryset
        if len(communities[:2]) == 1:
            self.fields["community"].initial = communities[0].pk


class StaffListQuery(QueryForm):
    page = IntegerField(min_value=1, initial=1)
