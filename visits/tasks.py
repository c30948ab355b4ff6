"""Celery tasks for visits: thin wrappers over the services (beat runs the scan every 15 minutes)."""

from celery import shared_task

from . import reminders


@shared_task(name="visits.tasks.scan_due_visits", acks_late=True, ignore_result=True)
def scan_due_visits():
    """Remind visitors the day before, mark missed visits overdue and escalate them (idempotent)."""
    return reminders.scan_due_visits()
