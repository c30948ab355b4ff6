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

What is counted
---------------
The counters, the timestamp each is counted by and the rates are declared once, in
:mod:`service_requests.kpis` (``KPIS``, ``RATES``). A request counts where it is *now* (its
compound, community and street): a request rerouted to another compound takes its counts,
returns included, with it. Overdue requests are not in the summary: they are a live count of
open requests past their current deadline (``service_requests.filters.overdue_q``).

Keeping it current
------------------
Every write to a request goes through ``services.py``: ``_lock()`` passes the locked row to
:func:`snapshot` (what it contributes before the step) and ``_event()`` calls :func:`record`,
which adds the difference between what the row contributes now and the snapshot, plus the
event's own count (a return or a reopen), with one ``INSERT … ON CONFLICT DO UPDATE`` per
table, sent as one statement on PostgreSQL (``WITH`` clauses), inside the step's transaction. A step that changes no counter writes nothing. Anything
that changes requests *without* the services (a bulk load, an admin edit, the demo's
backdating) must be followed by :func:`summary_rebuild`; the worker also runs it over the
whole table every night at 03:30 (``tasks.rebuild_summaries``) as a safety net.

:func:`summary_rebuild` recomputes the rows from ``ServiceRequest`` and ``RequestEvent`` with
one set-based ``INSERT … SELECT … GROUP BY`` per table (PostgreSQL and SQLite), and gives
exactly the rows the incremental updates keep (rows that fell to zero aside). Both sides read
the same declarations: :func:`contribution` evaluates each KPI's condition on the row in Python
(``Kpi.holds``), :func:`_parts` has the ORM compile the same ``Q`` into the rebuild's SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any, cast

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import DateField, F, Func, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import kpis, reference
from .kpis import RATES, SATISFIED, rates, ratio
from .models import (
    Category,
    RequestCommunitySummary,
    RequestCompoundSummary,
    RequestEvent,
    RequestStreetSummary,
    RequestSummary,
    ServiceRequest,
)

__all__ = ["COUNTERS", "RATES", "SATISFIED", "contribution", "rates", "ratio", "record", "snapshot", "summary_rebuild"]

ROLLUPS = (RequestSummary, RequestStreetSummary, RequestCommunitySummary, RequestCompoundSummary)

#: The summary's counter columns, one per declared KPI (``kpis.KPIS``), in that order.
COUNTERS: tuple[str, ...] = kpis.counter_names()

Months = dict[date, Counter[str]]
Place = tuple[int, int, int, int]  # compound, community, street, category
# A roll-up's rows to add: key -> (its other columns, the counters to add).
Rollup = dict[tuple[Any, ...], tuple[tuple[Any, ...], Counter[str]]]

_SNAPSHOT = "_summary_snapshot"
_GROUP = "_summary_category_group"


# --- months -------------------------------------------------------------------------------------
def month_of(moment: datetime) -> date:
    """The first day of the local calendar month of an aware datetime."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def month_start(month: date | datetime) -> datetime:
    """The aware local midnight at which ``month`` (any day in it) begins."""
    first = month.replace(day=1) if isinstance(month, date) else month_of(month)
    return timezone.make_aware(datetime.combine(first, time.min), timezone.get_default_timezone())


# --- what one request contributes ---------------------------------------------------------------
def contribution(request: ServiceRequest) -> Months:
    """``{month: Counter}``: the counters ``request`` (as it stands) adds, by month.

    Each request KPI of ``kpis.KPIS`` whose timestamp is set and whose condition holds adds one
    in its timestamp's month (``Kpi.holds``: the same ``Q`` that :func:`summary_rebuild`'s SQL is
    compiled from). The events (returns, reopens) are counted separately by :func:`record`.
    """
    out: Months = defaultdict(Counter)
    months: dict[str, date] = {}
    for kpi in kpis.kpis("request"):
        moment = getattr(request, kpi.stamp)
        if moment is None or not kpi.holds(request):
            continue
        if kpi.stamp not in months:
            months[kpi.stamp] = month_of(moment)
        out[months[kpi.stamp]][kpi.name] += 1
    return out


def event_contribution(event: RequestEvent) -> Months:
    """``{month: Counter}``: what one event counts by itself (a return, a reopen: ``kpis.KPIS``)."""
    out: Months = defaultdict(Counter)
    for kpi in kpis.kpis("event"):
        if kpi.holds(event):
            out[month_of(getattr(event, kpi.stamp))][kpi.name] += 1
    return out


def _state(request: ServiceRequest) -> tuple[Place, Months]:
    place = (request.compound_id, request.community_id, request.street_id, request.category_id)
    return place, contribution(request)


def snapshot(request: ServiceRequest) -> ServiceRequest:
    """Remember what ``request`` (just locked, not yet changed) contributes; returns it."""
    request.__dict__[_SNAPSHOT] = _state(request)
    return request


def record(*, request: ServiceRequest, event: RequestEvent) -> None:
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
    deltas: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)

    def add(place: Place, months: Months, sign: int) -> None:
        for month, counts in months.items():
            for name, value in counts.items():
                deltas[(*place, month)][name] += sign * value

    add(after[0], after[1], 1)
    add(before[0], before[1], -1)
    add(after[0], event_contribution(event), 1)
    if before[0] != after[0]:
        counted = kpis.any_of(kpis.kpis("event"))
        earlier = RequestEvent.objects.filter(request_id=request.pk).exclude(pk=event.pk)
        if counted is not None:
            earlier = earlier.filter(counted)
        for row in earlier:
            moved = event_contribution(row)
            add(before[0], moved, -1)
            add(after[0], moved, 1)
    request.__dict__[_SNAPSHOT] = after
    _apply(request, deltas)


def _category_groups(request: ServiceRequest, category_ids: Iterable[int]) -> dict[int, int]:
    """Leaf category id -> its group (top-level) id; cached on the request object."""
    cached: dict[int, int] = request.__dict__.setdefault(_GROUP, {})
    known = reference.categories()  # this process's copy: no query in the steady state
    for pk in category_ids:
        if pk not in cached and pk in known:
            cached[pk] = known[pk].parent_id or pk
    missing = [pk for pk in category_ids if pk not in cached]
    if missing:
        for pk, parent_id in Category.objects.filter(pk__in=missing).values_list("pk", "parent_id"):
            cached[pk] = parent_id or pk
    return cached


def _apply(request: ServiceRequest, deltas: Mapping[tuple[Any, ...], Mapping[str, int]]) -> None:
    deltas = {key: {n: v for n, v in counts.items() if v} for key, counts in deltas.items()}
    deltas = {key: counts for key, counts in deltas.items() if counts}
    if not deltas:
        return
    groups = _category_groups(request, {key[3] for key in deltas})
    fine: Rollup = {}
    by_street: Rollup = {}
    by_community: Rollup = {}
    by_compound: Rollup = {}
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
    upserts = [
        _upsert(RequestSummary, ("compound", "category", "month"), ("community", "street"), fine),
        _upsert(RequestStreetSummary, ("street", "category", "month"), (), by_street),
        _upsert(RequestCommunitySummary, ("community", "category", "month"), ("street",), by_community),
        _upsert(RequestCompoundSummary, ("compound", "month"), ("community", "street"), by_compound),
    ]
    statements = [statement for statement in upserts if statement is not None]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            # One round trip: the upserts as data-modifying WITH clauses of one statement.
            *first, last = statements
            sql = "WITH " + ", ".join(f"u{i} AS ({text})" for i, (text, _params) in enumerate(first)) + " " + last[0]
            cursor.execute(sql, [param for _text, params in statements for param in params])
        else:
            for text, params in statements:
                cursor.execute(text, params)


def _column(model: type[models.Model], name: str) -> str:
    field = cast(models.Field, model._meta.get_field(name))
    return connection.ops.quote_name(field.column or name)


def _upsert(
    model: type[models.Model], key_fields: tuple[str, ...], attr_fields: tuple[str, ...], rows: Rollup
) -> tuple[str, list[Any]] | None:
    """The statement that adds each row's counters to the row with its key (inserting it when
    missing), and its parameters; ``None`` when there is nothing to add.

    Rows go in key order, so two steps updating the same rows lock them in the same order.
    """
    rows = {key: value for key, value in rows.items() if any(value[1].values())}
    if not rows:
        return None
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    keys = [_column(model, name) for name in key_fields]
    columns = keys + [_column(model, name) for name in attr_fields] + [qn(name) for name in COUNTERS]
    values: list[str] = []
    params: list[Any] = []
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
    return sql, params


# --- rebuild ------------------------------------------------------------------------------------
class LocalMonth(Func):
    """The first day of a timestamp's local (``TIME_ZONE``) calendar month, as a date."""

    arity = 1
    output_field = DateField()

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        tzname = settings.TIME_ZONE
        if connection.vendor == "postgresql":
            return f"CAST(DATE_TRUNC('month', {column} AT TIME ZONE %s) AS DATE)", [*params, tzname]
        sql, trunc_params = connection.ops.date_trunc_sql("month", column, tuple(params), tzname=tzname)
        return sql, list(trunc_params)


# The rebuild's columns: where a row counts (its request's place now), its category group and
# month, then one 0/1 column per counter.
_PLACE = ("p_compound", "p_community", "p_street", "p_category", "p_month")


def _n(name: str) -> str:
    return f"n_{name}"


def _part(source: kpis.Source, stamp: str, counted: list[kpis.Kpi], since: date | None) -> QuerySet:
    """One SELECT of the rebuild: per row of ``source`` with ``stamp`` set (from ``since``'s
    month on), its place, category group, month and a 0/1 per counter of ``counted``."""
    model: type[models.Model] = ServiceRequest if source == "request" else RequestEvent
    to_request = "" if source == "request" else "request__"
    rows = model._default_manager.filter(**{f"{stamp}__isnull": False})
    condition = kpis.any_of(counted)
    if condition is not None:
        rows = rows.filter(condition)
    if since is not None:
        rows = rows.filter(**{f"{stamp}__gte": month_start(since)})
    cases = {kpi.name: kpi.case() for kpi in counted}
    columns = {
        "p_compound": F(f"{to_request}compound_id"),
        "p_community": F(f"{to_request}community_id"),
        "p_street": F(f"{to_request}street_id"),
        "p_category": Coalesce(F(f"{to_request}category__parent_id"), F(f"{to_request}category_id")),
        "p_month": LocalMonth(stamp),
        # Every counter in COUNTERS order (0 where this timestamp counts nothing), so the
        # SELECTs of the UNION line up.
        **{_n(name): cases.get(name, models.Value(0)) for name in COUNTERS},
    }
    return rows.order_by().annotate(**columns).values(*columns)


def _parts(since: date | None) -> tuple[str, tuple[Any, ...]]:
    """The UNION ALL of one SELECT per counted timestamp (``kpis.by_stamp``): (place, category
    group, month, counters…) per request (or event), compiled by the ORM from the KPIs'
    conditions, and its parameters. Columns: :data:`_PLACE`, then ``n_<counter>``."""
    selects = [
        _part(source, stamp, counted, since)
        for source in ("request", "event")
        for stamp, counted in kpis.by_stamp(source).items()
    ]
    first, *rest = selects
    return first.union(*rest, all=True).query.sql_with_params()


def _lock_tables() -> None:
    """PostgreSQL: transitions wait for the rebuild instead of racing it (SQLite serialises writes)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in ROLLUPS)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def summary_rebuild(*, since: date | datetime | None = None) -> int:
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
        compound, community, street, category, in_month = (qn(name) for name in _PLACE)
        part_sums = ", ".join(f"SUM({qn(_n(name))})" for name in COUNTERS)
        cursor.execute(
            f"INSERT INTO {fine} (compound_id, community_id, street_id, category_id, {month}, {counters}) "  # noqa: S608
            f"SELECT {compound}, MAX({community}), MAX({street}), {category}, {in_month}, {part_sums} "
            f"FROM ({parts}) parts GROUP BY {compound}, {category}, {in_month}",
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
