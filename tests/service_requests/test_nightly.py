"""The nightly rebuild of the request summary (03:30): whatever an admin edit or a bulk load did to
the summary rows or to the requests behind the services' back, the next night the dashboards'
numbers are again the ones the requests add up to."""

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction

from service_requests import services
from service_requests.models import (
    RequestCommunitySummary,
    RequestCompoundSummary,
    RequestStreetSummary,
    RequestSummary,
    ServiceRequest,
)
from service_requests.summary import COUNTERS, summary_rebuild
from service_requests.tasks import rebuild_summaries
from tests.factories import CategoryFactory

TASK = "service_requests.tasks.rebuild_summaries"
MODELS = (RequestSummary, RequestStreetSummary, RequestCommunitySummary, RequestCompoundSummary)


def rows():
    """Every non-zero summary row of the four tables, as comparable tuples."""
    out = {}
    for model in MODELS:
        keys = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", *COUNTERS)]
        values = model.objects.values_list(*keys, *COUNTERS)
        out[model.__name__] = sorted(row for row in values if any(row[len(keys) :]))
    return out


def rebuilt_rows():
    """The rows summary_rebuild() computes from the requests, without keeping them."""
    savepoint = transaction.savepoint()
    summary_rebuild()
    result = rows()
    transaction.savepoint_rollback(savepoint)
    return result


def totals(model):
    return {name: sum(model.objects.values_list(name, flat=True)) for name in COUNTERS}


def make_requests(district, resident, staff_a, staff_other_street):
    """Four requests through the services: rated, resolved, open, and one in another street."""
    category = CategoryFactory(name="路灯不亮", code="t-light")
    a1, b1 = district.a1.compound, district.b1.compound
    rated = services.request_submit(by=resident, category=category, description="楼道灯坏了", compound=a1)
    services.request_accept(request=rated, by=staff_a)
    services.request_resolve(request=rated, by=staff_a, message="已更换灯泡")
    services.request_rate(request=rated, by=resident, solved="solved", satisfaction="satisfied")
    resolved = services.request_submit(by=staff_a, category=category, description="路灯闪烁", compound=a1)
    services.request_accept(request=resolved, by=staff_a)
    services.request_resolve(request=resolved, by=staff_a, message="已修好")
    waiting = services.request_submit(by=resident, category=category, description="门口路灯不亮", compound=a1)
    other = services.request_submit(by=staff_other_street, category=category, description="路灯", compound=b1)
    services.request_accept(request=other, by=staff_other_street)
    return {"rated": rated, "resolved": resolved, "waiting": waiting, "other": other}


def test_the_nightly_task_repairs_summary_rows_edited_behind_the_services(
    district, resident, staff_a, staff_other_street
):
    make_requests(district, resident, staff_a, staff_other_street)
    good = rows()
    assert good == rebuilt_rows()
    assert totals(RequestCommunitySummary)["received"] == 4

    # An admin "corrects" the figures in the admin: counters changed, one row deleted.
    RequestCommunitySummary.objects.update(received=99, satisfied=0)
    RequestStreetSummary.objects.filter(street=district.street_b).delete()
    RequestSummary.objects.update(accepted=0)
    RequestCompoundSummary.objects.filter(compound=district.a1.compound).update(resolved=7)
    assert rows() != good

    written = rebuild_summaries.run()

    assert rows() == good == rebuilt_rows()
    assert written == RequestSummary.objects.count() == 2  # (A1, the group, this month), (B1, …)
    for model in MODELS:
        assert totals(model) == {
            **dict.fromkeys(COUNTERS, 0),
            "received": 4,
            "accepted": 3,
            "accepted_on_time": 3,
            "resolved": 2,
            "resolved_on_time": 2,
            "rated": 1,
            "solved": 1,
            "satisfied": 1,
            "closed": 1,
        }, model.__name__


def test_the_nightly_task_counts_requests_edited_behind_the_services(district, resident, staff_a, staff_other_street):
    made = make_requests(district, resident, staff_a, staff_other_street)
    # A bulk load marks the waiting request accepted without a service step: the summary misses it.
    waiting = made["waiting"]
    ServiceRequest.objects.filter(pk=waiting.pk).update(accepted_at=waiting.created_at)
    assert totals(RequestCommunitySummary)["accepted"] == 3

    rebuild_summaries.run()

    assert totals(RequestCommunitySummary)["accepted"] == 4
    assert totals(RequestCommunitySummary)["accepted_on_time"] == 4
    assert rows() == rebuilt_rows()


def test_the_nightly_task_on_an_empty_district_writes_nothing(db):
    assert rebuild_summaries.run() == 0
    assert rows() == {model.__name__: [] for model in MODELS}


def test_beat_runs_the_rebuild_at_half_past_three():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == TASK]
    assert len(entries) == 1
    assert entries[0]["schedule"] == crontab(hour=3, minute=30)
    assert 0 < entries[0]["options"]["expires"] <= 24 * 3600
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_run_scans_leaves_the_rebuild_out():
    """Housekeeping, not a scan: ``manage.py run_scans`` runs the scans only."""
    from baohe.management.commands.run_scans import scans

    assert TASK not in scans()
