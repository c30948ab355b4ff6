"""A resident on a phone (the demo's 和谐5栋 resident): 我也遇到 on a neighbour's open request from
the similar-requests box, the 小区公示 board, and 催办 on their own overdue request."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.seed.demo import PASSWORD
from communities.models import Resident
from communities.seed.demo import HARMONY_NAME, QINGHUA
from service_requests import services
from service_requests.models import RequestSupporter, ServiceRequest


@pytest.fixture
def seeded(demo):
    """The demo district, committed so the live server's thread sees it."""


def test_resident_joins_a_neighbours_request_and_urges_their_own(seeded, phone_page, live_server, login, shot):
    record = Resident.objects.select_related("user", "household__building").get(
        user__isnull=False, household__building__name=HARMONY_NAME, household__compound__name=QINGHUA
    )
    user, building = record.user, record.household.building
    neighbour_request = (
        ServiceRequest.objects.filter(building=building, status__in=("submitted", "accepted", "in_progress"))
        .exclude(submitted_by=user)
        .select_related("category")
        .first()
    )
    assert neighbour_request is not None
    own = services.request_submit(
        by=user,
        category=neighbour_request.category,
        description="5栋2单元301室楼道灯又坏了，电话13912345678。",
        compound=building.compound,
        building=building,
        household=record.household,
    )
    past = timezone.now() - timedelta(hours=2)  # its accept deadline has passed: it may be urged
    ServiceRequest.objects.filter(pk=own.pk).update(accept_due_at=past)

    phone = phone_page
    login(phone, live_server, user.username, PASSWORD)
    phone.goto(f"{live_server.url}/requests/submit/")
    phone.locator("select[name=category]").select_option(str(neighbour_request.category_id))
    item = phone.locator(f"[data-testid=similar] li[data-number='{neighbour_request.number}']")
    item.wait_for()
    box = phone.locator("[data-testid=similar]").inner_text()
    assert "13912345678" not in box and "301室" not in box and record.name not in box
    shot(phone, "board-01-similar-box")
    item.locator("[data-testid=support-button]").click()
    item.locator("[data-testid=joined]").wait_for()
    assert RequestSupporter.objects.filter(request=neighbour_request, user=user).exists()
    shot(phone, "board-02-joined")

    phone.goto(f"{live_server.url}/requests/board/{building.compound_id}/")
    board = phone.locator("[data-testid=board-list]").inner_text()
    assert own.number in board and "13912345678" not in board and "301室" not in board
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "board-03-board")

    phone.goto(f"{live_server.url}{own.get_absolute_url()}")
    phone.locator("[data-testid=follow-urge]").click()
    phone.wait_for_load_state()
    assert "已催办，社区会尽快办理。" in phone.locator("body").inner_text()
    assert phone.locator("[data-event=urged]").count() == 1
    assert phone.locator("[data-testid=follow-urge-later]").count() == 1  # once a working day
    assert phone.locator("[data-testid=urge-reason]").inner_text() == "每个工作日只能催办一次，请下一个工作日再催办。"
    shot(phone, "board-04-urged")
