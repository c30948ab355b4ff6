"""Residents' requests (诉求) and everything that happens to them.

A :class:`ServiceRequest` lives in the community of its compound. Its status moves
``submitted → accepted → in_progress → resolved → closed`` (with ``rejected``, ``returned``
to the street for re-routing, and reopening back to ``in_progress``); which step may be taken
from which status, and by whom, is the table in ``service_requests/workflow.py``, and every
step is a service in ``services.py`` that writes a :class:`RequestEvent`. Each
:class:`~service_requests.models.categories.Category` sets an accept limit in hours and a
resolve limit in working days, giving ``accept_due_at`` and ``resolve_due_at``
(``calendar.request_deadlines``); the reminders on them are the request's clock
(``models/clock.py``).
"""

from datetime import datetime

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from baohe.models import CommunityScopedModel
from baohe.scoping import ScopePaths
from baohe.texts import render

from .categories import Category
from .clock import schedule_start

OPEN_STATUSES = ("submitted", "accepted", "in_progress")


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

    # When the warning and the escalation to the street fall due (models/clock.py: set with the
    # deadlines by schedule_accept() and schedule_resolve(); the overdue notice uses the
    # *_due_at itself). The scan does not read these: the services copy the running clocks into
    # RequestClock rows (clocks_sync), which it does.
    accept_warn_at = models.DateTimeField(_("签收预警时点"), null=True, blank=True, editable=False)
    accept_escalate_at = models.DateTimeField(_("签收上报街道时点"), null=True, blank=True, editable=False)
    resolve_warn_at = models.DateTimeField(_("办结预警时点"), null=True, blank=True, editable=False)
    resolve_escalate_at = models.DateTimeField(_("办结上报街道时点"), null=True, blank=True, editable=False)

    # 我也遇到 (附议) and 催办 (services.request_support / request_urge), counted with F().
    # db_default: a release from before these columns still inserts requests while they are added.
    supporter_count = models.PositiveIntegerField(_("附议人数"), default=0, db_default=0, editable=False)
    urge_count = models.PositiveSmallIntegerField(_("催办次数"), default=0, db_default=0, editable=False)
    urged_at = models.DateTimeField(_("最近催办时间"), null=True, blank=True, editable=False)
    # 督办 by a street or district official (services.request_supervise): when last, how often,
    # and the date the community was told to finish by (the 督办后按期办结率 counts against it).
    supervise_count = models.PositiveSmallIntegerField(_("督办次数"), default=0, db_default=0, editable=False)
    supervised_at = models.DateTimeField(_("最近督办时间"), null=True, blank=True, editable=False)
    supervise_due_at = models.DateTimeField(_("督办办结期限"), null=True, blank=True, editable=False)

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
    # Shown masked everywhere; revealed one request at a time by who handles it (baohe.personal).
    PERSONAL_FIELDS = {"contact_mobile": "mobile"}

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
            # The staff queue's default view: a community's open requests, nearest current
            # deadline first (selectors.open_due(): accept_due_at while submitted, else
            # resolve_due_at), then id. The page is read in index order, no sort.
            models.Index(
                F("community"),
                Case(When(status="submitted", then=F("accept_due_at")), default=F("resolve_due_at")),
                F("id"),
                condition=Q(status__in=OPEN_STATUSES),
                name="sr_open_queue",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("service_requests:detail", args=[self.pk])

    def resolve_clock_start(self) -> datetime | None:
        """When the current resolve clock started (from its schedule), or ``None`` if unscheduled."""
        if self.resolve_escalate_at is None:
            return None
        return schedule_start(self.resolve_due_at, self.resolve_escalate_at)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def scope_ids(self):
        return self.street_id, self.community_id


class RequestEvent(CommunityScopedModel):
    """One step in a request's life: who did what, when, and what the resident was told."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("event", "提交")
        ACCEPTED = "accepted", pgettext_lazy("event", "签收")
        ASSIGNED = "assigned", pgettext_lazy("event", "分派")
        REPLIED = "replied", pgettext_lazy("event", "答复")
        NOTE = "note", _("内部备注")
        EXTENSION_REQUESTED = "extension_requested", pgettext_lazy("event", "申请延期")
        EXTENSION_APPROVED = "extension_approved", _("批准延期")
        EXTENSION_DENIED = "extension_denied", _("驳回延期")
        RETURNED = "returned", _("退单")
        REROUTED = "rerouted", pgettext_lazy("event", "改派")
        RESOLVED = "resolved", _("办结")
        REJECTED = "rejected", _("不予受理")
        DUPLICATE = "duplicate", _("重复诉求")
        RATED = "rated", pgettext_lazy("event", "评价")
        FOLLOWED_UP = "followed_up", _("电话回访")
        REOPENED = "reopened", _("重办")
        CLOSED = "closed", pgettext_lazy("event", "关闭")
        OVERDUE = "overdue", _("超时")
        ESCALATED = "escalated", _("上报")
        URGED = "urged", pgettext_lazy("event", "催办")
        SUPPLEMENTED = "supplemented", pgettext_lazy("event", "补充说明")
        WITHDRAWN = "withdrawn", pgettext_lazy("event", "撤回")
        SUPERVISED = "supervised", pgettext_lazy("event", "督办")

    request = models.ForeignKey(ServiceRequest, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(_("内容"), blank=True)
    # A message the portal wrote (not a person): its source text and parameters, shown in the
    # reader's language (baohe.texts); ``message`` keeps the Chinese rendering.
    message_text = models.JSONField(_("内容模板"), default=dict, db_default=Value({}, models.JSONField()), blank=True)
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

    @property
    def display_message(self) -> str:
        """The message in the reader's language (as written, for a person's words or an old row)."""
        return render(self.message_text) or self.message


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
    # Shown on the compound board and in Open311 only when staff marked it public
    # (services.attachment_set_public): photos of homes are personal data.
    public = models.BooleanField(_("公开"), default=False, db_default=False)

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


class RequestSupporter(CommunityScopedModel):
    """附议 (我也遇到): a resident of the request's compound who has the same problem and follows
    it instead of filing a duplicate (``services.request_support``); told of its progress."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="supporters"
    )
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("附议人"), on_delete=models.CASCADE, related_name="supported_requests"
    )

    scope_parent = "request"
    scope_paths = ScopePaths(street="street", community="community", owner=("user",), in_compound="request__compound")

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=("request", "user"), name="sr_supporter_once")]

    def __str__(self):
        return f"{self.request_id} {self.user_id}"


class NumberSequence(models.Model):
    """The day's numbering behind request numbers (BH-20261126-0042): see ``numbering.py``.

    On PostgreSQL a day's numbers come from one database sequence shared by every day
    (``sr_request_number``, never locked by a submission): ``number = counted + nextval −
    seq_start``, where ``seq_start`` is the sequence's position when the day's row was made.
    ``counted`` holds the numbers given before the sequence took over the day (the district
    generator's, or SQLite's counter, which increments it under the row lock).
    """

    day = models.DateField(_("日期"), primary_key=True)
    counted = models.PositiveIntegerField(_("计数器编号"), default=0, db_column="last")
    seq_start = models.BigIntegerField(_("序列起点"), null=True, blank=True)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self):
        return f"{self.day}:{self.last}"

    @property
    def last(self) -> int:
        """The day's highest number given so far (one query on PostgreSQL)."""
        from ..numbering import day_last

        return day_last(self)
