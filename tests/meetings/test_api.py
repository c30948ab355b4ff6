"""The meeting API: the workflow end to end, scope, bad input, conflicts, query counts, OpenAPI."""

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import ActionItem, Inspection, Meeting, SupervisionTeam
from service_requests.models import RequestEvent, ServiceRequest

from .conftest import plan, png, team_for, two_decisions

S = ServiceRequest.Status
API = "/api/v1"


def create_payload(world, **changes):
    tree = world.district.a1
    payload = {
        "community": tree.community.pk,
        "compound": tree.compound.pk,
        "topic": "曙光小区环境整治协商议事会",
        "kind": "council",
        "scheduled_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "place": "曙光社区党群服务中心",
        "agenda": "协商",
        "requests": [world.garage.pk, world.lights.pk],
        "invitees": [
            {"role": "resident", "resident": tree.residents[0].pk},
            {"role": "property_company", "name": "和美物业"},
        ],
    }
    payload.update(changes)
    return payload


def minutes_payload(world, staff, due_on=None, team=None):
    due_on = (due_on or timezone.localdate() + timedelta(days=5)).isoformat()
    return {
        "minutes": "到会 10 人，形成两项决议。",
        "decisions": [
            {
                "text": "地下车库杂物限期清运",
                "supervision_team": team.pk if team else None,
                "action_items": [
                    {
                        "task": "入户劝导并清运",
                        "owner": staff.pk,
                        "due_on": due_on,
                        "requests": [world.garage.pk, world.lights.pk],
                    }
                ],
            },
            {
                "text": "更换损坏路灯",
                "action_items": [{"owner_label": "和美物业", "due_on": due_on, "requests": [world.lights.pk]}],
            },
        ],
    }


def test_the_workflow_through_the_api(world, staff_a, api_client_for):
    client = api_client_for(staff_a)
    response = client.post(f"{API}/meetings/", create_payload(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    meeting_id = body["id"]
    assert body["status"] == "planned" and body["request_count"] == 2
    assert sorted(body["requests"]) == sorted([world.garage.pk, world.lights.pk])
    assert [(i["role"], i["name"]) for i in body["invitees"]] == [
        ("resident", world.district.a1.residents[0].name),
        ("property_company", "和美物业"),
    ]

    invitees = [i["id"] for i in body["invitees"]]
    response = client.post(f"{API}/meetings/{meeting_id}/attendance/", {"attended": invitees[:1]}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "held"
    assert response.json()["attended_count"] == 1

    response = client.post(f"{API}/meetings/{meeting_id}/minutes/", minutes_payload(world, staff_a), format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "minutes_recorded" and body["decision_count"] == 2 and body["item_count"] == 2
    items = [item for decision in body["decisions"] for item in decision["action_items"]]
    assert [(i["task"], i["responsible"], i["request_numbers"]) for i in items] == [
        ("入户劝导并清运", str(staff_a), [world.garage.number, world.lights.number]),
        ("更换损坏路灯", "和美物业", [world.lights.number]),
    ]
    response = client.post(f"{API}/meetings/{meeting_id}/minutes/", minutes_payload(world, staff_a), format="json")
    assert response.status_code == 409 and response.json()["code"] == "minutes_recorded"

    response = client.post(f"{API}/action-items/{items[0]['id']}/complete/", {"note": "已清运"}, format="json")
    assert response.status_code == 200 and response.json()["done_note"] == "已清运"
    world.garage.refresh_from_db()
    world.lights.refresh_from_db()
    assert (world.garage.status, world.lights.status) == (S.RESOLVED, S.IN_PROGRESS)
    response = client.post(f"{API}/action-items/{items[1]['id']}/complete/", {}, format="json")
    assert response.status_code == 200
    world.lights.refresh_from_db()
    assert world.lights.status == S.RESOLVED
    response = client.post(f"{API}/action-items/{items[1]['id']}/complete/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "already_done"

    listed = client.get(f"{API}/action-items/", {"meeting": meeting_id, "done": "true"}).json()
    assert listed["count"] == 2
    assert client.get(f"{API}/meetings/", {"request": world.garage.pk}).json()["count"] == 1


def test_supervision_through_the_api(world, staff_a, api_client_for):
    client = api_client_for(staff_a)
    tree = world.district.a1
    response = client.post(
        f"{API}/supervision-teams/",
        {
            "community": tree.community.pk,
            "compound": tree.compound.pk,
            "name": "曙光小区义务监督队",
            "leader": tree.residents[6].pk,
            "members": [tree.residents[1].pk, tree.residents[2].pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    team = SupervisionTeam.objects.get()
    response = client.post(
        f"{API}/supervision-teams/",
        {"community": tree.community.pk, "name": "另一队", "members": [world.district.a2.residents[0].pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"members": [f"编号 {world.district.a2.residents[0].pk} 不存在或不在您的范围内。"]}

    meeting = plan(world, staff_a)
    services.meeting_record_minutes(
        meeting=meeting, by=staff_a, minutes="纪要", decisions=two_decisions(world, staff_a)
    )
    decision = meeting.decisions.get(order=1)
    response = client.post(f"{API}/meeting-decisions/{decision.pk}/inspections/", {"finding": "看过"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"decision": ["该决议尚未指定义务监督队，请先指定监督队。"]}
    response = client.post(f"{API}/meeting-decisions/{decision.pk}/team/", {"supervision_team": team.pk}, format="json")
    assert response.status_code == 200 and response.json()["supervision_team_name"] == "曙光小区义务监督队"
    response = client.post(
        f"{API}/meeting-decisions/{decision.pk}/inspections/",
        {"finding": "车库仍有杂物", "ok": "false", "inspector": tree.residents[1].pk, "photo": png()},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["ok"], body["team_name"], body["inspector_name"]) == (
        False,
        "曙光小区义务监督队",
        tree.residents[1].name,
    )
    assert body["photo_url"].endswith(f"/meetings/inspections/{body['id']}/photo/")
    assert client.get(f"{API}/inspections/", {"meeting": meeting.pk}).json()["count"] == 1


# --- bad input ------------------------------------------------------------------------------------------
def test_bad_input_answers_400_with_field_errors(world, staff_a, street_staff_a, api_client_for):
    client = api_client_for(street_staff_a)
    tree_a2 = world.district.a2
    response = client.post(
        f"{API}/meetings/", create_payload(world, compound=tree_a2.compound.pk, requests=[]), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"compound": ["小区「宁国小区」不属于社区「曙光社区」。"]}
    response = client.post(f"{API}/meetings/", create_payload(world, requests=[world.other.pk]), format="json")
    assert response.status_code == 400
    assert response.json() == {"requests": [f"诉求 {world.other.number} 不属于社区「曙光社区」，不能纳入本次会议。"]}
    # Community staff do not even see the other community's request: "not found", like a missing one.
    staff = api_client_for(staff_a)
    response = staff.post(f"{API}/meetings/", create_payload(world, requests=[world.other.pk]), format="json")
    assert response.status_code == 400
    assert response.json() == {"requests": [f"编号 {world.other.pk} 不存在或不在您的范围内。"]}
    response = staff.post(f"{API}/meetings/", create_payload(world, topic="", scheduled_at="明天"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"topic", "scheduled_at"}
    assert not Meeting.objects.exists()

    meeting = plan(world, staff_a)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = staff.post(
        f"{API}/meetings/{meeting.pk}/minutes/", minutes_payload(world, staff_a, due_on=yesterday), format="json"
    )
    assert response.status_code == 400
    # DRF keys the errors of a nested list by the index of the entry at fault.
    assert response.json() == {
        "decisions": {
            "0": {"action_items": {"0": {"due_on": ["完成期限不能早于今天。"]}}},
            "1": {"action_items": {"0": {"due_on": ["完成期限不能早于今天。"]}}},
        }
    }
    payload = minutes_payload(world, staff_a)
    payload["decisions"][1]["action_items"][0]["requests"] = [world.other.pk]
    payload["decisions"][0]["action_items"][0].pop("owner")
    response = staff.post(f"{API}/meetings/{meeting.pk}/minutes/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "decisions": {"0": {"action_items": {"0": {"owner": ["请选择负责人，或填写负责单位。"]}}}}
    }
    payload["decisions"][0]["action_items"][0]["owner"] = staff_a.pk
    response = staff.post(f"{API}/meetings/{meeting.pk}/minutes/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"decisions": [f"落实事项只能关联本次会议的诉求（[{world.other.pk}] 不是）。"]}
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED and not ActionItem.objects.exists()


# --- scope ----------------------------------------------------------------------------------------------
def test_staff_of_another_community_get_404_and_nothing_changes(world, staff_a, staff_b, api_client_for):
    team = team_for(world.district, staff_a)
    meeting = plan(world, staff_a)
    services.meeting_record_minutes(
        meeting=meeting, by=staff_a, minutes="纪要", decisions=two_decisions(world, staff_a, team=team)
    )
    planned = plan(world, staff_a, requests=[], topic="待召开", scheduled_at=timezone.now() + timedelta(days=1))
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    decision = item.decision
    inspection = services.inspection_record(decision=decision, by=staff_a, finding="好")
    events = RequestEvent.objects.count()
    client = api_client_for(staff_b)

    for url in (
        f"{API}/meetings/{meeting.pk}/",
        f"{API}/action-items/{item.pk}/",
        f"{API}/meeting-decisions/{decision.pk}/",
        f"{API}/inspections/{inspection.pk}/",
        f"{API}/meeting-invitees/{meeting.invitees.first().pk}/",
        f"{API}/supervision-teams/{team.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"{API}/meetings/{planned.pk}/attendance/", {"attended": []}),
        (f"{API}/meetings/{planned.pk}/minutes/", {"minutes": "越界"}),
        (f"{API}/meetings/{planned.pk}/cancel/", {"reason": "越界"}),
        (f"{API}/action-items/{item.pk}/complete/", {}),
        (f"{API}/meeting-decisions/{decision.pk}/team/", {"supervision_team": None}),
        (f"{API}/meeting-decisions/{decision.pk}/inspections/", {"finding": "越界"}),
    ):
        assert client.post(url, data, format="json").status_code == 404, url
    assert client.patch(f"{API}/meetings/{planned.pk}/", {"topic": "越界"}, format="json").status_code == 404
    assert client.patch(f"{API}/supervision-teams/{team.pk}/", {"name": "越界"}, format="json").status_code == 404
    for name in (
        "meetings",
        "action-items",
        "meeting-decisions",
        "inspections",
        "meeting-invitees",
        "supervision-teams",
    ):
        assert client.get(f"{API}/{name}/").json()["count"] == 0, name

    planned.refresh_from_db()
    item.refresh_from_db()
    decision.refresh_from_db()
    team.refresh_from_db()
    assert (planned.status, planned.topic) == (Meeting.Status.PLANNED, "待召开")
    assert item.done_at is None and decision.supervision_team == team and team.name == "曙光小区义务监督队"
    assert Inspection.objects.count() == 1 and RequestEvent.objects.count() == events


def test_officials_read_but_get_403_on_steps(world, staff_a, street_official_a, api_client_for):
    meeting = plan(world, staff_a)
    services.meeting_record_minutes(
        meeting=meeting, by=staff_a, minutes="纪要", decisions=two_decisions(world, staff_a)
    )
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    client = api_client_for(street_official_a)
    assert client.get(f"{API}/meetings/{meeting.pk}/").status_code == 200
    assert client.post(f"{API}/action-items/{item.pk}/complete/", {}, format="json").status_code == 403
    assert client.patch(f"{API}/meetings/{meeting.pk}/", {"topic": "改"}, format="json").status_code == 403
    response = client.post(f"{API}/meetings/", create_payload(world, requests=[]), format="json")
    assert response.status_code == 400  # the community is not one they may change: "not found"
    item.refresh_from_db()
    assert item.done_at is None


def test_an_owner_lists_their_items(world, staff_a, resident, api_client_for):
    meeting = plan(world, staff_a)
    services.meeting_record_minutes(
        meeting=meeting, by=staff_a, minutes="纪要", decisions=two_decisions(world, resident)
    )
    client = api_client_for(resident)
    body = client.get(f"{API}/action-items/", {"mine": "true"}).json()
    assert [row["task"] for row in body["results"]] == ["入户劝导并组织清运"]
    assert client.get(f"{API}/meetings/").json()["count"] == 0
    item = ActionItem.objects.get(owner=resident)
    assert client.post(f"{API}/action-items/{item.pk}/complete/", {}, format="json").status_code == 403


def test_update_a_planned_meeting(world, staff_a, api_client_for):
    meeting = plan(world, staff_a, scheduled_at=timezone.now() + timedelta(days=1))
    client = api_client_for(staff_a)
    response = client.patch(f"{API}/meetings/{meeting.pk}/", {"place": "新会议室"}, format="json")
    assert response.status_code == 200 and response.json()["place"] == "新会议室"
    response = client.post(f"{API}/meetings/{meeting.pk}/cancel/", {"reason": "改期"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    response = client.patch(f"{API}/meetings/{meeting.pk}/", {"place": "再改"}, format="json")
    assert response.status_code == 409
    assert client.delete(f"{API}/meetings/{meeting.pk}/").status_code == 405


# --- query counts (rule 7) ------------------------------------------------------------------------------
ROWS = pytest.mark.parametrize("rows", [2, 20])


def many_meetings(world, staff, rows):
    team = team_for(world.district, staff)
    for i in range(rows):
        requests = [world.garage, world.lights] if i == 0 else []
        meeting = plan(world, staff, requests=requests, topic=f"会议{i}")
        decisions = two_decisions(world, staff, team=team)
        if i:
            for decision in decisions:
                decision["action_items"][0]["requests"] = []
        services.meeting_record_minutes(meeting=meeting, by=staff, minutes="纪要", decisions=decisions)
        services.inspection_record(decision=meeting.decisions.first(), by=staff, finding="好")


@ROWS
@pytest.mark.parametrize(
    ("name", "queries", "per_meeting"),
    [
        ("meetings", 3, 1),
        ("action-items", 3, 2),
        ("meeting-decisions", 5, 2),
        ("inspections", 2, 1),
        ("meeting-invitees", 2, 3),
        ("supervision-teams", 3, None),
    ],
)
def test_api_list_queries_are_flat(
    world, staff_a, api_client_for, django_assert_max_num_queries, rows, name, queries, per_meeting
):
    many_meetings(world, staff_a, rows)
    tree = world.district.a1
    if per_meeting is None:
        for i in range(rows - 1):
            team = SupervisionTeam(community=tree.community, name=f"监督队{i}")
            services.supervision_team_save(instance=team, by=staff_a, members=tree.residents[:3])
    client = api_client_for(staff_a)
    client.get(f"{API}/{name}/")
    with django_assert_max_num_queries(queries):  # the user's roles were read by the first request
        response = client.get(f"{API}/{name}/", {"page_size": 100})
    assert response.status_code == 200
    expected = rows * per_meeting if per_meeting else rows
    assert response.json()["count"] == expected == len(response.json()["results"])


def test_meeting_detail_queries_are_bounded(world, staff_a, api_client_for, django_assert_max_num_queries):
    many_meetings(world, staff_a, 2)
    client = api_client_for(staff_a)
    meeting = Meeting.objects.first()
    client.get(f"{API}/meetings/{meeting.pk}/")
    with django_assert_max_num_queries(7):
        assert client.get(f"{API}/meetings/{meeting.pk}/").status_code == 200


def test_the_schema_lists_every_endpoint(client_for, staff_a):
    schema = client_for(staff_a).get("/api/schema/", {"format": "json"}).json()
    paths = set(schema["paths"])
    for path in (
        "/api/v1/meetings/",
        "/api/v1/meetings/{id}/",
        "/api/v1/meetings/{meeting_pk}/attendance/",
        "/api/v1/meetings/{meeting_pk}/minutes/",
        "/api/v1/meetings/{meeting_pk}/cancel/",
        "/api/v1/action-items/",
        "/api/v1/action-items/{item_pk}/complete/",
        "/api/v1/meeting-decisions/",
        "/api/v1/meeting-decisions/{decision_pk}/team/",
        "/api/v1/meeting-decisions/{decision_pk}/inspections/",
        "/api/v1/inspections/",
        "/api/v1/meeting-invitees/",
        "/api/v1/supervision-teams/",
        "/api/v1/supervision-teams/{id}/",
    ):
        assert path in paths, path
    minutes = schema["paths"]["/api/v1/meetings/{meeting_pk}/minutes/"]["post"]
    assert set(minutes["responses"]) == {"200", "400", "403", "404", "409"}
