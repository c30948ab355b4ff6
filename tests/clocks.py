"""Moving a request's reminder times into the past, for tests of the deadline scan.

The scan reads ``RequestClock`` rows, which the services keep (``clocks_sync``); a test that
pretends time has passed moves the times with queryset ``update()`` s on both the request and
its running clock, as if the clock had been scheduled that way.
"""

from datetime import timedelta

from django.utils import timezone

from service_requests.models import RequestClock, ServiceRequest
from service_requests.models.clock import RATE_REMINDER_AFTER

# request column -> (clock, RequestClock column) it is copied to
CLOCK_STEP = {
    "accept_warn_at": ("accept", "warn_at"),
    "accept_due_at": ("accept", "due_at"),
    "accept_escalate_at": ("accept", "escalate_at"),
    "resolve_warn_at": ("resolve", "warn_at"),
    "resolve_due_at": ("resolve", "due_at"),
    "resolve_escalate_at": ("resolve", "escalate_at"),
    "resolved_at": ("rate", "warn_at"),
}


def make_due(request, *columns, ago=timedelta(minutes=1)):
    """Move the given reminder columns of ``request`` into the past, on the request and on its
    running clock (what the scan reads), as if the time had passed."""
    past = timezone.now() - ago
    ServiceRequest.objects.filter(pk=request.pk).update(**dict.fromkeys(columns, past))
    for column in columns:
        name, step = CLOCK_STEP[column]
        value = past + RATE_REMINDER_AFTER if column == "resolved_at" else past
        RequestClock.objects.filter(request=request, clock=name, running=True).update(**{step: value})
    for row in RequestClock.objects.filter(request=request, running=True):
        RequestClock.objects.filter(pk=row.pk).update(next_due_at=row.pending())
