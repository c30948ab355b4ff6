"""通知公告: notices that staff publish to a part of their community, and their receipts per household.

A :class:`Notice` goes to one audience inside one community — the whole community, a compound,
a building, the party members or the volunteers — with a title, a body, photos (the upload
pipeline, ``baohe.uploads``), pinned/expiry and 需确认 (confirmation required). Publishing
(``notices.services.notice_publish``) writes one :class:`Receipt` per household reached, so
"who was told" is fixed at publication: a household reads or confirms it, or the central
household / party group leader who serves it marks it 已传达到户 (relayed) after telling them
in person. Staff read coverage per building from the receipts.

Scope: staff see notices through ``street``/``community``; a resident sees exactly the notices
that have a receipt for their household (``household="receipts__household"``), so a building's
notice stays with that building.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import ScopePaths
from baohe.validators import validate_text


class Notice(CommunityScopedModel):
    """One notice to one audience of a community."""

    class Audience(models.TextChoices):
        COMMUNITY = "community", _("全社区")
        COMPOUND = "compound", _("小区")
        BUILDING = "building", _("楼栋")
        PARTY_MEMBERS = "party_members", _("党员")
        VOLUNTEERS = "volunteers", _("志愿者")

    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="notices"
    )
    audience = models.CharField(_("发布范围"), max_length=16, choices=Audience.choices, default=Audience.COMMUNITY)
    compound = models.ForeignKey(
        "communities.Compound",
        verbose_name=_("小区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
    )
    building = models.ForeignKey(
        "communities.Building",
        verbose_name=_("楼栋"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
    )
    title = models.CharField(_("标题"), max_length=100, validators=[validate_text])
    body = models.TextField(_("正文"), max_length=5000, validators=[validate_text])
    pinned = models.BooleanField(_("置顶"), default=False)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    requires_confirmation = models.BooleanField(
        _("需确认"), default=False, help_text=_("居民需点“我已知晓”确认；无账号住户将收到短信。")
    )
    published_by = models.ForeignKey(
        "accounts.User", verbose_name=_("发布人"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now, editable=False)
    households_total = models.PositiveIntegerField(_("送达住户数"), default=0, editable=False)

    scope_parent = "community"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        household="receipts__household",
        in_compound="compound",
        in_building="building",
    )

    class Meta:
        verbose_name = _("通知公告")
        verbose_name_plural = _("通知公告")
        ordering = ("-pinned", "-published_at", "-id")
        indexes = [models.Index(fields=("community", "-published_at"), name="notices_notice_recent")]
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_place_fits_audience",
                condition=(
                    Q(audience="building", building__isnull=False, compound__isnull=False)
                    | Q(audience="compound", building__isnull=True, compound__isnull=False)
                    | (~Q(audience__in=("building", "compound")) & Q(building__isnull=True, compound__isnull=True))
                ),
                violation_error_message=_("发布范围与所选小区、楼栋不符。"),
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.building_id:
            self.compound_id = self.building.compound_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("notices:detail", args=[self.pk])

    def clean(self):
        super().clean()
        audience = self.Audience
        if self.audience == audience.BUILDING:
            if not self.building_id:
                raise ValidationError({"building": _("发布到楼栋时请选择楼栋。")})
            self.compound_id = self.building.compound_id
        elif self.audience == audience.COMPOUND:
            if not self.compound_id:
                raise ValidationError({"compound": _("发布到小区时请选择小区。")})
            self.building = None
        else:
            self.compound, self.building = None, None
        if self.compound_id and self.community_id and self.compound.community_id != self.community_id:
            raise ValidationError({"compound": _("所选小区不属于该社区。")})
        if self.expires_at and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": _("有效期应晚于现在。")})

    @property
    def place_label(self):
        """Where it goes, as people say it: 清华园小区 · 5栋（和谐5栋）, 全社区, 党员."""
        if self.audience == self.Audience.BUILDING and self.building_id:
            return f"{self.building.compound.name} · {self.building.label}"
        if self.audience == self.Audience.COMPOUND and self.compound_id:
            return self.compound.name
        return str(self.get_audience_display())

    @property
    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= timezone.now()


class NoticeImage(CommunityScopedModel):
    """A photo on a notice, checked by content and re-encoded (``baohe.uploads``)."""

    notice = models.ForeignKey(Notice, verbose_name=_("通知公告"), on_delete=models.CASCADE, related_name="images")
    file = models.FileField(_("文件"), upload_to="notices/%Y/%m/", max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小(字节)"))
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))

    scope_parent = "notice"
    scope_paths = ScopePaths(street="street", community="community", household="notice__receipts__household")

    class Meta:
        verbose_name = _("通知图片")
        verbose_name_plural = _("通知图片")
        ordering = ("id",)

    def __str__(self):
        return self.file.name

    def get_absolute_url(self):
        return reverse("notices:image", args=[self.pk])


class Receipt(CommunityScopedModel):
    """One household's receipt of one notice: read, confirmed, or relayed (已传达到户) by who serves it."""

    notice = models.ForeignKey(Notice, verbose_name=_("通知公告"), on_delete=models.CASCADE, related_name="receipts")
    household = models.ForeignKey(
        "communities.Household", verbose_name=_("住户"), on_delete=models.PROTECT, related_name="notice_receipts"
    )
    building = models.ForeignKey(
        "communities.Building", verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True, editable=False)
    read_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("阅读人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True, editable=False)
    confirmed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("确认人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    relayed_at = models.DateTimeField(_("传达时间"), null=True, blank=True, editable=False)
    relayed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("传达人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    scope_parent = "notice"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        household="household",
        in_compound="household__compound",
        in_building="building",
    )

    class Meta:
        verbose_name = _("通知回执")
        verbose_name_plural = _("通知回执")
        ordering = ("notice_id", "building_id", "household_id")
        constraints = [
            models.UniqueConstraint(fields=("notice", "household"), name="%(app_label)s_%(class)s_one_per_household"),
        ]
        indexes = [models.Index(fields=("household", "notice"), name="notices_receipt_household")]

    def __str__(self):
        return f"{self.notice_id}:{self.household_id}"

    @property
    def is_reached(self):
        return self.read_at is not None or self.relayed_at is not None
