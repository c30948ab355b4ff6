"""Celery tasks for requests: thin wrappers over ``reminders`` and ``summary`` (beat runs them; see settings)."""

import logging

from baohe.jobs import worker_task

from . import reminders, summary

logger = logging.getLogger(__name__)


@worker_task("service_requests.tasks.scan_deadlines")
def scan_deadlines():
    """Warn, mark overdue, escalate, ask for ratings and close unrated requests (every minute)."""
    return reminders.scan_deadlines()


@worker_task("service_requests.tasks.rebuild_summaries")
def rebuild_summaries():
    """Recompute the dashboards' month summaries from the requests (nightly, 03:30): the safety
    net for admin edits and bulk loads, which bypass the services. One transaction, so a retry
    starts clean; returns the number of summary rows (``RequestSummary``) written."""
    rows = summary.summary_rebuild()
    logger.info("request summaries rebuilt: %d rows", rows)
    return rows
