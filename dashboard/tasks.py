"""Celery tasks for dashboards: thin wrappers (the monthly report is built and cleaned in ``reports.py``)."""

from baohe.jobs import worker_task

from . import reports


@worker_task("dashboard.tasks.generate_monthly_report")
def generate_monthly_report(job_id):
    """Build a monthly report (月度报表) job's workbook; a job already done is left alone."""
    reports.report_generate(job_id=job_id)


@worker_task("dashboard.tasks.clean_reports")
def clean_reports():
    """Remove report jobs older than ``REPORT_KEEP_DAYS`` days and their files (daily, 03:45)."""
    return reports.reports_clean()
