"""Request categories with their time limits, and the working-day calendar the limits count in."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from baohe.models import BaseModel
from baohe.scoping import ScopePaths
from baohe.texts import bilingual, in_english


class Category(BaseModel):
    """诉求分类: two levels; each sets its time limits and its Open311 service code."""

    # The parent of the categories of requests about one's own personal data (personal_data.py):
    # never shown in public (public.py).
    PERSONAL_INFO_CODE = "personal-info"

    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(
        _("英文名称"),
        max_length=80,
        blank=True,
        default="",
        db_default="",
        help_text=_("英文界面显示的名称；留空则显示中文名称。"),
    )
    code = models.SlugField(_("服务代码"), max_length=40, unique=True, help_text=_("Open311 service_code"))
    description = models.CharField(_("说明"), max_length=200, blank=True)
    accept_within_hours = models.PositiveSmallIntegerField(_("签收时限(小时)"), default=24)
    resolve_within_days = models.PositiveSmallIntegerField(_("办结时限(工作日)"), default=5)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    scope_paths = ScopePaths(street=None, community=None, public=True)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ("order", "id")
        constraints = [
            models.UniqueConstraint(fields=("parent", "name"), name="%(app_label)s_%(class)s_parent_name"),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_limits_positive",
                condition=Q(accept_within_hours__gte=1, resolve_within_days__gte=1),
            ),
        ]

    def __str__(self):
        return f"{self.parent.label} / {self.label}" if self.parent_id else self.label

    @property
    def label(self) -> str:
        """The name in the reader's language: ``name_en`` in English when it is filled in."""
        return self.name_en or self.name if in_english() else self.name

    @property
    def text(self) -> dict[str, str]:
        """The full name as a stored-text parameter (:func:`baohe.texts.bilingual`): a
        notification names the category in its reader's language."""
        zh, en = self.name, self.name_en or self.name
        if self.parent_id:
            zh, en = f"{self.parent.name} / {zh}", f"{self.parent.name_en or self.parent.name} / {en}"
        return bilingual(zh, en)


class CalendarDay(models.Model):
    """A day that differs from the weekly rule: a public holiday off, or a 调休 working weekend day."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("节假日(休)")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ("date",)

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"
