"""Background work: the one way to declare a Celery task and to enqueue one from a write.

:func:`worker_task` is ``shared_task`` with the portal's defaults: acknowledged only after it
ran (``acks_late``, and re-queued if the worker process dies), retried with backoff when the
database is briefly unreachable, no result stored. Every task is idempotent, so running it
again after a crash is safe. :func:`enqueue_on_commit` sends one after the transaction commits.

A bare ``.delay()`` inside a transaction can run before the row exists, or for a write
that is then rolled back. Nothing that must not be lost depends on this: reminders and
deliveries are rows that the periodic scans find again if the broker was down.
"""

import logging
from importlib import import_module

from celery import current_app, shared_task
from django.db import InterfaceError, OperationalError, transaction

from .log_context import TASK_HEADER, current_request_id

logger = logging.getLogger(__name__)

# A database that is restarting or briefly unreachable is worth another try; anything else is a bug.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
TASK_DEFAULTS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 60,
    "max_retries": 3,
    "ignore_result": True,
}


def worker_task(name, **options):
    """Declare a task under its full ``name`` with :data:`TASK_DEFAULTS` (``options`` override)."""
    return shared_task(name=name, **{**TASK_DEFAULTS, **options})


def task_named(task):
    """The task object for a task or its registered name. Outside the worker (a web or
    management-command process) Celery imports no task modules by itself, so the module named
    by the task's name (``"<module>.<function>"``) is imported, which registers it."""
    if not isinstance(task, str):
        return task
    if task not in current_app.tasks:
        import_module(task.rpartition(".")[0])
    return current_app.tasks[task]


def enqueue_on_commit(task, *args, **kwargs):
    """Schedule ``task.delay(*args, **kwargs)`` for when the current transaction commits.

    ``task`` is a task or its registered name: a service enqueues its own app's task by name
    (``"notifications.tasks.dispatch_pending"``), so ``services`` need not import ``tasks``,
    which imports ``services``."""
    name = task if isinstance(task, str) else task.name
    # The web request's (or the enqueuing task's) id travels in the message's headers, so the
    # task's log lines carry it (baohe.log_context).
    request_id = current_request_id()
    headers = {TASK_HEADER: request_id} if request_id else None

    def send():
        try:
            task_named(task).apply_async(args=args, kwargs=kwargs, retry=False, headers=headers)
        except Exception:  # noqa: BLE001 - the broker being down must not break the write
            logger.warning("could not enqueue %s; the periodic scan will pick it up", name, exc_info=True)

    transaction.on_commit(send)
