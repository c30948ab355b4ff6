"""Volunteer service (志愿服务): teams, volunteers, projects, activities, sign-ups, hours and points.

VolunteerTeam (志愿服务队, of a community or one compound) ← TeamMembership → Volunteer (a
resident). A ServiceProject (红管家, 一米阳光, 四美一好, 配餐上门, 快乐学堂, 家庭医生 …) is run
by a community; its Activities (place, time, capacity, sign-up deadline) are public to the
community (or one compound) or private to a team. A Signup is confirmed or waitlisted; a
cancellation promotes the earliest waitlisted. ServiceHours (hours and the households
served) are approved by staff, and every approved hour earns points: one PointsEntry per
approved ServiceHours row, so a volunteer's balance is a SUM over the ledger.

Scope: every row carries ``street``/``community`` (``CommunityScopedModel``); volunteers see
their own rows through the owner path ``volunteer__resident__user``. Activities and teams
are also visible to residents of the community (and to team members, for private
activities): :class:`ResidentVisibleQuerySet` adds that to ``restrict()``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import VIEW, RestrictedQuerySet, ScopePaths, scope_filter, user_scope

HOURS_MAX = Decimal("24.00")
HOURS_MIN = Decimal("0.01")
OWNER = "volunteer__resident__user"


def points_per_hour():
    """积分 earned per approved hour (``VOLUNTEER_POINTS_PER_HOUR``, default 10)."""
    return Decimal(str(getattr(settings, "VOLUNTEER_POINTS_PER_HOUR", 10)))


def resident_community_ids(scope):
    """The communities of a resident's compounds, as a subquery (residents' scopes name compounds)."""
    from communities.models import Compound

    return Compound.objects.filter(pk__in=sorted(scope.compound_ids)).values("community_id")


class ResidentVisibleQuerySet(RestrictedQuerySet):
    """``restrict()`` as everywhere, plus the rows a resident may see (``Model.resident_q``).

    A resident's scope names their compounds and households, not their community; the model
    says which of its rows such a scope reaches (``resident_q(scope)``). Only for viewing:
    residents change these rows through services, never directly.
    """

    def restrict(self, user, action=VIEW):
        scope = user_scope(user, action)
        if scope is None or scope.everything:
            return self
        q = scope_filter(self.model.scope_paths, scope)
        if action == VIEW and scope.compound_ids and scope.user_id is not None:
            extra = self.model.resident_q(scope)
            q = extra if q is None else q | extra
        return self.none() if q is None else self.filter(q)


class Volunteer(CommunityScopedModel):
    """志愿者: a registered resident, with skills and the date they joined."""

    resident = models.OneToOneField(
        "communities.Resident", verbose_name=_("居民"), on_delete=models.PROTECT, related_name="volunteer"
    )
    skills = models.CharField(_("特长技能"), max_length=200, blank=True, help_text=_("如 理发、维修、陪聊，用顿号分隔"))
    joined_on = models.DateField(_("注册日期"), default=timezone.localdate)
    is_active = models.BooleanField(_("在册"), default=True)

    scope_parent = "resident"
    scope_paths = ScopePaths(
        street="street", community="community", owner="resident__user", in_compound="resident__household__compound"
    )

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ("community_id", "id")

    def __str__(self):
        return self.resident.name

    def get_absolute_url(self):
        return reverse("volunteers:volunteer", args=[self.pk])


class VolunteerTeam(CommunityScopedModel):
    """志愿服务队: a team of a community, or of one compound in it, with a leader and members."""

    community = models.ForeignKey(
        "communities.Community", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="volunteer_teams"
    )
    compound = models.ForeignKey(
        "communities.Compound",
        verbose_name=_("小区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_teams",
        help_text=_("小区志愿服务队填写；社区队留空"),
    )
    name = models.CharField(_("名称"), max_length=80)
    description = models.CharField(_("简介"), max_length=300, blank=True)
    leader = models.ForeignKey(
        Volunteer, verbose_name=_("队长"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    is_active = models.BooleanField(_("活跃"), default=True)
    members = models.ManyToManyField(
        Volunteer, verbose_name=_("队员"), through="TeamMembership", related_name="teams", blank=True
    )

    objects = ResidentVisibleQuerySet.as_manager()

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community")
    constraint_error_fields = {"volunteers_volunteerteam_community_name": "name"}

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ("community_id", "name")
        constraints = [
            models.UniqueConstraint(
                fields=("community", "name"),
                name="%(app_label)s_%(class)s_community_name",
                violation_error_message=_("本社区已有同名的志愿服务队。"),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("volunteers:team", args=[self.pk])

    @staticmethod
    def resident_q(scope):
        """Residents see the teams of their community (to join one)."""
        return Q(community_id__in=resident_community_ids(scope), is_active=True)

    def clean(self):
        super().clean()
        if self.compound_id and self.community_id and self.compound.community_id != self.community_id:
            raise ValidationError({"compound": _("小区 %(compound)s 不属于本社区。") % {"compound": self.compound}})
        if self.leader_id:
            if not self.pk or not TeamMembership.objects.filter(team_id=self.pk, volunteer_id=self.leader_id).exists():
                raise ValidationError({"leader": _("队长必须是本队队员。")})


class TeamMembership(CommunityScopedModel):
    """A volunteer's place in a team."""

    team = models.ForeignKey(
        VolunteerTeam, verbose_name=_("志愿服务队"), on_delete=models.CASCADE, related_name="memberships"
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="memberships"
    )
    joined_on = models.DateField(_("入队日期"), default=timezone.localdate)

    scope_parent = "team"
    scope_paths = ScopePaths(street="street", community="community", owner=OWNER)

    class Meta:
        verbose_name = _("队员")
        verbose_name_plural = _("队员")
        ordering = ("team_id", "joined_on", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("team", "volunteer"),
                name="%(app_label)s_%(class)s_team_volunteer",
                violation_error_message=_("该志愿者已是本队队员。"),
            ),
        ]

    def __str__(self):
        return f"{self.team} · {self.volunteer}"

    def clean(self):
        super().clean()
        if self.team_id and self.volunteer_id and self.volunteer.community_id != self.team.community_id:
            raise ValidationError({"volunteer": _("只能加入本社区的志愿服务队。")})


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
        return self.name

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
