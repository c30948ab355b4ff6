"""Celery application. Broker from settings (Redis in production, kombu's filesystem
transport under var/ by default). Tasks live in each app's ``tasks.py``; beat runs the
scans listed in ``settings.CELERY_BEAT_SCHEDULE``.

The worker's heartbeat: beat sends ``baohe.heartbeat`` every 30 seconds and the worker writes
the time to the ``heartbeat`` cache (also once when it starts), so ``/healthz`` shows when the
whole chain beat → broker → worker last worked. That cache is Redis when ``REDIS_URL`` is
set (shared by every web and worker host) and a file cache under ``VAR_DIR`` otherwise (shared
by the processes of ``make run`` on one machine; Django's default local-memory cache would be
private to each process). A database row would also work, but would add a write every 30
seconds to the one resource the portal cannot do without, for no gain: when Redis is down no
task runs anyway, and healthz then reports the broker as down.

The worker and beat set up their own log handlers; each gets the filter that masks mobile and
ID numbers (``baohe.log_filters``) and the request-id filter, like every handler in
``settings.LOGGING``, and the JSON formatter with ``LOG_FORMAT=json`` (``baohe.log_context``).
A task's log lines carry the request id of the web request that enqueued it (the message's
``request_id`` header, restored before the task runs).
"""

import logging
import os
from datetime import datetime

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, task_postrun, task_prerun, worker_ready
from redis.exceptions import RedisError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baohe.settings")

logger = logging.getLogger(__name__)

app = Celery("baohe")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_KEY = "worker:heartbeat"


def _heartbeat_cache():
    from django.core.cache import caches  # Django is set up by the time this runs

    return caches["heartbeat"]


def heartbeat_write(now=None):
    from django.utils import timezone

    _heartbeat_cache().set(HEARTBEAT_KEY, (now or timezone.now()).isoformat(), timeout=None)


def heartbeat_read():
    """The time of the worker's last heartbeat, or ``None`` if there was none."""
    value = _heartbeat_cache().get(HEARTBEAT_KEY)
    return datetime.fromisoformat(value) if value else None


@app.task(name="baohe.heartbeat", ignore_result=True)
def heartbeat():
    """Sent by beat every 30 seconds: the worker is alive and receiving tasks."""
    heartbeat_write()


@worker_ready.connect
def _heartbeat_on_start(**kwargs):
    try:
        heartbeat_write()
    except (OSError, RedisError):  # the cache (Redis) being down must not stop the worker from starting
        logger.warning("could not write the worker heartbeat", exc_info=True)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_personal_data(logger, **kwargs):
    from django.conf import settings

    from . import log_context, log_filters

    log_filters.install(logger)
    log_context.install(logger, json_format=settings.LOG_FORMAT == "json")


@task_prerun.connect
def _task_context(**kwargs):
    from .log_context import task_started

    task_started(**kwargs)


@task_postrun.connect
def _task_context_end(**kwargs):
    from .log_context import task_finished

    task_finished(**kwargs)
