"""Celery tasks for dashboards: thin wrappers (the monthly report is built in ``reports.py``)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import reports

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="dashboard.tasks.generate_monthly_report",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    ignore_result=True,
)
def generate_monthly_report(job_id):
    """Build a monthly report (月度报表) job's workbook; a job already done is left alone."""
    reports.report_generate(job_id=job_id)
