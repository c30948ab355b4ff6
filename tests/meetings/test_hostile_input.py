"""Hostile query input on the meeting pages and API (rule 4): a page ignores a bad parameter with a
notice naming it and still answers 200; the API answers 400 naming the field; never a 500."""

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import ActionItem, Meeting, SupervisionTeam
from tests.hostile import HOSTILE, noticed

from .conftest import plan, team_for, two_decisions

BAD_DATETIMES = ["1217-10-28T13:12:37+16:11", "2025-01-01T10:00:00-16:00", "1217-10-28T13:12:37Z", "9999-99-99"]


# --- pages --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(("param", "label"), [("community", "社区"), ("compound", "小区"), ("page", "页码")])
def test_meeting_list_ignores_a_bad_id_with_a_notice(client_for, world, staff_a, param, label, value):
    plan(world, staff_a)
    client = client_for(staff_a)
    response = client.get(reverse("meetings:list"), {param: value})
    assert response.status_code == 200
    assert noticed(response, label)
    assert [m.pk for m in response.context["meetings"]] == list(Meeting.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(("param", "label"), [("status", "状态"), ("kind", "会议形式"), ("minutes", "纪要待记录")])
def test_meeting_list_ignores_a_bad_choice_with_a_notice(client_for, world, staff_a, param, label, value):
    plan(world, staff_a)
    response = client_for(staff_a).get(reverse("meetings:list"), {param: value})
    assert response.status_code == 200
    assert noticed(response, label)
    assert len(response.context["meetings"]) == 1
    assert (response.context["filters"].status, response.context["filters"].kind) == ("", "")


@pytest.mark.parametrize("value", ["\x00", "\x01", "议" * 51])
def test_meeting_list_ignores_a_bad_search_with_a_notice(client_for, world, staff_a, value):
    plan(world, staff_a)
    response = client_for(staff_a).get(reverse("meetings:list"), {"q": value})
    assert response.status_code == 200
    assert noticed(response, "搜索")
    assert (len(response.context["meetings"]), response.context["filters"].query) == (1, "")


@pytest.mark.parametrize("value", [*HOSTILE, "²,1", "1,,2", ",".join(["1"] * 51)])
def test_planning_from_requests_ignores_a_bad_list_with_a_notice(client_for, world, staff_a, value):
    response = client_for(staff_a).get(reverse("meetings:create"), {"requests": value})
    assert response.status_code == 200
    assert noticed(response, "由诉求发起")
    assert "requests" not in response.context["form"].initial


def test_planning_from_requests_still_preselects_good_ids(client_for, world, staff_a):
    response = client_for(staff_a).get(reverse("meetings:create"), {"requests": f"{world.garage.pk}, {world.other.pk}"})
    assert response.status_code == 200
    assert not noticed(response, "由诉求发起")
    assert response.context["form"].initial["requests"] == [world.garage]  # A2's request is not offered


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(("param", "label"), [("state", "状态"), ("community", "社区"), ("page", "页码")])
def test_action_list_ignores_a_bad_value_with_a_notice(client_for, world, staff_a, param, label, value):
    client = client_for(staff_a)
    expected = [item.pk for item in client.get(reverse("meetings:actions")).context["items"]]
    response = client.get(reverse("meetings:actions"), {param: value})
    assert response.status_code == 200
    assert noticed(response, label)
    assert (response.context["state"], response.context["selected_community"]) == ("open", None)
    assert [item.pk for item in response.context["items"]] == expected


@pytest.mark.parametrize("value", HOSTILE)
def test_action_list_takes_no_junk_for_mine(client_for, world, staff_a, value):
    response = client_for(staff_a).get(reverse("meetings:actions"), {"mine": value})
    assert response.status_code == 200
    assert noticed(response, "我负责的") is (value != "0")  # "0" is a plain no
    assert response.context["mine"] is False


@pytest.mark.parametrize("value", HOSTILE)
def test_new_team_for_a_community_that_does_not_parse_is_not_found(client_for, world, staff_a, value):
    client = client_for(staff_a)
    assert client.get(reverse("meetings:team_create"), {"community": value}).status_code == 404
    response = client.post(reverse("meetings:team_create"), {"community": value, "name": "监督队"})
    assert response.status_code == 404
    assert not SupervisionTeam.objects.exists()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "\x00", "javascript:alert(1)"])
def test_a_redirect_target_elsewhere_goes_back_to_the_meeting(client_for, world, staff_a, target):
    meeting = plan(world, staff_a)
    services.meeting_record_minutes(
        meeting=meeting, by=staff_a, minutes="纪要", decisions=two_decisions(world, staff_a)
    )
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    response = client_for(staff_a).post(reverse("meetings:action_complete", args=[item.pk]), {"next": target})
    assert (response.status_code, response.url) == (302, f"{meeting.get_absolute_url()}#action-{item.pk}")


@pytest.mark.parametrize("value", BAD_DATETIMES)
def test_planning_refuses_a_date_time_postgresql_cannot_take(client_for, world, staff_a, value):
    data = {"community": world.district.a1.community.pk, "topic": "议题", "kind": "council", "place": "会议室"}
    response = client_for(staff_a).post(reverse("meetings:create"), {**data, "scheduled_at": value})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["scheduled_at"]
    assert not Meeting.objects.exists()


# --- API ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["²", "-1", "2", "1e5", "\x00", "maybe"])
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/meetings/", "minutes_missing"),
        ("/api/v1/meeting-invitees/", "attended"),
        ("/api/v1/action-items/", "done"),
        ("/api/v1/action-items/", "overdue"),
        ("/api/v1/inspections/", "ok"),
    ],
)
def test_api_refuses_a_bad_yes_no_naming_the_field(api_client_for, world, staff_a, path, param, value):
    response = api_client_for(staff_a).get(path, {param: value})
    assert (response.status_code, list(response.json())) == (400, [param])


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/meetings/", "community"),
        ("/api/v1/meetings/", "compound"),
        ("/api/v1/meetings/", "request"),
        ("/api/v1/meeting-invitees/", "meeting"),
        ("/api/v1/meeting-decisions/", "supervision_team"),
        ("/api/v1/action-items/", "decision"),
        ("/api/v1/inspections/", "team"),
        ("/api/v1/supervision-teams/", "compound"),
    ],
)
def test_api_refuses_a_bad_id_naming_the_field(api_client_for, world, staff_a, path, param, value):
    response = api_client_for(staff_a).get(path, {param: value})
    assert response.status_code == 400
    assert list(response.json()) == [param]


@pytest.mark.parametrize("value", BAD_DATETIMES)
@pytest.mark.parametrize("param", ["scheduled_before", "scheduled_after"])
def test_api_refuses_a_date_time_postgresql_cannot_take(api_client_for, world, staff_a, param, value):
    plan(world, staff_a)
    response = api_client_for(staff_a).get("/api/v1/meetings/", {param: value})
    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_api_still_filters_by_a_date_time_with_an_offset(api_client_for, world, staff_a):
    meeting = plan(world, staff_a)
    moment = meeting.scheduled_at.astimezone().isoformat()
    client = api_client_for(staff_a)
    assert client.get("/api/v1/meetings/", {"scheduled_after": moment}).json()["count"] == 1
    assert client.get("/api/v1/meetings/", {"scheduled_before": moment}).json()["count"] == 0


@pytest.mark.parametrize("value", ["2025-02-30", "0000-01-01", "²"])
def test_api_refuses_a_bad_due_date(api_client_for, world, staff_a, value):
    response = api_client_for(staff_a).get("/api/v1/action-items/", {"due_before": value})
    assert (response.status_code, list(response.json())) == (400, ["due_before"])


def test_api_answers_another_communitys_id_like_a_missing_one(api_client_for, world, staff_a, staff_b):
    team = team_for(world.district, staff_a)
    client = api_client_for(staff_b)
    assert client.get("/api/v1/supervision-teams/", {"compound": team.compound_id}).json()["count"] == 0
    assert client.get("/api/v1/supervision-teams/", {"compound": 2**63 - 1}).json()["count"] == 0
