"""督办: a street or district official urges the community on an overdue request, on the record.

- Only officials whose scope holds the request (a district official; a street official of its
  street), only once it is overdue; staff get 403, an official of another street 404, and a
  refused or bad 督办 changes nothing.
- It is a step of the timeline (internal), tells the community secretary and the handler, and is
  counted on the dashboard: 督办件数 and 督办后按期办结率 (declared once in ``kpis``), each number
  with its list. The overdue list shows 承办方 and 超时天数.

Time is fixed by setting ``django.utils.timezone.now``.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Role
from notifications.models import Notification
from service_requests import services
from service_requests.models import RequestEvent, ServiceRequest
from tests.factories import CategoryFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        def set(self, text):
            monkeypatch.setattr(timezone, "now", lambda: at(text))

    return Clock()


@pytest.fixture
def handled(clock, district, resident, staff_a):
    """A request of A1 accepted by staff_a on Monday 12-07; due to be resolved 12-14 23:59."""
    clock.set("2026-12-07 10:00")
    category = CategoryFactory(name="楼道照明", accept_within_hours=24, resolve_within_days=5)
    home = district.a1.households[0]
    request = services.request_submit(
        by=resident,
        category=category,
        description="楼道灯坏了",
        compound=district.a1.compound,
        building=home.building,
        household=home,
    )
    clock.set("2026-12-07 11:00")
    return services.request_accept(request=request, by=staff_a)


@pytest.fixture
def street_official_b(district):
    user = UserFactory(username="street_official_b", name="望湖城街道领导")
    RoleFactory(user=user, kind=Role.Kind.STREET_OFFICIAL, street=district.street_b, community=None)
    return user


def supervise(api, request, **data):
    return api.post(f"/api/v1/requests/{request.pk}/supervise/", data, format="json")


def state(request):
    request.refresh_from_db()
    return (
        request.supervise_count,
        request.supervise_due_at,
        RequestEvent.objects.filter(request=request, kind="supervised").count(),
    )


def test_only_officials_of_its_scope_supervise_an_overdue_request(
    clock, handled, staff_a, secretary_a, street_official_a, street_official_b, district_official, api_client_for
):
    body = {"note": "请本周内修好。", "due_at": "2026-12-18T18:00:00+08:00"}
    clock.set("2026-12-10 09:00")  # not overdue yet
    answer = supervise(api_client_for(street_official_a), handled, **body)
    assert (answer.status_code, answer.json()["code"]) == (409, "not_overdue")

    clock.set("2026-12-16 09:00")  # overdue since 12-14 23:59
    assert supervise(api_client_for(staff_a), handled, **body).status_code == 403
    assert supervise(api_client_for(secretary_a), handled, **body).status_code == 403
    assert supervise(api_client_for(street_official_b), handled, **body).status_code == 404
    past = supervise(api_client_for(street_official_a), handled, note="请尽快。", due_at="2026-12-15T18:00:00+08:00")
    assert past.json() == {"due_at": ["督办期限必须晚于现在。"]}
    blank = supervise(api_client_for(street_official_a), handled, note="  ", due_at=body["due_at"])
    assert blank.status_code == 400 and "note" in blank.json()
    assert state(handled) == (0, None, 0)  # nothing written by any refusal

    answer = supervise(api_client_for(street_official_a), handled, **body)
    assert answer.status_code == 200
    assert state(handled) == (1, at("2026-12-18 18:00"), 1)
    event = RequestEvent.objects.get(request=handled, kind="supervised")
    assert (event.actor, event.public) == (street_official_a, False)
    assert event.message == "第 1 次督办，限 2026-12-18 18:00 前办结。请本周内修好。"
    told = Notification.objects.filter(kind="request.supervised").order_by("recipient__username")
    assert list(told.values_list("recipient__username", "title")) == [
        (name, f"诉求 {handled.number} 被督办，请于 2026-12-18 18:00 前办结。") for name in ("secretary_a", "staff_a")
    ]


def test_supervise_from_the_page_shows_in_the_timeline_and_on_the_dashboard(
    clock, handled, staff_a, secretary_a, district_official, client_for
):
    clock.set("2026-12-16 09:00")
    official = client_for(district_official)
    page = official.get(handled.get_absolute_url()).content.decode()
    assert f'action="/requests/{handled.pk}/supervise/"' in page  # the only step an official has
    assert f'action="/requests/{handled.pk}/resolve/"' not in page
    overdue = official.get(f"/dashboard/community/{handled.community_id}/list/overdue/").content.decode()
    assert "承办方" in overdue and "超时天数" in overdue
    assert f"<td>{staff_a}</td>" in overdue and "<td>1</td>" in overdue  # 1 day past 12-14 23:59

    response = official.post(
        f"/requests/{handled.pk}/supervise/",
        {"supervise-note": "请尽快处理。", "supervise-due_at": "2026-12-18T18:00"},
    )
    assert response.status_code == 302
    secretary_page = client_for(secretary_a).get(handled.get_absolute_url()).content.decode()
    assert 'data-event="supervised"' in secretary_page and "请尽快处理。" in secretary_page
    assert 'data-testid="supervised-badge"' in secretary_page

    clock.set("2026-12-17 10:00")
    services.request_resolve(request=handled, by=staff_a, message="已更换灯泡。")
    official = client_for(district_official)  # a new day: a new session (staff sessions are short)
    table = official.get(f"/dashboard/community/{handled.community_id}/table/requests/?from=2026-12&to=2026-12")
    rows = {row[0]["value"]: row[1]["value"] for row in table.json()["rows"]}
    assert rows["督办件数"] == 1
    assert rows["督办后按期办结率"] == 1.0
    for metric in ("supervised", "supervised_resolved", "supervised_on_time"):
        listed = official.get(f"/dashboard/community/{handled.community_id}/list/{metric}/?from=2026-12&to=2026-12")
        assert listed.status_code == 200 and handled.number in listed.content.decode(), metric


def test_supervise_page_refuses_bad_input_and_writes_nothing(clock, handled, street_official_a, client_for):
    clock.set("2026-12-16 09:00")
    response = client_for(street_official_a).post(
        f"/requests/{handled.pk}/supervise/", {"supervise-note": "请尽快。", "supervise-due_at": "不是日期"}
    )
    assert response.status_code == 200 and "supervise-due_at" in response.content.decode()
    assert state(handled) == (0, None, 0)
    assert ServiceRequest.objects.get(pk=handled.pk).status == "accepted"
