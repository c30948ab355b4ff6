"""The meeting workflow through the services: from requests to decisions to resolved requests."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from baohe.exceptions import Conflict
from meetings import services
from meetings.models import ActionItem, Decision, Inspection, Invitee, Meeting
from notifications.models import Notification
from service_requests.models import RequestEvent, ServiceRequest
from service_requests.services import request_rate

from .conftest import file_request, plan, png, team_for, two_decisions

S = ServiceRequest.Status
E = RequestEvent.Kind


def events(request):
    return list(RequestEvent.objects.filter(request=request).order_by("id").values_list("kind", flat=True))


def minutes(meeting, by, decisions, **options):
    return services.meeting_record_minutes(
        meeting=meeting,
        by=by,
        minutes=options.pop("text", "到会 3 人，协商形成两项决议。"),
        decisions=decisions,
        **options,
    )


# --- the done-when scenario -------------------------------------------------------------------------
def test_meeting_from_two_requests_resolves_both_when_their_items_are_done(world, staff_a, resident):
    meeting = plan(world, staff_a)

    # Planning from the requests takes them up: the submitted ones are accepted, and each resident is told.
    assert set(meeting.requests.values_list("pk", flat=True)) == {world.garage.pk, world.lights.pk}
    for request in (world.garage, world.lights):
        request.refresh_from_db()
        assert request.status == S.IN_PROGRESS
        assert events(request) == [E.SUBMITTED, E.ACCEPTED, E.REPLIED]
    told = Notification.objects.get(recipient=resident, kind="request.replied")
    assert "已纳入社区协商议事" in told.body and "曙光小区环境整治协商议事会" in told.body
    assert meeting.invitees.count() == 3

    minutes(meeting, staff_a, two_decisions(world, staff_a))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.MINUTES_RECORDED
    assert meeting.held_at == meeting.scheduled_at
    decisions = list(meeting.decisions.order_by("order"))
    assert [d.text for d in decisions] == ["地下车库杂物限期清运", "更换损坏路灯"]
    first = decisions[0].action_items.get()
    second = decisions[1].action_items.get()
    assert (first.task, first.owner, first.responsible) == ("入户劝导并组织清运", staff_a, str(staff_a))
    assert (second.task, second.owner, second.responsible) == ("更换损坏路灯", None, "和美物业")
    assert set(first.requests.all()) == {world.garage, world.lights}
    assert list(second.requests.all()) == [world.lights]
    # The residents are told what was decided.
    world.garage.refresh_from_db()
    assert events(world.garage) == [E.SUBMITTED, E.ACCEPTED, E.REPLIED, E.REPLIED]
    assert "已形成决议：1. 地下车库杂物限期清运；2. 更换损坏路灯" in world.garage.events.last().message

    # The first item answers both requests: the garage request has no other item, so it is resolved;
    # the lights request still waits for the property company's item.
    item, resolved = services.action_item_complete(item=first, by=staff_a, note="已清运 8 车杂物")
    assert item.done_at is not None and item.done_by == staff_a and item.done_note == "已清运 8 车杂物"
    assert resolved == [world.garage]
    world.garage.refresh_from_db()
    world.lights.refresh_from_db()
    assert world.garage.status == S.RESOLVED
    assert world.lights.status == S.IN_PROGRESS
    event = world.garage.events.get(kind=E.RESOLVED)
    assert event.actor == staff_a and event.public
    assert event.message == (
        "协商议事会「曙光小区环境整治协商议事会」决议事项已全部完成：入户劝导并组织清运（已清运 8 车杂物）。"
    )
    assert not world.lights.events.filter(kind=E.RESOLVED).exists()

    _item, resolved = services.action_item_complete(item=second, by=staff_a)
    assert resolved == [world.lights]
    world.lights.refresh_from_db()
    assert world.lights.status == S.RESOLVED
    assert world.lights.events.filter(kind=E.RESOLVED).count() == 1
    assert world.garage.events.filter(kind=E.RESOLVED).count() == 1

    # Follow-up (回访) begins: the resident is asked to rate, and can.
    assert Notification.objects.filter(recipient=resident, kind="request.resolved").count() == 1
    request_rate(request=world.garage, by=resident, solved="solved", satisfaction="satisfied")
    world.garage.refresh_from_db()
    assert world.garage.status == S.CLOSED


def test_an_unfinished_item_keeps_its_request_open_across_meetings(world, staff_a):
    first = plan(world, staff_a, requests=[world.garage])
    minutes(
        first,
        staff_a,
        [
            {
                "text": "清运",
                "action_items": [
                    {"owner": staff_a, "due_on": timezone.localdate(), "requests": [world.garage]},
                ],
            }
        ],
    )
    second = plan(world, staff_a, requests=[world.garage], topic="第二次协商")
    minutes(
        second,
        staff_a,
        [
            {
                "text": "复查",
                "action_items": [{"owner_label": "物业", "due_on": timezone.localdate(), "requests": [world.garage]}],
            }
        ],
    )
    item = ActionItem.objects.get(decision__meeting=first)
    _item, resolved = services.action_item_complete(item=item, by=staff_a)
    assert resolved == []
    world.garage.refresh_from_db()
    assert world.garage.status == S.IN_PROGRESS
    _item, resolved = services.action_item_complete(item=ActionItem.objects.get(decision__meeting=second), by=staff_a)
    assert resolved == [world.garage]


def test_completing_leaves_a_request_that_is_no_longer_handled_alone(world, staff_a):
    meeting = plan(world, staff_a)
    minutes(meeting, staff_a, two_decisions(world, staff_a))
    from service_requests.services import request_resolve

    request_resolve(request=world.garage, by=staff_a, message="已先行处理")
    item = ActionItem.objects.get(decision__order=1, decision__meeting=meeting)
    _item, resolved = services.action_item_complete(item=item, by=staff_a)
    assert resolved == []
    assert world.garage.events.filter(kind=E.RESOLVED).count() == 1


def test_an_item_is_completed_once(world, staff_a):
    meeting = plan(world, staff_a)
    minutes(meeting, staff_a, two_decisions(world, staff_a))
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    services.action_item_complete(item=item, by=staff_a)
    with pytest.raises(Conflict) as conflict:
        services.action_item_complete(item=item, by=staff_a)
    assert conflict.value.code == "already_done"


def test_owners_are_told_their_action_items(world, staff_a, secretary_a):
    meeting = plan(world, staff_a)
    minutes(meeting, staff_a, two_decisions(world, secretary_a))
    item = ActionItem.objects.get(owner=secretary_a)
    note = Notification.objects.get(recipient=secretary_a, kind="meeting.action_assigned")
    assert note.dedupe_key == f"action:{item.pk}:assigned"
    assert note.title == "请落实协商议事决议事项：入户劝导并组织清运"
    assert note.link == f"/meetings/{meeting.pk}/#action-{item.pk}"


# --- who may do what ----------------------------------------------------------------------------------
def test_staff_of_another_community_get_404_and_change_nothing(world, staff_a, staff_b):
    meeting = plan(world, staff_a)
    minutes(meeting, staff_a, two_decisions(world, staff_a))
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    decision = item.decision
    team = team_for(world.district, staff_a)
    before = (Meeting.objects.get(pk=meeting.pk).updated_at, ActionItem.objects.filter(done_at__isnull=False).count())

    with pytest.raises(Http404):
        services.access_meeting_by_id(staff_b, meeting.pk)
    with pytest.raises(Http404):
        services.action_item_complete(item=item, by=staff_b)
    with pytest.raises(Http404):
        services.meeting_record_attendance(meeting=meeting, by=staff_b, attended=[])
    with pytest.raises(Http404):
        services.meeting_cancel(meeting=meeting, by=staff_b, reason="不开了")
    with pytest.raises(Http404):
        services.decision_attach_team(decision=decision, by=staff_b, team=team)
    with pytest.raises(Http404):
        services.inspection_record(decision=decision, by=staff_b, finding="看过了")
    with pytest.raises(Http404):
        services.meeting_create(
            by=staff_b,
            community=world.district.a1.community,
            topic="越界",
            scheduled_at=timezone.now(),
            place="某处",
        )
    assert (
        Meeting.objects.get(pk=meeting.pk).updated_at,
        ActionItem.objects.filter(done_at__isnull=False).count(),
    ) == before
    assert Meeting.objects.count() == 1 and Inspection.objects.count() == 0


def test_officials_see_but_do_not_change(world, staff_a, street_official_a):
    meeting = plan(world, staff_a)
    minutes(meeting, staff_a, two_decisions(world, staff_a))
    item = ActionItem.objects.filter(decision__meeting=meeting).first()
    assert services.access_meeting_by_id(street_official_a, meeting.pk) == meeting
    with pytest.raises(PermissionDenied):
        services.action_item_complete(item=item, by=street_official_a)
    with pytest.raises(PermissionDenied):
        services.meeting_record_attendance(meeting=meeting, by=street_official_a, attended=[])
    item.refresh_from_db()
    assert item.done_at is None


def test_a_resident_owner_sees_the_item_but_staff_confirm_it(world, staff_a, resident):
    meeting = plan(world, staff_a)
    decisions = two_decisions(world, resident)
    minutes(meeting, staff_a, decisions)
    item = ActionItem.objects.get(owner=resident)
    assert services.access_action_item_by_id(resident, item.pk) == item
    with pytest.raises(PermissionDenied):
        services.action_item_complete(item=item, by=resident)


# --- bad input gets clear errors and changes nothing ----------------------------------------------------
def errors_of(call):
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


def test_compound_must_lie_in_the_community(world, street_staff_a):
    tree_a1, tree_a2 = world.district.a1, world.district.a2
    detail = errors_of(
        lambda: services.meeting_create(
            by=street_staff_a,
            community=tree_a1.community,
            compound=tree_a2.compound,
            topic="议题",
            scheduled_at=timezone.now() + timedelta(days=1),
            place="会议室",
        )
    )
    assert detail == {"compound": ["小区「宁国小区」不属于社区「曙光社区」。"]}
    assert not Meeting.objects.exists()


def test_requests_must_be_open_requests_of_the_community(world, staff_a, street_staff_a):
    # Street staff handle both communities: the A2 request is theirs, but not this meeting's community.
    detail = errors_of(lambda: plan(world, street_staff_a, requests=[world.garage, world.other]))
    assert detail == {"requests": [f"诉求 {world.other.number} 不属于社区「曙光社区」，不能纳入本次会议。"]}
    # Community staff do not handle A2 at all: the same answer, nothing about the other request.
    detail = errors_of(lambda: plan(world, staff_a, requests=[world.other]))
    assert detail == {"requests": [f"诉求 {world.other.number} 不属于社区「曙光社区」，不能纳入本次会议。"]}
    closed = file_request(world.district.a1, world.garage.category, by=staff_a, household=1)
    ServiceRequest.objects.filter(pk=closed.pk).update(status=S.CLOSED)
    closed.refresh_from_db()
    detail = errors_of(lambda: plan(world, staff_a, requests=[closed]))
    assert detail == {"requests": [f"诉求 {closed.number} 当前状态为「已关闭」，只能纳入未办结的诉求。"]}
    assert not Meeting.objects.exists()
    world.garage.refresh_from_db()
    assert world.garage.status == S.SUBMITTED


def test_meeting_fields_are_checked(world, staff_a):
    detail = errors_of(
        lambda: plan(world, staff_a, requests=[], topic=" ", place="", scheduled_at=timezone.now() - timedelta(days=90))
    )
    assert detail == {
        "scheduled_at": ["只能补录 60 天以内召开的会议。"],
        "topic": ["请填写议题。"],
        "place": ["请填写会议地点。"],
    }


def test_minutes_check_due_dates_owners_and_requests(world, staff_a, staff_b):
    meeting = plan(world, staff_a)
    yesterday = timezone.localdate() - timedelta(days=1)
    detail = errors_of(lambda: minutes(meeting, staff_a, two_decisions(world, staff_a, due_on=yesterday)))
    assert detail == {"decisions": ["第 1 项决议：完成期限不能早于今天。", "第 2 项决议：完成期限不能早于今天。"]}
    bad = two_decisions(world, staff_b)
    bad[1]["action_items"][0]["requests"] = [world.other]
    bad[1]["action_items"][0]["owner_label"] = ""
    detail = errors_of(lambda: minutes(meeting, staff_a, bad, text=""))
    assert detail == {
        "minutes": ["请填写会议纪要。"],
        "decisions": [
            "第 1 项决议：负责人必须是本社区的工作人员或居民。",
            "第 2 项决议：请选择负责人，或填写负责单位。",
            "第 2 项决议：落实事项只能关联本次会议的诉求。",
        ],
    }
    detail = errors_of(lambda: minutes(meeting, staff_a, [{"text": "只有决议", "action_items": []}]))
    assert detail == {"decisions": ["第 1 项决议：每项决议至少要有一个落实事项（负责人和完成期限）。"]}
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED and meeting.minutes == ""
    assert not Decision.objects.exists() and not ActionItem.objects.exists()


def test_minutes_of_a_meeting_not_yet_held_are_refused(world, staff_a):
    meeting = plan(world, staff_a, scheduled_at=timezone.now() + timedelta(days=2))
    detail = errors_of(lambda: minutes(meeting, staff_a, []))
    assert detail == {"held_at": ["会议尚未召开：召开时间不能晚于现在。"]}


def test_minutes_are_recorded_once(world, staff_a):
    meeting = plan(world, staff_a)
    minutes(meeting, staff_a, [])
    with pytest.raises(Conflict) as conflict:
        minutes(meeting, staff_a, two_decisions(world, staff_a))
    assert conflict.value.code == "minutes_recorded"
    assert not Decision.objects.exists()


# --- attendance, cancelling, editing -----------------------------------------------------------------
def test_attendance_marks_the_meeting_held(world, staff_a):
    meeting = plan(world, staff_a)
    invitees = list(meeting.invitees.order_by("pk"))
    held_at = timezone.now() - timedelta(hours=1)
    services.meeting_record_attendance(
        meeting=meeting,
        by=staff_a,
        attended=[invitees[0].pk, invitees[2].pk],
        held_at=held_at,
        extra=[{"role": Invitee.Role.VOLUNTEER, "name": "临时志愿者", "resident": None}],
    )
    meeting.refresh_from_db()
    assert (meeting.status, meeting.held_at) == (Meeting.Status.HELD, held_at)
    assert list(meeting.invitees.order_by("pk").values_list("name", "attended")) == [
        (invitees[0].name, True),
        (invitees[1].name, False),
        ("和美物业", True),
        ("临时志愿者", True),
    ]
    other = plan(world, staff_a, requests=[], topic="另一次")
    detail = errors_of(
        lambda: services.meeting_record_attendance(meeting=meeting, by=staff_a, attended=[other.invitees.first().pk])
    )
    assert detail == {"attended": ["到会人员必须在本次会议的邀请名单中。"]}


def test_cancel_a_planned_meeting(world, staff_a):
    meeting = plan(world, staff_a, scheduled_at=timezone.now() + timedelta(days=3))
    assert errors_of(lambda: services.meeting_cancel(meeting=meeting, by=staff_a, reason=" ")) == {
        "reason": ["请填写取消原因。"]
    }
    services.meeting_cancel(meeting=meeting, by=staff_a, reason="施工方案未定，延期")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED and meeting.cancel_reason == "施工方案未定，延期"
    note = world.garage.events.order_by("id").last()
    assert (note.kind, note.public) == (E.NOTE, False)
    assert note.message == "协商议事会「曙光小区环境整治协商议事会」已取消：施工方案未定，延期"
    with pytest.raises(Conflict):
        services.meeting_cancel(meeting=meeting, by=staff_a, reason="再取消")
    with pytest.raises(Conflict):
        minutes(meeting, staff_a, [])


def test_moving_a_meeting_resets_its_minutes_reminders(world, staff_a):
    meeting = plan(world, staff_a, scheduled_at=timezone.now() + timedelta(days=1))
    Meeting.objects.filter(pk=meeting.pk).update(minutes_reminded_3_at=timezone.now())
    later = timezone.now() + timedelta(days=2)
    services.meeting_update(meeting=meeting, by=staff_a, scheduled_at=later, place="新会议室")
    meeting.refresh_from_db()
    assert (meeting.scheduled_at, meeting.place, meeting.minutes_reminded_3_at) == (later, "新会议室", None)
    with pytest.raises(ValidationError):
        services.meeting_update(meeting=meeting, by=staff_a, status="held")


# --- supervision ----------------------------------------------------------------------------------------
def test_supervision_team_records_inspections(world, staff_a):
    meeting = plan(world, staff_a)
    team = team_for(world.district, staff_a)
    minutes(meeting, staff_a, two_decisions(world, staff_a, team=team))
    decision = meeting.decisions.get(order=1)
    tree = world.district.a1
    inspection = services.inspection_record(
        decision=decision,
        by=staff_a,
        finding="3 栋车库仍有两辆旧摩托车",
        ok=False,
        inspector=tree.residents[1],
        photo=png(),
    )
    assert (inspection.team, inspection.inspector, inspection.ok, inspection.recorded_by) == (
        team,
        tree.residents[1],
        False,
        staff_a,
    )
    assert inspection.photo.name.endswith(".png")
    assert (inspection.street_id, inspection.community_id) == (tree.community.street_id, tree.community.pk)

    detail = errors_of(
        lambda: services.inspection_record(
            decision=decision,
            by=staff_a,
            finding="",
            inspector=tree.residents[3],
            inspected_at=timezone.now() + timedelta(days=1),
        )
    )
    assert detail == {
        "finding": ["请填写检查情况。"],
        "inspected_at": ["检查时间不能晚于现在。"],
        "inspector": ["监督员必须是该监督队的队员。"],
    }
    services.decision_attach_team(decision=decision, by=staff_a, team=None)
    detail = errors_of(lambda: services.inspection_record(decision=decision, by=staff_a, finding="看过"))
    assert detail == {"decision": ["该决议尚未指定义务监督队，请先指定监督队。"]}
    assert Inspection.objects.count() == 1


def test_team_members_come_from_the_community(world, staff_a):
    tree_a2 = world.district.a2
    with pytest.raises(ValidationError) as error:
        team_for(world.district, staff_a, members=())
        from meetings.models import SupervisionTeam

        team = SupervisionTeam.objects.get()
        services.supervision_team_save(instance=team, by=staff_a, members=[tree_a2.residents[0]])
    assert error.value.message_dict == {"members": [f"队员必须是本社区的居民：{tree_a2.residents[0].name}"]}
