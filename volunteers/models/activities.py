"""Service projects and their activities, and the sign-ups (confirmed or waitlisted) for them."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import RestrictedQuerySet, ScopePaths
from baohe.texts import in_english

from .common import HOURS_MAX, OWNER, ResidentVisibleQuerySet, resident_community_ids
from .teams import TeamMembership, Volunteer, VolunteerTeam


class ServiceProject(CommunityScopedModel):
    """服务项目: a named service a community runs (红管家, 配餐上门 …), owned by one of its teams."""

    class Kind(models.TextChoices):
        RED_STEWARD = "red_steward", _("红管家")
        SUNSHINE = "sunshine", _("一米阳光")
        FOUR_BEAUTIES = "four_beauties", _("四美一好")
        MEAL_DELIVERY = "meal_delivery", _("配餐上门")
        HAPPY_CLASSROOM = "happy_classroom", _("快乐学堂")
        FAMILY_DOCTOR = "family_doctor", _("家庭医生")
        OTHER = "other", _("其他志愿服务")

    community = models.ForeignKey(
        "communities.Community", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="service_projects"
    )
    kind = models.CharField(_("项目类别"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    name = models.CharField(_("名称"), max_length=80)
    name_en = models.CharField(
        _("英文名称"),
        max_length=120,
        blank=True,
        default="",
        db_default="",
        help_text=_("英文界面显示的名称；留空则显示中文名称。"),
    )
    description = models.TextField(_("项目介绍"), max_length=2000, blank=True)
    owner = models.ForeignKey(
        VolunteerTeam,
        verbose_name=_("负责队伍"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_projects",
    )
    is_active = models.BooleanField(_("进行中"), default=True)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community")
    constraint_error_fields = {"volunteers_serviceproject_community_name": "name"}

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ("community_id", "name")
        constraints = [
            models.UniqueConstraint(
                fields=("community", "name"),
                name="%(app_label)s_%(class)s_community_name",
                violation_error_message=_("本社区已有同名的服务项目。"),
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language: ``name_en`` in English when it is filled in."""
        return self.name_en or self.name if in_english() else self.name

    def clean(self):
        super().clean()
        if self.owner_id and self.community_id and self.owner.community_id != self.community_id:
            raise ValidationError({"owner": _("负责队伍必须是本社区的志愿服务队。")})


class Activity(CommunityScopedModel):
    """志愿活动: one occasion of a project, with a place, a time, places and a sign-up deadline."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("面向居民公开")
        TEAM = "team", _("仅本队队员")

    project = models.ForeignKey(
        ServiceProject, verbose_name=_("服务项目"), on_delete=models.PROTECT, related_name="activities"
    )
    team = models.ForeignKey(
        VolunteerTeam,
        verbose_name=_("组织队伍"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    compound = models.ForeignKey(
        "communities.Compound",
        verbose_name=_("面向小区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_activities",
        help_text=_("只面向一个小区的居民时填写；留空则面向全社区"),
    )
    title = models.CharField(_("活动名称"), max_length=100)
    description = models.TextField(_("活动内容"), max_length=2000, blank=True)
    place = models.CharField(_("地点"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveSmallIntegerField(
        _("名额"), validators=[MinValueValidator(1), MaxValueValidator(1000)], help_text=_("报名满员后再报名的进入候补")
    )
    signup_deadline = models.DateTimeField(_("报名截止时间"))
    visibility = models.CharField(_("公开范围"), max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC)

    objects = ResidentVisibleQuerySet.as_manager()

    scope_parent = "project"
    scope_paths = ScopePaths(street="street", community="community")
    constraint_error_fields = {
        "volunteers_activity_ends_after_start": "ends_at",
        "volunteers_activity_deadline_before_start": "signup_deadline",
        "volunteers_activity_capacity_positive": "capacity",
        "volunteers_activity_team_visibility_has_team": "team",
    }

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ("starts_at", "id")
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_ends_after_start",
                condition=Q(ends_at__gt=models.F("starts_at")),
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_deadline_before_start",
                condition=Q(signup_deadline__lte=models.F("starts_at")),
                violation_error_message=_("报名截止时间不能晚于开始时间。"),
            ),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_capacity_positive",
                condition=Q(capacity__gte=1),
                violation_error_message=_("名额至少为 1。"),
            ),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_team_visibility_has_team",
                condition=~Q(visibility="team") | Q(team__isnull=False),
                violation_error_message=_("仅本队可见的活动必须指定组织队伍。"),
            ),
        ]
        indexes = [models.Index(fields=("community", "starts_at"), name="vol_activity_community_start")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("volunteers:activity", args=[self.pk])

    @staticmethod
    def resident_q(scope):
        """Public activities of the resident's compound or community, their teams' private
        ones, and any they signed up for."""
        compounds = sorted(scope.compound_ids)
        public = Q(visibility=Activity.Visibility.PUBLIC) & (
            Q(compound_id__in=compounds) | Q(compound__isnull=True, community_id__in=resident_community_ids(scope))
        )
        member = Q(visibility=Activity.Visibility.TEAM) & Q(
            Exists(
                TeamMembership.objects.filter(team_id=OuterRef("team_id"), volunteer__resident__user_id=scope.user_id)
            )
        )
        mine = Q(Exists(Signup.objects.filter(activity_id=OuterRef("pk"), volunteer__resident__user_id=scope.user_id)))
        return public | member | mine

    @property
    def duration_hours(self):
        """The activity's length in hours, to the hundredth (the default hours of a check-in)."""
        seconds = Decimal((self.ends_at - self.starts_at).total_seconds())
        return min(HOURS_MAX, (seconds / Decimal(3600)).quantize(Decimal("0.01")))

    def clean(self):
        super().clean()
        errors = {}
        community_id = self.project.community_id if self.project_id else None
        if community_id and self.team_id and self.team.community_id != community_id:
            errors["team"] = _("组织队伍必须是本项目所在社区的志愿服务队。")
        if community_id and self.compound_id and self.compound.community_id != community_id:
            errors["compound"] = _("小区 %(compound)s 不属于本项目所在社区。") % {"compound": self.compound}
        if errors:
            raise ValidationError(errors)


class SignupQuerySet(RestrictedQuerySet):
    def active(self):
        return self.filter(status__in=(Signup.Status.CONFIRMED, Signup.Status.WAITLISTED))


class Signup(CommunityScopedModel):
    """报名: a volunteer's place in an activity (confirmed or waitlisted), or a cancelled one."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已报名")
        WAITLISTED = "waitlisted", _("候补")
        CANCELLED = "cancelled", _("已取消")

    activity = models.ForeignKey(Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices)
    queued_at = models.DateTimeField(_("报名时间"), default=timezone.now, help_text=_("候补按报名时间先后递补"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    promoted_at = models.DateTimeField(_("候补转正时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("签到登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("报名操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = SignupQuerySet.as_manager()

    scope_parent = "activity"
    scope_paths = ScopePaths(street="street", community="community", owner=OWNER)

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        ordering = ("activity_id", "queued_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("activity", "volunteer"),
                condition=Q(status__in=("confirmed", "waitlisted")),
                name="%(app_label)s_%(class)s_one_active",
                violation_error_message=_("已经报名了这个活动。"),
            ),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_checkin_confirmed",
                condition=Q(checked_in_at__isnull=True) | Q(status="confirmed"),
                violation_error_message=_("只有已报名（非候补）的志愿者才能签到。"),
            ),
        ]
        indexes = [models.Index(fields=("activity", "status", "queued_at"), name="vol_signup_queue")]

    def __str__(self):
        return f"{self.volunteer} · {self.activity} · {self.get_status_display()}"
