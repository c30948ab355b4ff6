"""Search and the household timeline in a real browser, on the demo district (one journey).

清华社区's staff types ``5栋 漏水`` in the top bar and gets the requests of building 5 about a
leak, grouped by kind; the same words in the queue's box give the same rows; a request number
finds that one request, whose household page shows its timeline (loaded by htmx) with the
request in it, newest first; 和谐5栋's page narrows to its 独居老人 households; and the 迁入
form's household box (Tom Select) finds a household by ``5栋 301`` through the scoped endpoint.
"""

import re

import pytest

from accounts.models import User
from accounts.seed.demo import PASSWORD
from communities.models import Building, Household
from communities.search import parse, search_households
from communities.seed.demo import HARMONY_NAME, QINGHUA
from service_requests.models import ServiceRequest
from service_requests.search import search_requests

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def test_staff_search_timeline_building_filter_and_autocomplete(seeded, desktop_page, live_server, login, shot):
    page = desktop_page
    staff = User.objects.get(username="staff_qinghua")
    mine = ServiceRequest.objects.restrict(staff, "view")
    expected = set(search_requests(mine, "5栋 漏水", staff).values_list("number", flat=True))
    assert expected, "the demo has leaks in building 5"
    assert (
        not set(
            search_requests(ServiceRequest.objects.exclude(pk__in=mine.values("pk")), "5栋 漏水", staff).values_list(
                "number", flat=True
            )
        )
        & expected
    )

    login(page, live_server, "staff_qinghua", PASSWORD)
    box = page.get_by_test_id("topbar-search").locator("input[name=q]")
    box.fill("5栋 漏水")
    with page.expect_navigation():
        box.press("Enter")
    assert "/registry/search/" in page.url
    requests = page.get_by_test_id("search-group-requests")
    titles = requests.locator("li a").all_inner_texts()
    assert {title.split()[0] for title in titles} == expected
    assert box.input_value() == "5栋 漏水"
    shot(page, "search-01-top-bar")

    # The queue's own box: the same rows, counted in its pills.
    page.goto(f"{live_server.url}/requests/queue/")
    page.get_by_test_id("queue-search").fill("5栋 漏水")
    with page.expect_navigation():
        page.get_by_test_id("queue-search").press("Enter")
    numbers = page.locator("[data-testid=queue] tbody tr[data-number]").evaluate_all(
        "rows => rows.map(r => r.dataset.number)"
    )
    assert set(numbers) == expected
    assert int(page.locator("[data-count=status-all]").inner_text()) == len(expected)
    page.get_by_test_id("queue-sort").select_option("newest")
    page.wait_for_url(re.compile(r"sort=newest"))
    newest = page.locator("[data-testid=queue] tbody tr[data-number]").evaluate_all(
        "rows => rows.map(r => r.dataset.number)"
    )
    assert newest == list(
        mine.filter(number__in=expected).order_by("-created_at", "-id").values_list("number", flat=True)
    )
    shot(page, "search-02-queue")

    # A request number: one hit; its household's page shows the timeline with it.
    request = mine.filter(household__isnull=False).select_related("household").order_by("-created_at").first()
    box = page.get_by_test_id("topbar-search").locator("input[name=q]")
    box.fill(request.number)
    with page.expect_navigation():
        box.press("Enter")
    hits = page.get_by_test_id("search-group-requests").locator("li a")
    assert hits.count() == 1
    with page.expect_navigation():
        hits.first.click()
    assert page.url.endswith(request.get_absolute_url())
    page.goto(f"{live_server.url}{request.household.get_absolute_url()}")
    timeline = page.get_by_test_id("household-timeline")
    timeline.wait_for()
    entries = timeline.locator("li[data-kind]")
    assert entries.filter(has_text=request.number).count() == 1
    when = entries.locator(".timeline-when").all_inner_texts()
    assert when == sorted(when, reverse=True)  # newest first
    shot(page, "search-03-household-timeline")

    # 和谐5栋: only its 独居老人 households.
    harmony = Building.objects.get(compound__name=QINGHUA, name=HARMONY_NAME)
    page.goto(f"{live_server.url}{harmony.get_absolute_url()}")
    page.get_by_test_id("building-filter").locator("select[name=flag]").select_option("lives_alone_elderly")
    page.wait_for_url(re.compile(r"flag=lives_alone_elderly"))
    addresses = page.get_by_test_id("households").locator("tbody tr td:first-child a").all_inner_texts()
    alone = Household.objects.filter(building=harmony, lives_alone_elderly=True, archived_at__isnull=True)
    assert sorted(addresses) == sorted(h.address for h in alone)
    shot(page, "search-04-building-filter")

    # The 迁入 form's household box asks the scoped endpoint as the user types.
    target = search_households(staff, parse("5栋 301"), action="change").filter(archived_at__isnull=True).first()
    page.goto(f"{live_server.url}/registry/transfers/new/")
    control = page.locator(".ts-control").first
    control.click()
    page.keyboard.type("5栋 301")
    option = page.locator(".ts-dropdown .option").first
    option.wait_for()
    assert f"{target.compound.name} {target}" in page.locator(".ts-dropdown .option").all_inner_texts()
    shot(page, "search-05-autocomplete")
    page.locator(".ts-dropdown .option", has_text=f"{target.compound.name} {target}").first.click()
    assert page.locator("select[name=to_household]").input_value() == str(target.pk)
