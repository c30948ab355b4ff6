"""With a real worker (Redis, ``celery -A baohe worker``): the scan-lag series rises while the
worker is stopped and falls once it is back, and a request's id follows it into the task it
enqueued, in JSON log lines. Skipped without ``REDIS_URL`` unless ``REQUIRE_SERVICES=1`` (CI)."""

import json
import logging
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from baohe.log_context import JsonFormatter, RequestIdFilter
from notifications.models import Preference
from service_requests.models import ServiceRequest
from service_requests.services import request_submit
from service_requests.tasks import scan_deadlines
from tests.clocks import make_due
from tests.factories import CategoryFactory
from tests.notifications.test_worker_live import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _shared_database():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the worker process needs a database it can share: set DATABASE_URL (PostgreSQL)")


def gauge(name):
    text = Client().get("/metrics").content.decode()
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def test_scan_lag_rises_while_the_worker_is_stopped_and_falls_after_it_restarts(district, resident, ops_worker):
    worker = ops_worker()
    worker.stop()  # the worker stops; beat's ticks wait in the broker (expiring)
    request = request_submit(
        by=resident,
        category=CategoryFactory(accept_within_hours=2),
        description="楼道灯坏了",
        compound=district.a1.compound,
    )
    make_due(request, "accept_warn_at", ago=timedelta(minutes=11))

    first = gauge("baohe_reminder_scan_lag_seconds")
    assert 660 <= first < 700
    time.sleep(1.5)
    second = gauge("baohe_reminder_scan_lag_seconds")
    assert second >= first + 1.4  # nobody claims the reminder: the lag keeps growing

    worker.start()
    assert gauge("baohe_worker_heartbeat_age_seconds") < 30  # written when the worker became ready
    scan_deadlines.delay()  # what beat sends every minute
    wait_for(lambda: gauge("baohe_reminder_scan_lag_seconds") == 0, 30, "the scan lag did not fall to 0")
    assert request.clocks.get(clock="accept", running=True).warned_at is not None


class JsonLines(logging.Handler):
    """The JSON lines this process would write (the production handler's filters and formatter)."""

    def __init__(self):
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def test_a_request_id_follows_the_request_into_the_task_it_enqueued(
    district, resident, staff_a, client_for, ops_worker, settings
):
    settings.LOG_REQUESTS = True
    worker = ops_worker(LOG_FORMAT="json")
    Preference.objects.create(user=staff_a, email=True)  # the submission enqueues a dispatch
    category = CategoryFactory()
    lines = JsonLines()
    logging.getLogger().addHandler(lines)
    try:
        response = client_for(resident).post(
            reverse("service_requests:submit"),
            {"category": category.pk, "building": district.a1.buildings[0].pk, "description": "3楼楼道灯坏了"},
            HTTP_X_REQUEST_ID="ops-test-request-0001",
        )
    finally:
        logging.getLogger().removeHandler(lines)
    assert response.status_code == 302
    assert response["X-Request-ID"] == "ops-test-request-0001"
    assert ServiceRequest.objects.filter(submitted_by=resident).count() == 1
    web = [line for line in lines.lines if line["logger"] == "baohe.request"]
    assert [(line["request_id"], line["status"], line["view"]) for line in web] == [
        ("ops-test-request-0001", 302, "service_requests:submit")
    ]

    def task_lines():
        found = []
        for raw in worker.log().splitlines():
            if raw.startswith("{"):
                entry = json.loads(raw)
                if entry.get("task_name") == "notifications.tasks.dispatch_pending":
                    found.append(entry)
        return found

    wait_for(lambda: task_lines(), 30, "no JSON log line of the dispatch task")
    assert {line["request_id"] for line in task_lines()} == {"ops-test-request-0001"}
    assert task_lines()[0]["message"] == "task notifications.tasks.dispatch_pending started"
