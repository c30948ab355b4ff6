"""Celery tasks for notifications: thin wrappers over ``services`` (beat runs them; see settings)."""

import time

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from baohe.jobs import enqueue_on_commit

from . import services

# A database that is restarting or briefly unreachable is worth another try; channel errors are
# not task errors: they are recorded on each delivery, which backs off on its own.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="notifications.tasks.dispatch_pending",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    ignore_result=True,
)
def dispatch_pending(batch_size=None):
    """Send due deliveries in bounded batches for up to ``NOTIFICATIONS_DISPATCH_SECONDS``; if
    more are due after that, hand over to a fresh task so other tasks get their turn."""
    batch_size = batch_size or settings.NOTIFICATIONS_DISPATCH_BATCH
    stop_at = time.monotonic() + settings.NOTIFICATIONS_DISPATCH_SECONDS
    sent = 0
    while True:
        result = services.deliveries_dispatch(batch_size=batch_size)
        sent += result.sent
        if result.due < batch_size:
            return sent
        if time.monotonic() >= stop_at:
            enqueue_on_commit(dispatch_pending, batch_size=batch_size)
            return sent


@shared_task(
    name="notifications.tasks.send_daily_digest",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=30,
    max_retries=5,
    ignore_result=True,
)
def send_daily_digest():
    """The 08:00 digest email of the last day's unread notifications (claimed per user per day)."""
    return services.digests_send()
