"""Residents' requests (诉求) and everything that happens to them.

A :class:`ServiceRequest` lives in the community of its compound. Its status moves
``submitted → accepted → in_progress → resolved → closed`` (with ``rejected``, ``returned``
to the street for re-routing, and reopening back to ``in_progress``); every change is a
:class:`RequestEvent` written by a service in ``services.py``. Each :class:`Category` sets
an accept limit in hours and a resolve limit in working days (:class:`CalendarDay` holds the
holidays and 调休 make-up days), giving ``accept_due_at`` and ``resolve_due_at``.
"""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baohe.models import BaseModel, CommunityScopedModel
from baohe.scoping import RestrictedManager, ScopePaths

OPEN_STATUSES = ("submitted", "accepted", "in_progress")
ACCEPT_CLOCK_STATUSES = ("submitted",)
RESOLVE_CLOCK_STATUSES = ("accepted", "in_progress")

WARN_AT = 0.75  # the warning falls due when 75% of the time allowed has passed
ESCALATE_AT = 2  # the street is told at twice the time allowed
RATE_REMINDER_AFTER = timedelta(days=3)  # the resident is asked to rate 3 days after resolving
# The request's fields its running clocks are copied from (ServiceRequest.save -> RequestClock.sync).
CLOCK_SOURCE_FIELDS = (
    "status",
    "number",
    "street_id",
    "community_id",
    "assigned_to_id",
    "submitted_by_id",
    "accept_warn_at",
    "accept_due_at",
    "accept_escalate_at",
    "resolve_warn_at",
    "resolve_due_at",
    "resolve_escalate_at",
    "resolved_at",
)


class Category(BaseModel):
    """诉求分类: two levels; each sets its time limits and its Open311 service code."""

    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("名称"), max_length=50)
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
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


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


class ServiceRequest(CommunityScopedModel):
    """诉求: what a resident asked for, where, and how it is being handled."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待签收")
        ACCEPTED = "accepted", _("已签收")
        IN_PROGRESS = "in_progress", _("办理中")
        RESOLVED = "resolved", _("已办结待评价")
        CLOSED = "closed", _("已关闭")
        REJECTED = "rejected", _("不予受理")
        RETURNED = "returned", _("已退单待改派")

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上提交")
        PHONE = "phone", _("电话")
        WALK_IN = "walk_in", _("来访")
        VISIT = "visit", _("走访发现")
        OPEN311 = "open311", _("开放接口")

    class AssigneeKind(models.TextChoices):
        STAFF = "staff", _("社区工作者")
        PARTY_GROUP = "party_group", _("楼栋党小组长")
        CENTRAL_HOUSEHOLD = "central_household", _("党员中心户")
        VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")

    class Solved(models.TextChoices):
        SOLVED = "solved", _("解决")
        PARTLY = "partly", _("部分解决")
        UNSOLVED = "unsolved", _("未解决")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    number = models.CharField(_("编号"), max_length=20, unique=True, editable=False)
    category = models.ForeignKey(Category, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="requests")
    description = models.TextField(_("诉求内容"), max_length=2000)
    compound = models.ForeignKey(
        "communities.Compound", verbose_name=_("小区"), on_delete=models.PROTECT, related_name="requests"
    )
    building = models.ForeignKey(
        "communities.Building",
        verbose_name=_("楼栋"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    household = models.ForeignKey(
        "communities.Household",
        verbose_name=_("住户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    address = models.CharField(_("具体位置"), max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("提交人账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submitted_requests",
    )
    entered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("代录入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entered_requests",
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_mobile = models.CharField(_("联系电话"), max_length=20, blank=True)
    contact_time = models.CharField(_("方便联系的时间"), max_length=50, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)

    accept_due_at = models.DateTimeField(_("签收期限"))
    resolve_due_at = models.DateTimeField(_("办结期限"))
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    assignee_kind = models.CharField(_("承办方类型"), max_length=20, choices=AssigneeKind.choices, blank=True)
    assigned_to = models.ForeignKey(
        "accounts.User",
        verbose_name=_("承办人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
    )
    assignee_label = models.CharField(_("承办方"), max_length=100, blank=True)

    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("重复于"), on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    extension_reason = models.CharField(_("待批延期理由"), max_length=300, blank=True)
    extension_until = models.DateTimeField(_("申请延期至"), null=True, blank=True)

    solved = models.CharField(_("是否解决"), max_length=10, choices=Solved.choices, blank=True)
    satisfaction = models.CharField(_("是否满意"), max_length=12, choices=Satisfaction.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    # When each reminder falls due: the warning at 75% of the time allowed, the escalation to
    # the street at twice the time. Set with the deadlines by start_accept_clock() and
    # start_resolve_clock(); the overdue notice uses the *_due_at itself. The scan does not read
    # these: save() copies the running clocks into RequestClock rows (clocks_sync), which it does.
    accept_warn_at = models.DateTimeField(_("签收预警时点"), null=True, blank=True, editable=False)
    accept_escalate_at = models.DateTimeField(_("签收上报街道时点"), null=True, blank=True, editable=False)
    resolve_warn_at = models.DateTimeField(_("办结预警时点"), null=True, blank=True, editable=False)
    resolve_escalate_at = models.DateTimeField(_("办结上报街道时点"), null=True, blank=True, editable=False)

    # Open311: the token a client gets back before the request has its id (here: at once).
    open311_token = models.CharField(_("Open311 令牌"), max_length=40, blank=True, db_index=True, editable=False)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    scope_parent = "compound"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        owner=("submitted_by", "assigned_to"),
        in_compound="compound",
        in_building="building",
    )

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ("-id",)
        indexes = [
            models.Index(fields=("community", "status", "resolve_due_at"), name="sr_community_status_due"),
            models.Index(fields=("street", "status"), name="sr_street_status"),
            models.Index(fields=("submitted_by", "-id"), name="sr_submitted_by"),
            models.Index(fields=("assigned_to", "status"), name="sr_assigned_to"),
            models.Index(fields=("building", "category", "status"), name="sr_building_category"),
            # The dashboards' live "overdue now": only the (few) open requests, by place, with the
            # columns the count reads (an index-only scan at district scale).
            models.Index(
                fields=("street", "community", "compound", "status", "accept_due_at", "resolve_due_at"),
                condition=Q(status__in=OPEN_STATUSES),
                name="sr_open_place",
            ),
            models.Index(fields=("resolved_at",), condition=Q(status="resolved"), name="sr_scan_rating"),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        adding = self._state.adding
        if adding:
            # A new row whose reminders nobody scheduled (factories, imports): its clocks start now.
            start = timezone.now()
            if self.accept_warn_at is None and self.accept_due_at is not None:
                self.start_accept_clock(start)
            if self.resolve_warn_at is None and self.resolve_due_at is not None:
                self.start_resolve_clock(start)
        super().save(*args, **kwargs)
        # The deadline scan reads RequestClock rows, not this table: keep them in step with the
        # status and schedule whenever either changed (every service saves through here).
        state = self._clock_state()
        if state != getattr(self, "_clock_loaded", None):
            RequestClock.sync(self, new=adding)
            self._clock_loaded = state

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._clock_loaded = instance._clock_state()
        return instance

    def _clock_state(self):
        """What the running clocks depend on, as loaded (``None`` if a field was deferred)."""
        values = self.__dict__
        if any(name not in values for name in CLOCK_SOURCE_FIELDS):
            return None
        return tuple(values[name] for name in CLOCK_SOURCE_FIELDS)

    def clocks_wanted(self):
        """``{clock: (warn_at, due_at, escalate_at, recipient_id)}`` of the clocks that run in this
        status: accept while waiting to be accepted, resolve while being handled, and the rating
        reminder (one step, 3 days after resolving) while waiting for a rating."""
        wanted = {}
        if self.status in ACCEPT_CLOCK_STATUSES and self.accept_due_at:
            wanted[RequestClock.Clock.ACCEPT] = (
                self.accept_warn_at,
                self.accept_due_at,
                self.accept_escalate_at,
                self.assigned_to_id,
            )
        if self.status in RESOLVE_CLOCK_STATUSES and self.resolve_due_at:
            wanted[RequestClock.Clock.RESOLVE] = (
                self.resolve_warn_at,
                self.resolve_due_at,
                self.resolve_escalate_at,
                self.assigned_to_id,
            )
        if self.status == self.Status.RESOLVED and self.resolved_at:
            wanted[RequestClock.Clock.RATE] = (self.resolved_at + RATE_REMINDER_AFTER, None, None, self.submitted_by_id)
        return wanted

    def get_absolute_url(self):
        return reverse("service_requests:detail", args=[self.pk])

    # --- reminder clocks (the deadline scan reads these columns; see reminders.py) ----------
    def start_accept_clock(self, start):
        """Schedule the accept reminders for a clock started at ``start`` and due at ``accept_due_at``
        (a new schedule is a new clock cycle: its reminders are sent again). Returns the changed
        field names."""
        span = self.accept_due_at - start
        self.accept_warn_at = start + span * WARN_AT
        self.accept_escalate_at = start + span * ESCALATE_AT
        return ["accept_warn_at", "accept_escalate_at"]

    def start_resolve_clock(self, start):
        """The same for the resolve clock (``resolve_due_at``)."""
        span = self.resolve_due_at - start
        self.resolve_warn_at = start + span * WARN_AT
        self.resolve_escalate_at = start + span * ESCALATE_AT
        return ["resolve_warn_at", "resolve_escalate_at"]

    def resolve_clock_start(self):
        """When the current resolve clock started (from its schedule), or ``None`` if unscheduled."""
        if self.resolve_escalate_at is None:
            return None
        span = (self.resolve_escalate_at - self.resolve_due_at) / (ESCALATE_AT - 1)
        return self.resolve_due_at - span

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def scope_ids(self):
        return self.street_id, self.community_id


class RequestClock(models.Model):
    """A deadline clock of a request while it runs, and the reminders the scan claimed on it.

    The deadline scan (reminders.py) works on this table, not on ``ServiceRequest``: claiming a
    reminder is an UPDATE, and an UPDATE writes a new entry into every index of the row's table
    — about thirty on the request (for its pages), two here. A clock has up to three steps
    (warn at 75% of the time, overdue at the deadline, escalate at twice the time; the rating
    clock has only its one reminder in ``warn_at``) and ``next_due_at``, the earliest step not
    yet claimed: the one partial index holds exactly the running clocks with a reminder still to
    send, so an idle scan is one index probe.

    Rows are written by ``ServiceRequest.save()`` through :meth:`sync`, never by hand: a clock
    starts when the request enters its status, a new schedule (reroute, extension, reopen) is a
    new ``cycle`` (its reminders are sent again), and a clock that stops is kept only if it
    claimed something — the claims are the request's record of "overdue, the secretary was
    told", shown in its timeline (``selectors.timeline``). ``number``, ``street``, ``community``
    and ``recipient`` (the assignee; the resident for the rating) are copied from the request so
    the scan never reads the wide request rows.
    """

    class Clock(models.TextChoices):
        ACCEPT = "accept", _("签收")
        RESOLVE = "resolve", _("办结")
        RATE = "rate", _("评价")

    pk = models.CompositePrimaryKey("request", "clock", "cycle")
    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="clocks", db_index=False
    )
    clock = models.CharField(_("时钟"), max_length=8, choices=Clock.choices)
    cycle = models.PositiveIntegerField(_("轮次"), default=1)
    running = models.BooleanField(_("计时中"), default=True)
    number = models.CharField(_("编号"), max_length=20)
    street = models.ForeignKey(
        "communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    recipient = models.ForeignKey(
        "accounts.User",
        verbose_name=_("提醒对象"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    warn_at = models.DateTimeField(_("预警时点"), null=True, blank=True)
    due_at = models.DateTimeField(_("期限"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("上报街道时点"), null=True, blank=True)
    warned_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("上报街道时间"), null=True, blank=True)
    next_due_at = models.DateTimeField(_("下次提醒时间"), null=True, blank=True)

    STEPS = (("warn_at", "warned_at"), ("due_at", "overdue_at"), ("escalate_at", "escalated_at"))
    # How a claim reads in the request's timeline (staff only): (event kind, message).
    TIMELINE = {
        ("accept", "overdue_at"): ("overdue", _("超过签收时限，已通知社区书记。")),
        ("accept", "escalated_at"): ("escalated", _("超过签收时限一倍，已上报街道。")),
        ("resolve", "overdue_at"): ("overdue", _("超过办结时限，已通知社区书记。")),
        ("resolve", "escalated_at"): ("escalated", _("超过办结时限一倍，已上报街道。")),
    }

    class Meta:
        verbose_name = _("诉求时钟")
        verbose_name_plural = _("诉求时钟")
        indexes = [
            models.Index(fields=("next_due_at",), condition=Q(next_due_at__isnull=False), name="sr_clock_next_due"),
        ]

    def __str__(self):
        return f"{self.number} {self.clock}#{self.cycle}"

    def pending(self):
        """The earliest step not yet claimed (``None`` when all are), for ``next_due_at``."""
        times = [getattr(self, at) for at, claimed in self.STEPS if getattr(self, claimed) is None]
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def claimed_any(self):
        return any(getattr(self, claimed) for _at, claimed in self.STEPS)

    @classmethod
    def rebuild(cls, request_ids):
        """Start the clocks of these requests afresh from their rows, dropping what was claimed:
        for loaders and demos that change requests with ``update()`` (which bypasses ``save()``),
        e.g. to backdate them."""
        cls.objects.filter(request_id__in=request_ids).delete()
        for request in ServiceRequest.objects.filter(pk__in=request_ids):
            cls.sync(request)

    @classmethod
    def sync(cls, request, *, new=False):
        """Make ``request``'s clock rows match what should run now (``clocks_wanted``): start the
        clocks that should run, stop the others, and start a new cycle when a schedule changed.
        Called by ``ServiceRequest.save()`` inside the caller's transaction (the services lock the
        request first; a scan holding a clock row makes this wait for its batch, never the other
        way round)."""
        wanted = request.clocks_wanted()
        latest = {}
        for row in [] if new else cls.objects.filter(request=request).order_by("clock", "cycle"):
            latest[row.clock] = row  # the last cycle of each clock (a new request has none)
        copied = {
            "number": request.number,
            "street_id": request.street_id,
            "community_id": request.community_id,
        }
        for name, row in latest.items():
            if name in wanted or not row.running:
                continue
            if row.claimed_any():  # stopped: kept as the record of what was sent
                cls.objects.filter(pk=row.pk).update(running=False, next_due_at=None)
            else:
                cls.objects.filter(pk=row.pk).delete()
        for name, (warn_at, due_at, escalate_at, recipient_id) in wanted.items():
            row = latest.get(name)
            schedule = {"warn_at": warn_at, "due_at": due_at, "escalate_at": escalate_at}
            if row is not None and all(getattr(row, k) == v for k, v in schedule.items()):
                # The same schedule: carry on (or resume) with the claims it has.
                values = {**copied, "recipient_id": recipient_id, "running": True}
                values["next_due_at"] = row.pending()
                changed = {key: value for key, value in values.items() if getattr(row, key) != value}
                if changed:
                    cls.objects.filter(pk=row.pk).update(**changed)
                continue
            cycle = 1
            if row is not None:
                cycle = row.cycle + 1
                if row.running and not row.claimed_any():
                    cls.objects.filter(pk=row.pk).delete()
                elif row.running:
                    cls.objects.filter(pk=row.pk).update(running=False, next_due_at=None)
            new = cls(request=request, clock=name, cycle=cycle, recipient_id=recipient_id, **copied, **schedule)
            new.next_due_at = new.pending()
            new.save(force_insert=True)


class RequestEvent(CommunityScopedModel):
    """One step in a request's life: who did what, when, and what the resident was told."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("提交")
        ACCEPTED = "accepted", _("签收")
        ASSIGNED = "assigned", _("分派")
        REPLIED = "replied", _("答复")
        NOTE = "note", _("内部备注")
        EXTENSION_REQUESTED = "extension_requested", _("申请延期")
        EXTENSION_APPROVED = "extension_approved", _("批准延期")
        EXTENSION_DENIED = "extension_denied", _("驳回延期")
        RETURNED = "returned", _("退单")
        REROUTED = "rerouted", _("改派")
        RESOLVED = "resolved", _("办结")
        REJECTED = "rejected", _("不予受理")
        DUPLICATE = "duplicate", _("重复诉求")
        RATED = "rated", _("评价")
        FOLLOWED_UP = "followed_up", _("电话回访")
        REOPENED = "reopened", _("重办")
        CLOSED = "closed", _("关闭")
        OVERDUE = "overdue", _("超时")
        ESCALATED = "escalated", _("上报")

    request = models.ForeignKey(ServiceRequest, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(_("内容"), blank=True)
    public = models.BooleanField(_("居民可见"), default=True)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)

    scope_parent = "request"
    scope_paths = ScopePaths(
        street="street", community="community", owner=("request__submitted_by",), in_compound="request__compound"
    )

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=("request", "created_at"), name="sr_event_request")]

    def __str__(self):
        return f"{self.request_id} {self.kind}"


class Attachment(CommunityScopedModel):
    """A photo on a request (at submission or with the resolution), checked by content."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="attachments"
    )
    event = models.ForeignKey(
        RequestEvent,
        verbose_name=_("办理记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(_("文件"), upload_to="requests/%Y/%m/", max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小(字节)"))
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    uploaded_by = models.ForeignKey(
        "accounts.User", verbose_name=_("上传人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_parent = "request"
    scope_paths = ScopePaths(
        street="street", community="community", owner=("request__submitted_by", "request__assigned_to")
    )

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")
        ordering = ("id",)

    def __str__(self):
        return self.file.name

    def get_absolute_url(self):
        return reverse("service_requests:attachment", args=[self.pk])


class NumberSequence(models.Model):
    """The daily counter behind request numbers (BH-20261126-0042)."""

    day = models.DateField(_("日期"), primary_key=True)
    last = models.PositiveIntegerField(_("最后编号"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self):
        return f"{self.day}:{self.last}"


class Open311Key(models.Model):
    """An API key for an Open311 GeoReport v2 client (``manage.py open311_key create NAME``)."""

    name = models.CharField(_("客户端名称"), max_length=100, unique=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True)
    prefix = models.CharField(_("密钥前缀"), max_length=8)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("代表账号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="open311_keys",
        help_text=_("以此账号的名义提交诉求"),
    )

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


# --- the request summary behind the dashboards (maintained by summary.py) ----------------------
class RequestCounters(models.Model):
    """What a summary row counts for its place and month; ``summary.py`` defines each counter
    (and the month it is counted in) and keeps the rows current."""

    received = models.IntegerField(_("受理"), default=0)
    accepted = models.IntegerField(_("已签收"), default=0)
    accepted_on_time = models.IntegerField(_("按时签收"), default=0)
    resolved = models.IntegerField(_("办结"), default=0)
    resolved_on_time = models.IntegerField(_("按期办结"), default=0)
    rated = models.IntegerField(_("评价"), default=0)
    solved = models.IntegerField(_("解决"), default=0)
    partly = models.IntegerField(_("部分解决"), default=0)
    satisfied = models.IntegerField(_("满意(含基本满意)"), default=0)
    closed = models.IntegerField(_("关闭"), default=0)
    returned = models.IntegerField(_("退单"), default=0)
    reopened = models.IntegerField(_("重办"), default=0)

    objects = RestrictedManager()

    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        abstract = True


class RequestSummary(RequestCounters):
    """诉求统计（小区 · 一级分类 · 月）: the finest summary row, read by a compound's dashboard."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.CASCADE, related_name="+"
    )
    compound = models.ForeignKey(
        "communities.Compound", verbose_name=_("小区"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(Category, verbose_name=_("一级分类"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    scope_paths = ScopePaths(street="street", community="community", in_compound="compound")

    class Meta:
        verbose_name = _("诉求统计（小区）")
        verbose_name_plural = _("诉求统计（小区）")
        constraints = [
            models.UniqueConstraint(fields=("compound", "category", "month"), name="sr_summary_key"),
        ]

    def __str__(self):
        return f"{self.compound_id} {self.category_id} {self.month:%Y-%m}"


class RequestStreetSummary(RequestCounters):
    """诉求统计（街道 · 一级分类 · 月）: the district's and a street's totals, trends, rankings of
    streets and category breakdowns."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, verbose_name=_("一级分类"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    # A street's totals are its officials' (and the district's), not its communities' staff's.
    scope_paths = ScopePaths(street="street", community=None)

    class Meta:
        verbose_name = _("诉求统计（街道）")
        verbose_name_plural = _("诉求统计（街道）")
        constraints = [
            models.UniqueConstraint(fields=("street", "category", "month"), name="sr_street_summary_key"),
        ]

    def __str__(self):
        return f"{self.street_id} {self.category_id} {self.month:%Y-%m}"


class RequestCommunitySummary(RequestCounters):
    """诉求统计（社区 · 一级分类 · 月）: a street's ranking of communities, a community's categories."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(Category, verbose_name=_("一级分类"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("诉求统计（社区）")
        verbose_name_plural = _("诉求统计（社区）")
        constraints = [
            models.UniqueConstraint(fields=("community", "category", "month"), name="sr_community_summary_key"),
        ]
        indexes = [models.Index(fields=("street", "month"), name="sr_community_summary_street")]

    def __str__(self):
        return f"{self.community_id} {self.category_id} {self.month:%Y-%m}"


class RequestCompoundSummary(RequestCounters):
    """诉求统计（小区 · 月）: the compound rankings ("ten compounds with most requests")."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.CASCADE, related_name="+"
    )
    compound = models.ForeignKey(
        "communities.Compound", verbose_name=_("小区"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("月份"))

    scope_paths = ScopePaths(street="street", community="community", in_compound="compound")

    class Meta:
        verbose_name = _("诉求统计（小区月度）")
        verbose_name_plural = _("诉求统计（小区月度）")
        constraints = [
            models.UniqueConstraint(fields=("compound", "month"), name="sr_compound_summary_key"),
        ]
        indexes = [
            models.Index(fields=("community", "month"), name="sr_compound_summary_comm"),
            models.Index(fields=("street", "month"), name="sr_compound_summary_street"),
        ]

    def __str__(self):
        return f"{self.compound_id} {self.month:%Y-%m}"
