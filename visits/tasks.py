"""Celery tasks for visits: thin wrappers over the services (beat runs the scan every 15 minutes
and reconciles every plan with the rules nightly)."""

from baohe.jobs import worker_task

from . import reminders, services


@worker_task("visits.tasks.scan_due_visits")
def scan_due_visits():
    """Remind visitors the day before, mark missed visits overdue and escalate them (idempotent)."""
    return reminders.scan_due_visits()


@worker_task("visits.tasks.reconcile_visit_plans")
def reconcile_visit_plans():
    """Every plan in step with the rules (idempotent): the safety net behind the services, which
    keep a changed household's plans in step at once (``services.visit_plans_sync``)."""
    return services.visit_plans_generate()
