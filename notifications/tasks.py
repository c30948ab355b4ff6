"""Celery tasks for notifications: thin wrappers over ``services`` (beat runs them; see settings)."""

import time

from django.conf import settings

from baohe.jobs import enqueue_on_commit, worker_task

from . import services


@worker_task("notifications.tasks.dispatch_pending")
def dispatch_pending(batch_size=None):
    """Send due deliveries in bounded batches for up to ``NOTIFICATIONS_DISPATCH_SECONDS``; if
    more are due after that, hand over to a fresh task so other tasks get their turn. A channel
    error is not a task error: it is recorded on its delivery, which backs off on its own."""
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


@worker_task("notifications.tasks.send_daily_digest", retry_backoff=30, retry_backoff_max=600, max_retries=5)
def send_daily_digest():
    """The 08:00 digest email of the last day's unread notifications (claimed per user per day)."""
    return services.digests_send()
