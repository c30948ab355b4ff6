"""The resident's follow-up on their own request and 我也遇到 on a neighbour's, at fixed dates.

- 催办 only after the deadline in force or 3 working days without progress, at most once per
  working day; it tells the handler and the community secretary, shows in the timeline and is
  counted on the dashboard (the ``urged`` KPI).
- 补充说明 adds text and photos to the timeline; 撤回 only before acceptance, with a reason.
- 我也遇到 adds a resident of the same compound once, counted on the request and the board,
  and tells them of its resolution; outsiders get 404 and change nothing.
- The board: its residents (signed in), 404 for another community's, anonymous only when
  ``PUBLIC_COMPOUND_BOARD`` is on; photos only when staff marked them public; queries pinned.

Time is fixed by setting ``django.utils.timezone.now`` (every service and ``auto_now`` reads it).
"""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from notifications.models import Notification
from service_requests import services
from service_requests.models import Attachment, RequestEvent, RequestSupporter, ServiceRequest
from tests.factories import CategoryFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text):
    """A fixed moment, local time: ``"2026-12-07 10:00"`` (a Monday)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        def set(self, text):
            monkeypatch.setattr(timezone, "now", lambda: at(text))

    return Clock()


@pytest.fixture
def category():
    return CategoryFactory(name="楼道照明", accept_within_hours=24, resolve_within_days=5)


@pytest.fixture
def neighbour(district):
    """A resident of building 2 of the resident's compound (曙光小区)."""
    return _resident_user(district.a1.residents[6], "neighbour_a1", district.a1.community)


@pytest.fixture
def outsider(district):
    """A resident of 望湖小区 (another street)."""
    return _resident_user(district.b1.residents[0], "resident_b1", district.b1.community)


def _resident_user(record, username, community):
    user = UserFactory(username=username, name=record.name)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, resident=True, community=community)
    return user


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def submit(resident, district, category, text="2栋1单元101室门口的楼道灯坏了，电话13912345678"):
    home = district.a1.households[0]
    return services.request_submit(
        by=resident,
        category=category,
        description=text,
        compound=district.a1.compound,
        building=home.building,
        household=home,
        contact_name=district.a1.residents[0].name,
    )


def post(client, request, name, data=None):
    """POST a follow-up step from the resident's page; (status, the message it added)."""
    response = client.post(reverse("service_requests:follow_up", args=[request.pk, name]), data or {})
    shown = [m.message for m in get_messages(response.wsgi_request)]
    return response.status_code, shown[-1:]  # (earlier redirects were not followed: their messages wait)


def timeline(client, request):
    page = client.get(request.get_absolute_url()).content.decode()
    return page


def test_urge_waits_for_the_deadline_or_three_working_days_and_once_a_working_day(
    clock, district, resident, staff_a, secretary_a, district_official, category, client_for
):
    clock.set("2026-12-07 10:00")  # Monday
    request = submit(resident, district, category)
    clock.set("2026-12-07 11:00")
    services.request_accept(request=request, by=staff_a)  # progress; due to resolve 12-14 23:59
    client = client_for(resident)

    clock.set("2026-12-09 16:00")  # Wednesday: 2 working days since the progress, within the deadline
    page = timeline(client, request)
    assert 'data-testid="follow-urge-later"' in page and 'data-testid="follow-urge"' not in page
    assert post(client, request, "urge") == (302, ["诉求尚未超过办理期限，且 3 个工作日内已有进展，暂不能催办。"])

    clock.set("2026-12-10 09:00")  # Thursday: the third working day
    assert 'data-testid="follow-urge"' in timeline(client, request)
    assert post(client, request, "urge") == (302, ["已催办，社区会尽快办理。"])
    told = Notification.objects.filter(dedupe_key__startswith=f"request:{request.pk}:", kind="request.urged")
    assert sorted(told.values_list("recipient__username", flat=True)) == sorted(
        [staff_a.username, secretary_a.username]
    )
    assert told.first().title == f"居民催办诉求 {request.number}，请尽快办理。"

    once = "每个工作日只能催办一次，请下一个工作日再催办。"
    clock.set("2026-12-10 17:00")  # the same working day
    assert post(client, request, "urge") == (302, [once])
    clock.set("2026-12-11 08:00")  # Friday
    assert post(client, request, "urge") == (302, ["已催办，社区会尽快办理。"])
    clock.set("2026-12-13 10:00")  # Sunday: no working day has begun since Friday's urge
    assert post(client, request, "urge") == (302, [once])
    clock.set("2026-12-14 09:00")  # Monday
    assert post(client, request, "urge") == (302, ["已催办，社区会尽快办理。"])

    request.refresh_from_db()
    assert (request.urge_count, request.urged_at) == (3, at("2026-12-14 09:00"))
    lines = list(RequestEvent.objects.filter(request=request, kind="urged").values_list("message", "public"))
    assert lines == [(f"居民第 {n} 次催办。", True) for n in (1, 2, 3)]
    page = timeline(client, request)
    assert page.count('data-event="urged"') == 3 and "居民第 3 次催办。" in page

    # Counted on the dashboard: the 催办 row of the community's request table and its list.
    table = client_for(district_official).get(
        f"/dashboard/community/{district.a1.community.pk}/table/requests/?from=2026-12&to=2026-12"
    )
    rows = {row[0]["value"]: row[1]["value"] for row in table.json()["rows"]}
    assert rows["催办"] == 3
    listed = client_for(district_official).get(
        f"/dashboard/community/{district.a1.community.pk}/list/urged/?from=2026-12&to=2026-12"
    )
    assert listed.status_code == 200 and request.number in listed.content.decode()


def test_urge_after_the_accept_deadline_even_within_three_working_days(clock, district, resident, category, client_for):
    clock.set("2026-12-07 10:00")
    request = submit(resident, district, category)
    clock.set("2026-12-08 10:30")  # 24 h to accept have passed; 1 working day
    assert post(client_for(resident), request, "urge") == (302, ["已催办，社区会尽快办理。"])


def test_supplement_and_withdraw_with_their_limits(
    clock, district, resident, staff_a, staff_b, outsider, category, client_for
):
    clock.set("2026-12-07 10:00")
    request = submit(resident, district, category)
    client = client_for(resident)
    response = client.post(
        reverse("service_requests:follow_up", args=[request.pk, "supplement"]),
        {"supplement-message": "晚上七点以后完全看不见。", "supplement-photos": [png()]},
    )
    assert response.status_code == 302
    event = RequestEvent.objects.get(request=request, kind="supplemented")
    assert (event.message, event.public, event.attachments.count()) == ("晚上七点以后完全看不见。", True, 1)
    page = timeline(client, request)
    assert 'data-event="supplemented"' in page and "晚上七点以后完全看不见。" in page
    assert Notification.objects.filter(kind="request.supplemented", recipient=staff_a).count() == 1

    # Outsiders: another street's resident 404, another community's staff 404; nothing changes.
    before = ServiceRequest.objects.filter(pk=request.pk).values().get()
    events = RequestEvent.objects.filter(request=request).count()
    for user in (outsider, staff_b):
        for name, data in (("supplement", {"supplement-message": "x"}), ("withdraw", {"withdraw-reason": "x"})):
            assert post(client_for(user), request, name, data)[0] == 404
    # The community's staff see it but did not file it: 403.
    assert post(client_for(staff_a), request, "withdraw", {"withdraw-reason": "代撤"})[0] == 403
    assert ServiceRequest.objects.filter(pk=request.pk).values().get() == before
    assert RequestEvent.objects.filter(request=request).count() == events

    # 撤回 needs a reason, then works before acceptance only.
    status, _shown = post(client, request, "withdraw", {"withdraw-reason": ""})
    assert status == 200 and ServiceRequest.objects.get(pk=request.pk).status == "submitted"
    accepted = services.request_accept(request=submit(resident, district, category), by=staff_a)
    assert post(client, accepted, "withdraw", {"withdraw-reason": "已自行解决"}) == (
        302,
        ["该诉求当前状态为「已签收」，不能撤回。"],
    )
    assert post(client, request, "withdraw", {"withdraw-reason": "已自行解决"}) == (302, ["诉求已撤回。"])
    request.refresh_from_db()
    assert (request.status, request.closed_at) == ("closed", at("2026-12-07 10:00"))
    withdrawn = RequestEvent.objects.get(request=request, kind="withdrawn")
    assert (withdrawn.message, withdrawn.from_status, withdrawn.to_status) == ("已自行解决", "submitted", "closed")
    assert 'data-event="withdrawn"' in timeline(client, request)
    assert not request.clocks.filter(running=True).exists()  # no reminder for a withdrawn request
    # Nothing more to add to a closed request.
    assert post(client, request, "supplement", {"supplement-message": "再补充"}) == (
        302,
        ["该诉求当前状态为「已关闭」，不能补充说明。"],
    )


def test_a_neighbour_joins_once_and_hears_of_the_resolution(
    district, resident, neighbour, outsider, staff_a, category, client_for, api_client_for
):
    request = submit(resident, district, category)
    board_url = reverse("service_requests:board", args=[district.a1.compound.pk])
    client = client_for(neighbour)
    board = client.get(board_url).content.decode()
    assert 'data-testid="support-button"' in board
    assert "101室" not in board and "13912345678" not in board and district.a1.residents[0].name not in board

    support_url = reverse("service_requests:support", args=[request.pk])
    assert client.post(support_url)["Location"] == f"{board_url}#r{request.pk}"
    assert client.post(support_url, HTTP_HX_REQUEST="true").status_code == 200  # again: nothing new
    api = api_client_for(neighbour).post(reverse("request-support", args=[request.pk]), {}, format="json")
    assert api.status_code == 200
    assert (api.json()["supporters"], "contact_name" in api.json(), "101室" in api.json()["description"]) == (
        1,
        False,
        False,
    )
    assert list(RequestSupporter.objects.filter(request=request).values_list("user", flat=True)) == [neighbour.pk]
    assert ServiceRequest.objects.get(pk=request.pk).supporter_count == 1
    assert "1 位邻居也遇到" in client.get(board_url).content.decode()
    assert 'data-testid="joined"' in client.get(board_url).content.decode()
    # 我的信息 lists what the neighbour joined (PIPL: it is data about them).
    mine = client.get("/registry/my-data/download.json").json()
    joined = {section["key"]: section for section in mine["sections"]}["supported_requests"]["rows"]
    assert [row["number"] for row in joined] == [request.number]

    # Outsiders: 404 for the board and the step, nothing changes; the submitter may not join their own.
    assert client_for(outsider).get(board_url).status_code == 404
    assert client_for(outsider).post(support_url).status_code == 404
    assert api_client_for(outsider).post(reverse("request-support", args=[request.pk])).status_code == 404
    assert client_for(resident).post(support_url).status_code == 403
    assert ServiceRequest.objects.get(pk=request.pk).supporter_count == 1

    services.request_accept(request=request, by=staff_a)
    services.request_resolve(request=request, by=staff_a, message="已更换2栋1单元101室门口灯泡，联系人13912345678。")
    told = Notification.objects.get(recipient=neighbour, kind="request.resolved")
    assert told.title == f"您附议的诉求 {request.number} 已办结。"
    assert told.body == "已更换2栋**单元**门口灯泡，联系人**。"
    assert told.link == f"{board_url}#r{request.pk}"
    # Resolved: no more joining (the step is for open requests); a user of no compound: 404.
    assert client_for(neighbour).post(support_url, HTTP_HX_REQUEST="true").content.decode().count("不能附议") == 1
    assert client_for(UserFactory()).post(support_url).status_code == 404


def test_the_board_reads_and_public_photos(
    settings, district, resident, neighbour, staff_a, category, client, client_for, django_assert_max_num_queries
):
    request = submit(resident, district, category)
    services.request_resolve(
        request=services.request_accept(request=request, by=staff_a), by=staff_a, message="已修好", photos=[png()]
    )
    photo = Attachment.objects.get(request=request)
    board_url = reverse("service_requests:board", args=[district.a1.compound.pk])
    photo_url = reverse("service_requests:board_photo", args=[photo.pk])
    reader = client_for(neighbour)
    assert photo_url not in reader.get(board_url).content.decode()
    assert reader.get(photo_url).status_code == 404  # not marked public

    staff = client_for(staff_a)
    assert staff.post(reverse("service_requests:photo_public", args=[photo.pk]), {"public": "1"}).status_code == 302
    assert Attachment.objects.get(pk=photo.pk).public is True
    assert photo_url in reader.get(board_url).content.decode()
    assert reader.get(photo_url).status_code == 200
    assert (
        client_for(neighbour)
        .post(reverse("service_requests:photo_public", args=[photo.pk]), {"public": "0"})
        .status_code
        == 404
    )

    # Anonymous: sent to sign in, unless the boards are public.
    assert client.get(board_url).status_code == 302
    settings.PUBLIC_COMPOUND_BOARD = True
    assert client.get(board_url).status_code == 200
    assert client.get(photo_url).status_code == 200

    for _n in range(19):
        submit(resident, district, category, text="楼下路灯不亮")
    with django_assert_max_num_queries(15):  # 12 + the 四美一好 badges and the fee trend (ratings_tags) + 经费公示
        page = reader.get(board_url)
    assert page.content.decode().count('class="list-group-item board-item"') == 20
