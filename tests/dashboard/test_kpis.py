"""Each KPI is declared once (``service_requests.kpis.KPIS``): the Python contribution of a
request, the SQL rebuild of the summary and the list behind a dashboard number all read that
one declaration, so changing it changes all three together."""

from dataclasses import replace

from django.db.models import IntegerField, Q, Sum

from dashboard.places import Period, Place
from dashboard.selectors import Dashboard
from service_requests import kpis
from service_requests.models import RequestCounters, RequestSummary, ServiceRequest
from service_requests.summary import COUNTERS, contribution, month_of, summary_rebuild

from .test_rates import PERIODS


def test_the_summary_columns_are_the_declared_kpis():
    columns = tuple(f.name for f in RequestCounters._meta.get_fields() if isinstance(f, IntegerField))
    assert COUNTERS == tuple(k.name for k in kpis.KPIS) == columns


def test_a_condition_is_read_in_python_as_the_database_reads_it(story):
    requests = ServiceRequest.objects.order_by("pk")
    for kpi in kpis.kpis("request"):
        in_sql = set(
            requests.filter(**{f"{kpi.stamp}__isnull": False}).filter(kpi.condition).values_list("pk", flat=True)
        )
        in_python = {r.pk for r in requests if kpi.holds(r)}
        assert in_python == in_sql, kpi.name
        negated = set(requests.exclude(kpi.condition).values_list("pk", flat=True)) if kpi.condition else set()
        assert {r.pk for r in requests if kpi.condition and kpis.matches(~kpi.condition, r)} == negated, kpi.name


def satisfied_everywhere(story, client, official, district):
    """The ``satisfied`` count as Python, SQL and the dashboard list each see it (March–April)."""
    python = sum(contribution(r)[month_of(r.rated_at)]["satisfied"] for r in story.requests.values() if r.rated_at)
    summary_rebuild()
    sql = RequestSummary.objects.aggregate(n=Sum("satisfied"))["n"]
    listed = client.get("/dashboard/list/satisfied/?from=2025-03&to=2025-04").context["count"]
    dashboard = Dashboard(user=official, place=Place("district", district.district), period=Period(*PERIODS[0]))
    return python, sql, listed, dashboard.request_totals["satisfaction_rate"]


def test_a_changed_declaration_changes_the_python_the_sql_and_the_list(
    story, district, district_official, client_for, monkeypatch
):
    client = client_for(district_official)
    # r1, r2 (基本满意), r7 and r3's second rating; r3's first and r11 were 不满意.
    assert satisfied_everywhere(story, client, district_official, district) == (4, 4, 4, 4 / 5)
    basic = story.requests["r2"]
    assert basic.satisfaction == ServiceRequest.Satisfaction.BASIC
    assert contribution(basic)[month_of(basic.rated_at)]["satisfied"] == 1

    # On purpose: only 满意 counts as satisfied from now on.
    strict = replace(kpis.kpi("satisfied"), condition=Q(satisfaction=ServiceRequest.Satisfaction.SATISFIED))
    monkeypatch.setattr(kpis, "KPIS", tuple(strict if k.name == "satisfied" else k for k in kpis.KPIS))

    assert contribution(basic)[month_of(basic.rated_at)]["satisfied"] == 0
    assert satisfied_everywhere(story, client, district_official, district) == (3, 3, 3, 3 / 5)


def test_the_not_accepted_on_time_list_is_received_less_accepted_on_time(story, district_official, client_for):
    client = client_for(district_official)
    pages = {
        metric: client.get(f"/dashboard/list/{metric}/?from=2025-03&to=2025-04").context
        for metric in ("received", "accepted_on_time", "not_accepted_on_time")
    }
    assert {metric: page["count"] for metric, page in pages.items()} == {
        "received": 11,
        "accepted_on_time": 7,
        "not_accepted_on_time": 4,
    }
    # r2 and r8 were accepted late, r6 and r9 never accepted.
    late = {story.requests[name].number for name in ("r2", "r6", "r8", "r9")}
    assert {row[0][0] for row in pages["not_accepted_on_time"]["rows"]} == late
