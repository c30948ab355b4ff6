"""Residents' requests (诉求) and everything that happens to them.

A :class:`ServiceRequest` lives in the community of its compound. Its status moves
``submitted → accepted → in_progress → resolved → closed`` (with ``rejected``, ``returned``
to the street for re-routing, and reopening back to ``in_progress``); every change is a
:class:`RequestEvent` written by a service in ``services.py``. Each :class:`Category` sets
an accept limit in hours and a resolve limit in working days (:class:`CalendarDay` holds the
holidays and 调休 make-up days), giving ``accept_due_at`` and ``resolve_due_at``.
"""

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

# (index name, due column, claim column, statuses): the partial indexes of the deadline scan.
SCAN_INDEXES = (
    ("sr_scan_accept_warn", "accept_warn_at", "accept_warned_at", ACCEPT_CLOCK_STATUSES),
    ("sr_scan_accept_overdue", "accept_due_at", "accept_overdue_at", ACCEPT_CLOCK_STATUSES),
    ("sr_scan_accept_escalate", "accept_escalate_at", "accept_escalated_at", ACCEPT_CLOCK_STATUSES),
    ("sr_scan_resolve_warn", "resolve_warn_at", "resolve_warned_at", RESOLVE_CLOCK_STATUSES),
    ("sr_scan_resolve_overdue", "resolve_due_at", "resolve_overdue_at", RESOLVE_CLOCK_STATUSES),
    ("sr_scan_resolve_escalate", "resolve_escalate_at", "resolve_escalated_at", RESOLVE_CLOCK_STATUSES),
    ("sr_scan_rate", "resolved_at", "rate_reminded_at", ("resolved",)),
)
WARN_AT = 0.75  # the warning falls due when 75% of the time allowed has passed
ESCALATE_AT = 2  # the street is told at twice the time allowed


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

    # When each reminder falls due (see reminders.py): the warning at 75% of the time allowed,
    # the escalation to the street at twice the time. Set with the deadlines by
    # start_accept_clock()/start_resolve_clock(); the overdue notice uses the *_due_at itself.
    accept_warn_at = models.DateTimeField(_("签收预警时点"), null=True, blank=True, editable=False)
    accept_escalate_at = models.DateTimeField(_("签收上报街道时点"), null=True, blank=True, editable=False)
    resolve_warn_at = models.DateTimeField(_("办结预警时点"), null=True, blank=True, editable=False)
    resolve_escalate_at = models.DateTimeField(_("办结上报街道时点"), null=True, blank=True, editable=False)

    # Set by the deadline scan when each reminder has been claimed (see tasks.scan_deadlines).
    accept_warned_at = models.DateTimeField(_("签收预警时间"), null=True, blank=True, editable=False)
    accept_overdue_at = models.DateTimeField(_("签收超时时间"), null=True, blank=True, editable=False)
    accept_escalated_at = models.DateTimeField(_("签收上报街道时间"), null=True, blank=True, editable=False)
    resolve_warned_at = models.DateTimeField(_("办结预警时间"), null=True, blank=True, editable=False)
    resolve_overdue_at = models.DateTimeField(_("办结超时时间"), null=True, blank=True, editable=False)
    resolve_escalated_at = models.DateTimeField(_("办结上报街道时间"), null=True, blank=True, editable=False)
    rate_reminded_at = models.DateTimeField(_("评价提醒时间"), null=True, blank=True, editable=False)

    # Open311: the token a client gets back before the request has its id (here: at once).
    open311_token = models.CharField(_("Open311 令牌"), max_length=40, blank=True, db_index=True, editable=False)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    scope_parent = "compound"
    scope_paths = ScopePaths(street="street", community="community", owner=("submitted_by", "assigned_to"))

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
            # The deadline scan (reminders.py): one partial index per reminder, holding only the
            # open rows whose reminder is not yet claimed, ordered by when it falls due. The
            # conditions are exactly the scan's predicates, so an idle scan is one probe each.
            *[
                models.Index(fields=(due,), condition=Q(status__in=statuses, **{claim: None}), name=name)
                for name, due, claim, statuses in SCAN_INDEXES
            ],
            models.Index(fields=("resolved_at",), condition=Q(status="resolved"), name="sr_scan_rating"),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if self._state.adding:
            # A new row whose reminders nobody scheduled (factories, imports): its clocks start now.
            start = timezone.now()
            if self.accept_warn_at is None and self.accept_due_at is not None:
                self.start_accept_clock(start)
            if self.resolve_warn_at is None and self.resolve_due_at is not None:
                self.start_resolve_clock(start)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("service_requests:detail", args=[self.pk])

    # --- reminder clocks (the deadline scan reads these columns; see reminders.py) ----------
    def start_accept_clock(self, start):
        """Schedule the accept reminders for a clock started at ``start`` and due at ``accept_due_at``;
        clears the claims of an earlier clock. Returns the changed field names."""
        span = self.accept_due_at - start
        self.accept_warn_at = start + span * WARN_AT
        self.accept_escalate_at = start + span * ESCALATE_AT
        self.accept_warned_at = self.accept_overdue_at = self.accept_escalated_at = None
        return ["accept_warn_at", "accept_escalate_at", "accept_warned_at", "accept_overdue_at", "accept_escalated_at"]

    def start_resolve_clock(self, start):
        """The same for the resolve clock (``resolve_due_at``)."""
        span = self.resolve_due_at - start
        self.resolve_warn_at = start + span * WARN_AT
        self.resolve_escalate_at = start + span * ESCALATE_AT
        self.resolve_warned_at = self.resolve_overdue_at = self.resolve_escalated_at = None
        return [
            "resolve_warn_at",
            "resolve_escalate_at",
            "resolve_warned_at",
            "resolve_overdue_at",
            "resolve_escalated_at",
        ]

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
    scope_paths = ScopePaths(street="street", community="community", owner=("request__submitted_by",))

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
