"""Celery tasks for visits: thin wrappers over the services (beat runs the scan every 15 minutes)."""

from baohe.jobs import worker_task

from . import reminders


@worker_task("visits.tasks.scan_due_visits")
def scan_due_visits():
    """Remind visitors the day before, mark missed visits overdue and escalate them (idempotent)."""
    return reminders.scan_due_visits()
