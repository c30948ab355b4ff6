"""Celery tasks for the registry: thin wrappers over ``services`` (beat runs them; see settings)."""

import logging

from baohe.jobs import worker_task

from . import services

logger = logging.getLogger(__name__)


@worker_task("communities.tasks.anonymise_residents")
def anonymise_residents():
    """Anonymise residents who moved away or died more than ``RESIDENT_RETENTION_MONTHS`` ago
    (nightly, 02:30); returns how many."""
    count = services.residents_anonymise_due()
    logger.info("residents anonymised: %d", count)
    return count
