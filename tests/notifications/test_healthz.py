"""/healthz: database (decides 200/503), broker and the worker's heartbeat ("degraded" when stale)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from baohe import views
from baohe.celery import app, heartbeat, heartbeat_read, heartbeat_write

from .conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def heartbeat_cache(settings):
    """A private heartbeat cache for each test (the real one is Redis or a file under VAR_DIR)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
        "heartbeat": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "heartbeat-test"},
    }
    from django.core.cache import caches

    caches["heartbeat"].clear()


@pytest.fixture
def broker(monkeypatch):
    """``broker(url)`` points the Celery app at another broker for this test."""

    def use(url):
        # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI sets it).
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        monkeypatch.setattr(app.conf, "broker_url", url)  # (broker_write_url follows it when unset)

    return use


def test_all_ok_with_a_fresh_heartbeat(client, broker):
    broker("memory://")
    heartbeat.run()  # what the worker does when beat sends "baohe.heartbeat"
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    worker = body["worker_heartbeat"]
    assert worker["status"] == "ok"
    assert worker["age_seconds"] <= 1
    assert worker["last_heartbeat"].endswith("+08:00")  # shown in Asia/Shanghai


def test_no_heartbeat_yet_is_degraded_but_200(client, broker):
    broker("memory://")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker_heartbeat"] == {"status": "unknown", "last_heartbeat": None, "age_seconds": None}


def test_a_stale_heartbeat_is_degraded(client, broker):
    broker("memory://")
    heartbeat_write(timezone.now() - timedelta(seconds=views.HEARTBEAT_STALE_SECONDS + 5))
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["worker_heartbeat"]["status"] == "stale"
    assert body["worker_heartbeat"]["age_seconds"] == views.HEARTBEAT_STALE_SECONDS + 5


def test_broker_down_is_degraded_and_quick(client, broker):
    broker(f"redis://127.0.0.1:{free_port()}/0")
    heartbeat_write()
    started = timezone.now()
    response = client.get("/healthz")
    assert (timezone.now() - started).total_seconds() < 3
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": "ok", "broker": "error: OperationalError"}


def test_heartbeat_round_trip():
    moment = timezone.now().replace(microsecond=0)
    heartbeat_write(moment)
    assert heartbeat_read() == moment
