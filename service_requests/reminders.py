"""The deadline scan: warn, mark overdue, escalate, ask for a rating, close unrated requests.

Run every minute by ``tasks.scan_deadlines`` (and once by ``manage.py run_scans``). Nothing is
scheduled ahead in the broker (ARCHITECTURE rule 3): each reminder is a pair of columns on the
request — when it falls due (``accept_warn_at``, ``accept_due_at``, ``accept_escalate_at``, …,
set with the deadlines by the services) and when it was claimed (``accept_warned_at``, …) — and a
partial index holds exactly the open rows whose reminder is not yet claimed (``SCAN_INDEXES``
in models.py). A scan starts with one statement of eight short index probes (:func:`_probe`):
an idle scan is that one round trip.

Claiming is set-based, in bounded batches: in one transaction, select up to ``batch_size``
rows due for a reminder, ordered by its due column (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so concurrent scans take disjoint rows; SQLite's IMMEDIATE transactions serialise instead),
claim them with a conditional UPDATE — for that reminder and any other of the same clock that
is due too, so a request found past its warning and its deadline is updated once — and write
the notifications (unique ``dedupe_key`` per request, reminder, clock cycle and person), their
deliveries and the request events, all in the same transaction: a reminder is claimed exactly
when it is written. A scan run twice, two scans at once, or a scan killed half way tell each
person once. Only ids and a few columns of one batch are ever in memory.

| reminder           | falls due when                          | told                                  |
|--------------------|-----------------------------------------|---------------------------------------|
| accept/resolve warn | 75% of the time allowed has passed     | the assignee, else the community staff |
| … overdue          | the deadline passes                     | the community secretary (else staff)   |
| … escalate         | twice the time allowed has passed       | street officials and street staff      |
| rate               | 3 days after resolving, still unrated   | the resident                           |
| (auto-close)       | 7 days after resolving, still unrated   | — closed by ``request_close``          |
"""

import functools
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from baohe.exceptions import Conflict
from notifications import bulk
from notifications.services import Message, notify_many

from .models import ACCEPT_CLOCK_STATUSES, RESOLVE_CLOCK_STATUSES, RequestEvent, ServiceRequest
from .services import RATING_WINDOW, request_close

logger = logging.getLogger(__name__)

RATE_REMINDER_AFTER = timedelta(days=3)
DEFAULT_BATCH_SIZE = 2000


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: hashing the lazy texts would translate them
class Reminder:
    """One kind of reminder: its columns, who hears it, and what it says."""

    clock: str  # "accept", "resolve" or "rate": also part of the dedupe key
    step: str  # "warn", "overdue", "escalate", "remind"
    due: str  # the column saying when it falls due
    claim: str  # the column set when it is claimed
    statuses: tuple
    audience: str  # "handler", "secretary", "street" or "resident"
    title: str
    event: str = ""  # the RequestEvent written with it, if any
    event_message: str = ""

    @property
    def deadline(self):
        """The column shown as "the deadline" in the message (a warning falls due before it)."""
        return {"accept": "accept_due_at", "resolve": "resolve_due_at"}.get(self.clock, self.due)

    @property
    def key(self):
        return f"{self.clock}.{self.step}"

    def is_due(self, value, now):
        """The scan predicate's time condition, for a value already read (see due_filter)."""
        if value is None:
            return False
        if self.clock == "rate":
            return now - RATING_WINDOW < value <= now - RATE_REMINDER_AFTER
        return value <= now

    def due_filter(self, now):
        """The scan predicate: the same conditions as the reminder's partial index, plus "due"."""
        condition = Q(status__in=self.statuses, **{self.claim: None, f"{self.due}__lte": now})
        if self.clock == "rate":
            # Ask for a rating 3 days after resolving; after 7 days the request is closed instead.
            condition = Q(
                status__in=self.statuses,
                **{
                    self.claim: None,
                    f"{self.due}__lte": now - RATE_REMINDER_AFTER,
                    f"{self.due}__gt": now - RATING_WINDOW,
                },
            )
        return condition


E = RequestEvent.Kind
REMINDERS = (
    Reminder(
        "accept",
        "warn",
        "accept_warn_at",
        "accept_warned_at",
        ACCEPT_CLOCK_STATUSES,
        "handler",
        _("诉求 %(number)s 即将超过签收时限（%(due)s），请尽快签收。"),
    ),
    Reminder(
        "accept",
        "overdue",
        "accept_due_at",
        "accept_overdue_at",
        ACCEPT_CLOCK_STATUSES,
        "secretary",
        _("诉求 %(number)s 已超过签收时限（%(due)s），仍未签收。"),
        E.OVERDUE,
        _("超过签收时限，已通知社区书记。"),
    ),
    Reminder(
        "accept",
        "escalate",
        "accept_escalate_at",
        "accept_escalated_at",
        ACCEPT_CLOCK_STATUSES,
        "street",
        _("诉求 %(number)s 超过签收时限一倍仍未签收，请街道督办。"),
        E.ESCALATED,
        _("超过签收时限一倍，已上报街道。"),
    ),
    Reminder(
        "resolve",
        "warn",
        "resolve_warn_at",
        "resolve_warned_at",
        RESOLVE_CLOCK_STATUSES,
        "handler",
        _("诉求 %(number)s 即将超过办结时限（%(due)s），请抓紧办理。"),
    ),
    Reminder(
        "resolve",
        "overdue",
        "resolve_due_at",
        "resolve_overdue_at",
        RESOLVE_CLOCK_STATUSES,
        "secretary",
        _("诉求 %(number)s 已超过办结时限（%(due)s），仍未办结。"),
        E.OVERDUE,
        _("超过办结时限，已通知社区书记。"),
    ),
    Reminder(
        "resolve",
        "escalate",
        "resolve_escalate_at",
        "resolve_escalated_at",
        RESOLVE_CLOCK_STATUSES,
        "street",
        _("诉求 %(number)s 超过办结时限一倍仍未办结，请街道督办。"),
        E.ESCALATED,
        _("超过办结时限一倍，已上报街道。"),
    ),
    Reminder(
        "rate",
        "remind",
        "resolved_at",
        "rate_reminded_at",
        ("resolved",),
        "resident",
        _("您的诉求 %(number)s 已办结，请对办理结果进行评价。"),
    ),
)

CLOCKS = {clock: tuple(r for r in REMINDERS if r.clock == clock) for clock in ("accept", "resolve", "rate")}

# The columns each claimed row is read with (in the same statement that locks it).
_FIELDS = (
    "pk",
    "number",
    "status",
    "street_id",
    "community_id",
    "assigned_to_id",
    "submitted_by_id",
    "return_count",
    "reopen_count",
    "extension_count",
)


class _People:
    """Who hears a reminder, looked up once per community/street for the whole scan."""

    def __init__(self):
        self._community = {}  # (community_id, kinds) -> [user_id]
        self._street = {}

    def _load(self, cache, ids, kinds, column):
        missing = {i for i in ids if (i, kinds) not in cache}
        if not missing:
            return
        for i in missing:
            cache[(i, kinds)] = []
        rows = (
            Role.objects.filter(**{f"{column}__in": missing}, kind__in=kinds, user__is_active=True)
            .order_by("user_id")
            .values_list(column, "user_id")
            .distinct()
        )
        for place, user_id in rows:
            cache[(place, kinds)].append(user_id)

    def community(self, community_ids, kinds):
        self._load(self._community, community_ids, kinds, "community_id")
        return lambda community_id: self._community[(community_id, kinds)]

    def street(self, street_ids, kinds):
        self._load(self._street, street_ids, kinds, "street_id")
        return lambda street_id: self._street[(street_id, kinds)]


STAFF_KINDS = (Role.Kind.STAFF, Role.Kind.SECRETARY)
SECRETARY_KINDS = (Role.Kind.SECRETARY,)
STREET_KINDS = (Role.Kind.STREET_OFFICIAL, Role.Kind.STAFF)


def _recipients(reminder, rows, people):
    """``row -> [user_id]`` for a batch of rows (dicts of ``_FIELDS`` and the due column)."""
    if reminder.audience == "resident":
        return lambda row: [row["submitted_by_id"]] if row["submitted_by_id"] else []
    if reminder.audience == "street":
        street = people.street({row["street_id"] for row in rows}, STREET_KINDS)
        return lambda row: street(row["street_id"])
    communities = {row["community_id"] for row in rows}
    staff = people.community(communities, STAFF_KINDS)
    if reminder.audience == "secretary":
        secretaries = people.community(communities, SECRETARY_KINDS)
        # A community without a secretary: its staff hear it rather than nobody.
        return lambda row: secretaries(row["community_id"]) or staff(row["community_id"])
    return lambda row: [row["assigned_to_id"]] if row["assigned_to_id"] else staff(row["community_id"])


def _cycle(reminder, row):
    """Which clock a reminder belongs to: a reroute, reopen or extension starts a new one."""
    if reminder.clock == "accept":
        return f"{row['return_count']}"
    if reminder.clock == "resolve":
        return f"{row['return_count']}.{row['reopen_count']}.{row['extension_count']}"
    return f"{row['reopen_count']}"


def _messages(reminder, rows, people, link_template):
    """The notifications of one reminder for ``rows`` (dicts of ``_FIELDS`` and the due columns)."""
    recipients = _recipients(reminder, rows, people)
    template = str(reminder.title)  # translated once per batch, not once per row
    zone = timezone.get_default_timezone()  # deadlines are shown in Asia/Shanghai
    kind = f"request.{reminder.clock}.{reminder.step}"
    messages = []
    for row in rows:
        title = template % {
            "number": row["number"],
            "due": row[reminder.deadline].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        }
        link = link_template.replace("999999999", str(row["pk"]))
        prefix = f"request:{row['pk']}:{reminder.clock}:{reminder.step}:{_cycle(reminder, row)}"
        messages.extend(
            Message(
                recipient_id=user_id,
                kind=kind,
                title=title,
                link=link,
                dedupe_key=f"{prefix}:user:{user_id}",
            )
            for user_id in recipients(row)
        )
    return messages


def _events_create(events):
    """The request events of the claimed reminders: ``[(reminder, row), …]``, actor none, internal."""
    if not events:
        return
    texts = {reminder: str(reminder.event_message) for reminder in {r for r, _row in events}}  # translated once
    if bulk.supported():
        now = timezone.now()
        bulk.insert_rows(
            RequestEvent,
            {
                "request": [row["pk"] for _r, row in events],
                "street": [row["street_id"] for _r, row in events],
                "community": [row["community_id"] for _r, row in events],
                "kind": [reminder.event for reminder, _row in events],
                "message": [texts[reminder] for reminder, _row in events],
                "from_status": [row["status"] for _r, row in events],
                "to_status": [row["status"] for _r, row in events],
            },
            constants={"created_at": now, "updated_at": now, "public": False},
        )
        return
    RequestEvent.objects.bulk_create(
        [
            RequestEvent(
                request_id=row["pk"],
                street_id=row["street_id"],
                community_id=row["community_id"],
                kind=reminder.event,
                message=texts[reminder],
                public=False,
                from_status=row["status"],
                to_status=row["status"],
            )
            for reminder, row in events
        ],
        batch_size=1000,
    )


def _claim_batch(reminder, now, batch_size, people):
    """Claim up to ``batch_size`` rows due for ``reminder`` and write what they cause, in one
    transaction; returns (rows read, {reminder key: rows claimed}).

    A row is claimed for every reminder of the same clock that is due, not only this one (a
    request found past its warning is often past its deadline too): one UPDATE per row, which
    is what the scan's time goes into (it touches every index of the table).
    """
    clock = CLOCKS[reminder.clock]
    columns = [c for r in clock for c in (r.due, r.claim)]
    with transaction.atomic():
        due = ServiceRequest.objects.filter(reminder.due_filter(now)).order_by(reminder.due)
        if connection.features.has_select_for_update_skip_locked:
            # Concurrent scans take disjoint rows instead of waiting for each other.
            due = due.select_for_update(skip_locked=True)
        rows = list(due.values(*_FIELDS, *columns)[:batch_size])
        claimed = Counter()
        if not rows:
            return 0, claimed
        groups = defaultdict(list)  # (reminders due) -> rows
        for row in rows:
            groups[tuple(r for r in clock if row[r.claim] is None and r.is_due(row[r.due], now))].append(row)
        messages, events = [], []
        link_template = reverse("service_requests:detail", args=[999999999])
        for due_now, group in groups.items():
            ids = [row["pk"] for row in group]
            updated = ServiceRequest.objects.filter(pk__in=ids, **{r.claim: None for r in due_now}).update(
                **{r.claim: now for r in due_now}
            )
            if updated != len(ids):  # cannot happen under the row locks; never tell twice if it does
                logger.warning("%s: claimed %s of %s rows", reminder.key, updated, len(ids))
                mine = set(
                    ServiceRequest.objects.filter(pk__in=ids, **{r.claim: now for r in due_now}).values_list(
                        "pk", flat=True
                    )
                )
                group = [row for row in group if row["pk"] in mine]
            for r in due_now:
                messages.extend(_messages(r, group, people, link_template))
                if r.event:
                    events.extend((r, row) for row in group)
                claimed[r.key] += len(group)
        notify_many(messages)
        _events_create(events)
    return len(rows), claimed


def reminders_send(reminder, *, now=None, batch_size=DEFAULT_BATCH_SIZE, people=None):
    """Claim every due ``reminder`` in batches, with whatever of its clock falls due with it;
    returns ``{reminder key: requests claimed}``."""
    now = now or timezone.now()
    people = people or _People()
    counts = Counter()
    while True:
        rows, claimed = _claim_batch(reminder, now, batch_size, people)
        counts.update(claimed)
        if rows < batch_size:
            return counts
        # With DEBUG on (a development worker) Django keeps the last 9,000 statements, and a
        # batch's INSERTs are large: keep a long sweep's memory flat.
        reset_queries()


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


_PROBE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _probe_statement(now):
    """The probe as (sql, params): is there a due row for each reminder, and a request to close?"""
    # Ordered by the indexed column, as the claims are: with LIMIT 1 and no order, the planner
    # may prefer a sequential scan "until the first match" when its estimates (which cannot
    # see that claimed rows no longer match) promise many matches.
    probes = [ServiceRequest.objects.filter(r.due_filter(now)).order_by(r.due) for r in REMINDERS]
    probes.append(
        ServiceRequest.objects.filter(
            status=ServiceRequest.Status.RESOLVED, resolved_at__lte=now - RATING_WINDOW
        ).order_by("resolved_at")
    )
    parts, params = [], []
    for query in probes:
        sql, query_params = query.values("pk")[:1].query.sql_with_params()
        # "(SELECT id … LIMIT 1) IS NOT NULL" rather than EXISTS: a plain index scan, which marks
        # the index entries of rows claimed since the last VACUUM as dead for the next probe
        # (an index-only scan would visit their heap rows again every time).
        parts.append(f"({sql}) IS NOT NULL")
        params.extend(query_params)
    return "SELECT " + ", ".join(parts), params  # noqa: S608 - compiled by the ORM


@functools.cache
def _probe_template():
    return _probe_statement(_PROBE_EPOCH)


def _probe(now):
    """Which reminders have a due row, and whether a request waits to be closed: one query of
    eight probes (each a short index probe), so an idle scan costs one round trip."""
    if connection.vendor == "postgresql":
        # Compiling eight querysets costs more than running them: compile once, and move the
        # time parameters (all "now" ± a constant) by how far now is from the template's.
        sql, params = _probe_template()
        shift = now - _PROBE_EPOCH
        params = [p + shift if isinstance(p, datetime) else p for p in params]
    else:
        sql, params = _probe_statement(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return {r.key: bool(hit) for r, hit in zip(REMINDERS, found, strict=False)}, bool(found[-1])


def scan_deadlines(*, now=None, batch_size=None):
    """Every reminder that is due, then the automatic closes. Returns ``{reminder key: count}``."""
    now = now or timezone.now()
    batch_size = batch_size or getattr(settings, "REMINDER_BATCH_SIZE", DEFAULT_BATCH_SIZE)
    due, to_close = _probe(now)
    people = _People()
    counts = Counter()
    for reminder in REMINDERS:
        if due[reminder.key]:  # (it may have been claimed meanwhile with an earlier one of its clock)
            counts.update(reminders_send(reminder, now=now, batch_size=batch_size, people=people))
    result = {r.key: counts[r.key] for r in REMINDERS}
    result["closed"] = requests_close_unrated(now=now) if to_close else 0
    return result
