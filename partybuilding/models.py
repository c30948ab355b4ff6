"""Party organisation in the compounds: who serves whom.

PartyBranch (小区/网格党支部, covering compounds) → PartyGroup (楼栋党小组, covering
buildings) → PartyMember (a resident). A CentralHousehold (党员中心户) is a party member's
household that serves neighbouring households. Backbone records the 千万工程's party and
mass backbones per street and year; BackboneTarget is a street's quota for a year, and the
community governance academy (社区治理学院) trains them: Course → TrainingSession → Attendance.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baohe.models import BaseModel, CommunityScopedModel
from baohe.scoping import ScopePaths
from communities.models import Building, Community, Compound, Household, Resident, Street


class PartyBranch(CommunityScopedModel):
    """党支部: a compound (grid) branch covering one or more compounds, or a functional branch."""

    class Kind(models.TextChoices):
        COMPOUND = "compound", _("小区(网格)党支部")
        FUNCTIONAL = "functional", _("功能型党支部")

    community = models.ForeignKey(
        Community, verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="party_branches"
    )
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.COMPOUND)
    compounds = models.ManyToManyField(Compound, verbose_name=_("覆盖小区"), related_name="party_branches", blank=True)
    secretary = models.ForeignKey(
        "PartyMember",
        verbose_name=_("支部书记"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community", in_compound="compounds")

    class Meta:
        verbose_name = _("党支部")
        verbose_name_plural = _("党支部")
        ordering = ("community_id", "name")
        constraints = [
            models.UniqueConstraint(fields=("community", "name"), name="%(app_label)s_%(class)s_community_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("partybuilding:branch", args=[self.pk])

    def clean(self):
        super().clean()
        if self.secretary_id and (not self.pk or self.secretary.branch_id != self.pk):
            raise ValidationError({"secretary": _("支部书记必须是本支部的党员。")})


class PartyGroup(CommunityScopedModel):
    """党小组: a building group (covering buildings) or a functional group, inside a branch."""

    class Kind(models.TextChoices):
        BUILDING = "building", _("楼栋党小组")
        FUNCTIONAL = "functional", _("功能型党小组")

    branch = models.ForeignKey(PartyBranch, verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.BUILDING)
    buildings = models.ManyToManyField(Building, verbose_name=_("覆盖楼栋"), related_name="party_groups", blank=True)
    leader = models.ForeignKey(
        "PartyMember",
        verbose_name=_("党小组长"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    scope_parent = "branch"
    scope_paths = ScopePaths(
        street="street", community="community", in_compound="buildings__compound", in_building="buildings"
    )

    class Meta:
        verbose_name = _("党小组")
        verbose_name_plural = _("党小组")
        ordering = ("branch_id", "name")
        constraints = [
            models.UniqueConstraint(fields=("branch", "name"), name="%(app_label)s_%(class)s_branch_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("partybuilding:group", args=[self.pk])

    def clean(self):
        super().clean()
        if self.leader_id and (not self.pk or self.leader.group_id != self.pk):
            raise ValidationError({"leader": _("党小组长必须是本小组的党员。")})


class PartyMember(CommunityScopedModel):
    """党员: a resident who is a party member, in a branch and (usually) a group."""

    resident = models.OneToOneField(
        Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="party_membership"
    )
    branch = models.ForeignKey(PartyBranch, verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="members")
    group = models.ForeignKey(
        PartyGroup,
        verbose_name=_("党小组"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)

    scope_parent = "branch"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        in_compound="resident__household__compound",
        in_building="resident__household__building",
    )

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ("branch_id", "id")

    def __str__(self):
        return str(self.resident)

    def clean(self):
        super().clean()
        if self.group_id and self.branch_id and self.group.branch_id != self.branch_id:
            raise ValidationError(
                {
                    "group": _("党小组 %(group)s 不属于党支部 %(branch)s。")
                    % {"group": self.group, "branch": self.branch}
                }
            )
        if self.resident_id and self.branch_id and self.resident.community_id != self.branch.community_id:
            raise ValidationError({"resident": _("该居民不住在本支部所在社区。")})


class CentralHousehold(CommunityScopedModel):
    """党员中心户: a party member's household that serves its neighbours."""

    household = models.OneToOneField(
        Household, verbose_name=_("中心户住户"), on_delete=models.PROTECT, related_name="central_household"
    )
    member = models.ForeignKey(
        PartyMember, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="central_households"
    )
    served_households = models.ManyToManyField(
        Household, verbose_name=_("联系服务的住户"), related_name="served_by", blank=True
    )
    rated_on = models.DateField(_("评定日期"), null=True, blank=True)

    scope_parent = "household"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        household="household",
        in_compound="household__compound",
        in_building="household__building",
    )

    class Meta:
        verbose_name = _("党员中心户")
        verbose_name_plural = _("党员中心户")
        ordering = ("household_id",)

    def __str__(self):
        return _("%(member)s（中心户）") % {"member": self.member}

    def get_absolute_url(self):
        return reverse("partybuilding:central_household", args=[self.pk])

    def clean(self):
        super().clean()
        if self.member_id and self.household_id and self.member.resident.household_id != self.household_id:
            raise ValidationError({"member": _("中心户的党员必须住在该户。")})


class Backbone(BaseModel):
    """千万工程骨干: a party or mass backbone selected in a year, in a street (and community)."""

    class Kind(models.TextChoices):
        PARTY = "party", _("党员骨干")
        MASS = "mass", _("群众骨干")

    street = models.ForeignKey(Street, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="backbones")
    community = models.ForeignKey(
        Community,
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="backbones",
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="backbone_records"
    )
    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    specialty = models.CharField(_("特长"), max_length=100, blank=True)

    scope_paths = ScopePaths(street="street", community="community", in_compound="resident__household__compound")

    class Meta:
        verbose_name = _("骨干")
        verbose_name_plural = _("骨干")
        ordering = ("-year", "street_id")
        constraints = [
            models.UniqueConstraint(
                fields=("resident", "year", "kind"), name="%(app_label)s_%(class)s_resident_year_kind"
            ),
        ]
        indexes = [models.Index(fields=("street", "year", "kind"), name="pb_backbone_progress")]

    def __str__(self):
        return f"{self.resident} · {self.get_kind_display()} · {self.year}"

    def save(self, *args, **kwargs):
        if self.resident_id:
            self.community_id = self.resident.community_id
            self.street_id = self.resident.street_id
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.resident_id and self.street_id and self.resident.street_id != self.street_id:
            raise ValidationError({"resident": _("该居民不在所选街道。")})


# --- 千万工程: annual targets and the community governance academy (社区治理学院) ---------------
class BackboneTarget(BaseModel):
    """千万工程年度目标: how many party and mass backbones a street selects and trains in a year."""

    street = models.ForeignKey(
        Street, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="backbone_targets"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    party_quota = models.PositiveIntegerField(_("党员骨干目标数"), validators=[MaxValueValidator(100000)])
    mass_quota = models.PositiveIntegerField(_("群众骨干目标数"), validators=[MaxValueValidator(100000)])

    # Community staff read their street's target (as the parent of their community).
    scope_paths = ScopePaths(street="street", community=None, parent_street="street")
    constraint_error_fields = {"partybuilding_backbonetarget_street_year": "year"}

    class Meta:
        verbose_name = _("骨干年度目标")
        verbose_name_plural = _("骨干年度目标")
        ordering = ("-year", "street_id")
        constraints = [
            models.UniqueConstraint(
                fields=("street", "year"),
                name="%(app_label)s_%(class)s_street_year",
                violation_error_message=_("该街道这一年度已有目标，请修改原有目标。"),
            ),
        ]

    def __str__(self):
        return _("%(street)s %(year)s年目标") % {"street": self.street, "year": self.year}


class Course(BaseModel):
    """社区治理学院课程: the district's catalogue of courses for backbones (kept by administrators)."""

    name = models.CharField(_("课程名称"), max_length=100, unique=True)
    description = models.TextField(_("课程简介"), max_length=2000, blank=True)
    hours = models.DecimalField(
        _("学时"),
        max_digits=4,
        decimal_places=1,
        default=2,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("40"))],
    )
    is_active = models.BooleanField(_("开设中"), default=True)

    scope_paths = ScopePaths(street=None, community=None, public=True)

    class Meta:
        verbose_name = _("治理学院课程")
        verbose_name_plural = _("治理学院课程")
        ordering = ("name",)

    def __str__(self):
        return self.name


class TrainingSession(BaseModel):
    """培训班次: one session of a course, held by a street (or one of its communities)."""

    course = models.ForeignKey(Course, verbose_name=_("课程"), on_delete=models.PROTECT, related_name="sessions")
    street = models.ForeignKey(
        Street, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="training_sessions"
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_sessions",
        help_text=_("社区治理学院开班时填写；街道开班留空"),
    )
    starts_at = models.DateTimeField(_("开班时间"))
    place = models.CharField(_("地点"), max_length=200)
    teacher = models.CharField(_("授课人"), max_length=50, blank=True)

    # Community staff see their street's sessions (their backbones attend them) and change their own.
    scope_paths = ScopePaths(street="street", community="community", parent_street="street")

    class Meta:
        verbose_name = _("培训班次")
        verbose_name_plural = _("培训班次")
        ordering = ("-starts_at", "id")
        indexes = [models.Index(fields=("street", "starts_at"), name="pb_session_street_start")]

    def __str__(self):
        return f"{self.course} · {self.starts_at:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("partybuilding:backbone_session", args=[self.pk])

    def clean(self):
        super().clean()
        if self.community_id and self.street_id and self.community.street_id != self.street_id:
            raise ValidationError(
                {"community": _("社区 %(community)s 不属于所选街道。") % {"community": self.community}}
            )


class Attendance(BaseModel):
    """培训签到: a backbone attended (or missed) a training session."""

    session = models.ForeignKey(
        TrainingSession, verbose_name=_("培训班次"), on_delete=models.CASCADE, related_name="attendances"
    )
    backbone = models.ForeignKey(Backbone, verbose_name=_("骨干"), on_delete=models.PROTECT, related_name="attendances")
    attended = models.BooleanField(_("已到课"), default=True)
    street = models.ForeignKey(
        Street, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )

    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("培训签到")
        verbose_name_plural = _("培训签到")
        ordering = ("session_id", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("session", "backbone"),
                name="%(app_label)s_%(class)s_session_backbone",
                violation_error_message=_("该骨干已在本班次的签到表上。"),
            ),
        ]

    def __str__(self):
        return f"{self.session} · {self.backbone.resident}"

    def save(self, *args, **kwargs):
        if self.backbone_id:
            self.street_id, self.community_id = self.backbone.street_id, self.backbone.community_id
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "street", "community"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not (self.session_id and self.backbone_id):
            return
        session, backbone = self.session, self.backbone
        if backbone.street_id != session.street_id:
            raise ValidationError({"backbone": _("该骨干不在开班街道。")})
        if session.community_id and backbone.community_id != session.community_id:
            raise ValidationError({"backbone": _("该骨干不在开班社区。")})
