"""Every number on a dashboard equals the same number computed directly from the requests.

``direct()`` walks the ``ServiceRequest`` and ``RequestEvent`` rows in Python with the
definitions of ``service_requests.summary`` — no summary table, no SQL aggregate — and the
dashboards (read from the summary) must agree with it for every place, period, category,
month and child place, including requests accepted late, reopened, returned, rerouted,
rejected and never rated. The list behind each number has exactly that many rows.
"""

from collections import Counter
from datetime import date, datetime, time

import pytest
from django.db.models import Q

from dashboard.places import Period, Place
from dashboard.selectors import Dashboard
from service_requests.models import OPEN_STATUSES, RequestEvent, ServiceRequest

from .conftest import STORY_NOW, TZ

SATISFIED = ("satisfied", "basic")


def month_bounds(start, end):
    first = datetime.combine(start, time.min, tzinfo=TZ)
    after = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    return first, datetime.combine(after, time.min, tzinfo=TZ)


def direct(where=None, start=date(2025, 3, 1), end=date(2025, 4, 1), category=None, now=STORY_NOW):
    """The dashboard's counters and rates, straight from the rows (see the module docstring)."""
    where = where if where is not None else Q()
    first, after = month_bounds(start, end)

    def inside(moment):
        return moment is not None and first <= moment < after

    requests = ServiceRequest.objects.filter(where).select_related("category")
    if category is not None:
        requests = [r for r in requests if (r.category.parent_id or r.category_id) == category]
    c = Counter()
    ids = []
    for r in requests:
        ids.append(r.pk)
        if inside(r.created_at):
            c["received"] += 1
            c["accepted_on_time"] += r.accepted_at is not None and r.accepted_at <= r.accept_due_at
        if inside(r.resolved_at):
            c["resolved"] += 1
            c["resolved_on_time"] += r.resolved_at <= r.resolve_due_at
        if inside(r.rated_at):
            c["rated"] += 1
            c["solved"] += r.solved == "solved"
            c["partly"] += r.solved == "partly"
            c["satisfied"] += r.satisfaction in SATISFIED
        if r.status in OPEN_STATUSES:
            due = r.accept_due_at if r.status == "submitted" else r.resolve_due_at
            c["overdue"] += due < now
    for event in RequestEvent.objects.filter(request_id__in=ids, kind__in=("returned", "reopened")):
        c[event.kind] += inside(event.created_at)
    out = {
        key: c[key]
        for key in (
            "received",
            "accepted_on_time",
            "resolved",
            "resolved_on_time",
            "rated",
            "solved",
            "partly",
            "satisfied",
            "returned",
            "reopened",
            "overdue",
        )
    }
    for rate, (num, den) in {
        "response_rate": ("accepted_on_time", "received"),
        "resolution_rate": ("solved", "rated"),
        "on_time_rate": ("resolved_on_time", "resolved"),
        "satisfaction_rate": ("satisfied", "rated"),
    }.items():
        out[rate] = out[num] / out[den] if out[den] else None
    return out


def shown(counts, keys):
    return {key: counts[key] for key in keys}


def without_overdue(expected):
    """Overdue is a live count of the place, not of a month or a category."""
    return {key: value for key, value in expected.items() if key != "overdue"}


PERIODS = [
    (date(2025, 3, 1), date(2025, 4, 1)),
    (date(2025, 3, 1), date(2025, 3, 1)),
    (date(2025, 4, 1), date(2025, 4, 1)),
    (date(2024, 5, 1), date(2025, 4, 1)),  # the default: the last twelve months
    (date(2025, 5, 1), date(2025, 5, 1)),  # nothing happened
]


def places(district):
    return [
        (Place("district", district.district), Q()),
        (Place("street", district.street_a), Q(street=district.street_a)),
        (Place("street", district.street_b), Q(street=district.street_b)),
        (Place("community", district.a1.community), Q(community=district.a1.community)),
        (Place("community", district.a2.community), Q(community=district.a2.community)),
        (Place("community", district.b1.community), Q(community=district.b1.community)),
        (Place("compound", district.a1.compound), Q(compound=district.a1.compound)),
        (Place("compound", district.a2.compound), Q(compound=district.a2.compound)),
    ]


def test_the_story_by_hand(story, district, district_official):
    """The district over March and April 2025, counted by hand from the story (conftest)."""
    totals = Dashboard(
        user=district_official, place=Place("district", district.district), period=Period(*PERIODS[0])
    ).request_totals
    assert shown(totals, ("received", "accepted_on_time", "response_rate")) == {
        "received": 11,
        "accepted_on_time": 7,  # late: r2 (30 h for 24 h), r8 (6 h for 4 h); never: r6, r9
        "response_rate": 7 / 11,
    }
    assert shown(totals, ("rated", "solved", "resolution_rate", "satisfied", "satisfaction_rate")) == {
        "rated": 5,  # latest ratings: r1 r2 r3 r7 r11 (r5 never rated)
        "solved": 4,  # r2 was 部分解决
        "resolution_rate": 4 / 5,
        "satisfied": 4,  # r11's latest rating is 不满意 (reopened)
        "satisfaction_rate": 4 / 5,
    }
    assert shown(totals, ("resolved", "resolved_on_time", "on_time_rate")) == {
        "resolved": 5,  # r1 r2 r3 r5 r7; r11 was reopened
        "resolved_on_time": 3,  # r2 late, r3's second resolution late against its fresh limit
        "on_time_rate": 3 / 5,
    }
    assert shown(totals, ("overdue", "returned", "reopened")) == {"overdue": 4, "returned": 2, "reopened": 2}


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p[0]:%Y%m}-{p[1]:%Y%m}")
def test_every_place_and_period_equals_the_direct_computation(story, district, district_official, period):
    for place, where in places(district):
        dashboard = Dashboard(user=district_official, place=place, period=Period(*period))
        expected = direct(where, *period)
        assert shown(dashboard.request_totals, expected) == expected, place


def test_categories_months_and_children_equal_the_direct_computation(story, district, district_official, groups):
    period = Period(*PERIODS[0])
    for place, where in places(district):
        dashboard = Dashboard(user=district_official, place=place, period=period)
        for row in dashboard.categories:
            expected = without_overdue(direct(where, period.start, period.end, category=row["id"]))
            assert shown(row["counts"], expected) == expected, (place, row["name"])
        shown_groups = {row["id"] for row in dashboard.categories}
        for group in (groups.g1, groups.g2):
            if group.pk not in shown_groups:
                assert direct(where, period.start, period.end, category=group.pk)["received"] == 0
        for month, counts in dashboard.trend:
            expected = without_overdue(direct(where, month, month))
            assert shown(counts, expected) == expected, (place, month)
        for child in dashboard.children:
            field = {"street": "street", "community": "community", "compound": "compound"}[child["level"]]
            expected = direct(Q(**{field: child["obj"]}), period.start, period.end)
            assert shown(child["counts"], expected) == expected, (place, child["obj"])


def test_the_page_and_its_table_show_the_same_numbers(story, district, client_for, district_official):
    client = client_for(district_official)
    response = client.get("/dashboard/?from=2025-03&to=2025-04")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("63.6%", "80.0%", "60.0%", ">11<", ">4<"):
        assert text in html
    table = client.get("/dashboard/table/requests/?from=2025-03&to=2025-04").json()
    values = {row[0]["value"]: row[1]["value"] for row in table["rows"]}
    assert values == {
        "受理诉求": 11,
        "响应率": 7 / 11,
        "解决率": 4 / 5,
        "按期办结率": 3 / 5,
        "满意率": 4 / 5,
        "部分解决": 1,
        "当前超时": 4,
        "退单": 2,
        "重办": 2,
        "催办": 0,
        "督办件数": 0,  # tests/service_requests/test_supervision.py counts 督办
        "督办后按期办结率": None,
    }
    ranking = client.get("/dashboard/table/children/?from=2025-03&to=2025-04&sort=received").json()
    assert [(row[1]["value"], row[2]["value"], row[3]["value"]) for row in ranking["rows"]] == [
        ("芜湖路街道", 10, 6 / 10),
        ("望湖城街道", 1, 1.0),
    ]


LISTED = (
    "received",
    "accepted_on_time",
    "resolved",
    "resolved_on_time",
    "rated",
    "solved",
    "partly",
    "satisfied",
    "returned",
    "reopened",
    "overdue",
)


@pytest.mark.parametrize("level", ["district", "street", "community", "compound"])
def test_every_number_has_a_list_of_exactly_that_many_rows(story, district, client_for, district_official, level):
    client = client_for(district_official)
    place = dict((p.level, p) for p, _w in reversed(places(district)))[level]
    dashboard = Dashboard(user=district_official, place=place, period=Period(*PERIODS[0]))
    for metric in LISTED:
        response = client.get(f"{place.url('list', metric)}?from=2025-03&to=2025-04")
        assert response.status_code == 200, metric
        assert response.context["count"] == dashboard.request_totals[metric], (level, metric)
    for row in dashboard.categories:
        response = client.get(f"{place.url('list', 'received')}?from=2025-03&to=2025-04&category={row['id']}")
        assert response.context["count"] == row["counts"]["received"]
