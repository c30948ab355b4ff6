"""The reminder clock of a request: when each reminder falls due, and the rows the deadline scan reads.

A request has up to three clocks, each running only in its statuses (:data:`CLOCK_STATUSES`):
*accept* while it waits to be accepted, *resolve* while it is being handled, *rate* while the
resolved request waits for the resident's rating. Each clock's reminders fall due at:

| clock          | warning                 | overdue                | escalation                 |
|----------------|-------------------------|------------------------|----------------------------|
| accept/resolve | :data:`WARN_AT` (75 %)  | the deadline itself    | :data:`ESCALATE_AT` (2×)   |
|                | of the time allowed     | (``*_due_at``)         | the time allowed           |
| rate           | :data:`RATE_REMINDER_AFTER` (3 days) after resolving                              |

and a request resolved :data:`RATING_WINDOW` (7 days) ago and still unrated is closed. Who hears
each reminder, what it says, and the scan that sends them: ``service_requests/reminders.py``.
The deadlines themselves (hours to accept, working days to resolve): ``calendar.py``.

The clock is an explicit step of every service that changes it (``services.py``), never a side
effect of ``save()``: :func:`schedule_accept` / :func:`schedule_resolve` set the request's
warning and escalation times when a clock (re)starts (submission, reroute, approved extension,
reopening), and after saving a step that changes the status, a deadline or the assignee the
service calls :func:`clocks_sync`, which makes the :class:`RequestClock` rows match. Loaders
that rewrite requests with ``update()`` (the demo) call :func:`clocks_rebuild`; the COPY-based
generators (``district_scale.py``, ``bench/bench_scan.py``) write the rows themselves from the
same rules (:func:`schedule`, :data:`CLOCK_STATUSES`, :func:`first_pending`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .requests import ServiceRequest

# --- when reminders fall due ---------------------------------------------------------------------
WARN_AT = 0.75  # the warning falls due when 75% of the time allowed has passed
ESCALATE_AT = 2  # the street is told at twice the time allowed
RATE_REMINDER_AFTER = timedelta(days=3)  # the resident is asked to rate 3 days after resolving
RATING_WINDOW = timedelta(days=7)  # the resident may rate (and reopen) for 7 days; then it is closed

# The statuses each clock runs in.
CLOCK_STATUSES: dict[str, tuple[str, ...]] = {
    "accept": ("submitted",),
    "resolve": ("accepted", "in_progress"),
    "rate": ("resolved",),
}


def schedule(start: datetime, due: datetime) -> tuple[datetime, datetime]:
    """``(warn_at, escalate_at)`` of a clock started at ``start`` and due at ``due`` (the same
    arithmetic works on epoch seconds, as the district-scale generator uses it)."""
    span = due - start
    return start + span * WARN_AT, start + span * ESCALATE_AT


def schedule_start(due: datetime, escalate: datetime) -> datetime:
    """When a clock due at ``due`` and escalating at ``escalate`` started (``schedule`` backwards)."""
    return due - (escalate - due) / (ESCALATE_AT - 1)


def schedule_accept(request: ServiceRequest, start: datetime) -> list[str]:
    """Schedule the accept reminders of a clock started at ``start`` and due at ``accept_due_at``
    (a new schedule is a new clock cycle: its reminders are sent again). Returns the changed
    field names."""
    request.accept_warn_at, request.accept_escalate_at = schedule(start, request.accept_due_at)
    return ["accept_warn_at", "accept_escalate_at"]


def schedule_resolve(request: ServiceRequest, start: datetime) -> list[str]:
    """The same for the resolve clock (``resolve_due_at``)."""
    request.resolve_warn_at, request.resolve_escalate_at = schedule(start, request.resolve_due_at)
    return ["resolve_warn_at", "resolve_escalate_at"]


def first_pending(times: Sequence[datetime | None], claims: Sequence[datetime | None]) -> datetime | None:
    """The earliest step time not yet claimed (``next_due_at``), or ``None`` when all are."""
    pending = [at for at, claimed in zip(times, claims, strict=True) if at is not None and claimed is None]
    return min(pending) if pending else None


# --- the rows the scan reads ---------------------------------------------------------------------
class RequestClock(models.Model):
    """A deadline clock of a request while it runs, and the reminders the scan claimed on it.

    The deadline scan (reminders.py) works on this table, not on ``ServiceRequest``: claiming a
    reminder is an UPDATE, and an UPDATE writes a new entry into every index of the row's table
    — about thirty on the request (for its pages), two here. A clock has up to three steps
    (warn at 75% of the time, overdue at the deadline, escalate at twice the time; the rating
    clock has only its one reminder in ``warn_at``) and ``next_due_at``, the earliest step not
    yet claimed: the one partial index holds exactly the running clocks with a reminder still to
    send, so an idle scan is one index probe.

    Rows are written by :func:`clocks_sync` (called by the services), never by hand: a clock
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
        "service_requests.ServiceRequest",
        verbose_name=_("诉求"),
        on_delete=models.CASCADE,
        related_name="clocks",
        db_index=False,
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

    # Each step's time and the column its claim is recorded in, in time order.
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

    def __str__(self) -> str:
        return f"{self.number} {self.clock}#{self.cycle}"

    def pending(self) -> datetime | None:
        """The earliest step not yet claimed (``None`` when all are), for ``next_due_at``."""
        return first_pending(
            [getattr(self, at) for at, _claimed in self.STEPS], [getattr(self, claimed) for _at, claimed in self.STEPS]
        )

    def claimed_any(self) -> bool:
        return any(getattr(self, claimed) for _at, claimed in self.STEPS)


# --- keeping the rows in step with the request ---------------------------------------------------
class Wanted(NamedTuple):
    """What a running clock holds: its step times and who hears its warning (its recipient)."""

    warn_at: datetime | None
    due_at: datetime | None
    escalate_at: datetime | None
    recipient_id: int | None


def clocks_wanted(request: ServiceRequest) -> dict[str, Wanted]:
    """``{clock: Wanted}`` of the clocks that run in the request's status: accept while waiting to
    be accepted, resolve while being handled (both warning the assignee), and the rating reminder
    (one step, :data:`RATE_REMINDER_AFTER` after resolving) while waiting for a rating."""
    wanted = {}
    status = request.status
    if status in CLOCK_STATUSES["accept"] and request.accept_due_at:
        wanted[RequestClock.Clock.ACCEPT.value] = Wanted(
            request.accept_warn_at, request.accept_due_at, request.accept_escalate_at, request.assigned_to_id
        )
    if status in CLOCK_STATUSES["resolve"] and request.resolve_due_at:
        wanted[RequestClock.Clock.RESOLVE.value] = Wanted(
            request.resolve_warn_at, request.resolve_due_at, request.resolve_escalate_at, request.assigned_to_id
        )
    if status in CLOCK_STATUSES["rate"] and request.resolved_at:
        wanted[RequestClock.Clock.RATE.value] = Wanted(
            request.resolved_at + RATE_REMINDER_AFTER, None, None, request.submitted_by_id
        )
    return wanted


def clocks_sync(request: ServiceRequest, *, new: bool = False) -> None:
    """Make ``request``'s clock rows match what should run now (:func:`clocks_wanted`): start the
    clocks that should run, stop the others, and start a new cycle when a schedule changed.

    Every service that changes the status, a deadline, the assignee or the place of a request
    calls this after saving it, inside its transaction (the services lock the request first; a
    scan holding a clock row makes this wait for its batch, never the other way round). ``new``:
    the request was just created and has no rows yet (one query saved)."""
    wanted = clocks_wanted(request)
    latest: dict[str, RequestClock] = {}
    rows = [] if new else RequestClock.objects.filter(request_id=request.pk).order_by("clock", "cycle")
    for row in rows:
        latest[row.clock] = row  # the last cycle of each clock
    copied = {"number": request.number, "street_id": request.street_id, "community_id": request.community_id}
    for name, row in latest.items():
        if name in wanted or not row.running:
            continue
        if row.claimed_any():  # stopped: kept as the record of what was sent
            RequestClock.objects.filter(pk=row.pk).update(running=False, next_due_at=None)
        else:
            RequestClock.objects.filter(pk=row.pk).delete()
    for name, (warn_at, due_at, escalate_at, recipient_id) in wanted.items():
        last = latest.get(name)
        times = {"warn_at": warn_at, "due_at": due_at, "escalate_at": escalate_at}
        if last is not None and all(getattr(last, key) == value for key, value in times.items()):
            # The same schedule: carry on (or resume) with the claims it has.
            values = {**copied, "recipient_id": recipient_id, "running": True, "next_due_at": last.pending()}
            changed = {key: value for key, value in values.items() if getattr(last, key) != value}
            if changed:
                RequestClock.objects.filter(pk=last.pk).update(**changed)
            continue
        cycle = 1
        if last is not None:
            cycle = last.cycle + 1
            if last.running and not last.claimed_any():
                RequestClock.objects.filter(pk=last.pk).delete()
            elif last.running:
                RequestClock.objects.filter(pk=last.pk).update(running=False, next_due_at=None)
        row = RequestClock(request_id=request.pk, clock=name, cycle=cycle, recipient_id=recipient_id, **copied, **times)
        row.next_due_at = row.pending()
        row.save(force_insert=True)


def clocks_copy_request_columns(request_ids: Iterable[int]) -> int:
    """Copy the request columns the clocks carry (number, street, community) onto the clock rows
    of ``request_ids`` in one statement: the bulk variant of :func:`clocks_sync` for loaders that
    change only those columns with ``update()`` (the demo renumbers its requests). Returns the
    rows updated."""
    # ServiceRequest through the foreign key: models/requests.py imports this module (the thresholds).
    request_model = RequestClock._meta.get_field("request").related_model
    request = request_model._default_manager.filter(pk=OuterRef("request_id"))
    return RequestClock.objects.filter(request_id__in=list(request_ids)).update(
        number=Subquery(request.values("number")[:1]),
        street_id=Subquery(request.values("street_id")[:1]),
        community_id=Subquery(request.values("community_id")[:1]),
    )


def clocks_rebuild(requests: Iterable[ServiceRequest]) -> None:
    """Start the clocks of ``requests`` (fresh from the database: pass a queryset) afresh from
    their rows, dropping what was claimed: for loaders that rewrite requests with ``update()``
    (the demo backdates them)."""
    requests = list(requests)
    RequestClock.objects.filter(request_id__in=[request.pk for request in requests]).delete()
    for request in requests:
        clocks_sync(request, new=True)
