"""我的待办 (``baohe.todo`` and its providers) and the secretary's approvals list.

- Staff land on 我的待办 after login: 待签收 newest first (a new request is the first row), 分派给我
  by deadline; each item a count and the link to its filtered list; queries pinned, the same with
  2 rows as with 20.
- The secretary also sees approvals: extension requests, decided from the approvals list through
  the step's service; another community's secretary gets 404 and nothing changes; staff 403.
- Street and district officials see overdue and 督办 items in their scope only.
- ``GET /api/v1/todo/`` answers the same items; residents have none.
- Read-only officials are not offered 代录诉求 (and the page refuses them).
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from service_requests import services
from service_requests.models import ServiceRequest
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
def category(db):
    return CategoryFactory(name="楼道照明", accept_within_hours=24, resolve_within_days=5)


def submit(user, tree, category, text="楼道灯坏了"):
    return services.request_submit(by=user, category=category, description=text, compound=tree.compound)


def counts(page_items):
    return {item["key"]: item["count"] for item in page_items}


@pytest.mark.parametrize("many", [False, True])
def test_staff_land_on_todo_with_the_newest_request_first(
    clock, district, staff_a, resident, category, client_for, django_assert_num_queries, many
):
    clock.set("2026-12-07 09:00")
    for n in range(19 if many else 1):
        submit(resident, district.a1, category, text=f"第 {n} 条")
    clock.set("2026-12-07 10:00")
    mine = services.request_accept(request=submit(resident, district.a1, category), by=staff_a)
    clock.set("2026-12-07 11:00")
    newest = submit(resident, district.a1, category, text="刚刚提交的")
    submit(None, district.a2, category)  # another community: not staff_a's

    client = client_for(staff_a)
    assert client.get("/").url == "/todo/"
    # user, device (session and roles cached); requests (counts, to accept, mine), visits, action items; unread
    with django_assert_num_queries(8):
        page = client.get("/todo/").content.decode()
    rows = page.split('data-rows="requests.to_accept"')[1].split("</ul>")[0]
    shown = re.findall(r"BH-\d{8}-\d{4}", rows)
    assert shown[0] == newest.number and len(shown) == (5 if many else 2)  # newest first, five at most
    assert f'data-count="requests.to_accept">{20 if many else 2}<' in page
    assert 'data-count="requests.mine">1<' in page and mine.number in page
    assert 'href="/requests/queue/?status=submitted"' in page
    assert 'data-section="approvals"' not in page and 'data-section="oversight"' not in page


def test_secretary_approves_an_extension_from_the_approvals_list(
    clock, district, resident, staff_a, secretary_a, category, client_for, django_assert_num_queries
):
    clock.set("2026-12-07 10:00")
    request = services.request_accept(request=submit(resident, district.a1, category), by=staff_a)
    services.request_extension_request(request=request, by=staff_a, until=at("2026-12-21 18:00"), reason="等配件")
    other_secretary = UserFactory(username="secretary_b")
    RoleFactory(user=other_secretary, secretary=True, community=district.a2.community)

    todo = client_for(secretary_a).get("/todo/").content.decode()
    assert 'data-count="requests.extensions">1<' in todo and 'href="/requests/approvals/"' in todo
    client = client_for(secretary_a)
    with django_assert_num_queries(
        5
    ):  # user, device (session and roles from the cache); extensions, returned; unread messages
        page = client.get("/requests/approvals/").content.decode()
    assert f'data-testid="decide-{request.number}"' in page and "等配件" in page
    assert request.number not in client_for(other_secretary).get("/requests/approvals/").content.decode()
    assert client_for(staff_a).get("/requests/approvals/").status_code == 403

    decide = f"/requests/approvals/{request.pk}/extension/"
    approve = {"extension-decision": "approve", "extension-note": "同意"}
    assert client_for(other_secretary).post(decide, approve).status_code == 404
    assert client_for(staff_a).post(decide, approve).status_code == 403
    assert client_for(secretary_a).post(decide, {"extension-decision": "maybe"}).status_code == 400
    request.refresh_from_db()
    assert (request.extension_until, request.extension_count) == (at("2026-12-21 18:00"), 0)

    response = client_for(secretary_a).post(decide, approve)
    assert response.status_code == 302 and response.url == "/requests/approvals/"
    assert [m.message for m in get_messages(response.wsgi_request)] == [f"{request.number}：已批准延期。"]
    request.refresh_from_db()
    assert (request.resolve_due_at, request.extension_until, request.extension_count) == (
        at("2026-12-21 18:00"),
        None,
        1,
    )
    again = client_for(secretary_a).post(decide, approve)  # decided already: a conflict, said so
    assert [m.message for m in get_messages(again.wsgi_request)] == ["没有待审批的延期申请。"]


def test_officials_see_overdue_and_supervised_in_their_scope(
    clock, district, resident, staff_a, street_official_a, district_official, category, client_for, api_client_for
):
    clock.set("2026-12-01 10:00")
    late_a = services.request_accept(request=submit(resident, district.a1, category), by=staff_a)
    submit(None, district.b1, category)  # street B: overdue on acceptance
    clock.set("2026-12-16 10:00")
    services.request_supervise(request=late_a, by=district_official, note="请尽快。", due_at=at("2026-12-17 18:00"))

    street = {item["key"]: item for item in api_client_for(street_official_a).get("/api/v1/todo/").json()}
    assert {key: item["count"] for key, item in street.items()} == {
        "requests.overdue": 1,
        "requests.supervising": 1,
        "requests.supervised_late": 0,
    }
    assert street["requests.overdue"]["url"] == f"/dashboard/street/{district.street_a.pk}/list/overdue/"
    clock.set("2026-12-18 10:00")
    whole = counts(api_client_for(district_official).get("/api/v1/todo/").json())
    assert whole == {"requests.overdue": 2, "requests.supervising": 1, "requests.supervised_late": 1}
    queue = client_for(district_official).get("/requests/queue/?status=open&supervised=late").content.decode()
    assert f'data-number="{late_a.number}"' in queue and queue.count("<tr data-number=") == 1
    assert client_for(district_official).get("/requests/queue/?supervised=x").status_code == 200  # ignored, said

    # The secretary and the handler see it on their 待办.
    assert counts(api_client_for(staff_a).get("/api/v1/todo/").json())["requests.supervised"] == 1
    assert api_client_for(resident).get("/api/v1/todo/").json() == []


def test_read_only_officials_are_not_offered_entry_on_behalf(district, district_official, staff_a, client_for):
    official = client_for(district_official)
    page = official.get("/todo/").content.decode()
    assert "代录诉求" not in page and 'data-section="oversight"' in page
    assert official.get("/requests/new/?on_behalf=1").status_code == 403
    assert "代录诉求" not in official.get("/requests/queue/").content.decode()
    assert "代录诉求" in client_for(staff_a).get("/todo/").content.decode()


def test_the_queue_counts_supervised_requests(clock, district, resident, staff_a, category, client_for):
    clock.set("2026-12-07 10:00")
    submit(resident, district.a1, category)
    page = client_for(staff_a).get("/requests/queue/").content.decode()
    assert 'data-count="supervised">0<' in page and 'data-filter="supervised"' in page
    assert ServiceRequest.objects.filter(supervise_due_at__isnull=False).count() == 0
