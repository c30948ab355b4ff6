"""When a resident may urge (催办) their request: the rules of time behind ``workflow.URGE``.

An open request may be urged when it is past the deadline in force (``accept_due_at`` while it
waits to be accepted, ``resolve_due_at`` after) or when :data:`URGE_AFTER_WORKING_DAYS` working
days have passed without progress; and at most once per working day (a second urge waits until
a working day has begun since the last one). Working days are the requests' own calendar
(``calendar.working_days_between``: weekdays, holidays and 调休 make-up days). Progress is the
submission or any public step the community took (:data:`PROGRESS_KINDS`); the resident's own
urges and additions are not progress.
"""

from datetime import datetime

from django.db.models import Max

from .calendar import working_days_between
from .models import RequestEvent, ServiceRequest

URGE_AFTER_WORKING_DAYS = 3
Kind = RequestEvent.Kind
PROGRESS_KINDS = (
    Kind.ACCEPTED,
    Kind.ASSIGNED,
    Kind.REPLIED,
    Kind.EXTENSION_APPROVED,
    Kind.REROUTED,
    Kind.RESOLVED,
    Kind.REOPENED,
)


def deadline_in_force(request: ServiceRequest) -> datetime:
    """The deadline that matters now: accepting while submitted, resolving after."""
    if request.status == ServiceRequest.Status.SUBMITTED:
        return request.accept_due_at
    return request.resolve_due_at


def last_progress(request: ServiceRequest) -> datetime:
    """When the request was submitted, or last moved by the community (one query)."""
    latest = request.events.filter(kind__in=PROGRESS_KINDS, public=True).aggregate(at=Max("created_at"))["at"]
    return max(request.created_at, latest) if latest is not None else request.created_at


def urge_due(request: ServiceRequest, now: datetime) -> bool:
    """Past the deadline in force, or :data:`URGE_AFTER_WORKING_DAYS` working days without progress."""
    if now > deadline_in_force(request):
        return True
    return working_days_between(last_progress(request), now) >= URGE_AFTER_WORKING_DAYS


def urge_not_repeated(request: ServiceRequest, now: datetime) -> bool:
    """Not urged yet, or a working day has begun since the last urge."""
    return request.urged_at is None or working_days_between(request.urged_at, now) >= 1
