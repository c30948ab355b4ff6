"""Celery tasks for requests: thin wrappers over ``reminders`` (beat runs them; see settings)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import reminders

# A database that is restarting or briefly unreachable is worth another try; anything else is a bug.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="service_requests.tasks.scan_deadlines",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    ignore_result=True,
)
def scan_deadlines():
    """Warn, mark overdue, escalate, ask for ratings and close unrated requests (every minute)."""
    return reminders.scan_deadlines()
