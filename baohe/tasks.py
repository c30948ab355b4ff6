"""Housekeeping of the platform itself (thin wrappers over ``baohe.services`` and ``baohe.staging``)."""

from celery import shared_task

from .services import audit_purge
from .staging import purge as staging_purge


@shared_task(name="baohe.tasks.purge_audit_trail", ignore_result=True)
def purge_audit_trail():
    """Nightly: delete audit lines older than ``AUDIT_RETENTION_DAYS`` (in batches)."""
    return audit_purge()


@shared_task(name="baohe.tasks.purge_staged_uploads", ignore_result=True)
def purge_staged_uploads():
    """Nightly: delete photos staged for a failed form (``baohe.staging``) older than a day, files too."""
    return staging_purge()
