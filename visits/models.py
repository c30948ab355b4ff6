"""Home visits (入户走访): who visits which household how often, and what each visit found.

A :class:`VisitPlan` is one rule applied to one household: 独居老人 weekly by their party
central household (or the building's party group leader), every household a central
household serves monthly by that household's party member, and the community's own staff
rounds (:class:`VisitRound`) over its flagged households. Each plan keeps ``next_due_on``;
the scan in ``reminders.py`` reminds the visitor the day before, marks it overdue and tells
the party group leader, then the branch secretary. The three ``*_for`` columns hold the due
date each of those was claimed for, so a scan run twice tells each person once.

A :class:`Visit` is what happened: visitor, household, when, purpose (from 八个到家), notes,
an optional photo and, when the visitor found a need, the request it opened
(``service_requests.ServiceRequest`` with channel "visit"). Plans and visits live under the
household's community (``CommunityScopedModel``); the visitor sees their own through the
owner path.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import RestrictedQuerySet, ScopePaths

MAX_INTERVAL_DAYS = 366


class Purpose(models.TextChoices):
    """八个到家: the article names the first four; the other four are the portal's choice."""

    PARTY_VOICE = "party_voice", _("党的声音传播到家")
    CELEBRATION = "celebration", _("新婚喜事庆贺到家")
    MEDIATION = "mediation", _("家庭纠纷调解到家")
    HARDSHIP = "hardship", _("生活困难慰问到家")
    POLICY = "policy", _("惠民政策宣传到家")
    HEALTH = "health", _("健康关怀到家")
    SAFETY = "safety", _("安全隐患提醒到家")
    CULTURE = "culture", _("文化活动邀请到家")
    OTHER = "other", _("其他")


class VisitRound(CommunityScopedModel):
    """社区工作者定期走访: a community's staff visit its flagged households every ``interval_days``."""

    # The parent is the row's own community column (as on Compound).
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="visit_rounds"
    )
    staff = models.ForeignKey(
        "accounts.User", verbose_name=_("走访工作人员"), on_delete=models.PROTECT, related_name="visit_rounds"
    )
    interval_days = models.PositiveSmallIntegerField(
        _("走访周期(天)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_DAYS)],
        help_text=_("每隔多少天走访一次社区的重点户（独居老人、高龄、残疾、低保）"),
    )
    active = models.BooleanField(_("启用"), default=True)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("社区走访安排")
        verbose_name_plural = _("社区走访安排")
        ordering = ("community_id",)
        constraints = [
            models.UniqueConstraint(
                fields=("community",),
                name="%(app_label)s_%(class)s_one_per_community",
                violation_error_message=_("这个社区已有走访安排，请修改原有安排。"),
            ),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_interval_range",
                condition=Q(interval_days__gte=1, interval_days__lte=MAX_INTERVAL_DAYS),
            ),
        ]

    def __str__(self):
        return _("%(community)s 每 %(days)s 天") % {"community": self.community, "days": self.interval_days}

    def clean(self):
        super().clean()
        if self.staff_id and self.community_id:
            from accounts.models import Role

            works_here = self.staff.roles.filter(
                Q(community_id=self.community_id) | Q(street_id=self.community.street_id),
                kind__in=(Role.Kind.STAFF, Role.Kind.SECRETARY),
            ).exists()
            if not works_here:
                raise ValidationError({"staff": _("走访工作人员必须是本社区（或所在街道）的工作人员。")})


class VisitPlanQuerySet(RestrictedQuerySet):
    def active(self):
        return self.filter(active=True)

    def overdue(self, today):
        return self.filter(active=True, next_due_on__lt=today)


class VisitPlan(CommunityScopedModel):
    """走访计划: one rule for one household, with the date the next visit is due."""

    class Rule(models.TextChoices):
        ALONE_ELDERLY_WEEKLY = "alone_elderly_weekly", _("独居老人每周走访")
        CENTRAL_HOUSEHOLD_MONTHLY = "central_household_monthly", _("党员中心户每月走访")
        STAFF_ROUND = "staff_round", _("社区工作者定期走访")

    household = models.ForeignKey(
        "communities.Household", verbose_name=_("住户"), on_delete=models.PROTECT, related_name="visit_plans"
    )
    compound = models.ForeignKey(
        "communities.Compound", verbose_name=_("小区"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    rule = models.CharField(_("走访规则"), max_length=32, choices=Rule.choices)
    interval_days = models.PositiveSmallIntegerField(
        _("走访周期(天)"), validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_DAYS)]
    )
    visitor_user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("走访人账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit_plans",
    )
    visitor_label = models.CharField(_("走访人"), max_length=100, blank=True)
    # Indexed by the partial scan indexes and (visitor_user, next_due_on) below, not on its own.
    next_due_on = models.DateField(_("下次应走访日期"))
    last_visited_on = models.DateField(_("上次走访日期"), null=True, blank=True)
    # The due date each reminder was claimed for (cleared when a visit moves the due date).
    reminded_for = models.DateField(_("已提醒(应走访日期)"), null=True, blank=True, editable=False)
    overdue_for = models.DateField(_("已标记逾期(应走访日期)"), null=True, blank=True, editable=False)
    escalated_for = models.DateField(_("已上报支部书记(应走访日期)"), null=True, blank=True, editable=False)
    active = models.BooleanField(_("有效"), default=True)

    objects = VisitPlanQuerySet.as_manager()

    scope_parent = "household"
    compound_parent = "household"
    scope_paths = ScopePaths(street="street", community="community", owner=("visitor_user",), in_compound="compound")

    class Meta:
        verbose_name = _("走访计划")
        verbose_name_plural = _("走访计划")
        ordering = ("next_due_on", "id")
        constraints = [
            models.UniqueConstraint(fields=("household", "rule"), name="%(app_label)s_%(class)s_household_rule"),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_interval_range",
                condition=Q(interval_days__gte=1, interval_days__lte=MAX_INTERVAL_DAYS),
            ),
        ]
        indexes = [
            # "My visits due this week".
            models.Index(
                fields=("visitor_user", "next_due_on"), condition=Q(active=True), name="visits_plan_visitor_due"
            ),
            models.Index(fields=("community", "compound"), condition=Q(active=True), name="visits_plan_scope"),
            # The scan reads only active plans whose reminder is not yet claimed.
            models.Index(
                fields=("next_due_on",), condition=Q(active=True, reminded_for=None), name="visits_plan_scan_remind"
            ),
            models.Index(
                fields=("next_due_on",), condition=Q(active=True, escalated_for=None), name="visits_plan_scan_overdue"
            ),
        ]

    def __str__(self):
        return f"{self.household} · {self.get_rule_display()}"

    def days_overdue(self, today):
        return max(0, (today - self.next_due_on).days)


class Visit(CommunityScopedModel):
    """入户走访记录: who visited which household, when, why, what they found."""

    household = models.ForeignKey(
        "communities.Household", verbose_name=_("住户"), on_delete=models.PROTECT, related_name="visits"
    )
    compound = models.ForeignKey(
        "communities.Compound", verbose_name=_("小区"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    plan = models.ForeignKey(
        VisitPlan, verbose_name=_("走访计划"), on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    visitor = models.ForeignKey(
        "accounts.User", verbose_name=_("走访人"), on_delete=models.PROTECT, related_name="visits"
    )
    visitor_label = models.CharField(_("走访人姓名"), max_length=100, blank=True)
    visited_at = models.DateTimeField(_("走访时间"))
    purpose = models.CharField(_("走访事由"), max_length=16, choices=Purpose.choices)
    notes = models.TextField(_("走访情况"), max_length=2000, blank=True)
    photo = models.FileField(_("照片"), upload_to="visits/%Y/%m/", max_length=200, blank=True)
    # The plan's due date when the visit was recorded, and whether the visit made it.
    due_on = models.DateField(_("应走访日期"), null=True, blank=True, editable=False)
    on_time = models.BooleanField(_("按时"), null=True, blank=True, editable=False)
    request = models.ForeignKey(
        "service_requests.ServiceRequest",
        verbose_name=_("发现的需求(诉求)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
    )

    scope_parent = "household"
    compound_parent = "household"
    scope_paths = ScopePaths(street="street", community="community", owner=("visitor",), in_compound="compound")

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ("-visited_at", "-id")
        indexes = [
            models.Index(fields=("community", "compound", "visited_at"), name="visits_visit_scope_time"),
            models.Index(fields=("household", "-visited_at"), name="visits_visit_household"),
            models.Index(fields=("visitor", "-visited_at"), name="visits_visit_visitor"),
        ]

    def __str__(self):
        return _("%(household)s %(date)s 走访") % {"household": self.household, "date": self.visited_at.date()}

    def get_absolute_url(self):
        return reverse("visits:detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.plan_id and self.household_id and self.plan.household_id != self.household_id:
            raise ValidationError({"plan": _("走访计划不属于这一户。")})
