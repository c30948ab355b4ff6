"""The one way to enqueue a Celery task from a write: after the transaction commits.

A bare ``.delay()`` inside a transaction can run before the row exists, or for a write
that is then rolled back. Nothing that must not be lost depends on this: reminders and
deliveries are rows that the periodic scans find again if the broker was down.
"""

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs):
    """Schedule ``task.delay(*args, **kwargs)`` for when the current transaction commits.

    ``task`` is a task or its registered name: a service enqueues its own app's task by name
    (``"notifications.tasks.dispatch_pending"``), so ``services`` need not import ``tasks``,
    which imports ``services``."""
    name = task if isinstance(task, str) else task.name

    def send():
        try:
            found = current_app.tasks[task] if isinstance(task, str) else task
            found.apply_async(args=args, kwargs=kwargs, retry=False)
        except Exception:  # noqa: BLE001 - the broker being down must not break the write
            logger.warning("could not enqueue %s; the periodic scan will pick it up", name, exc_info=True)

    transaction.on_commit(send)
