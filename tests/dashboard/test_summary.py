"""The request summary stays in step with the requests: after every service step the rows kept
incrementally equal the rows ``summary_rebuild()`` computes from scratch, and the counters
are the ones the story's requests add up to."""

from datetime import date

import pytest
from django.db import transaction

from service_requests.models import (
    RequestCommunitySummary,
    RequestCompoundSummary,
    RequestStreetSummary,
    RequestSummary,
    ServiceRequest,
)
from service_requests.summary import COUNTERS, contribution, month_of, summary_rebuild

from .conftest import run_story

MODELS = (RequestSummary, RequestStreetSummary, RequestCommunitySummary, RequestCompoundSummary)
KEYS = {
    RequestSummary: ("compound_id", "category_id", "month", "community_id", "street_id"),
    RequestStreetSummary: ("street_id", "category_id", "month"),
    RequestCommunitySummary: ("community_id", "category_id", "month", "street_id"),
    RequestCompoundSummary: ("compound_id", "month", "community_id", "street_id"),
}


def rows():
    """Every non-zero summary row of the three tables, as comparable tuples."""
    out = {}
    for model in MODELS:
        values = model.objects.values_list(*KEYS[model], *COUNTERS)
        out[model.__name__] = sorted(row for row in values if any(row[len(KEYS[model]) :]))
    return out


def rebuilt_rows(since=None):
    """The rows summary_rebuild() makes, without keeping them (rolled back to a savepoint)."""
    savepoint = transaction.savepoint()
    summary_rebuild(since=since)
    result = rows()
    transaction.savepoint_rollback(savepoint)
    return result


def test_incremental_rows_equal_the_rebuild_after_every_step(district, groups, clock, people):
    checked = []

    def compare():
        assert rows() == rebuilt_rows(), f"summary out of step after step {len(checked) + 1}"
        checked.append(1)

    story = run_story(district, groups, clock, people, after_step=compare)
    assert len(checked) == story.steps == 38
    assert rows() == rebuilt_rows()


def counters(model, **filters):
    total = dict.fromkeys(COUNTERS, 0)
    for row in model.objects.filter(**filters).values(*COUNTERS):
        for name in COUNTERS:
            total[name] += row[name]
    return total


def test_counters_add_up_to_the_story(story, district, groups):
    march, april = date(2025, 3, 1), date(2025, 4, 1)
    everything = counters(RequestCommunitySummary)
    assert everything == {
        "received": 11,
        "accepted": 9,  # r1 r2 r3 r4 r5 r7 r8 r10 r11 (r6 never, r9 rejected unaccepted)
        "accepted_on_time": 7,  # r1 r3 r4(after reroute) r5 r7 r10 r11
        "resolved": 5,  # r1 r2 r3 r5 r7 (r11 reopened, so not resolved)
        "resolved_on_time": 3,  # r1 r5 r7
        "rated": 5,  # r1 r2 r3 r7 r11 (latest ratings)
        "solved": 4,  # r1 r3 r7 r11
        "partly": 1,  # r2
        "satisfied": 4,  # r1 r2(basic) r3 r7
        "closed": 6,  # r1 r2 r3 r5 r7 r9
        "returned": 2,  # r4 r10
        "reopened": 2,  # r3 r11
        "urged": 0,  # nobody urged in the story (tests/service_requests/test_follow_up.py counts urges)
        "supervised": 0,  # nor supervised (tests/service_requests/test_supervision.py counts 督办)
        "supervised_resolved": 0,
        "supervised_on_time": 0,
    }
    assert counters(RequestCommunitySummary, month=march)["received"] == 8
    assert counters(RequestCommunitySummary, month=april)["received"] == 3
    # r8: received in March, accepted (late) in April; counted with its month received.
    assert counters(RequestCommunitySummary, month=march)["accepted_on_time"] == 5
    # r3's last resolution (late, 2 April) and rating (3 April) count in April; its reopen in March.
    assert counters(RequestSummary, compound=district.a1.compound, category=groups.g2, month=april) == {
        **dict.fromkeys(COUNTERS, 0),
        "received": 0,
        "resolved": 1,
        "rated": 1,
        "solved": 1,
        "satisfied": 1,
        "closed": 1,
    }
    # r4 moved to A2 with its return: A2 has it, A1 no longer does.
    a2 = counters(RequestCompoundSummary, compound=district.a2.compound)
    assert (a2["received"], a2["returned"], a2["accepted_on_time"]) == (1, 1, 1)
    assert counters(RequestStreetSummary, street=district.street_b) == {
        **dict.fromkeys(COUNTERS, 0),
        "received": 1,
        "accepted": 1,
        "accepted_on_time": 1,
        "resolved": 1,
        "resolved_on_time": 1,
        "rated": 1,
        "solved": 1,
        "satisfied": 1,
        "closed": 1,
    }


def test_the_four_tables_agree(story):
    fine = counters(RequestSummary)
    assert counters(RequestStreetSummary) == fine
    assert counters(RequestCommunitySummary) == fine
    assert counters(RequestCompoundSummary) == fine


def test_rebuild_since_a_month_keeps_earlier_months_and_recomputes_the_rest(story):
    before = rows()
    RequestCommunitySummary.objects.filter(month=date(2025, 4, 1)).update(received=99)
    RequestSummary.objects.filter(month=date(2025, 3, 1)).update(received=-5)  # before `since`: left alone
    summary_rebuild(since=date(2025, 4, 20))
    after = rows()
    assert after["RequestCommunitySummary"] == before["RequestCommunitySummary"]
    assert after["RequestStreetSummary"] == before["RequestStreetSummary"]
    assert after["RequestCompoundSummary"] == before["RequestCompoundSummary"]
    assert {r for r in after["RequestSummary"] if r[2] == date(2025, 4, 1)} == {
        r for r in before["RequestSummary"] if r[2] == date(2025, 4, 1)
    }
    assert any(r[5] == -5 for r in after["RequestSummary"] if r[2] == date(2025, 3, 1))
    summary_rebuild()
    assert rows() == before


def test_rebuild_counts_rows_written_without_the_services(story, district, groups):
    """A bulk load (or an admin edit) is picked up by the rebuild, not by the incremental path."""
    ServiceRequest.objects.filter(pk=story.requests["r6"].pk).update(accepted_at=story.requests["r6"].created_at)
    summary_rebuild()
    assert counters(RequestCommunitySummary)["accepted_on_time"] == 8
    r6 = ServiceRequest.objects.get(pk=story.requests["r6"].pk)
    assert contribution(r6)[month_of(r6.created_at)]["accepted_on_time"] == 1


def test_a_step_that_changes_no_counter_writes_no_summary_row(story, staff_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from service_requests import services

    request = story.requests["r6"]
    with CaptureQueriesContext(connection) as captured:
        services.request_reply(request=request, by=staff_a, message="收到，马上安排。", public=False)
    assert [q["sql"] for q in captured.captured_queries if "summary" in q["sql"].lower()] == []
    with CaptureQueriesContext(connection) as captured:
        services.request_accept(request=request, by=staff_a)
    # One statement: the four tables' upserts as WITH clauses (issue 14: one round trip, last).
    statements = [q["sql"] for q in captured.captured_queries if "summary" in q["sql"].lower()]
    assert len(statements) == 1
    assert all(
        f'INSERT INTO "service_requests_{table}"' in statements[0]
        for table in ("requestsummary", "requeststreetsummary", "requestcommunitysummary", "requestcompoundsummary")
    )


@pytest.mark.parametrize("moment", ["2025-03-31T15:59:59+00:00", "2025-03-31T16:00:00+00:00"])
def test_months_are_local(moment):
    from datetime import datetime

    expected = date(2025, 3, 1) if moment.startswith("2025-03-31T15") else date(2025, 4, 1)
    assert month_of(datetime.fromisoformat(moment)) == expected
