"""Reads that the request pages (and APIs) share: the staff work queue with its current
deadline, the counts behind the queue's filters (one query), a request's timeline as one
user may see it, and the "time left" wording.

``current_due`` is the deadline that matters now: ``accept_due_at`` while a request waits to
be accepted, ``resolve_due_at`` while it is being handled, and a far-future sentinel for
everything else (resolved, closed, rejected, returned), so ordering by ``(current_due, id)``
puts the most urgent first and finished ones last, and that pair is a stable cursor (signed:
``baohe.query.sign_cursor``, so a position the server did not hand out is never queried).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from baohe.query import InvalidCursor, read_cursor, sign_cursor
from baohe.scoping import VIEW

from . import reference
from .models import OPEN_STATUSES, Attachment, Category, RequestClock, RequestEvent, ServiceRequest

Status = ServiceRequest.Status

# Rows without a running clock sort after every real deadline.
NO_DUE = datetime(3000, 1, 1, tzinfo=UTC)
QUEUE_PAGE_SIZE = 25
DUE_SOON = timedelta(hours=4)


# --- the work queue -----------------------------------------------------------------------------
def with_current_due(queryset):
    """Annotate ``current_due`` (see the module docstring)."""
    return queryset.annotate(
        current_due=Case(
            When(status=Status.SUBMITTED, then=F("accept_due_at")),
            When(status__in=(Status.ACCEPTED, Status.IN_PROGRESS), then=F("resolve_due_at")),
            default=Value(NO_DUE),
            output_field=DateTimeField(),
        )
    )


def today_bounds(now=None):
    """Now and the start of tomorrow (local time)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    tomorrow = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return now, tomorrow


@dataclass(frozen=True)
class QueueFilter:
    """The filters of the queue (its GET parameters are declared by ``forms.QueueQuery``)."""

    status: str = "open"  # "open" (the default view), "all" or a Status value
    category_id: int | None = None
    compound_id: int | None = None
    mine: bool = False
    due_today: bool = False
    overdue: bool = False
    q: str = ""  # the search box (``search.search_requests``)
    sort: str = ""  # ``SORTS``; "" is the most urgent first
    supervised: str = ""  # "", "1" (under 督办) or "late" (past the date the 督办 set)

    @classmethod
    def from_query(cls, values):
        """From the values ``read_query(request, forms.QueueQuery)`` returns."""
        return cls(
            # The default view is the open work; "assigned to me" is the person's whole list.
            status=values.get("status") or ("all" if values.get("mine") == "1" else "open"),
            category_id=values.get("category"),
            compound_id=values.get("compound"),
            mine=values.get("mine") == "1",
            due_today=values.get("due") == "today",
            overdue=values.get("due") == "overdue",
            q=values.get("q") or "",
            sort=values.get("sort") or "",
            supervised=values.get("supervised") or "",
        )

    def params(self, **changes):
        """The GET parameters of this filter with ``changes`` applied (falsy values dropped)."""
        values = {
            "status": "" if self.status == "open" else self.status,
            "category": self.category_id,
            "compound": self.compound_id,
            "mine": "1" if self.mine else "",
            "due": "today" if self.due_today else ("overdue" if self.overdue else ""),
            "q": self.q,
            "sort": self.sort,
            "supervised": self.supervised,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}


def open_due():
    """The current deadline of an *open* request (``filters.current_due``; the expression the
    index ``sr_open_queue`` holds)."""
    return Case(When(status=Status.SUBMITTED, then=F("accept_due_at")), default=F("resolve_due_at"))


def status_q(status):
    if status in ("", "all"):
        return Q()
    if status == "open":
        return Q(status__in=OPEN_STATUSES)
    return Q(status=status)


def due_today_q(now):
    now, tomorrow = today_bounds(now)
    return Q(status__in=OPEN_STATUSES, current_due__gte=now, current_due__lt=tomorrow)


def overdue_q(now):
    return Q(status__in=OPEN_STATUSES, current_due__lt=now)


def queue_base(user, *, category_id=None, compound_id=None, q=""):
    """The requests ``user`` may see, narrowed by the category and compound selects and the search."""
    queryset = ServiceRequest.objects.restrict(user, VIEW)
    if q:
        from .search import search_requests

        queryset = search_requests(queryset, q, user)
    if category_id:
        queryset = queryset.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if compound_id:
        queryset = queryset.filter(compound_id=compound_id)
    return queryset


def queue_queryset(user, filters: QueueFilter, now=None):
    """The queue's rows for these filters, most urgent first (``current_due``, then id), as
    ``values(*QUEUE_COLUMNS)`` dicts (no joins: :func:`queue_page_rows` names them).

    The default view, the open requests, orders by the open requests' own deadline expression
    (``filters.current_due``: the one the index ``sr_open_queue`` holds), so the page is read in
    index order; every other view by the one with the far-future sentinel."""
    now = now or timezone.now()
    queryset = queue_base(user, category_id=filters.category_id, compound_id=filters.compound_id, q=filters.q)
    if filters.status == "open":
        queryset = queryset.annotate(current_due=open_due())
    else:
        queryset = with_current_due(queryset)
    if filters.status and filters.status != "all":
        queryset = queryset.filter(status_q(filters.status))
    if filters.mine:
        queryset = queryset.filter(assigned_to=user)
    if filters.due_today:
        queryset = queryset.filter(due_today_q(now))
    if filters.overdue:
        queryset = queryset.filter(overdue_q(now))
    if filters.supervised:
        queryset = queryset.filter(status__in=OPEN_STATUSES, supervise_due_at__isnull=False)
        if filters.supervised == "late":
            queryset = queryset.filter(supervise_due_at__lt=now)
    return queryset.order_by("current_due", "id").values(*QUEUE_COLUMNS)


QUEUE_COLUMNS = (
    "id",
    "number",
    "description",
    "category_id",
    "compound_id",
    "building_id",
    "status",
    "current_due",
    "assignee_kind",
    "assignee_label",
)


def queue_page_rows(rows, now):
    """The queue page's rows from :func:`queue_queryset`'s dicts: names from this process's
    reference copies, labels translated once, the request URL from one template."""
    categories = reference.categories()
    compounds = reference.compound_names()
    buildings = reference.buildings({row["building_id"] for row in rows if row["building_id"]})
    labels = reference.Labels()
    statuses = {value: str(label) for value, label in Status.choices}
    kinds = {value: str(label) for value, label in ServiceRequest.AssigneeKind.choices}
    prefix, suffix = reverse("service_requests:detail", args=[0]).rsplit("0", 1)
    tz = timezone.get_current_timezone()
    words = TimeLeftWords()
    out = []
    for row in rows:
        category = categories.get(row["category_id"])
        building = row["building_id"]
        description = row["description"]
        due = row["current_due"]
        out.append(
            {
                "pk": row["id"],
                "number": row["number"],
                "url": f"{prefix}{row['id']}{suffix}",
                "description": description if len(description) <= 36 else description[:35] + "…",
                "category_parent": category.shown_parent if category is not None else "",
                "category": category.shown_name if category is not None else "",
                "place": compounds.get(row["compound_id"], "")
                + (f" · {labels.building(*buildings[building])}" if building else ""),
                "status": row["status"],
                "status_label": statuses.get(row["status"], row["status"]),
                "current_due": due,
                "due_at": "" if due is None or due >= NO_DUE else due.astimezone(tz).strftime("%m-%d %H:%M"),
                "due": time_left(due, now, words),
                "assignee_label": row["assignee_label"],
                "assignee_kind": row["assignee_kind"],
                "assignee_kind_label": kinds.get(row["assignee_kind"], ""),
            }
        )
    return out


# The pills' counts over the queue's rows (the inner query, compiled by the ORM: scope,
# selects, search and the open deadline ``open_due()``), grouped by status.
_COUNTS_SQL = (
    "SELECT status, COUNT(*), COUNT(*) FILTER (WHERE assigned_to_id = %s),"
    " COUNT(*) FILTER (WHERE due >= %s AND due < %s), COUNT(*) FILTER (WHERE due < %s),"
    " COUNT(*) FILTER (WHERE supervise_due_at IS NOT NULL)"
    " FROM ({rows}) AS queue_rows GROUP BY status"
)


def queue_counts(user, filters: QueueFilter, now=None):
    """How many rows each filter pill selects (within the category/compound selects and the
    search): one query, grouped by status.

    Each status pill is a group; 全部 and 待办 are sums of groups; the flags are counted inside
    each group and summed (the deadline flags and 督办中 over the open groups only, 分派给我 over
    all). The rows are the ORM's (``queue_base`` with ``open_due()``), the grouping a fixed
    statement around them: thirteen filtered counts built and compiled by the ORM were a
    quarter of the queue page's CPU (issue 14); this is a tenth of that."""
    now, tomorrow = today_bounds(now)
    rows = (
        queue_base(user, category_id=filters.category_id, compound_id=filters.compound_id, q=filters.q)
        .annotate(due=open_due())  # the current deadline of an open request (the flags read no other)
        .order_by()
        .values_list("status", "assigned_to_id", "supervise_due_at", "due")
    )
    sql, params = rows.query.sql_with_params()
    counts = dict.fromkeys(("all", "open", *Status.values, "mine", "due_today", "overdue", "supervised"), 0)
    connection = connections[rows.db]
    at = connection.ops.adapt_datetimefield_value  # as the ORM passes them (UTC text on SQLite)
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL.format(rows=sql), [user.pk, at(now), at(tomorrow), at(now), *params])
        groups = cursor.fetchall()
    for status, found, mine, due_today, overdue, supervised in groups:
        counts[status] = found
        counts["all"] += found
        counts["mine"] += mine
        if status in OPEN_STATUSES:
            counts["open"] += found
            counts["due_today"] += due_today
            counts["overdue"] += overdue
            counts["supervised"] += supervised
    return counts


# --- cursor pagination ----------------------------------------------------------------------------
CURSOR_SALT = "service_requests.queue"


def decode_cursor(token):
    """``(current_due, id)`` from a token :func:`encode_cursor` made, or :class:`InvalidCursor`."""
    due_text, pk = read_cursor(token, salt=CURSOR_SALT, length=2)
    if not isinstance(due_text, str) or type(pk) is not int or pk < 1:
        raise InvalidCursor(token)
    try:
        due = datetime.fromisoformat(due_text)
    except ValueError as error:
        raise InvalidCursor(token) from error
    if timezone.is_naive(due):
        raise InvalidCursor(token)
    return due, pk


SORT_DUE, SORT_NEWEST, SORT_OLDEST = "due", "newest", "oldest"
SORTS = [
    (SORT_DUE, gettext_lazy("最紧急")),
    (SORT_NEWEST, gettext_lazy("最新提交")),
    (SORT_OLDEST, gettext_lazy("最早提交")),
]
# sort -> (the key, descending?)
_KEYS = {SORT_DUE: ("current_due", False), SORT_NEWEST: ("created_at", True), SORT_OLDEST: ("created_at", False)}


def cursor_page(queryset, sort, position, size=None):
    """One page of ``queryset`` (with ``current_due`` annotated) in the order of ``sort``
    (:data:`SORTS`; the most urgent first by default) after ``position`` (a decoded cursor, or
    ``None`` for the first page): ``(rows, next_cursor)``, ``next_cursor`` ``None`` on the last page.

    Keyset pagination on ``(sort_key, id)``: the next page starts strictly after the last row
    shown, so rows added or changed meanwhile never shift a page (no duplicates, nothing skipped,
    no OFFSET scan). Rows are ``values()`` dicts (the queue page) or requests.
    """
    size = size or QUEUE_PAGE_SIZE
    key, descending = _KEYS.get(sort, _KEYS[SORT_DUE])
    queryset = queryset.annotate(sort_key=F(key))
    queryset = queryset.order_by("-sort_key", "-id") if descending else queryset.order_by("sort_key", "id")
    if position is not None:
        value, pk = position
        after = Q(sort_key__lt=value) | Q(sort_key=value, id__lt=pk)
        before = Q(sort_key__gt=value) | Q(sort_key=value, id__gt=pk)
        queryset = queryset.filter(after if descending else before)
    rows = list(queryset[: size + 1])
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    if isinstance(last, dict):
        value, pk = last["sort_key"], last["id"]
    else:
        value, pk = getattr(last, "sort_key"), last.pk  # noqa: B009 - an annotation
    return rows[:size], sign_cursor([value.isoformat(), pk], salt=CURSOR_SALT)


# --- time left ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeLeft:
    text: str
    state: str  # "overdue", "soon", "ok" or "" (no running clock)


class TimeLeftWords:
    """The wordings of :func:`time_left` in the current language, translated once (a page of 25
    rows asked gettext for them 75 times)."""

    def __init__(self):
        self.days = _("%(days)s天%(hours)s小时")
        self.hours = _("%(hours)s小时%(minutes)s分")
        self.minutes = _("%(minutes)s分钟")
        self.overdue = _("超时 %(span)s")
        self.left = _("剩余 %(span)s")

    def span(self, delta):
        minutes = int(delta.total_seconds() // 60)
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            return self.days % {"days": days, "hours": hours}
        if hours:
            return self.hours % {"hours": hours, "minutes": minutes}
        return self.minutes % {"minutes": max(minutes, 1)}


def time_left(due, now=None, words=None):
    """ "剩余 2天3小时" or "超时 5小时10分" for a deadline; empty for no running clock. A list
    passes one :class:`TimeLeftWords` for all its rows."""
    if due is None or due >= NO_DUE:
        return TimeLeft("", "")
    now = now or timezone.now()
    words = words or TimeLeftWords()
    if due < now:
        return TimeLeft(words.overdue % {"span": words.span(now - due)}, "overdue")
    left = due - now
    return TimeLeft(words.left % {"span": words.span(left)}, "soon" if left <= DUE_SOON else "ok")


def current_due_of(request):
    if request.status == Status.SUBMITTED:
        return request.accept_due_at
    if request.status in (Status.ACCEPTED, Status.IN_PROGRESS):
        return request.resolve_due_at
    return None


# --- one request --------------------------------------------------------------------------------
def request_for_page(queryset):
    """A request queryset with everything a detail page shows about the request itself."""
    return queryset.select_related(
        "category__parent",
        "compound__community",
        "building",
        "household__building",
        "assigned_to",
        "submitted_by",
        "entered_by",
        "duplicate_of",
    )


def _clock_events(request):
    """The overdue notices and escalations the deadline scan claimed on ``request``'s clocks, as
    unsaved internal :class:`RequestEvent` objects to merge into its timeline (one query)."""
    events = []
    claimed = RequestClock.objects.filter(request=request).filter(
        Q(overdue_at__isnull=False) | Q(escalated_at__isnull=False)
    )
    for clock in claimed:
        for (name, column), (kind, message) in RequestClock.TIMELINE.items():
            at = getattr(clock, column)
            if name == clock.clock and at is not None:
                events.append(
                    RequestEvent(
                        request=request,
                        street_id=request.street_id,
                        community_id=request.community_id,
                        kind=kind,
                        message=str(message),
                        public=False,
                        created_at=at,
                        updated_at=at,
                    )
                )
    return events


def timeline_events(*, request, staff):
    """The request's events, oldest first: for staff (``staff=True``) with the internal ones and
    the overdue notices and escalations the deadline scan recorded on its clocks; for residents
    the public steps only. One query for residents, two for staff."""
    events = RequestEvent.objects.filter(request=request).select_related("actor").order_by("created_at", "id")
    if not staff:
        return list(events.filter(public=True))
    events = [*events, *_clock_events(request)]
    return sorted(events, key=lambda event: (event.created_at, event.pk or 0))


def timeline(*, request, staff):
    """The request's events, oldest first, each with ``photos``, and the photos filed with the
    request itself. Internal notes and other non-public steps only for staff (``staff=True``);
    residents see the public steps and their photos. Two queries (three for staff)."""
    events = timeline_events(request=request, staff=staff)
    photos_by_event = {}
    for attachment in Attachment.objects.filter(request=request).order_by("id"):
        photos_by_event.setdefault(attachment.event_id, []).append(attachment)
    submitted = [e.pk for e in events if e.kind == RequestEvent.Kind.SUBMITTED]
    submission_photos = photos_by_event.pop(None, [])
    labels = dict(Status.choices)
    for event in events:
        changed = event.to_status and event.to_status != event.from_status
        event.to_status_label = labels.get(event.to_status, "") if changed else ""
        photos = photos_by_event.get(event.pk, [])
        if event.pk in submitted:
            submission_photos.extend(photos)
            event.photos = []
        else:
            event.photos = photos
    return events, submission_photos


def my_requests(user):
    """The resident's own requests, newest first."""
    return with_current_due(ServiceRequest.objects.filter(submitted_by=user)).select_related(
        "category__parent", "compound", "building"
    )


# --- categories ---------------------------------------------------------------------------------
def category_choices():
    """Active leaf categories grouped under their active parents: ``[(parent, [(id, name)])]``."""
    categories = list(Category.objects.filter(is_active=True).select_related("parent").order_by("order", "id"))
    parents_with_children = {c.parent_id for c in categories if c.parent_id}
    groups, loose = {}, []
    for category in categories:
        if category.parent_id is None:
            if category.pk not in parents_with_children:
                loose.append((category.pk, category.label))
            continue
        if not category.parent.is_active:
            continue
        groups.setdefault(category.parent, []).append((category.pk, category.label))
    choices = [
        (parent.label, options) for parent, options in sorted(groups.items(), key=lambda g: (g[0].order, g[0].pk))
    ]
    if loose:
        choices.append((_("其他"), loose))
    return choices


def leaf_categories():
    """The categories a request may be filed under (active, with no children, parent active)."""
    return (
        Category.objects.filter(is_active=True, children__isnull=True)
        .filter(Q(parent__isnull=True) | Q(parent__is_active=True))
        .select_related("parent")
    )


# --- the household's timeline ---------------------------------------------------------------------
def household_timeline_entries(household, user, limit):
    """The household's requests for its timeline (``communities.timeline``; registered in
    ``apps.py``): one query, newest first."""
    from communities.timeline import Entry

    rows = (
        ServiceRequest.objects.restrict(user, VIEW)
        .filter(household=household)
        .select_related("category")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        Entry(
            when=row.created_at,
            kind="request",
            kind_label=_("诉求"),
            icon="chat-left-text",
            title=f"{row.number} {row.category.name}",
            url=row.get_absolute_url(),
            detail=row.description[:80],
            badge=str(row.get_status_display()),
        )
        for row in rows
    ]
