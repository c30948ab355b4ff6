"""Consultation meetings (协商议事): who met about what, what they decided, who does it by when,
and who watches the work.

A :class:`Meeting` is held for a whole community or for one compound in it (``community`` is
the scope parent, ``compound`` optional and checked to lie in that community). It may start
from residents' requests (``requests``: open requests of the same community). Its
:class:`Invitee` rows are the people asked to come (residents, party members, building heads,
the property company, volunteers) with whether they attended. Recording the minutes writes
the :class:`Decision` rows and, for each decision, its :class:`ActionItem` rows: a task with an
owner (a portal user, or a named body such as the property company) and a due date, linked to
the meeting's requests it answers. When every action item linked to a request is done, the
request is resolved (``services.action_item_complete``) and the resident's follow-up begins.

A :class:`SupervisionTeam` (义务监督队) of residents can be attached to decisions and records
:class:`Inspection` rows on the work's quality.

The worker (``reminders.py``) reminds the organiser 3 and 7 days after a meeting whose minutes
are still missing, and reminds owners of action items due within two days. Each reminder is
claimed with a conditional UPDATE on its ``*_reminded_at`` column; the scans read partial
indexes holding exactly the rows not yet claimed.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import ScopePaths

# Days after the meeting at which a missing record of the minutes is reminded, latest first:
# a meeting the scan finds late gets the latest reminder only (see reminders.py).
MINUTES_REMINDER_DAYS = (7, 3)
# Action items falling due within this many days are reminded to their owner.
ACTION_REMIND_DAYS = 2


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("待召开")
    HELD = "held", _("已召开待记录纪要")
    MINUTES_RECORDED = "minutes_recorded", _("纪要已记录")
    CANCELLED = "cancelled", _("已取消")


# The statuses in which the minutes are still to be recorded, and the column the 3/7 days count from.
MINUTES_PENDING = ((MeetingStatus.PLANNED, "scheduled_at"), (MeetingStatus.HELD, "held_at"))


def _minutes_scan_indexes():
    indexes = []
    for days in MINUTES_REMINDER_DAYS:
        for status, column in MINUTES_PENDING:
            indexes.append(
                models.Index(
                    fields=(column,),
                    condition=Q(status=status, **{f"minutes_reminded_{days}_at": None}),
                    name=f"meetings_scan_min{days}_{status[:4]}",
                )
            )
    return indexes


class Meeting(CommunityScopedModel):
    """协商议事会/座谈会/听证会: a meeting on a topic for a community or one of its compounds."""

    Status = MeetingStatus

    class Kind(models.TextChoices):
        COUNCIL = "council", _("协商议事会")
        FORUM = "forum", _("座谈会")
        HEARING = "hearing", _("听证会")

    # The parent is the row's own community column (as on Compound).
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="meetings"
    )
    compound = models.ForeignKey(
        "communities.Compound",
        verbose_name=_("小区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        help_text=_("为某个小区召开时选择；不选即为全社区"),
    )
    topic = models.CharField(_("议题"), max_length=200)
    kind = models.CharField(_("会议形式"), max_length=16, choices=Kind.choices, default=Kind.COUNCIL)
    scheduled_at = models.DateTimeField(_("会议时间"))
    place = models.CharField(_("地点"), max_length=200)
    organiser = models.ForeignKey(
        "accounts.User", verbose_name=_("召集人"), on_delete=models.PROTECT, related_name="organised_meetings"
    )
    status = models.CharField(_("状态"), max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    agenda = models.TextField(_("议程"), max_length=4000, blank=True)
    minutes = models.TextField(_("会议纪要"), max_length=10000, blank=True)
    held_at = models.DateTimeField(_("实际召开时间"), null=True, blank=True)
    minutes_recorded_at = models.DateTimeField(_("纪要记录时间"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True, editable=False)
    cancel_reason = models.CharField(_("取消原因"), max_length=300, blank=True)
    requests = models.ManyToManyField(
        "service_requests.ServiceRequest",
        verbose_name=_("相关诉求"),
        related_name="meetings",
        blank=True,
    )
    # Claimed by the scan when each minutes reminder was written (reminders.py).
    minutes_reminded_3_at = models.DateTimeField(_("纪要3天提醒时间"), null=True, blank=True, editable=False)
    minutes_reminded_7_at = models.DateTimeField(_("纪要7天提醒时间"), null=True, blank=True, editable=False)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("协商议事会议")
        verbose_name_plural = _("协商议事会议")
        ordering = ("-scheduled_at", "-id")
        indexes = [
            models.Index(fields=("community", "-scheduled_at"), name="meetings_community_time"),
            models.Index(fields=("street", "-scheduled_at"), name="meetings_street_time"),
            models.Index(fields=("compound", "-scheduled_at"), name="meetings_compound_time"),
            *_minutes_scan_indexes(),
        ]

    def __str__(self):
        return self.topic

    def get_absolute_url(self):
        return reverse("meetings:detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.compound_id and self.community_id and self.compound.community_id != self.community_id:
            raise ValidationError(
                {
                    "compound": _("小区「%(compound)s」不属于社区「%(community)s」。")
                    % {"compound": self.compound, "community": self.community}
                }
            )

    @property
    def place_label(self):
        """Where the meeting is for: the compound, or the whole community."""
        return self.compound.name if self.compound_id else _("%(community)s（全社区）") % {"community": self.community}

    @property
    def took_place_at(self):
        return self.held_at or self.scheduled_at

    @property
    def minutes_pending(self):
        return self.status in (MeetingStatus.PLANNED, MeetingStatus.HELD)

    def minutes_overdue_days(self, now=None):
        """Whole days since the meeting while its minutes are missing (0 when not overdue)."""
        if not self.minutes_pending:
            return 0
        elapsed = (now or timezone.now()) - self.took_place_at
        return max(0, elapsed.days)


class Invitee(CommunityScopedModel):
    """One person (or body) invited to a meeting, and whether they attended."""

    class Role(models.TextChoices):
        RESIDENT = "resident", _("居民代表")
        PARTY_MEMBER = "party_member", _("党员")
        BUILDING_HEAD = "building_head", _("楼栋长")
        PROPERTY_COMPANY = "property_company", _("物业公司")
        VOLUNTEER = "volunteer", _("志愿者")
        OTHER = "other", _("其他")

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="invitees")
    role = models.CharField(_("身份"), max_length=20, choices=Role.choices)
    resident = models.ForeignKey(
        "communities.Resident",
        verbose_name=_("居民"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meeting_invitations",
    )
    name = models.CharField(_("姓名/单位"), max_length=100)
    attended = models.BooleanField(_("到会"), default=False)

    scope_parent = "meeting"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("参会人员")
        verbose_name_plural = _("参会人员")
        ordering = ("meeting_id", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("meeting", "resident"),
                condition=Q(resident__isnull=False),
                name="%(app_label)s_%(class)s_meeting_resident",
                violation_error_message=_("这位居民已在邀请名单中。"),
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"

    def clean(self):
        super().clean()
        if self.resident_id and self.meeting_id and self.resident.community_id != self.meeting.community_id:
            raise ValidationError({"resident": _("只能邀请本社区的居民。")})


class SupervisionTeam(CommunityScopedModel):
    """义务监督队: residents who watch the quality of work a meeting decided on.

    Not a ``volunteers.VolunteerTeam`` (志愿服务队), though both are a named group of residents
    of a community with a leader: a supervision team is formed for the works a consultation
    decided (滨湖和园's renovation: "我们还成立了义务监督队，对工程质量进行监督"); its members are
    any residents (those the works touch, building heads, representatives), not registered
    volunteers; it is attached to decisions (``Decision.supervision_team``) and leaves
    ``Inspection`` records, and it ends with the works. A volunteer team is standing, made of
    ``Volunteer`` records, runs service projects and activities whose hours earn points, and
    residents join it themselves. Merging them would force every supervisor to register as a
    volunteer (or give volunteer teams members who are not volunteers) and mix two lifecycles
    for the sake of four shared columns.
    """

    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="supervision_teams"
    )
    compound = models.ForeignKey(
        "communities.Compound",
        verbose_name=_("小区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervision_teams",
    )
    name = models.CharField(_("名称"), max_length=80)
    leader = models.ForeignKey(
        "communities.Resident",
        verbose_name=_("队长"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_supervision_teams",
    )
    members = models.ManyToManyField(
        "communities.Resident", verbose_name=_("队员"), related_name="supervision_teams", blank=True
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community")
    constraint_error_fields = {"meetings_supervisionteam_community_name": "name"}

    class Meta:
        verbose_name = _("义务监督队")
        verbose_name_plural = _("义务监督队")
        ordering = ("community_id", "name")
        constraints = [
            models.UniqueConstraint(
                fields=("community", "name"),
                name="%(app_label)s_%(class)s_community_name",
                violation_error_message=_("本社区已有同名的监督队。"),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("meetings:team_edit", args=[self.pk])

    def clean(self):
        super().clean()
        errors = {}
        if self.compound_id and self.community_id and self.compound.community_id != self.community_id:
            errors["compound"] = _("小区「%(compound)s」不属于社区「%(community)s」。") % {
                "compound": self.compound,
                "community": self.community,
            }
        if self.leader_id and self.community_id and self.leader.community_id != self.community_id:
            errors["leader"] = _("队长必须是本社区的居民。")
        if errors:
            raise ValidationError(errors)


class Decision(CommunityScopedModel):
    """决议: one thing a meeting decided, in the order of the minutes."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="decisions")
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    text = models.TextField(_("决议内容"), max_length=1000)
    supervision_team = models.ForeignKey(
        SupervisionTeam,
        verbose_name=_("监督队"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions",
    )

    scope_parent = "meeting"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")
        ordering = ("meeting_id", "order", "id")
        constraints = [
            models.UniqueConstraint(fields=("meeting", "order"), name="%(app_label)s_%(class)s_meeting_order"),
        ]

    def __str__(self):
        return self.text[:60]

    def clean(self):
        super().clean()
        if (
            self.supervision_team_id
            and self.meeting_id
            and self.supervision_team.community_id != self.meeting.community_id
        ):
            raise ValidationError({"supervision_team": _("监督队必须是本社区的。")})


class ActionItem(CommunityScopedModel):
    """落实事项: what a decision requires, who does it by when, and which requests it answers."""

    decision = models.ForeignKey(
        Decision, verbose_name=_("决议"), on_delete=models.CASCADE, related_name="action_items"
    )
    task = models.CharField(_("事项"), max_length=300)
    owner = models.ForeignKey(
        "accounts.User",
        verbose_name=_("负责人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_action_items",
    )
    owner_label = models.CharField(_("负责人/单位"), max_length=100, blank=True)
    due_on = models.DateField(_("完成期限"))
    requests = models.ManyToManyField(
        "service_requests.ServiceRequest",
        verbose_name=_("回应的诉求"),
        related_name="meeting_action_items",
        blank=True,
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True, editable=False)
    done_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("确认完成人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    done_note = models.CharField(_("完成情况"), max_length=500, blank=True)
    due_reminded_at = models.DateTimeField(_("到期提醒时间"), null=True, blank=True, editable=False)

    scope_parent = "decision"
    scope_paths = ScopePaths(street="street", community="community", owner=("owner",))

    class Meta:
        verbose_name = _("落实事项")
        verbose_name_plural = _("落实事项")
        ordering = ("decision_id", "id")
        indexes = [
            models.Index(fields=("community", "due_on"), condition=Q(done_at=None), name="meetings_action_open"),
            models.Index(fields=("owner", "due_on"), name="meetings_action_owner"),
            # The due-date scan reads only open items whose reminder is not yet claimed.
            models.Index(
                fields=("due_on",), condition=Q(done_at=None, due_reminded_at=None), name="meetings_scan_action_due"
            ),
        ]

    def __str__(self):
        return self.task

    def get_absolute_url(self):
        return f"{reverse('meetings:detail', args=[self.decision.meeting_id])}#action-{self.pk}"

    @property
    def is_done(self):
        return self.done_at is not None

    @property
    def responsible(self):
        """Who answers for the item, as shown: the label if given, else the owner's name."""
        if self.owner_label:
            return self.owner_label
        return str(self.owner) if self.owner_id else ""

    def is_overdue(self, today=None):
        return self.done_at is None and self.due_on < (today or timezone.localdate())


class Inspection(CommunityScopedModel):
    """A supervision team's inspection of the work on a decision: what they found, and whether it was OK."""

    decision = models.ForeignKey(Decision, verbose_name=_("决议"), on_delete=models.CASCADE, related_name="inspections")
    team = models.ForeignKey(
        SupervisionTeam, verbose_name=_("监督队"), on_delete=models.PROTECT, related_name="inspections"
    )
    inspector = models.ForeignKey(
        "communities.Resident",
        verbose_name=_("监督员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspections",
    )
    inspected_at = models.DateTimeField(_("检查时间"))
    finding = models.TextField(_("检查情况"), max_length=2000)
    ok = models.BooleanField(_("质量合格"), default=True)
    photo = models.FileField(_("照片"), upload_to="inspections/%Y/%m/", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", verbose_name=_("记录人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_parent = "decision"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("监督检查")
        verbose_name_plural = _("监督检查")
        ordering = ("-inspected_at", "-id")
        indexes = [models.Index(fields=("decision", "-inspected_at"), name="meetings_inspection_decision")]

    def __str__(self):
        return f"{self.team} {timezone.localtime(self.inspected_at):%Y-%m-%d}"

    def get_absolute_url(self):
        return f"{reverse('meetings:detail', args=[self.decision.meeting_id])}#inspection-{self.pk}"
