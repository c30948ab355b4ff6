"""Celery tasks for meetings: thin wrappers over ``reminders`` (beat runs the scan every hour)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import reminders

# A database that is restarting or briefly unreachable is worth another try; anything else is a bug.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="meetings.tasks.scan_meeting_reminders",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    ignore_result=True,
)
def scan_meeting_reminders():
    """Remind organisers of missing minutes (3 and 7 days) and owners of action items falling due."""
    return reminders.scan_meeting_reminders()
