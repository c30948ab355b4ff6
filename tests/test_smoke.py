"""The portal starts, answers its health check, guards its pages and is deployable."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_readyz_reports_database_ok(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["checks"]["database"] == "ok"
    # Broker and worker heartbeat are reported too (tests/notifications/test_healthz.py); /healthz is the database only.
    assert set(body) == {"status", "checks", "worker_heartbeat"}


def test_home_sends_anonymous_visitors_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/"


def test_openapi_schema_for_staff(client_for, staff_a):
    response = client_for(staff_a).get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


def _manage(*args, env, tmp_path):
    """Run manage.py in a fresh process with exactly the given settings environment."""
    base = {k: v for k, v in os.environ.items() if k not in _SETTINGS_ENV}
    base.update(env, VAR_DIR=str(tmp_path / "var"))
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# Settings read from the environment that a developer's shell might set; the subprocesses
# start without them so only what each test sets counts (DATABASE_URL etc. are kept).
# DJANGO_ALLOW_ASYNC_UNSAFE is set by tests/e2e/conftest.py at collection (async.E001).
_SETTINGS_ENV = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "BEHIND_PROXY",
    "SILENCED_SYSTEM_CHECKS",
    "VAR_DIR",
}


def test_debug_off_without_secret_key_refuses_to_start(tmp_path):
    result = _manage("check", env={"DEBUG": "false", "ALLOWED_HOSTS": "heme.baohe.example"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_fresh_process_finds_every_task_it_enqueues_by_name(tmp_path):
    """A web or command process imports no task module by itself: services enqueue by name
    (baohe.jobs.enqueue_on_commit), and each name must still resolve there."""
    names = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()})
    names.append("dashboard.tasks.generate_monthly_report")
    code = "from baohe.jobs import task_named\n" + "".join(f"print(task_named({name!r}).name)\n" for name in names)

    result = _manage("shell", "--no-imports", "-c", code, env={}, tmp_path=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == names
