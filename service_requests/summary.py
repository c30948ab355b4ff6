"""The request summary behind the dashboards: counters per place, category and month.

A dashboard never counts requests. It reads summary rows whose number depends on the size of
the registry and the months shown, not on how many requests there are, so a district page
over twelve months costs the same at 300 requests as at 1,000,000.

Four tables, all keyed by a *month* (the first day of a calendar month in Asia/Shanghai) and,
but the last, a *category group* (the request's top-level category: its parent, or itself
when it has none). Each is the roll-up one kind of page reads, so no page scans a finer one:

============================ ============================ ===================================================
table                        key                          read by
============================ ============================ ===================================================
``RequestStreetSummary``     street, category, month      the district page (totals, trend, ranking of
                                                          streets, categories); a street's categories
``RequestCommunitySummary``  community, category, month   a street's ranking of communities; a community's
                                                          totals and categories
``RequestCompoundSummary``   compound, month              the ten compounds with most requests; a
                                                          community's compounds; a compound's totals
``RequestSummary``           compound, category, month    a compound's categories; the source of the others
                                                          in :func:`summary_rebuild`
============================ ============================ ===================================================

Their sizes depend on the registry and the months, never on the number of requests: for the
whole district over twelve months a page reads at most ``13 × 8 × 12`` street rows (about
1,250) and ``compounds × 12`` compound rows (12,000 at 1,000 compounds). Every row carries its
``street`` (and, below the street, ``community``), so ``restrict()`` scopes it like any other
row: a community's staff never see a street's totals.

Counters and the month each is counted in
-----------------------------------------
Each counter describes a request *as it stands now* and is counted in the month of the
timestamp named here (``ServiceRequest`` columns, local time):

==================== ================= ====================================================================
counter              month of          counts a request when
==================== ================= ====================================================================
``received``         ``created_at``    always (submitted)
``accepted``         ``created_at``    it has been accepted (``accepted_at`` set)
``accepted_on_time`` ``created_at``    ``accepted_at <= accept_due_at``
``resolved``         ``resolved_at``   it is resolved (``resolved_at`` set: a reopened request drops out
                                       until it is resolved again)
``resolved_on_time`` ``resolved_at``   ``resolved_at <= resolve_due_at`` (the deadline in force: after a
                                       reopen the fresh one, after an approved extension the new one)
``rated``            ``rated_at``      it has a rating (the latest one, if rated again after a reopen)
``solved``           ``rated_at``      rated 解决
``partly``           ``rated_at``      rated 部分解决
``satisfied``        ``rated_at``      rated 满意 or 基本满意
``closed``           ``closed_at``     it is closed or rejected (``closed_at`` set)
``returned``         event time        once per 退单 (``RequestEvent`` of kind ``returned``)
``reopened``         event time        once per 重办 (``RequestEvent`` of kind ``reopened``)
==================== ================= ====================================================================

A request counts where it is *now* (its compound, community and street): a request rerouted
to another compound takes its counts, returns included, with it.

The rates (over a range of months; :func:`rates`)
-------------------------------------------------
* 响应率 (response rate) = ``accepted_on_time / received``: of the requests received in the
  range, the share accepted within the category's accept limit. Both counted in the month
  received, so the rate never exceeds 100%.
* 解决率 (resolution rate) = ``solved / rated``: of the requests rated in the range, the share
  rated 解决. 部分解决 is *not* counted as solved (it is shown beside it); a request rated 未解决
  is reopened and counts again with its next rating.
* 按期办结率 (on-time rate) = ``resolved_on_time / resolved``: of the requests resolved in the
  range (and not since reopened), the share resolved by their deadline.
* 满意率 (satisfaction rate) = ``satisfied / rated``: 满意 + 基本满意 over all ratings.
* A rate with nothing to divide by is ``None`` (shown as "—"), never 0% or 100%.

Overdue requests are not in the summary: they are a live count of open requests past their
current deadline (``service_requests.filters.overdue_q``), cheap on the status indexes.

Keeping it current
------------------
Every write to a request goes through ``services.py``: ``_lock()`` passes the locked row to
:func:`snapshot` (what it contributes before the step) and ``_event()`` calls :func:`record`,
which adds the difference between what the row contributes now and the snapshot, plus the
event's own count (a return or a reopen), with one ``INSERT … ON CONFLICT DO UPDATE`` per
table (four statements), inside the step's transaction. A step that changes no counter writes nothing. Anything
that changes requests *without* the services (a bulk load, an admin edit, the demo's
backdating) must be followed by :func:`summary_rebuild`; the worker also runs it over the
whole table every night at 03:30 (``tasks.rebuild_summaries``) as a safety net.

:func:`summary_rebuild` recomputes the rows from ``ServiceRequest`` and ``RequestEvent`` with
one set-based ``INSERT … SELECT … GROUP BY`` per table (PostgreSQL and SQLite), and gives
exactly the rows the incremental updates keep (rows that fell to zero aside).
"""

from collections import Counter, defaultdict
from datetime import date, datetime, time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import (
    Category,
    RequestCommunitySummary,
    RequestCompoundSummary,
    RequestEvent,
    RequestStreetSummary,
    RequestSummary,
    ServiceRequest,
)

ROLLUPS = (RequestSummary, RequestStreetSummary, RequestCommunitySummary, RequestCompoundSummary)

COUNTERS = (
    "received",
    "accepted",
    "accepted_on_time",
    "resolved",
    "resolved_on_time",
    "rated",
    "solved",
    "partly",
    "satisfied",
    "closed",
    "returned",
    "reopened",
)
SATISFIED = (ServiceRequest.Satisfaction.SATISFIED, ServiceRequest.Satisfaction.BASIC)
EVENT_COUNTERS = {RequestEvent.Kind.RETURNED: "returned", RequestEvent.Kind.REOPENED: "reopened"}

_SNAPSHOT = "_summary_snapshot"
_GROUP = "_summary_category_group"


# --- months -------------------------------------------------------------------------------------
def month_of(moment):
    """The first day of the local calendar month of an aware datetime."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def month_start(month):
    """The aware local midnight at which ``month`` (any day in it) begins."""
    first = month.replace(day=1) if isinstance(month, date) else month_of(month)
    return timezone.make_aware(datetime.combine(first, time.min), timezone.get_default_timezone())


# --- rates --------------------------------------------------------------------------------------
RATES = {
    # name: (numerator, denominator)
    "response_rate": ("accepted_on_time", "received"),
    "resolution_rate": ("solved", "rated"),
    "on_time_rate": ("resolved_on_time", "resolved"),
    "satisfaction_rate": ("satisfied", "rated"),
}


def ratio(numerator, denominator):
    return numerator / denominator if denominator else None


def rates(counts):
    """The four rates of a mapping of counters (see the module docstring)."""
    return {name: ratio(counts.get(num, 0), counts.get(den, 0)) for name, (num, den) in RATES.items()}


# --- what one request contributes ---------------------------------------------------------------
def contribution(request):
    """``{month: Counter}``: the counters ``request`` (as it stands) adds, by month.

    The same rules as :func:`summary_rebuild`'s SQL; the events (returns, reopens) are
    counted separately by :func:`record`.
    """
    out = defaultdict(Counter)
    received = out[month_of(request.created_at)]
    received["received"] += 1
    if request.accepted_at is not None:
        received["accepted"] += 1
        if request.accepted_at <= request.accept_due_at:
            received["accepted_on_time"] += 1
    if request.resolved_at is not None:
        resolved = out[month_of(request.resolved_at)]
        resolved["resolved"] += 1
        if request.resolved_at <= request.resolve_due_at:
            resolved["resolved_on_time"] += 1
    if request.rated_at is not None:
        rated = out[month_of(request.rated_at)]
        rated["rated"] += 1
        rated["solved"] += request.solved == ServiceRequest.Solved.SOLVED
        rated["partly"] += request.solved == ServiceRequest.Solved.PARTLY
        rated["satisfied"] += request.satisfaction in SATISFIED
    if request.closed_at is not None:
        out[month_of(request.closed_at)]["closed"] += 1
    return out


def _state(request):
    place = (request.compound_id, request.community_id, request.street_id, request.category_id)
    return place, contribution(request)


def snapshot(request):
    """Remember what ``request`` (just locked, not yet changed) contributes; returns it."""
    request.__dict__[_SNAPSHOT] = _state(request)
    return request


def record(*, request, event):
    """Bring the summary up to date after ``event`` (inside the step's transaction).

    Applies what the request contributes now minus what it contributed at :func:`snapshot`
    (nothing, for a new request), plus one return or reopen for such an event. When the step
    moved the request (a reroute), its earlier returns and reopens move with it.
    """
    before = request.__dict__.get(_SNAPSHOT)
    after = _state(request)
    if before is None:
        # A new request contributes from nothing; any other caller that did not lock the row
        # through services._lock() changed no counted column (only its event is counted).
        before = (after[0], {}) if event.kind == RequestEvent.Kind.SUBMITTED else after
    deltas = defaultdict(Counter)
    for sign, (place, months) in ((1, after), (-1, before)):
        for month, counts in months.items():
            for name, value in counts.items():
                deltas[(*place, month)][name] += sign * value
    counter = EVENT_COUNTERS.get(event.kind)
    if counter:
        deltas[(*after[0], month_of(event.created_at))][counter] += 1
    if before[0] != after[0]:
        earlier = (
            RequestEvent.objects.filter(request_id=request.pk, kind__in=tuple(EVENT_COUNTERS))
            .exclude(pk=event.pk)
            .values_list("kind", "created_at")
        )
        for kind, created_at in earlier:
            month = month_of(created_at)
            deltas[(*before[0], month)][EVENT_COUNTERS[kind]] -= 1
            deltas[(*after[0], month)][EVENT_COUNTERS[kind]] += 1
    request.__dict__[_SNAPSHOT] = after
    _apply(request, deltas)


def _category_groups(request, category_ids):
    """Leaf category id -> its group (top-level) id; cached on the request object."""
    cached = request.__dict__.setdefault(_GROUP, {})
    missing = [pk for pk in category_ids if pk not in cached]
    if missing:
        for pk, parent_id in Category.objects.filter(pk__in=missing).values_list("pk", "parent_id"):
            cached[pk] = parent_id or pk
    return cached


def _apply(request, deltas):
    deltas = {key: {n: v for n, v in counts.items() if v} for key, counts in deltas.items()}
    deltas = {key: counts for key, counts in deltas.items() if counts}
    if not deltas:
        return
    groups = _category_groups(request, {key[3] for key in deltas})
    fine, by_street, by_community, by_compound = {}, {}, {}, {}
    for (compound, community, street, category, month), counts in deltas.items():
        group = groups[category]
        for table, key, attrs in (
            (fine, (compound, group, month), (community, street)),
            (by_street, (street, group, month), ()),
            (by_community, (community, group, month), (street,)),
            (by_compound, (compound, month), (community, street)),
        ):
            entry = table.setdefault(key, (attrs, Counter()))
            entry[1].update(counts)
    _upsert(RequestSummary, ("compound", "category", "month"), ("community", "street"), fine)
    _upsert(RequestStreetSummary, ("street", "category", "month"), (), by_street)
    _upsert(RequestCommunitySummary, ("community", "category", "month"), ("street",), by_community)
    _upsert(RequestCompoundSummary, ("compound", "month"), ("community", "street"), by_compound)


def _column(model, name):
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _upsert(model, key_fields, attr_fields, rows):
    """Add each row's counters to the row with its key (inserting it when missing): one statement.

    Rows go in key order, so two steps updating the same rows lock them in the same order.
    """
    rows = {key: value for key, value in rows.items() if any(value[1].values())}
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    keys = [_column(model, name) for name in key_fields]
    columns = keys + [_column(model, name) for name in attr_fields] + [qn(name) for name in COUNTERS]
    values, params = [], []
    for key in sorted(rows):
        attrs, counts = rows[key]
        row = [*key, *attrs, *(counts.get(name, 0) for name in COUNTERS)]
        values.append("(" + ", ".join(["%s"] * len(row)) + ")")
        params.extend(connection.ops.adapt_datefield_value(v) if isinstance(v, date) else v for v in row)
    updates = ", ".join(f"{qn(name)} = {table}.{qn(name)} + EXCLUDED.{qn(name)}" for name in COUNTERS)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(values)} "  # noqa: S608 - identifiers are ours
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- rebuild ------------------------------------------------------------------------------------
def _month_sql(column):
    """SQL for the first day of ``column``'s local month, as a date, and its parameters."""
    tzname = settings.TIME_ZONE
    if connection.vendor == "postgresql":
        return f"CAST(DATE_TRUNC('month', {column} AT TIME ZONE %s) AS DATE)", [tzname]
    sql, params = connection.ops.date_trunc_sql("month", column, (), tzname=tzname)
    return sql, list(params)


def _parts(since):
    """The UNION ALL of one SELECT per counted timestamp: (compound, community, street,
    category group, month, counters…) per request (or event), and its parameters."""
    qn = connection.ops.quote_name
    requests = qn(ServiceRequest._meta.db_table)
    categories = qn(Category._meta.db_table)
    events = qn(RequestEvent._meta.db_table)
    from_requests = f"{requests} r INNER JOIN {categories} c ON c.id = r.category_id"
    from_events = (
        f"{events} e INNER JOIN {requests} r ON r.id = e.request_id INNER JOIN {categories} c ON c.id = r.category_id"
    )
    when = "CASE WHEN {} THEN 1 ELSE 0 END".format
    Solved = ServiceRequest.Solved
    specs = (
        # (timestamp, FROM, extra WHERE, its params, {counter: (sql, params)})
        (
            "r.created_at",
            from_requests,
            "",
            [],
            {
                "received": ("1", []),
                "accepted": (when("r.accepted_at IS NOT NULL"), []),
                "accepted_on_time": (when("r.accepted_at <= r.accept_due_at"), []),
            },
        ),
        (
            "r.resolved_at",
            from_requests,
            "r.resolved_at IS NOT NULL",
            [],
            {"resolved": ("1", []), "resolved_on_time": (when("r.resolved_at <= r.resolve_due_at"), [])},
        ),
        (
            "r.rated_at",
            from_requests,
            "r.rated_at IS NOT NULL",
            [],
            {
                "rated": ("1", []),
                "solved": (when("r.solved = %s"), [Solved.SOLVED.value]),
                "partly": (when("r.solved = %s"), [Solved.PARTLY.value]),
                "satisfied": (when("r.satisfaction IN (%s, %s)"), [s.value for s in SATISFIED]),
            },
        ),
        ("r.closed_at", from_requests, "r.closed_at IS NOT NULL", [], {"closed": ("1", [])}),
        (
            "e.created_at",
            from_events,
            "e.kind IN (%s, %s)",
            [kind.value for kind in EVENT_COUNTERS],
            {
                "returned": (when("e.kind = %s"), [RequestEvent.Kind.RETURNED.value]),
                "reopened": (when("e.kind = %s"), [RequestEvent.Kind.REOPENED.value]),
            },
        ),
    )
    selects, params = [], []
    for stamp, source, where, where_params, counters in specs:
        month_sql, month_params = _month_sql(stamp)
        columns = [
            "r.compound_id AS compound_id",
            "r.community_id AS community_id",
            "r.street_id AS street_id",
            "COALESCE(c.parent_id, c.id) AS category_id",
            f"{month_sql} AS {qn('month')}",
        ]
        column_params = list(month_params)
        for name in COUNTERS:
            sql, sql_params = counters.get(name, ("0", []))
            columns.append(f"{sql} AS {qn(name)}")
            column_params.extend(sql_params)
        conditions, condition_params = ([where], list(where_params)) if where else ([], [])
        if since is not None:
            conditions.append(f"{stamp} >= %s")
            condition_params.append(connection.ops.adapt_datetimefield_value(month_start(since)))
        where_sql = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        selects.append(f"SELECT {', '.join(columns)} FROM {source}{where_sql}")  # noqa: S608 - identifiers are ours
        params.extend(column_params + condition_params)
    return " UNION ALL ".join(selects), params


def _lock_tables():
    """PostgreSQL: transitions wait for the rebuild instead of racing it (SQLite serialises writes)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in ROLLUPS)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def summary_rebuild(*, since=None):
    """Recompute the summary from the requests and their events; returns the number of rows.

    ``since`` (a date or datetime) rebuilds only the months from the one containing it
    onwards; without it everything is rebuilt. Set-based: per table one ``DELETE`` and one
    ``INSERT … SELECT … GROUP BY``, in one transaction, on PostgreSQL and SQLite.
    """
    qn = connection.ops.quote_name
    first = None
    if since is not None:
        first = month_of(since) if isinstance(since, datetime) else since.replace(day=1)
    counters = ", ".join(qn(name) for name in COUNTERS)
    sums = ", ".join(f"SUM({qn(name)})" for name in COUNTERS)
    month = qn("month")
    month_filter, month_params = ("", [])
    if first is not None:
        month_filter, month_params = f" WHERE {month} >= %s", [connection.ops.adapt_datefield_value(first)]
    fine = qn(RequestSummary._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_tables()
        for model in ROLLUPS:
            cursor.execute(f"DELETE FROM {qn(model._meta.db_table)}{month_filter}", month_params)  # noqa: S608
        parts, params = _parts(first)
        cursor.execute(
            f"INSERT INTO {fine} (compound_id, community_id, street_id, category_id, {month}, {counters}) "  # noqa: S608
            f"SELECT compound_id, MAX(community_id), MAX(street_id), category_id, {month}, {sums} "
            f"FROM ({parts}) parts GROUP BY compound_id, category_id, {month}",
            params,
        )
        rows = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {qn(RequestStreetSummary._meta.db_table)} "  # noqa: S608
            f"(street_id, category_id, {month}, {counters}) "
            f"SELECT street_id, category_id, {month}, {sums} FROM {fine}{month_filter} "
            f"GROUP BY street_id, category_id, {month}",
            month_params,
        )
        cursor.execute(
            f"INSERT INTO {qn(RequestCommunitySummary._meta.db_table)} "  # noqa: S608
            f"(community_id, street_id, category_id, {month}, {counters}) "
            f"SELECT community_id, MAX(street_id), category_id, {month}, {sums} FROM {fine}{month_filter} "
            f"GROUP BY community_id, category_id, {month}",
            month_params,
        )
        cursor.execute(
            f"INSERT INTO {qn(RequestCompoundSummary._meta.db_table)} "  # noqa: S608
            f"(compound_id, community_id, street_id, {month}, {counters}) "
            f"SELECT compound_id, MAX(community_id), MAX(street_id), {month}, {sums} FROM {fine}{month_filter} "
            f"GROUP BY compound_id, {month}",
            month_params,
        )
        if connection.vendor == "postgresql":
            # Fresh statistics, so the dashboards' month-range reads are planned for the new rows.
            for model in ROLLUPS:
                cursor.execute(f"ANALYZE {qn(model._meta.db_table)}")
    return rows
