"""Housekeeping of the platform itself (thin wrappers over ``baohe.services``)."""

from celery import shared_task

from .services import audit_purge


@shared_task(name="baohe.tasks.purge_audit_trail", ignore_result=True)
def purge_audit_trail():
    """Nightly: delete audit lines older than ``AUDIT_RETENTION_DAYS`` (in batches)."""
    return audit_purge()
