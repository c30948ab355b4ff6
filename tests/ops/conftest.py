"""Shared by the ops tests: a real ``celery -A baohe worker`` on the test database, on a broker
of its own (a Redis database no other test worker's Celery uses, so it never takes their tasks)."""

import os
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings

from baohe.celery import app
from tests.notifications.test_worker_live import Worker, database_url


def private_broker():
    """``CELERY_BROKER_URL`` with database 12 + the pytest-xdist worker's number."""
    url = urlparse(settings.CELERY_BROKER_URL)
    if url.scheme != "redis":
        pytest.skip("needs a Redis broker (set REDIS_URL)")
    number = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return urlunparse(url._replace(path=f"/{12 + number % 4}"))


@pytest.fixture
def ops_worker(tmp_path, transactional_db, monkeypatch):
    """``ops_worker(**env)``: a started worker (``.stop()``, ``.start()``, ``.log()``); this
    process's Celery app sends to the same private broker."""
    broker = private_broker()
    original = app.conf.broker_url

    def switch(url):
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    switch(broker)
    app.control.purge()
    workers = []

    def start(**extra):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "baohe.settings",
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker,
            "VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "INFO",
            **extra,
        }
        worker = Worker(env, tmp_path / f"worker{len(workers)}.log", 1)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()
    switch(original)
