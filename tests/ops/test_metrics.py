"""``/metrics``: every listed series with the value the rows give, only for allowed addresses,
in a pinned number of queries; and the alert rules name only series that are exported."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from baohe.celery import heartbeat_write
from notifications.models import Delivery, Preference
from service_requests.services import request_submit
from tests.clocks import make_due
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
LISTED = {
    # the list: request latency by view, errors, pending notifications, scan lag, worker
    # heartbeat age, dashboard cache hit rate, lockouts
    "baohe_http_request_duration_seconds",
    "baohe_http_responses_total",
    "baohe_notification_deliveries_pending",
    "baohe_reminder_scan_lag_seconds",
    "baohe_worker_heartbeat_age_seconds",
    "baohe_cache_lookups_total",
    "baohe_login_lockouts_active",
    "baohe_login_lockouts_total",
}


@pytest.fixture(autouse=True)
def heartbeat_cache(settings):
    """A private heartbeat cache (the real one is Redis, shared with other test workers)."""
    settings.CACHES = {
        **settings.CACHES,
        "heartbeat": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "heartbeat-metrics"},
    }
    from django.core.cache import caches

    caches["heartbeat"].clear()


def samples(text):
    """``{(sample name, sorted label items): value}`` of an exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client=None, **extra):
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(response.content.decode())


def value(scraped, name, **labels):
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def lock(username, ip):
    """A locked (username, IP) pair as axes records it after five failures."""
    return AccessAttempt.objects.create(
        username=username,
        ip_address=ip,
        user_agent="test",
        get_data="",
        post_data="",
        http_accept="*/*",
        path_info="/accounts/login/",
        failures_since_start=5,
    )


def test_the_listed_series_with_the_values_the_rows_give(
    district, resident, staff_a, secretary_a, django_assert_num_queries
):
    Preference.objects.create(user=staff_a, email=True)
    Preference.objects.create(user=secretary_a, email=True)
    request = request_submit(
        by=resident,
        category=CategoryFactory(accept_within_hours=2),
        description="楼道灯坏了",
        compound=district.a1.compound,
    )
    make_due(request, "accept_warn_at", ago=timedelta(minutes=15))
    lock("someone", "203.0.113.7")
    lock("13900001111", "203.0.113.8")
    heartbeat_write(timezone.now() - timedelta(seconds=42))

    with django_assert_num_queries(3):  # scan lag, pending deliveries, active lockouts
        scraped = scrape()

    names = {name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for name, _ in scraped}
    assert (
        LISTED - {"baohe_cache_lookups_total", "baohe_http_responses_total", "baohe_http_request_duration_seconds"}
        <= names
    )
    assert Delivery.objects.filter(status="pending").count() == 2  # staff_a and the secretary, by email
    assert value(scraped, "baohe_notification_deliveries_pending") == 2
    assert 900 <= value(scraped, "baohe_reminder_scan_lag_seconds") < 960
    assert value(scraped, "baohe_login_lockouts_active") == 2
    assert 42 <= value(scraped, "baohe_worker_heartbeat_age_seconds") < 60
    for series in ("baohe_notification_deliveries_pending", "baohe_reminder_scan_lag_seconds"):
        assert value(scraped, "baohe_metrics_source_up", series=series) == 1


def test_no_heartbeat_and_nothing_due_read_inf_and_zero(db):
    scraped = scrape()
    assert value(scraped, "baohe_worker_heartbeat_age_seconds") == float("inf")
    assert value(scraped, "baohe_reminder_scan_lag_seconds") == 0
    assert value(scraped, "baohe_notification_deliveries_pending") == 0
    assert value(scraped, "baohe_login_lockouts_active") == 0


@pytest.mark.urls("tests.ops.urls")
def test_latency_by_view_and_answers_by_status_class(db):
    before = scrape()
    client = Client(raise_request_exception=False)
    for _ in range(3):
        assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/ops-test/fail").status_code == 500
    after = scrape()

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("baohe_http_request_duration_seconds_count", view="healthz", method="GET") == 3
    assert grew("baohe_http_responses_total", view="healthz", method="GET", status="2xx") == 3
    assert grew("baohe_http_responses_total", view="unmatched", method="GET", status="4xx") == 1
    assert grew("baohe_http_responses_total", view="ops_test_fail", method="GET", status="5xx") == 1
    assert grew("baohe_http_request_duration_seconds_count", view="ops_test_fail", method="GET") == 1


def test_dashboard_cache_lookups_are_counted(district_official, client_for, settings):
    settings.DASHBOARD_CACHE_SECONDS = 600
    settings.PAGE_CACHE_SECONDS = 60
    settings.CACHES = {  # an empty cache of its own: the first page misses, the second hits
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dashboard-metrics"},
    }
    client = client_for(district_official)
    before = scrape()
    assert client.get("/dashboard/").status_code == 200
    middle = scrape()
    assert client.get("/dashboard/").status_code == 200
    after = scrape()

    def lookups(cache, result):
        return [value(s, "baohe_cache_lookups_total", cache=cache, result=result) for s in (before, middle, after)]

    hits, misses = lookups("dashboard", "hit"), lookups("dashboard", "miss")
    page_hits, page_misses = lookups("page", "hit"), lookups("page", "miss")
    assert (hits[1] - hits[0]) + (misses[1] - misses[0]) == 1  # building the page looks its data up once
    assert (page_hits[1] - page_hits[0], page_misses[1] - page_misses[0]) == (0, 1)
    # The second page is served whole from the page cache (baohe/pagecache.py): no data lookup at all.
    assert (page_hits[2] - page_hits[1], page_misses[2] - page_misses[1]) == (1, 0)
    assert (hits[2] - hits[1], misses[2] - misses[1]) == (0, 0)


def test_a_lockout_is_counted(db, client):
    before = value(scrape(), "baohe_login_lockouts_total")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "nobody", "password": "wrong-password"})
    assert value(scrape(), "baohe_login_lockouts_total") - before == 1


def test_refused_from_other_addresses(db, settings):
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404

    # Behind nginx (TRUSTED_PROXY_COUNT=1) the address nginx saw counts, not what the client wrote.
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9").status_code == 404
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200


def test_every_alert_rule_reads_exported_series(db):
    rules = yaml.safe_load(ALERTS.read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    assert set(alerts) == {"WorkerSilent", "ReminderScanLagging", "ServerErrors", "DeliveriesPiling"}
    Client().get("/healthz")  # the request series appear once a request was counted
    scraped = scrape()
    exported = {name for name, _ in scraped}
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"], name
        used = set(re.findall(r"\b(baohe_[a-z_]+)", rule["expr"]))
        assert used, name
        assert used <= exported, (name, used - exported)
