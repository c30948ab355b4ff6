"""Volunteers and their teams: Volunteer (a resident), VolunteerTeam (志愿服务队) and TeamMembership."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import ScopePaths

from .common import OWNER, ResidentVisibleQuerySet, resident_community_ids


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
    """志愿服务队: a team of a community, or of one compound in it, with a leader and members.

    A standing team of registered volunteers (``Volunteer``, through ``TeamMembership``) that
    runs service projects and activities (邻里守望志愿服务队, 红管家 …); residents join and leave
    it themselves, and its members' hours earn points. Not the same thing as
    ``meetings.SupervisionTeam`` (义务监督队), which residents form to watch the works a
    consultation decided and which ends with them (see its docstring for why they stay two models).
    """

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
