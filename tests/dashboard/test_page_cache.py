"""The dashboard page and its chart data served from the cache (``baohe.pagecache``): per place,
period, sort, language and scope; the user's own parts (menu, unread count, sidebar, report
form) as fragments; this request's CSRF token and CSP nonce put into the shared text."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from baohe import pagecache
from dashboard.models import ReportJob
from notifications.models import Notification
from tests.caches import clear_default_cache

from .conftest import at
from .test_queries import build

PAGE = "/dashboard/?from=2025-03&to=2025-04"


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 60
    settings.DASHBOARD_CACHE_SECONDS = 0
    clear_default_cache()
    yield
    clear_default_cache()


def measured(client, url, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response, len(captured.captured_queries)


def built(response):
    """Whether the page was built for this request (not served from the cache)."""
    try:
        return response.context is not None and response.context["kpis"] is not None
    except KeyError:
        return False


def nonce_of(response):
    return re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)


def test_cold_and_warm_query_counts_and_this_requests_tokens(
    district, groups, clock, staff_a, staff_other_street, district_official, client_for
):
    build(2, district, groups, clock, staff_a, staff_other_street)
    client = client_for(district_official)
    street = f"/dashboard/street/{district.street_a.pk}/?from=2025-03&to=2025-04"
    # Cold: the whole page is built (as with the cache off: tests/dashboard/test_queries.py).
    cold, cold_count = measured(client, PAGE)
    assert cold_count == 25  # + the funds section (3 ledger sums)
    assert measured(client, "/dashboard/chart-data/")[1] == 7
    # Warm: the user, their second-factor device and the place (404 outside the scope); the
    # session and the roles (for the scope in the key) come from the cache.
    with CaptureQueriesContext(connection) as captured:
        warm = client.get(PAGE)
    warm_count = len(captured.captured_queries)
    assert warm_count == 3, [q["sql"][:60] + " … " + q["sql"][-80:] for q in captured.captured_queries]
    assert measured(client, "/dashboard/chart-data/")[1] == 3
    assert measured(client, street)[1] == 25
    assert measured(client, street)[1] == 3
    assert warm.content.count(b"<script") == cold.content.count(b"<script")

    for response in (cold, warm):
        html = response.content.decode()
        assert pagecache.CSRF_MARK not in html and pagecache.NONCE_MARK not in html
        assert pagecache.SESSION_TIMER_MARK not in html
        nonce = nonce_of(response)
        assert set(re.findall(r'nonce="([^"]+)"', html)) == {nonce}
        token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
        assert token and token != pagecache.CSRF_MARK
        assert 'id="session-warning"' in html  # the idle sign-out timer, rendered for this request
        assert 'data-testid="user-chrome-pending"' in html  # the menu comes as a fragment
        assert str(district_official) not in html  # nothing of the user's own in the shared text
    assert nonce_of(cold) != nonce_of(warm)


def test_keys_keep_scopes_languages_periods_and_sorts_apart(
    district, groups, clock, staff_a, staff_other_street, district_official, street_official_a, client_for
):
    build(2, district, groups, clock, staff_a, staff_other_street)
    official = client_for(district_official)
    street_a = f"/dashboard/street/{district.street_a.pk}/"
    street_b = f"/dashboard/street/{district.street_b.pk}/"
    assert official.get(street_b).status_code == 200  # the district official's entry for street B

    # A street official still gets 404 for another street, whatever the cache holds.
    other = client_for(street_official_a)
    assert other.get(street_b).status_code == 404
    assert other.get(f"{street_b}chart-data/").status_code == 404
    # Their own street: built for their scope, not the district official's entry.
    official.get(street_a)
    _response, count = measured(other, street_a)
    assert count > 10

    chinese = official.get(PAGE).content.decode()
    english = official.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "诉求办理" in chinese and "诉求办理" not in english
    march = official.get("/dashboard/?from=2025-03&to=2025-03")
    assert built(march)  # not the April entry
    by_rate = official.get(f"{PAGE}&sort=satisfaction_rate")
    assert built(by_rate)
    assert not built(official.get(f"{PAGE}&sort=satisfaction_rate"))  # served from the cache


def test_numbers_are_at_most_the_cache_time_late(
    district, groups, clock, staff_a, staff_other_street, district_official, client_for, settings
):
    build(2, district, groups, clock, staff_a, staff_other_street)
    clock.set(at(4, 15, 12))
    client = client_for(district_official)
    before = client.get("/dashboard/chart-data/?from=2025-03&to=2025-04").json()
    build(1, district, groups, clock, staff_a, staff_other_street)  # two more requests in March
    clock.set(at(4, 15, 12, 1))  # a minute later (within the session's idle limit)
    assert client.get("/dashboard/chart-data/?from=2025-03&to=2025-04").json() == before  # until it expires
    clear_default_cache()  # what PAGE_CACHE_SECONDS (≤ 60) does
    after = client.get("/dashboard/chart-data/?from=2025-03&to=2025-04").json()
    assert sum(after["trend"]["received"]) == sum(before["trend"]["received"]) + 2
    settings.PAGE_CACHE_SECONDS = 0
    assert client.get("/dashboard/chart-data/?from=2025-03&to=2025-04").json() == after


def test_the_users_own_parts_come_as_fragments(district, district_official, street_official_a, client_for):
    ReportJob.objects.create(requested_by=district_official, month=at(3, 1).date())
    Notification.objects.create(recipient=district_official, kind="test", title="一条消息", dedupe_key="t:1")
    client = client_for(district_official)
    html = client.get("/dashboard/").content.decode()
    card_url = re.search(r'hx-get="(/dashboard/report-card/[^"]+)"', html).group(1).replace("&amp;", "&")

    response, count = measured(client, "/accounts/chrome/", HTTP_HX_CURRENT_URL="http://testserver/dashboard/")
    assert count == 3  # user, device, the unread COUNT (roles from the cache)
    chrome = response.content.decode()
    assert str(district_official) in chrome
    assert '<span data-testid="unread-count">1</span>' in chrome
    assert 'id="sidebar-nav" hx-swap-oob="true"' in chrome
    assert 'name="next" value="/dashboard/"' in chrome  # the menu's forms return to the page
    assert re.search(r'class="nav-link active" href="/dashboard/"', chrome)  # its section marked
    # An address of another site is not a place to return to.
    evil = client.get("/accounts/chrome/", HTTP_HX_CURRENT_URL="https://evil.example/x").content.decode()
    assert 'name="next" value="/"' in evil

    card, count = measured(client, card_url)
    assert count == 4  # user, device, the streets of the form, the user's last jobs
    card_html = card.content.decode()
    assert 'name="csrfmiddlewaretoken"' in card_html
    assert card_html.count("<li>") == 1
    # Another official's card shows their own jobs (none) and only their choices.
    other = client_for(street_official_a).get(card_url).content.decode()
    assert "<li>" not in other
    assert 'value="district"' not in other
    # A bad parameter is ignored (no 500).
    assert client.get("/dashboard/report-card/?month=２０２５-03&place=street:²").status_code == 200


def test_fragments_need_a_signed_in_official(client, district, resident, client_for):
    assert client.get("/accounts/chrome/").status_code == 302
    assert client.get("/dashboard/report-card/").status_code == 302
    assert client_for(resident).get("/dashboard/report-card/").status_code == 403
