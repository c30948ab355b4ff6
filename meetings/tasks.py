"""Celery tasks for meetings: thin wrappers over ``reminders`` (beat runs the scan every hour)."""

from baohe.jobs import worker_task

from . import reminders


@worker_task("meetings.tasks.scan_meeting_reminders")
def scan_meeting_reminders():
    """Remind organisers of missing minutes (3 and 7 days) and owners of action items falling due."""
    return reminders.scan_meeting_reminders()
