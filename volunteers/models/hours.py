"""Service hours (approved by staff) and the points ledger they earn."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import ScopePaths

from .activities import Activity, ServiceProject, Signup
from .common import HOURS_MAX, HOURS_MIN, OWNER
from .teams import Volunteer, VolunteerTeam


class ServiceHours(CommunityScopedModel):
    """服务时长: hours a volunteer served (at an activity, or on a project's rounds), with the
    households served; counted once staff approve them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已审核")
        REJECTED = "rejected", _("未通过")

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="service_hours"
    )
    project = models.ForeignKey(
        ServiceProject, verbose_name=_("服务项目"), on_delete=models.PROTECT, related_name="service_hours"
    )
    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.PROTECT, null=True, blank=True, related_name="service_hours"
    )
    team = models.ForeignKey(
        VolunteerTeam,
        verbose_name=_("志愿服务队"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_hours",
    )
    signup = models.OneToOneField(
        Signup, verbose_name=_("报名"), on_delete=models.PROTECT, null=True, blank=True, related_name="service_hours"
    )
    served_on = models.DateField(_("服务日期"))
    hours = models.DecimalField(
        _("时长(小时)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(HOURS_MIN), MaxValueValidator(HOURS_MAX)],
    )
    households = models.ManyToManyField(
        "communities.Household", verbose_name=_("服务的住户"), related_name="volunteer_services", blank=True
    )
    note = models.CharField(_("服务内容"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    recorded_by = models.ForeignKey(
        "accounts.User", verbose_name=_("登记人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        "accounts.User", verbose_name=_("审核人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reject_reason = models.CharField(_("未通过原因"), max_length=200, blank=True)

    scope_parent = "project"
    scope_paths = ScopePaths(
        street="street", community="community", owner=OWNER, in_compound="volunteer__resident__household__compound"
    )

    class Meta:
        verbose_name = _("服务时长")
        verbose_name_plural = _("服务时长")
        ordering = ("-served_on", "-id")
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_hours_range",
                condition=Q(hours__gt=0, hours__lte=24),
                violation_error_message=_("时长必须大于 0 且不超过 24 小时。"),
            ),
        ]
        indexes = [
            models.Index(fields=("community", "status"), name="vol_hours_review"),
            models.Index(fields=("team", "served_on"), name="vol_hours_team_month"),
        ]

    def __str__(self):
        return f"{self.volunteer} · {self.served_on} · {self.hours}h"

    def sync_scope(self):
        if self.activity_id:
            self.project_id = self.activity.project_id
            self.team_id = self.activity.team_id
        return super().sync_scope()

    def clean(self):
        super().clean()
        errors = {}
        if self.activity_id and self.project_id and self.activity.project_id != self.project_id:
            errors["activity"] = _("活动不属于所选服务项目。")
        if self.team_id and self.project_id and self.team.community_id != self.project.community_id:
            errors["team"] = _("志愿服务队必须是本项目所在社区的队伍。")
        if self.signup_id and (
            self.signup.activity_id != self.activity_id or self.signup.volunteer_id != self.volunteer_id
        ):
            errors["signup"] = _("报名记录与志愿者或活动不符。")
        if self.served_on and self.served_on > timezone.localdate():
            errors["served_on"] = _("服务日期不能晚于今天。")
        if errors:
            raise ValidationError(errors)


class PointsEntry(CommunityScopedModel):
    """积分流水: points earned (approved hours × points per hour) or spent; the balance is their sum."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="points_entries"
    )
    hours = models.OneToOneField(
        ServiceHours,
        verbose_name=_("服务时长"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_entry",
    )
    points = models.DecimalField(_("积分"), max_digits=9, decimal_places=2)
    reason = models.CharField(_("事由"), max_length=200)
    created_by = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_parent = "volunteer"
    scope_paths = ScopePaths(street="street", community="community", owner=OWNER)

    class Meta:
        verbose_name = _("积分流水")
        verbose_name_plural = _("积分流水")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("volunteer", "created_at"), name="vol_points_volunteer")]

    def __str__(self):
        return f"{self.volunteer} {self.points:+}"
