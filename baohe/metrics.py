"""Prometheus metrics at ``/metrics``, readable only from ``METRICS_ALLOWED_IPS``.

Library: ``prometheus_client`` (the official client), not django-prometheus. The portal needs
two kinds of series and django-prometheus gives neither well: request latency *by view* with
bounded labels (one middleware here, labelled by the URL pattern's name), and gauges read from
the database *at scrape time* (pending deliveries, scan lag, lockouts), which are custom
collectors either way. django-prometheus would add wrappers around the database backend, the
cache and every model's save, and hundreds of series nobody alerts on.

Two kinds of series:

- **Per process, counted as requests pass** (:class:`MetricsMiddleware`): request latency per
  view and method (histogram ``baohe_http_request_duration_seconds``), answers per view and
  status class (``baohe_http_responses_total``; the 5xx rate is ``status="5xx"`` over all), and
  counters other apps bump (``baohe_cache_lookups_total`` by the dashboard,
  ``baohe_login_lockouts_total`` by the lockout signal). gunicorn runs several worker processes,
  each with its own counters: with ``PROMETHEUS_MULTIPROC_DIR`` set (deploy/ sets it, a directory
  emptied at each start), every process writes its values to files there and a scrape, answered
  by any worker, sums them all (prometheus_client's multiprocess mode; ``deploy/gunicorn.conf.py``
  marks dead workers). Without it (``runserver``, tests) the series are this process's own.
- **Read from the database at scrape time** (:func:`register_gauge`): each app registers its
  gauges in its ``AppConfig.ready()`` (a lower floor does not import the apps above it), each a
  cheap query on an index: ``baohe_worker_heartbeat_age_seconds`` (baohe, from the heartbeat
  cache), ``baohe_reminder_scan_lag_seconds`` (service_requests), ``baohe_notification_deliveries_pending``
  (notifications), ``baohe_login_lockouts_active`` (accounts). A source that fails (the
  database or Redis down) leaves its series out of that scrape and sets ``baohe_metrics_source_up``
  to 0 for it, so an alert sees the gap.

The alert rules that read these series: ``deploy/prometheus/alerts.yml`` (a test checks that
every series they name is exported here).
"""

import ipaddress
import logging
import os
import time
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError

from .client_ip import client_ip

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("baohe.request")

# --- counted as requests pass ---------------------------------------------------------------------
REQUEST_LATENCY = Histogram(
    "baohe_http_request_duration_seconds",
    "Time from the first middleware to the answer, per view (URL pattern name) and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RESPONSES = Counter(
    "baohe_http_responses_total",
    "Answers per view, method and status class (2xx, 3xx, 4xx, 5xx).",
    ["view", "method", "status"],
)
CACHE_LOOKUPS = Counter(
    "baohe_cache_lookups_total",
    "Cache lookups by what was cached (dashboard) and result (hit, miss): the hit rate is hit / all.",
    ["cache", "result"],
)
LOCKOUTS = Counter("baohe_login_lockouts_total", "Sign-in lockouts (username + IP pairs locked) since start.")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def view_label(request):
    """The matched URL pattern's name (``service_requests:detail``), never the path itself (ids
    would make a series per row); ``unmatched`` for a path no pattern matched (a 404)."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else "unmatched"


def cache_lookup(cache_name, hit):
    """Count one lookup in a cache the hit rate is reported for (the dashboard's)."""
    CACHE_LOOKUPS.labels(cache_name, "hit" if hit else "miss").inc()


class MetricsMiddleware:
    """Times every request (the outermost middleware but the request id), counts its answer by
    status class and, with ``LOG_REQUESTS``, writes one log line per request (the access log
    with the request id and the view, in JSON with ``LOG_FORMAT=json``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_LATENCY.labels(view, method).observe(elapsed)
        RESPONSES.labels(view, method, f"{response.status_code // 100}xx").inc()
        if settings.LOG_REQUESTS:
            request_logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                elapsed * 1000,
                extra={"view": view, "status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
            )
        return response


# --- read from the database (or the cache) at scrape time ------------------------------------------
_GAUGES: dict[str, tuple[str, Callable[[], float]]] = {}
SOURCE_UP = "baohe_metrics_source_up"


def register_gauge(name, documentation, read):
    """Export gauge ``name``, its value ``read()`` at each scrape (a number; ``float("inf")``
    for "never happened"). Called from an ``AppConfig.ready()``; registering a name again replaces it."""
    _GAUGES[name] = (documentation, read)


def gauge_names():
    return sorted(_GAUGES)


class ScrapeTimeCollector:
    """Yields every registered gauge, read now; a source that fails is reported as down."""

    def collect(self):
        up = GaugeMetricFamily(SOURCE_UP, "1 if the gauge's source answered at this scrape, else 0.", labels=["series"])
        for name, (documentation, read) in sorted(_GAUGES.items()):
            try:
                value = float(read())
            except (DatabaseError, RedisError, OSError, ValueError):
                logger.warning("metrics: could not read %s", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield GaugeMetricFamily(name, documentation, value=value)
        yield up


_scrape_registry = CollectorRegistry(auto_describe=False)
_scrape_registry.register(ScrapeTimeCollector())


def exposition():
    """The whole text: the counted series (summed over gunicorn's processes in multiprocess
    mode) and the gauges read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    return generate_latest(counted) + generate_latest(_scrape_registry)


# --- who may read them --------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _networks(allowed):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed)


def allowed(request):
    """True when the client's address (``baohe.client_ip``: behind nginx, the address nginx saw)
    is in ``METRICS_ALLOWED_IPS``."""
    address = client_ip(request)
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


@never_cache
def metrics(request):
    """``/metrics`` in Prometheus' text format (served as version 0.0.4, which every Prometheus
    reads; the names and labels are plain ASCII, so it is the same text); 404 (as if there were
    nothing here) from elsewhere."""
    if not allowed(request):
        raise Http404
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


# --- baohe's own gauge: the worker's heartbeat ------------------------------------------------------
def heartbeat_age():
    """Seconds since the worker last wrote its heartbeat (``inf`` if it never did)."""
    from django.utils import timezone

    from .celery import heartbeat_read

    last = heartbeat_read()
    if last is None:
        return float("inf")
    return max(0.0, (timezone.now() - last).total_seconds())
