"""Meeting pages: the staff journey, scope (404 outside it, nothing changed), bad input, query counts."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import ActionItem, Inspection, Invitee, Meeting, SupervisionTeam
from service_requests.models import RequestEvent, ServiceRequest

from .conftest import file_request, plan, png, team_for, two_decisions

S = ServiceRequest.Status


def recorded(world, staff, team=None):
    meeting = plan(world, staff)
    services.meeting_record_minutes(
        meeting=meeting, by=staff, minutes="纪要", decisions=two_decisions(world, staff, team=team)
    )
    return meeting


def field_errors(response, name):
    """The error messages the page shows under field ``name``."""
    html = response.content.decode()
    return re.findall(rf'data-field-error="{re.escape(name)}">([^<]*)<', html)


# --- the journey ----------------------------------------------------------------------------------------
def test_staff_plan_a_meeting_from_two_requests_on_the_page(client_for, world, staff_a):
    client = client_for(staff_a)
    page = client.get(reverse("meetings:create") + f"?requests={world.garage.pk},{world.lights.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    # Both requests are offered and preselected; the A2 request is not offered at all.
    assert html.count('name="requests"') == 2
    assert f'value="{world.garage.pk}" checked' in html and f'value="{world.lights.pk}" checked' in html
    assert world.other.number not in html

    scheduled = timezone.localtime() + timedelta(days=2)
    response = client.post(
        reverse("meetings:create"),
        {
            "community": world.district.a1.community.pk,
            "compound": world.district.a1.compound.pk,
            "topic": "曙光小区车库清理协商议事会",
            "kind": "council",
            "scheduled_at": scheduled.strftime("%Y-%m-%dT%H:%M"),
            "place": "曙光社区党群服务中心",
            "agenda": "协商车库清理",
            "requests": [world.garage.pk, world.lights.pk],
            "invite": ["requesters", "property"],
            "other_invitees": "娄某 志愿者\n施工单位项目经理",
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    assert set(meeting.requests.all()) == {world.garage, world.lights}
    assert sorted(meeting.invitees.values_list("role", "name")) == sorted(
        [
            (Invitee.Role.RESIDENT, world.district.a1.residents[0].name),
            (Invitee.Role.RESIDENT, world.district.a1.residents[6].name),
            (Invitee.Role.PROPERTY_COMPANY, "和美物业"),
            (Invitee.Role.VOLUNTEER, "娄某"),
            (Invitee.Role.OTHER, "施工单位项目经理"),
        ]
    )
    for request in (world.garage, world.lights):
        request.refresh_from_db()
        assert request.status == S.IN_PROGRESS

    detail = client.get(meeting.get_absolute_url())
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "曙光小区车库清理协商议事会" in html
    assert f'data-request="{world.garage.number}"' in html and f'data-request="{world.lights.number}"' in html


def test_minutes_page_records_decisions_and_done_buttons_resolve_the_requests(client_for, world, staff_a):
    meeting = plan(world, staff_a)
    client = client_for(staff_a)
    page = client.get(reverse("meetings:minutes", args=[meeting.pk]))
    assert page.status_code == 200
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    data = {
        "held_at": timezone.localtime(meeting.scheduled_at).strftime("%Y-%m-%dT%H:%M"),
        "minutes": "到会 12 人，形成两项决议。",
        "decisions-TOTAL_FORMS": "4",
        "decisions-INITIAL_FORMS": "0",
        "decisions-MIN_NUM_FORMS": "0",
        "decisions-MAX_NUM_FORMS": "30",
        "decisions-0-text": "地下车库杂物限期清运",
        "decisions-0-task": "入户劝导",
        "decisions-0-owner": staff_a.pk,
        "decisions-0-due_on": due,
        "decisions-0-requests": [world.garage.pk],
        "decisions-1-text": "",
        "decisions-1-task": "物业统一清运",
        "decisions-1-owner_label": "和美物业",
        "decisions-1-due_on": due,
        "decisions-1-requests": [world.garage.pk],
        "decisions-2-text": "更换损坏路灯",
        "decisions-2-owner_label": "和美物业",
        "decisions-2-due_on": due,
        "decisions-2-requests": [world.lights.pk],
        # Row 3 left as it came (its request boxes are checked by default): ignored.
        "decisions-3-requests": [world.garage.pk, world.lights.pk],
    }
    response = client.post(reverse("meetings:minutes", args=[meeting.pk]), data)
    assert response.status_code == 302, field_errors(response, "decisions-0-text")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.MINUTES_RECORDED
    rows = [
        (d.order, d.text, [i.task for i in d.action_items.order_by("pk")]) for d in meeting.decisions.order_by("order")
    ]
    assert rows == [(1, "地下车库杂物限期清运", ["入户劝导", "物业统一清运"]), (2, "更换损坏路灯", ["更换损坏路灯"])]

    for item in ActionItem.objects.order_by("pk"):
        response = client.post(reverse("meetings:action_complete", args=[item.pk]), {"note": "已完成"})
        assert response.status_code == 302
        assert response["Location"] == f"{meeting.get_absolute_url()}#action-{item.pk}"
    for request in (world.garage, world.lights):
        request.refresh_from_db()
        assert request.status == S.RESOLVED
    html = client.get(meeting.get_absolute_url()).content.decode()
    assert html.count('data-status="resolved"') == 2
    assert html.count('data-done="1"') == 3


def test_minutes_page_shows_clear_errors(client_for, world, staff_a):
    meeting = plan(world, staff_a)
    client = client_for(staff_a)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        reverse("meetings:minutes", args=[meeting.pk]),
        {
            "held_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "minutes": "",
            "decisions-TOTAL_FORMS": "2",
            "decisions-INITIAL_FORMS": "0",
            "decisions-MIN_NUM_FORMS": "0",
            "decisions-MAX_NUM_FORMS": "30",
            "decisions-0-text": "清运",
            "decisions-0-due_on": yesterday,
            "decisions-1-due_on": yesterday,
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "minutes") == ["请填写会议纪要。"]
    assert field_errors(response, "decisions-0-due_on") == ["完成期限不能早于今天。"]
    assert field_errors(response, "decisions-0-owner") == ["请选择负责人，或填写负责单位。"]
    assert field_errors(response, "decisions-1-text") == ["请填写决议内容。"]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED and not ActionItem.objects.exists()

    # The service's own checks land on the form too (here: the meeting has not been held yet).
    response = client.post(
        reverse("meetings:minutes", args=[meeting.pk]),
        {
            "held_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "minutes": "纪要",
            "decisions-TOTAL_FORMS": "0",
            "decisions-INITIAL_FORMS": "0",
            "decisions-MIN_NUM_FORMS": "0",
            "decisions-MAX_NUM_FORMS": "30",
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "held_at") == ["会议尚未召开：召开时间不能晚于现在。"]


def test_create_page_shows_clear_errors(client_for, world, street_staff_a):
    client = client_for(street_staff_a)
    response = client.post(
        reverse("meetings:create"),
        {
            "community": world.district.a1.community.pk,
            "compound": world.district.a2.compound.pk,
            "topic": "议题",
            "kind": "council",
            "scheduled_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "place": "会议室",
            "requests": [world.other.pk],
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "compound") == ["小区「宁国小区」不属于社区「曙光社区」。"]
    assert field_errors(response, "requests") == [
        f"诉求 {world.other.number} 不属于社区「曙光社区」，不能纳入本次会议。"
    ]
    assert not Meeting.objects.exists()


def test_attendance_on_the_detail_page(client_for, world, staff_a):
    meeting = plan(world, staff_a)
    invitees = list(meeting.invitees.order_by("pk"))
    client = client_for(staff_a)
    response = client.post(
        reverse("meetings:attendance", args=[meeting.pk]),
        {
            "held_at": timezone.localtime(meeting.scheduled_at).strftime("%Y-%m-%dT%H:%M"),
            "attended": [invitees[0].pk, invitees[1].pk],
            "extra": "王某 居民代表",
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert meeting.invitees.filter(attended=True).count() == 3
    response = client.post(
        reverse("meetings:attendance", args=[meeting.pk]),
        {"held_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400
    assert field_errors(response, "held_at") == ["会议尚未召开：召开时间不能晚于现在。"]


def test_inspection_page(client_for, world, staff_a):
    team = team_for(world.district, staff_a)
    meeting = recorded(world, staff_a, team=team)
    decision = meeting.decisions.get(order=1)
    client = client_for(staff_a)
    assert client.get(reverse("meetings:inspect", args=[decision.pk])).status_code == 200
    response = client.post(
        reverse("meetings:inspect", args=[decision.pk]),
        {
            "inspected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "inspector": world.district.a1.residents[1].pk,
            "ok": "0",
            "finding": "车库仍有杂物",
            "photo": png(),
        },
    )
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert (inspection.ok, inspection.finding, inspection.team) == (False, "车库仍有杂物", team)
    photo = client.get(reverse("meetings:inspection_photo", args=[inspection.pk]))
    assert photo.status_code == 200 and photo["X-Content-Type-Options"] == "nosniff"
    html = client.get(meeting.get_absolute_url()).content.decode()
    assert 'data-testid="inspection"' in html and "车库仍有杂物" in html
    response = client.post(
        reverse("meetings:inspect", args=[decision.pk]),
        {
            "inspected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "ok": "1",
            "finding": "好",
            "photo": SimpleUploadedFile("a.png", b"<html>not a photo</html>", content_type="image/png"),
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "photo") == ["a.png 不是可识别的照片，只接受 JPEG、PNG 或 WebP 图片。"]


def test_team_pages(client_for, world, staff_a):
    client = client_for(staff_a)
    assert client.get(reverse("meetings:teams")).status_code == 200
    page = client.get(reverse("meetings:team_create"))
    assert page.status_code == 200
    plan(world, staff_a)  # invitees become candidates
    tree = world.district.a1
    response = client.post(
        reverse("meetings:team_create"),
        {
            "community": tree.community.pk,
            "name": "曙光小区义务监督队",
            "compound": tree.compound.pk,
            "leader": tree.residents[6].pk,
            "members": [tree.residents[0].pk, tree.residents[6].pk],
        },
    )
    assert response.status_code == 302
    team = SupervisionTeam.objects.get()
    assert set(team.members.all()) == {tree.residents[0], tree.residents[6]}
    response = client.post(
        reverse("meetings:team_create"), {"community": tree.community.pk, "name": "曙光小区义务监督队"}
    )
    assert response.status_code == 400
    assert field_errors(response, "name") == ["本社区已有同名的监督队。"]


# --- scope ----------------------------------------------------------------------------------------------
def test_staff_of_another_community_get_404_on_every_page_and_nothing_changes(client_for, world, staff_a, staff_b):
    team = team_for(world.district, staff_a)
    meeting = recorded(world, staff_a, team=team)
    planned = plan(world, staff_a, requests=[], topic="待召开", scheduled_at=timezone.now() + timedelta(days=1))
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    decision = item.decision
    inspection = services.inspection_record(decision=decision, by=staff_a, finding="好", photo=png())
    events = RequestEvent.objects.count()
    client = client_for(staff_b)

    gets = [
        reverse("meetings:detail", args=[meeting.pk]),
        reverse("meetings:minutes", args=[planned.pk]),
        reverse("meetings:edit", args=[planned.pk]),
        reverse("meetings:inspect", args=[decision.pk]),
        reverse("meetings:inspection_photo", args=[inspection.pk]),
        reverse("meetings:team_edit", args=[team.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (reverse("meetings:attendance", args=[planned.pk]), {"held_at": "2020-01-01T10:00"}),
        (reverse("meetings:minutes", args=[planned.pk]), {"minutes": "越界"}),
        (reverse("meetings:cancel", args=[planned.pk]), {"reason": "越界"}),
        (reverse("meetings:edit", args=[planned.pk]), {"topic": "越界"}),
        (reverse("meetings:action_complete", args=[item.pk]), {"note": "越界"}),
        (reverse("meetings:decision_team", args=[decision.pk]), {}),
        (reverse("meetings:inspect", args=[decision.pk]), {"finding": "越界", "ok": "1"}),
        (reverse("meetings:team_edit", args=[team.pk]), {"name": "越界"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    for url in (reverse("meetings:list"), reverse("meetings:actions"), reverse("meetings:teams")):
        html = client.get(url).content.decode()
        assert "曙光" not in html, url

    planned.refresh_from_db()
    item.refresh_from_db()
    decision.refresh_from_db()
    team.refresh_from_db()
    assert (planned.status, planned.topic) == (Meeting.Status.PLANNED, "待召开")
    assert item.done_at is None and decision.supervision_team == team and team.name == "曙光小区义务监督队"
    assert Inspection.objects.count() == 1 and RequestEvent.objects.count() == events


def test_residents_are_refused_and_officials_read_only(client_for, world, staff_a, resident, street_official_a):
    meeting = recorded(world, staff_a)
    assert client_for(resident).get(reverse("meetings:list")).status_code == 403
    assert client_for(resident).get(meeting.get_absolute_url()).status_code == 403
    official = client_for(street_official_a)
    html = official.get(meeting.get_absolute_url()).content.decode()
    assert "曙光小区环境整治协商议事会" in html and 'data-testid="complete-action"' not in html
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    response = official.post(reverse("meetings:action_complete", args=[item.pk]), {})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.done_at is None
    assert official.get(reverse("meetings:create")).status_code == 403


def test_list_filters(client_for, world, staff_a):
    recorded(world, staff_a)
    plan(world, staff_a, requests=[], topic="春节联欢协商会", scheduled_at=timezone.now() - timedelta(days=4))
    client = client_for(staff_a)

    def topics(query):
        html = client.get(reverse("meetings:list") + query).content.decode()
        return sorted(t for t in ("曙光小区环境整治协商议事会", "春节联欢协商会") if f">{t}</a>" in html)

    assert topics("") == ["春节联欢协商会", "曙光小区环境整治协商议事会"]
    assert topics("?minutes=missing") == ["春节联欢协商会"]
    assert topics("?status=minutes_recorded") == ["曙光小区环境整治协商议事会"]
    assert topics("?q=春节") == ["春节联欢协商会"]
    assert topics(f"?community={world.district.a2.community.pk}") == []
    html = client.get(reverse("meetings:list") + "?minutes=missing").content.decode()
    assert 'data-minutes-missing="4"' in html


# --- query counts (rule 7) ------------------------------------------------------------------------------
ROWS = pytest.mark.parametrize("rows", [2, 20])


@ROWS
def test_meeting_list_queries_are_flat(client_for, world, staff_a, django_assert_max_num_queries, rows):
    meeting = recorded(world, staff_a)
    for i in range(rows - 1):
        plan(world, staff_a, requests=[], topic=f"会议{i}")
    client = client_for(staff_a)
    client.get(reverse("meetings:list"))
    with django_assert_max_num_queries(9):
        response = client.get(reverse("meetings:list"))
    assert response.content.decode().count("data-meeting=") == rows
    assert meeting.pk


@ROWS
def test_action_list_queries_are_flat(client_for, world, staff_a, django_assert_max_num_queries, rows):
    for i in range(rows // 2):
        meeting = plan(world, staff_a, requests=[world.garage, world.lights] if i == 0 else [], topic=f"会议{i}")
        decisions = two_decisions(world, staff_a)
        if i:
            for decision in decisions:
                decision["action_items"][0]["requests"] = []
        services.meeting_record_minutes(meeting=meeting, by=staff_a, minutes="纪要", decisions=decisions)
    client = client_for(staff_a)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("meetings:actions"))
    assert response.content.decode().count("data-action=") == rows


@ROWS
def test_team_list_queries_are_flat(client_for, world, staff_a, django_assert_max_num_queries, rows):
    tree = world.district.a1
    for i in range(rows):
        team = SupervisionTeam(community=tree.community, compound=tree.compound, name=f"监督队{i}")
        services.supervision_team_save(instance=team, by=staff_a, members=tree.residents[:3])
    client = client_for(staff_a)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("meetings:teams"))
    assert response.content.decode().count("data-team=") == rows


def test_detail_page_queries_are_bounded(client_for, world, staff_a, django_assert_max_num_queries):
    team = team_for(world.district, staff_a)
    meeting = recorded(world, staff_a, team=team)
    for decision in meeting.decisions.all():
        services.inspection_record(decision=decision, by=staff_a, finding="好")
    file_request(world.district.a1, world.garage.category, by=staff_a, household=2)
    client = client_for(staff_a)
    with django_assert_max_num_queries(16):
        assert client.get(meeting.get_absolute_url()).status_code == 200


def test_admin_lists_and_confirms_items(admin_client, world, staff_a):
    team = team_for(world.district, staff_a)
    meeting = recorded(world, staff_a, team=team)
    services.inspection_record(decision=meeting.decisions.first(), by=staff_a, finding="好")
    for name in ("meeting", "decision", "actionitem", "inspection", "supervisionteam"):
        assert admin_client.get(reverse(f"admin:meetings_{name}_changelist")).status_code == 200, name
    assert admin_client.get(reverse("admin:meetings_meeting_change", args=[meeting.pk])).status_code == 200
    items = ActionItem.objects.filter(decision__meeting=meeting)
    response = admin_client.post(
        reverse("admin:meetings_actionitem_changelist"),
        {"action": "complete", "_selected_action": [item.pk for item in items]},
    )
    assert response.status_code == 302
    assert not ActionItem.objects.filter(done_at=None).exists()
    for request in (world.garage, world.lights):
        request.refresh_from_db()
        assert request.status == S.RESOLVED
