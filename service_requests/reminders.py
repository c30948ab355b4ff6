"""The deadline scan: warn, mark overdue, escalate, ask for a rating, close unrated requests.

Run every minute by ``tasks.scan_deadlines`` (and once by ``manage.py run_scans``). Nothing is
scheduled ahead in the broker (ARCHITECTURE rule 3): each running deadline clock of a request
is a :class:`~service_requests.models.RequestClock` row (written by the services through
``clocks_sync``, ``models/clock.py``) holding when each of its reminders falls due and when it
was claimed, and ``next_due_at``, the earliest one not yet claimed. One partial index holds exactly the
running clocks with a reminder still to send, so a scan starts with one short index probe
(:func:`_probe`): an idle scan is that one round trip.

Claiming is set-based, in bounded batches, one statement each (:data:`CLAIM_SQL`): take up to
``batch_size`` clocks whose ``next_due_at`` has passed, oldest first (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so concurrent scans take disjoint rows; SQLite's IMMEDIATE
transactions serialise instead), and in the same UPDATE claim every step of each that is due
(a request found past its warning, deadline and twice the time is claimed once, for all three)
and move ``next_due_at`` on, ``RETURNING`` what the messages need. The conditional UPDATE and
the notifications it causes are one transaction: a reminder is claimed exactly when it is
written. A scan run twice, two scans at once, or a scan killed half way tell each person once.
Only one batch of narrow rows is ever in memory, and the wide request rows are never read.

Each person hears one notification per kind of reminder per batch: in the steady state (a scan
a minute) that is one per request, as the table says; after an outage, when one batch finds
hundreds of requests a street official must hear about, it is one notification listing them
(with a link to the overdue queue) instead of hundreds.

| reminder            | falls due when                                    | told (:data:`REMINDERS`)               |
|---------------------|---------------------------------------------------|----------------------------------------|
| accept/resolve warn | ``WARN_AT`` (75%) of the time allowed has passed  | the assignee, else the community staff |
| … overdue           | the deadline (``accept_due_at``/``resolve_due_at``) passes | the community secretary (else staff) |
| … escalate          | ``ESCALATE_AT`` (twice) the time allowed          | street officials and street staff      |
| rate                | ``RATE_REMINDER_AFTER`` (3 days) after resolving, still unrated | the resident             |
| (auto-close)        | ``RATING_WINDOW`` (7 days) after resolving, still unrated | — closed by ``request_close``  |

The times (``WARN_AT``, ``ESCALATE_AT``, ``RATE_REMINDER_AFTER``, ``RATING_WINDOW``) are the
reminder clock's, in ``models/clock.py`` next to the :class:`RequestClock` rows this scan reads
(the models need them to schedule a clock, and this module sits above the services, so they
cannot live here); the deadlines themselves come from ``calendar.request_deadlines``.

"Overdue" and "escalated" are recorded on the clock (``overdue_at``, ``escalated_at``) and shown
in the request's timeline from there (``selectors.timeline``); the scan writes no event rows.
"""

import functools
import heapq
import logging
import operator
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import DateTimeField
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.selectors import community_staff_roles, secretary_roles, street_escalation_roles
from baohe.exceptions import Conflict
from baohe.texts import lines_of, stored
from notifications.services import Message, notify_many

from .models import RequestClock, ServiceRequest
from .models.clock import RATE_REMINDER_AFTER, RATING_WINDOW
from .services import request_close

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5000
LISTED_IN_ONE = 30  # requests named in the body of a notification that covers several
LISTED_LINE = _("%(number)s（%(due)s）")  # a line of that body
LISTED_MORE = _("……共 %(count)d 件")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: hashing the lazy texts would translate them
class Reminder:
    """One kind of reminder: the clock step it belongs to, who hears it, and what it says."""

    clock: str  # "accept", "resolve" or "rate": also part of the dedupe key
    step: str  # "warn", "overdue", "escalate", "remind"
    claimed: str  # the RequestClock column set when it is claimed (its time: RequestClock.STEPS)
    audience: str  # "handler", "secretary", "street" or "resident"
    title: str  # for one request: %(number)s, %(due)s
    title_many: str  # for several (ngettext_lazy on "count"): %(count)d, %(numbers)s
    late: bool = False  # a warning claimed together with the deadline: it says "已超过" and links to the overdue list

    @property
    def key(self):
        return f"{self.clock}.{self.step}"


REMINDERS = (
    Reminder(
        "accept",
        "warn",
        "warned_at",
        "handler",
        _("诉求 %(number)s 即将超过签收时限（%(due)s），请尽快签收。"),
        ngettext_lazy(
            "%(count)d 件诉求即将超过签收时限，请尽快签收：%(numbers)s",
            "%(count)d 件诉求即将超过签收时限，请尽快签收：%(numbers)s",
            "count",
        ),
    ),
    Reminder(
        "accept",
        "overdue",
        "overdue_at",
        "secretary",
        _("诉求 %(number)s 已超过签收时限（%(due)s），仍未签收。"),
        ngettext_lazy(
            "%(count)d 件诉求已超过签收时限，仍未签收：%(numbers)s",
            "%(count)d 件诉求已超过签收时限，仍未签收：%(numbers)s",
            "count",
        ),
    ),
    Reminder(
        "accept",
        "escalate",
        "escalated_at",
        "street",
        _("诉求 %(number)s 超过签收时限一倍仍未签收，请街道督办。"),
        ngettext_lazy(
            "%(count)d 件诉求超过签收时限一倍仍未签收，请街道督办：%(numbers)s",
            "%(count)d 件诉求超过签收时限一倍仍未签收，请街道督办：%(numbers)s",
            "count",
        ),
    ),
    Reminder(
        "resolve",
        "warn",
        "warned_at",
        "handler",
        _("诉求 %(number)s 即将超过办结时限（%(due)s），请抓紧办理。"),
        ngettext_lazy(
            "%(count)d 件诉求即将超过办结时限，请抓紧办理：%(numbers)s",
            "%(count)d 件诉求即将超过办结时限，请抓紧办理：%(numbers)s",
            "count",
        ),
    ),
    Reminder(
        "resolve",
        "overdue",
        "overdue_at",
        "secretary",
        _("诉求 %(number)s 已超过办结时限（%(due)s），仍未办结。"),
        ngettext_lazy(
            "%(count)d 件诉求已超过办结时限，仍未办结：%(numbers)s",
            "%(count)d 件诉求已超过办结时限，仍未办结：%(numbers)s",
            "count",
        ),
    ),
    Reminder(
        "resolve",
        "escalate",
        "escalated_at",
        "street",
        _("诉求 %(number)s 超过办结时限一倍仍未办结，请街道督办。"),
        ngettext_lazy(
            "%(count)d 件诉求超过办结时限一倍仍未办结，请街道督办：%(numbers)s",
            "%(count)d 件诉求超过办结时限一倍仍未办结，请街道督办：%(numbers)s",
            "count",
        ),
    ),
    Reminder(
        "rate",
        "remind",
        "warned_at",
        "resident",
        _("您的诉求 %(number)s 已办结，请对办理结果进行评价。"),
        ngettext_lazy(
            "您有 %(count)d 件已办结的诉求待评价：%(numbers)s",
            "您有 %(count)d 件已办结的诉求待评价：%(numbers)s",
            "count",
        ),
    ),
)
STEPS = {(r.clock, r.claimed): r for r in REMINDERS}
# A clock whose warning and deadline fall due in the same claim (a scan that did not run, a
# backdated demo) is already late: its handler reads "已超过", never "即将超过" (issue 15).
LATE = {
    "accept": Reminder(
        "accept",
        "warn",
        "warned_at",
        "handler",
        _("诉求 %(number)s 已超过签收时限（%(due)s），请尽快签收。"),
        ngettext_lazy(
            "%(count)d 件诉求已超过签收时限，请尽快签收：%(numbers)s",
            "%(count)d 件诉求已超过签收时限，请尽快签收：%(numbers)s",
            "count",
        ),
        late=True,
    ),
    "resolve": Reminder(
        "resolve",
        "warn",
        "warned_at",
        "handler",
        _("诉求 %(number)s 已超过办结时限（%(due)s），请抓紧办理。"),
        ngettext_lazy(
            "%(count)d 件诉求已超过办结时限，请抓紧办理：%(numbers)s",
            "%(count)d 件诉求已超过办结时限，请抓紧办理：%(numbers)s",
            "count",
        ),
        late=True,
    ),
}
CLAIM_COLUMNS = ("warned_at", "overdue_at", "escalated_at")


# --- the claim: one statement per batch -------------------------------------------------------------
class ClaimedClock(NamedTuple):
    """A clock the claim statement took, as it comes back (``RETURNING``, in this order)."""

    request_id: int
    clock: str  # "accept", "resolve" or "rate"
    cycle: int
    number: str
    street_id: int
    community_id: int
    recipient_id: int | None  # the assignee (the resident for the rating)
    deadline: str  # the deadline (the rating reminder's time) as the database's text
    claimed: int  # a bit per step this statement claimed: 1 warn, 2 overdue, 4 escalate (+ STALE_RATING)


STALE_RATING = 8  # bit of ``claimed``: a rating reminder found after the request should be closed
OLDEST_FIRST = operator.attrgetter("deadline", "request_id")  # (a C key: a list may hold a whole backlog)


def _claim_sql():
    """The claim statement for this database.

    Take the due clocks (oldest first, at most ``batch``), claim each due step (``claimed IS
    NULL AND at <= now``), set ``next_due_at`` to the first step still ahead (the steps are in
    time order, and a step without a time never falls due), and return what the messages need:
    the copied request columns, the deadline as text (parsed only for the rows a message
    shows), and a bit per step claimed by this statement (1 warn, 2 overdue, 4 escalate; 8 for
    a rating reminder too late to send)."""
    table = connection.ops.quote_name(RequestClock._meta.db_table)
    claims = ",\n".join(
        f"{claimed} = CASE WHEN {claimed} IS NULL AND {at} <= %(now)s THEN %(now)s ELSE {claimed} END"
        for at, claimed in RequestClock.STEPS
    )
    ahead = " ".join(f"WHEN {at} > %(now)s THEN {at}" for at, _claimed in RequestClock.STEPS)
    bits = " + ".join(
        f"CASE WHEN {claimed} = %(now)s THEN {1 << i} ELSE 0 END" for i, claimed in enumerate(CLAIM_COLUMNS)
    )
    stale = f"CASE WHEN clock = 'rate' AND warn_at <= %(stale)s THEN {STALE_RATING} ELSE 0 END"
    due = f"SELECT request_id, clock, cycle FROM {table} WHERE next_due_at <= %(now)s ORDER BY next_due_at LIMIT %(batch)s"  # noqa: S608
    if connection.features.has_select_for_update_skip_locked:
        due += " FOR UPDATE SKIP LOCKED"  # concurrent scans take disjoint rows instead of waiting
    # Only column names of the model go into the text; every value is a parameter.
    return f"""
        WITH due AS ({due})
        UPDATE {table} SET
        {claims},
        next_due_at = CASE {ahead} END
        WHERE (request_id, clock, cycle) IN (SELECT request_id, clock, cycle FROM due) AND next_due_at <= %(now)s
        RETURNING request_id, clock, cycle, number, street_id, community_id, recipient_id,
            CAST(COALESCE(due_at, warn_at) AS TEXT), {bits} + {stale}
    """  # noqa: S608


class _Params(dict):
    """``%(name)s`` parameters adapted for the database (SQLite keeps datetimes as text)."""

    def __init__(self, **values):
        field = DateTimeField()
        super().__init__(
            {
                key: field.get_db_prep_value(value, connection) if isinstance(value, datetime) else value
                for key, value in values.items()
            }
        )


def _claim(now: datetime, batch_size: int) -> list[ClaimedClock]:
    """Claim one batch of due clocks."""
    stale = now - (RATING_WINDOW - RATE_REMINDER_AFTER)  # resolved over 7 days ago: it is closed instead
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), _Params(now=now, batch=batch_size, stale=stale))
        return list(map(ClaimedClock._make, cursor.fetchall()))


@functools.cache
def _reminders_claimed(clock, bits):
    """The reminders a claimed row tells about, from its clock and ``claimed`` bits."""
    if bits & STALE_RATING:
        return ()
    late = bits & 1 and bits & 2 and clock in LATE  # warned and overdue at once: it is late already
    return tuple(
        LATE[clock] if late and i == 0 else STEPS[(clock, claimed)]
        for i, claimed in enumerate(CLAIM_COLUMNS)
        if bits & (1 << i)
    )


# --- who hears it, and what they read -------------------------------------------------------------
class _People:
    """Who hears a reminder: the user ids behind an audience, looked up once per community or
    street for the whole scan."""

    def __init__(self):
        self._cache = {}  # (audience roles, place id) -> [user_id]

    def _load(self, ids, roles, column):
        missing = {i for i in ids if (roles, i) not in self._cache}
        if not missing:
            return
        for i in missing:
            self._cache[(roles, i)] = []
        rows = roles(missing).order_by("user_id").values_list(column, "user_id").distinct()
        for place, user_id in rows:
            self._cache[(roles, place)].append(user_id)

    def _get(self, column, place_id, roles):
        self._load({place_id}, roles, column)
        return self._cache[(roles, place_id)]

    def users(self, audience):
        """The user ids of an audience from :func:`_audience` (who they are: ``accounts.selectors``)."""
        what, place = audience
        if what == "user":
            return [place]
        if what == "street":
            return self._get("street_id", place, street_escalation_roles)
        staff = self._get("community_id", place, community_staff_roles)
        if what == "secretary":
            # A community without a secretary: its staff hear it rather than nobody.
            return self._get("community_id", place, secretary_roles) or staff
        return staff


def _audience(reminder, street, community, recipient):
    """Who hears ``reminder`` for a claimed clock, as (kind, id): one user, a community's staff or
    secretary, a street — so the people behind it are looked up once per batch, not per row."""
    if reminder.audience == "resident":
        return ("user", recipient) if recipient else None
    if reminder.audience == "street":
        return ("street", street)
    if reminder.audience == "secretary":
        return ("secretary", community)
    return ("user", recipient) if recipient else ("staff", community)


class _Texts:
    """Links and parsed deadlines, prepared once per batch."""

    def __init__(self):
        self.detail = reverse("service_requests:detail", args=[999999999])
        queue = reverse("service_requests:queue")
        self.lists = {
            "warn": f"{queue}?status=open",
            "late": f"{queue}?due=overdue",
            "overdue": f"{queue}?due=overdue",
            "escalate": f"{queue}?due=overdue",
            "remind": reverse("service_requests:mine"),
        }
        self.deadlines = {}
        self.zone = timezone.get_default_timezone()  # deadlines are shown in Asia/Shanghai

    def deadline(self, row):
        """The row's deadline as an aware datetime (the database returns it as text); a message
        stores it as a moment, shown in each reader's date format (``baohe.texts``)."""
        raw = row.deadline
        if raw not in self.deadlines:
            when = parse_datetime(str(raw))
            if timezone.is_naive(when):  # SQLite stores UTC without an offset
                when = when.replace(tzinfo=UTC)
            self.deadlines[raw] = when.astimezone(self.zone)
        return self.deadlines[raw]


def _message(reminder, user_id, rows, texts):
    """The notification telling ``user_id`` about ``reminder`` on ``rows`` (one or several)."""
    first = rows[0]
    key = f"request:{first.request_id}:{reminder.clock}:{reminder.step}:{first.cycle}:user:{user_id}"
    kind = f"request.{reminder.clock}.{reminder.step}"
    if len(rows) == 1:
        title = stored(reminder.title, number=first.number, due=texts.deadline(first))
        link = texts.detail.replace("999999999", str(first.request_id))
        return Message(recipient_id=user_id, kind=kind, title=title, link=link, dedupe_key=key)
    listed = heapq.nsmallest(LISTED_IN_ONE, rows, key=OLDEST_FIRST)
    numbers = "、".join(row.number for row in listed[:3]) + ("…" if len(rows) > 3 else "")
    title = stored(reminder.title_many, count=len(rows), numbers=numbers)
    lines = [stored(LISTED_LINE, number=row.number, due=texts.deadline(row)) for row in listed]
    if len(rows) > LISTED_IN_ONE:
        lines.append(stored(LISTED_MORE, count=len(rows)))
    return Message(
        recipient_id=user_id,
        kind=kind,
        title=title,
        body=lines_of(lines),
        link=texts.lists["late" if reminder.late else reminder.step],
        dedupe_key=f"{key}:+{len(rows) - 1}",
    )


def _claim_batch(now, batch_size, people):
    """Claim one batch of due clocks and write the notifications they cause, in one
    transaction; returns (clocks claimed, {reminder key: requests told about})."""
    counts = Counter()
    with transaction.atomic():
        rows = _claim(now, batch_size)
        if not rows:
            return 0, counts
        # Rows alike for the messages (same clock, claims and people) first: the per-row work
        # is one dict append, the rest is per group.
        alike = defaultdict(list)
        for row in rows:
            alike[(row.clock, row.claimed, row.street_id, row.community_id, row.recipient_id)].append(row)
        by_audience = defaultdict(list)  # (reminder, audience) -> rows
        for (clock, bits, street, community, recipient), group in alike.items():
            for reminder in _reminders_claimed(clock, bits):
                counts[reminder.key] += len(group)
                audience = _audience(reminder, street, community, recipient)
                if audience is not None:
                    by_audience[(reminder, audience)].extend(group)
        told = defaultdict(list)  # (reminder, user id) -> rows
        for (reminder, audience), group in by_audience.items():
            for user_id in people.users(audience):
                told[(reminder, user_id)].extend(group)
        texts = _Texts()
        notify_many([_message(reminder, user_id, group, texts) for (reminder, user_id), group in told.items()])
    return len(rows), counts


def _sweep(now, batch_size, people, counts, lock):
    """Claim batches until one comes back short (nothing more is due)."""
    while True:
        claimed, batch_counts = _claim_batch(now, batch_size, people)
        with lock:
            counts.update(batch_counts)
        if claimed < batch_size:
            return
        # With DEBUG on (a development worker) Django keeps the last 9,000 statements: keep a
        # long sweep's memory flat.
        reset_queries()


def _sweep_in_thread(now, batch_size, people, counts, lock, errors):
    try:
        _sweep(now, batch_size, people, counts, lock)
    except Exception as error:  # noqa: BLE001 - re-raised by the scan's own thread
        errors.append(error)
    finally:
        connection.close()  # this thread's own connection


def reminders_send(*, now=None, batch_size=DEFAULT_BATCH_SIZE, workers=1, people=None):
    """Claim every due reminder in batches; returns ``{reminder key: requests told about}``.

    When the first batch comes back full (a backlog: the worker was down, or a sweep like the
    benchmark's) and the database lets concurrent claims skip each other's rows (PostgreSQL),
    ``workers - 1`` more threads claim alongside, each on its own connection and in its own
    transactions, so the database's cores share the sweep. The batches stay disjoint (``SKIP
    LOCKED``), so nothing is told twice; each thread stops at its first short batch."""
    now = now or timezone.now()
    people = people or _People()
    counts, lock = Counter(), threading.Lock()
    claimed, batch_counts = _claim_batch(now, batch_size, people)
    counts.update(batch_counts)
    if claimed < batch_size:
        return counts
    threads, errors = [], []
    if workers > 1 and connection.features.has_select_for_update_skip_locked and not connection.in_atomic_block:
        threads = [
            threading.Thread(target=_sweep_in_thread, args=(now, batch_size, people, counts, lock, errors))
            for _ in range(workers - 1)
        ]
        for thread in threads:
            thread.start()
    try:
        _sweep(now, batch_size, people, counts, lock)
    finally:
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return counts


def requests_close_unrated(*, now=None, batch_size=500):
    """Close requests resolved more than 7 days ago and still unrated, each in its own transaction."""
    now = now or timezone.now()
    cutoff = now - RATING_WINDOW
    closed = 0
    while True:
        ids = list(
            ServiceRequest.objects.filter(status=ServiceRequest.Status.RESOLVED, resolved_at__lte=cutoff)
            .order_by("resolved_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        for pk in ids:
            try:
                # request_close locks the row and checks it is still resolved (rated or closed
                # meanwhile, or by a concurrent scan: a Conflict, and nothing is written).
                request_close(request=ServiceRequest(pk=pk), automatic=True)
            except Conflict:
                continue
            closed += 1
        if len(ids) < batch_size:
            return closed


def _probe(now):
    """(a clock has a reminder due, a request waits to be closed): one statement of two index
    probes (``sr_clock_next_due`` and ``sr_scan_rating``), so an idle scan is one round trip."""
    clocks = RequestClock.objects.filter(next_due_at__lte=now).order_by("next_due_at").values("next_due_at")[:1]
    closing = (
        ServiceRequest.objects.filter(status=ServiceRequest.Status.RESOLVED, resolved_at__lte=now - RATING_WINDOW)
        .order_by("resolved_at")
        .values("pk")[:1]
    )
    parts, params = [], []
    for query in (clocks, closing):
        sql, query_params = query.query.sql_with_params()
        # "(SELECT … LIMIT 1) IS NOT NULL" rather than EXISTS: a plain index scan, which marks
        # the index entries of rows claimed since the last VACUUM as dead for the next probe.
        parts.append(f"({sql}) IS NOT NULL")
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)  # noqa: S608 - compiled by the ORM
        due, to_close = cursor.fetchone()
    return bool(due), bool(to_close)


def scan_lag_seconds(now=None):
    """How late the scan is: seconds since the oldest reminder still unclaimed fell due (0 when
    none is due). One probe of ``sr_clock_next_due``; exported as ``baohe_reminder_scan_lag_seconds``
    (baohe/metrics.py). A running scan keeps it under a minute; a stopped worker makes it grow."""
    now = now or timezone.now()
    oldest = (
        RequestClock.objects.filter(next_due_at__lte=now)
        .order_by("next_due_at")
        .values_list("next_due_at", flat=True)[:1]
    )
    oldest_due = next(iter(oldest), None)
    return max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0


def scan_deadlines(*, now=None, batch_size=None):
    """Every reminder that is due, then the automatic closes. Returns ``{reminder key: count}``."""
    now = now or timezone.now()
    batch_size = batch_size or getattr(settings, "REMINDER_BATCH_SIZE", DEFAULT_BATCH_SIZE)
    workers = getattr(settings, "REMINDER_SCAN_WORKERS", 1)
    due, to_close = _probe(now)
    counts = reminders_send(now=now, batch_size=batch_size, workers=workers) if due else Counter()
    result = {r.key: counts[r.key] for r in REMINDERS}
    result["closed"] = requests_close_unrated(now=now) if to_close else 0
    return result
