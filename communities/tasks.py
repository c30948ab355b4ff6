"""Celery tasks for the registry: thin wrappers over ``services`` (beat runs them; see settings)."""

import logging

from baohe.jobs import worker_task

from . import services
from .services import imports

logger = logging.getLogger(__name__)


@worker_task("communities.tasks.anonymise_residents")
def anonymise_residents():
    """Anonymise residents who moved away or died more than ``RESIDENT_RETENTION_MONTHS`` ago
    (nightly, 02:30); returns how many."""
    count = services.residents_anonymise_due()
    logger.info("residents anonymised: %d", count)
    return count


@worker_task("communities.tasks.import_validate", time_limit=3600, soft_time_limit=3500)
def import_validate(job_id):
    """Validate an uploaded import sheet and compute its dry run (``services.imports``)."""
    imports.import_validate(job_id=job_id)


@worker_task("communities.tasks.import_apply", time_limit=3600, soft_time_limit=3500)
def import_apply(job_id):
    """Apply a validated import in batches; resumes after the last whole batch."""
    imports.import_apply(job_id=job_id)


@worker_task("communities.tasks.purge_import_jobs")
def purge_import_jobs():
    """Delete import jobs (and the uploaded sheets, full numbers in them) older than
    ``IMPORT_KEEP_DAYS`` (nightly, 02:45); returns how many."""
    count = imports.import_jobs_purge()
    logger.info("import jobs purged: %d", count)
    return count
