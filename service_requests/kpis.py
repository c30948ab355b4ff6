"""The request KPIs (接诉即办), each declared once: the counter, its timestamp and its condition.

This is the file that says what every number on a dashboard means. :data:`KPIS` lists one
:class:`Kpi` per counter of the request summary; everything that counts requests derives from it:

* the Python contribution of one request as it stands (:meth:`Kpi.holds`, read by
  ``summary.contribution`` and ``summary.record`` on every service step);
* the SQL rebuild of the summary tables (:meth:`Kpi.case` and :meth:`Kpi.condition`, compiled by
  the ORM in ``summary._parts``);
* the list behind each dashboard number (:meth:`Kpi.rows`, read by ``dashboard.lists``).

A counter describes a request *as it stands now* and is counted in the local (Asia/Shanghai)
month of its timestamp (a ``ServiceRequest`` column, or the event's time for returns and
reopens). A row counts only when that timestamp is set and the condition holds. A condition is
a ``Q`` over the row's own columns (``exact``, ``in``, ``isnull``, ``lt``/``lte``/``gt``/``gte``,
``F()`` naming another column), so the same object filters in SQL and is evaluated in Python.

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
``urged``            event time        once per 催办 by a resident (``RequestEvent`` of kind ``urged``)
``supervised``       event time        once per 督办 by an official (``RequestEvent`` of kind ``supervised``):
                                       督办件数
``supervised_        ``resolved_at``   it was supervised (``supervise_due_at`` set) and is resolved
resolved``
``supervised_        ``resolved_at``   ``resolved_at <= supervise_due_at`` (by the date the last 督办 set)
on_time``
==================== ================= ====================================================================

The rates (:data:`RATES`, computed by :func:`rates` over a range of months)
---------------------------------------------------------------------------
* 响应率 (response rate) = ``accepted_on_time / received``: of the requests received in the
  range, the share accepted within the category's accept limit. Both counted in the month
  received, so the rate never exceeds 100%.
* 解决率 (resolution rate) = ``solved / rated``: of the requests rated in the range, the share
  rated 解决. 部分解决 is *not* counted as solved (it is shown beside it); a request rated 未解决
  is reopened and counts again with its next rating.
* 按期办结率 (on-time rate) = ``resolved_on_time / resolved``: of the requests resolved in the
  range (and not since reopened), the share resolved by their deadline.
* 满意率 (satisfaction rate) = ``satisfied / rated``: 满意 + 基本满意 over all ratings.
* 督办后按期办结率 (on time after supervision) = ``supervised_on_time / supervised_resolved``: of
  the supervised requests resolved in the range, the share resolved by the date the (last) 督办
  set.
* A rate with nothing to divide by is ``None`` (shown as "—"), never 0% or 100%.

Overdue requests are not a KPI of the summary: they are a live count of open requests past their
current deadline (``service_requests.filters.overdue_q``).

Adding a KPI: add a :class:`Kpi` here and an ``IntegerField`` of the same name to
``models.RequestCounters`` (a migration), then rebuild the summary (``summary.summary_rebuild``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from typing import Any, Literal, cast

from django.db import models
from django.db.models import Case, F, Q, Value, When

from .models import RequestEvent, ServiceRequest

Solved = ServiceRequest.Solved
Satisfaction = ServiceRequest.Satisfaction
EventKind = RequestEvent.Kind

#: The ratings that count as satisfied (满意 and 基本满意).
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASIC)

Source = Literal["request", "event"]


# --- a condition, evaluated in Python exactly as SQL would ---------------------------------------
def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "isnull":
        return (actual is None) == bool(expected)
    if op == "exact" and expected is None:
        return actual is None
    if actual is None:
        return False  # SQL: a comparison with NULL is never true
    if op == "exact":
        return actual == expected
    if op == "in":
        return actual in expected
    if expected is None:
        return False
    return bool(_ORDER[op](actual, expected))


_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
LOOKUPS = frozenset({"exact", "in", "isnull", *_ORDER})


def _split(lookup: str) -> tuple[str, str]:
    name, _sep, op = lookup.rpartition("__")
    if not name or op not in LOOKUPS:
        name, op = lookup, "exact"
    if "__" in name:
        raise ValueError(f"a KPI condition reads the row's own columns only, not {lookup!r}")
    return name, op


def matches(condition: Q, row: models.Model) -> bool:
    """Whether ``row`` (an instance) satisfies ``condition`` as the database would.

    Supports the lookups of :data:`LOOKUPS` on the row's own columns, ``F("column")`` values,
    ``&``, ``|`` and ``~``. A comparison with ``NULL`` is false; under ``~`` the row is kept,
    as Django's negation of a nullable column does (``NOT (… AND col IS NOT NULL)``).
    """
    results = []
    for child in cast(list[Any], condition.children):
        if isinstance(child, Q):
            results.append(matches(child, row))
            continue
        lookup, expected = child
        name, op = _split(lookup)
        if isinstance(expected, F):
            expected = getattr(row, cast(Any, expected).name)
        results.append(_compare(op, getattr(row, name), expected))
    result = all(results) if condition.connector == Q.AND else any(results)
    return not result if condition.negated else result


# --- the declaration -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kpi:
    """One counter of the request summary: counted in the month of ``stamp`` when ``condition`` holds."""

    name: str  # the summary column (``models.RequestCounters``)
    stamp: str  # the timestamp column of the source row whose local month the count goes to
    condition: Q = field(default_factory=Q)  # over the source row's own columns; ``Q()``: always
    source: Source = "request"  # "request": a ServiceRequest as it stands; "event": one RequestEvent

    def __post_init__(self) -> None:
        for lookup in _lookups(self.condition):
            _split(lookup)  # refuse a condition the Python side could not evaluate

    @property
    def model(self) -> type[models.Model]:
        return ServiceRequest if self.source == "request" else RequestEvent

    @property
    def always(self) -> bool:
        """Every row with the timestamp set counts (an empty condition)."""
        return not self.condition

    def holds(self, row: models.Model) -> bool:
        """Whether ``row`` (a request or event instance, as it stands) counts for this KPI."""
        return getattr(row, self.stamp) is not None and (self.always or matches(self.condition, row))

    def case(self) -> Case | Value:
        """SQL: 1 when a row (with the timestamp set) counts, else 0."""
        if self.always:
            return Value(1)
        return Case(When(self.condition, then=Value(1)), default=Value(0))

    def rows(self, start: datetime, end: datetime) -> Q:
        """The rows of :attr:`model` counted for this KPI with the timestamp in ``[start, end)``."""
        return Q(**{f"{self.stamp}__gte": start, f"{self.stamp}__lt": end}) & self.condition


def _lookups(condition: Q) -> Iterable[str]:
    for child in cast(list[Any], condition.children):
        if isinstance(child, Q):
            yield from _lookups(child)
        else:
            yield child[0]


#: Every KPI, in the order of the summary's columns.
KPIS: tuple[Kpi, ...] = (
    Kpi("received", "created_at"),
    Kpi("accepted", "created_at", Q(accepted_at__isnull=False)),
    Kpi("accepted_on_time", "created_at", Q(accepted_at__lte=F("accept_due_at"))),
    Kpi("resolved", "resolved_at"),
    Kpi("resolved_on_time", "resolved_at", Q(resolved_at__lte=F("resolve_due_at"))),
    Kpi("rated", "rated_at"),
    Kpi("solved", "rated_at", Q(solved=Solved.SOLVED)),
    Kpi("partly", "rated_at", Q(solved=Solved.PARTLY)),
    Kpi("satisfied", "rated_at", Q(satisfaction__in=SATISFIED)),
    Kpi("closed", "closed_at"),
    Kpi("returned", "created_at", Q(kind=EventKind.RETURNED), source="event"),
    Kpi("reopened", "created_at", Q(kind=EventKind.REOPENED), source="event"),
    Kpi("urged", "created_at", Q(kind=EventKind.URGED), source="event"),
    Kpi("supervised", "created_at", Q(kind=EventKind.SUPERVISED), source="event"),
    Kpi("supervised_resolved", "resolved_at", Q(supervise_due_at__isnull=False)),
    Kpi("supervised_on_time", "resolved_at", Q(resolved_at__lte=F("supervise_due_at"))),
)

#: name: (numerator, denominator) — see the module docstring.
RATES: dict[str, tuple[str, str]] = {
    "response_rate": ("accepted_on_time", "received"),
    "resolution_rate": ("solved", "rated"),
    "on_time_rate": ("resolved_on_time", "resolved"),
    "satisfaction_rate": ("satisfied", "rated"),
    "supervised_on_time_rate": ("supervised_on_time", "supervised_resolved"),
}


# --- reading the declaration (always at call time, so there is one source) ---------------------------
def kpis(source: Source | None = None) -> tuple[Kpi, ...]:
    """The declared KPIs, optionally of one source."""
    return tuple(k for k in KPIS if source is None or k.source == source)


def kpi(name: str) -> Kpi:
    """The KPI called ``name`` (``KeyError`` for none)."""
    for item in KPIS:
        if item.name == name:
            return item
    raise KeyError(name)


def counter_names() -> tuple[str, ...]:
    return tuple(k.name for k in KPIS)


def by_stamp(source: Source) -> dict[str, list[Kpi]]:
    """The KPIs of ``source`` grouped by their timestamp, in declaration order."""
    groups: dict[str, list[Kpi]] = {}
    for item in kpis(source):
        groups.setdefault(item.stamp, []).append(item)
    return groups


def any_of(items: Iterable[Kpi]) -> Q | None:
    """The rows counted by at least one of ``items`` (``None``: every row with the timestamp)."""
    conditions = [item.condition for item in items]
    if not conditions or any(not c for c in conditions):
        return None
    return reduce(operator.or_, conditions)


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def rates(counts: Mapping[str, Any]) -> dict[str, float | None]:
    """The rates of a mapping of counters (see the module docstring)."""
    return {name: ratio(counts.get(num, 0), counts.get(den, 0)) for name, (num, den) in RATES.items()}
