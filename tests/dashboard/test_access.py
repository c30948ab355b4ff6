"""Who may open the dashboards: officials only (403 for staff and residents), each within their
scope (404 outside it, like a missing place), with every list restricted to that scope."""

from datetime import date

import pytest

from dashboard.models import ReportJob
from dashboard.reports import report_generate

PAGES = ("", "chart-data/", "table/requests/?format=xlsx", "table/children/", "list/received/", "list/households/")


def urls(prefix):
    return [f"{prefix}{suffix}" for suffix in PAGES]


@pytest.fixture
def places(district):
    return {
        "street_a": f"/dashboard/street/{district.street_a.pk}/",
        "street_b": f"/dashboard/street/{district.street_b.pk}/",
        "a1": f"/dashboard/community/{district.a1.community.pk}/",
        "a2": f"/dashboard/community/{district.a2.community.pk}/",
        "b1": f"/dashboard/community/{district.b1.community.pk}/",
        "compound_a1": f"/dashboard/compound/{district.a1.compound.pk}/",
        "compound_b1": f"/dashboard/compound/{district.b1.compound.pk}/",
    }


def test_anonymous_users_are_sent_to_sign_in(client, places):
    for url in ["/dashboard/", places["street_a"], "/dashboard/reports/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["resident", "staff_a", "staff_b", "secretary_a", "staff_other_street"])
def test_staff_and_residents_get_403(request, persona, places, client_for):
    client = client_for(request.getfixturevalue(persona))
    for url in ["/dashboard/", "/dashboard/reports/", *urls(places["street_a"]), *urls(places["a1"])]:
        assert client.get(url).status_code == 403, url
    assert client.post("/dashboard/reports/", {"month": "2025-03", "place": "district"}).status_code == 403


def test_a_street_official_sees_their_street_and_below_and_404_elsewhere(street_official_a, places, client_for):
    client = client_for(street_official_a)
    response = client.get("/dashboard/?from=2025-01&to=2025-03")
    assert response.status_code == 302
    assert response["Location"] == f"{places['street_a']}?from=2025-01&to=2025-03"
    for name in ("street_a", "a1", "a2", "compound_a1"):
        for url in urls(places[name]):
            assert client.get(url).status_code == 200, url
    for name in ("street_b", "b1", "compound_b1"):
        for url in urls(places[name]):
            assert client.get(url).status_code == 404, url
    # The district level itself is not theirs either.
    for url in ("/dashboard/chart-data/", "/dashboard/table/requests/", "/dashboard/list/received/"):
        assert client.get(url).status_code == 404, url
    # Missing places look the same as other streets.
    assert client.get("/dashboard/street/999999/").status_code == 404
    assert client.get("/dashboard/compound/999999/list/received/").status_code == 404


@pytest.mark.parametrize("persona", ["district_official", "admin_user"])
def test_the_district_official_and_admins_see_everything(request, persona, places, client_for):
    client = client_for(request.getfixturevalue(persona))
    for url in urls("/dashboard/") + [u for name in places for u in urls(places[name])]:
        assert client.get(url).status_code == 200, url


def test_unknown_tables_and_lists_are_404(district_official, places, client_for):
    client = client_for(district_official)
    assert client.get("/dashboard/table/nothing/").status_code == 404
    assert client.get(f"{places['a1']}list/nothing/").status_code == 404


def test_lists_hold_only_the_viewers_rows(story, district, street_official_a, district_official, client_for):
    a_requests = {r.number for r in story.requests.values() if r.street_id == district.street_a.pk}
    b_requests = {r.number for r in story.requests.values() if r.street_id == district.street_b.pk}
    assert a_requests and b_requests
    client = client_for(street_official_a)
    response = client.get(f"/dashboard/street/{district.street_a.pk}/list/received/?from=2025-03&to=2025-04")
    listed = {row[0][0] for row in response.context["rows"]}
    assert listed == a_requests
    # The district official on street A's page sees street A's list, not the district's.
    client = client_for(district_official)
    response = client.get(f"/dashboard/street/{district.street_a.pk}/list/received/?from=2025-03&to=2025-04")
    assert {row[0][0] for row in response.context["rows"]} == a_requests
    response = client.get("/dashboard/list/received/?from=2025-03&to=2025-04")
    assert {row[0][0] for row in response.context["rows"]} == a_requests | b_requests


def test_report_requests_are_limited_to_the_officials_scope(street_official_a, district, client_for, clock):
    client = client_for(street_official_a)
    response = client.post("/dashboard/reports/", {"month": "2025-03", "place": "district"})
    assert response.status_code == 400
    response = client.post("/dashboard/reports/", {"month": "2025-03", "place": f"street:{district.street_b.pk}"})
    assert response.status_code == 400
    assert ReportJob.objects.count() == 0
    response = client.post("/dashboard/reports/", {"month": "2025-03", "place": f"street:{district.street_a.pk}"})
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboard/reports/{job.pk}/"
    assert (job.street, job.month, job.requested_by) == (district.street_a, date(2025, 3, 1), street_official_a)


def test_a_report_is_only_for_the_one_who_asked(
    street_official_a, district_official, district, client_for, settings, tmp_path, clock
):
    settings.MEDIA_ROOT = tmp_path
    job = ReportJob.objects.create(requested_by=street_official_a, street=district.street_a, month=date(2025, 3, 1))
    report_generate(job_id=job.pk)
    mine = client_for(street_official_a)
    assert mine.get(f"/dashboard/reports/{job.pk}/").status_code == 200
    assert mine.get(f"/dashboard/reports/{job.pk}/download/").status_code == 200
    other = client_for(district_official)
    assert other.get(f"/dashboard/reports/{job.pk}/").status_code == 404
    assert other.get(f"/dashboard/reports/{job.pk}/download/").status_code == 404
