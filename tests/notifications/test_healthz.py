"""/readyz: database (decides 200/503), broker and the worker's heartbeat ("degraded" when stale);
/healthz: the database only, no broker connection."""

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
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    worker = body["worker_heartbeat"]
    assert worker["status"] == "ok"
    assert worker["age_seconds"] <= 1
    assert worker["last_heartbeat"].endswith("+08:00")  # shown in Asia/Shanghai


def test_no_heartbeat_yet_is_degraded_but_200(client, broker):
    broker("memory://")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker_heartbeat"] == {"status": "unknown", "last_heartbeat": None, "age_seconds": None}


def test_a_stale_heartbeat_is_degraded(client, broker):
    broker("memory://")
    heartbeat_write(timezone.now() - timedelta(seconds=views.HEARTBEAT_STALE_SECONDS + 5))
    body = client.get("/readyz").json()
    assert body["status"] == "degraded"
    assert body["worker_heartbeat"]["status"] == "stale"
    assert body["worker_heartbeat"]["age_seconds"] == views.HEARTBEAT_STALE_SECONDS + 5


def test_broker_down_is_degraded_and_quick(client, broker):
    broker(f"redis://127.0.0.1:{free_port()}/0")
    heartbeat_write()
    started = timezone.now()
    response = client.get("/readyz")
    assert (timezone.now() - started).total_seconds() < 3
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": "ok", "broker": "error: OperationalError"}


def test_heartbeat_round_trip():
    moment = timezone.now().replace(microsecond=0)
    heartbeat_write(moment)
    assert heartbeat_read() == moment


def test_healthz_is_cheap_no_broker_and_readyz_reuses_a_pooled_connection(client, broker, monkeypatch):
    """/healthz never talks to the broker (a dead one does not slow it); /readyz PINGs it through
    kombu's pool, so two probes open one connection, not two."""
    broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    started = timezone.now()
    response = client.get("/healthz")
    assert (timezone.now() - started).total_seconds() < 0.5
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}

    from kombu import Connection

    opened = []
    connect = Connection._connection_factory

    def counting(self):
        opened.append(self.as_uri())
        return connect(self)

    monkeypatch.setattr(Connection, "_connection_factory", counting)
    broker("memory://")
    assert client.get("/readyz").json()["checks"]["broker"] == "ok"
    assert client.get("/readyz").json()["checks"]["broker"] == "ok"
    assert len(opened) <= 1
