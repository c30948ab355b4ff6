"""The request workflow: every step from every status, who may take it, and who is told."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from accounts.models import Role
from baohe.exceptions import Conflict
from notifications.models import Delivery, Notification, Preference
from notifications.services import notify
from service_requests.calendar import add_working_days
from service_requests.models import NumberSequence, RequestEvent, ServiceRequest
from service_requests.services import (
    access_request_by_id,
    number_next,
    request_accept,
    request_assign,
    request_close,
    request_extension_decide,
    request_extension_request,
    request_follow_up,
    request_mark_duplicate,
    request_rate,
    request_reject,
    request_reply,
    request_reroute,
    request_resolve,
    request_return,
    request_submit,
    similar_open_requests,
)
from tests.factories import (
    BuildingFactory,
    CategoryFactory,
    PartyGroupFactory,
    PartyMemberFactory,
    RoleFactory,
    ServiceRequestFactory,
    UserFactory,
)

S = ServiceRequest.Status
E = RequestEvent.Kind
SHANGHAI = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Personas are users with passwords; the production hasher would make each test take a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def category(db):
    return CategoryFactory(name="电梯故障", code="t-elevator", accept_within_hours=4, resolve_within_days=3)


@pytest.fixture
def street_staff_a(district):
    """Street-level staff of street A (a staff role with a street): routes returned requests."""
    user = UserFactory(username="street_staff_a", name="芜湖路街道工作人员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


@dataclass
class World:
    district: object
    resident: object
    staff: object
    secretary: object
    street_staff: object
    category: object

    @property
    def home(self):
        """The resident's own household (A1, building 1, room 101)."""
        return self.district.a1.households[0]

    def submit(self, **kwargs):
        options = {
            "by": self.resident,
            "category": self.category,
            "description": "1栋2单元电梯停在3楼不动，老人下不了楼。",
            "compound": self.district.a1.compound,
            "building": self.home.building,
            "household": self.home,
        }
        options.update(kwargs)
        return request_submit(**options)

    def in_status(self, status):
        """A request brought to ``status`` through the services, as it would be in real life."""
        request = self.submit()
        if status == S.SUBMITTED:
            return request
        if status == S.RETURNED:
            return request_return(request=request, by=self.staff, reason="不在本社区辖区")
        if status == S.REJECTED:
            return request_reject(request=request, by=self.staff, reason="属于司法诉讼事项，请通过法院解决")
        request = request_accept(request=request, by=self.staff)
        if status == S.ACCEPTED:
            return request
        request = request_assign(
            request=request, by=self.staff, kind=ServiceRequest.AssigneeKind.STAFF, user=self.staff
        )
        if status == S.IN_PROGRESS:
            return request
        request = request_resolve(request=request, by=self.staff, message="已联系电梯维保单位，电梯恢复运行。")
        if status == S.RESOLVED:
            return request
        assert status == S.CLOSED
        return request_rate(
            request=request,
            by=self.resident,
            solved=ServiceRequest.Solved.SOLVED,
            satisfaction=ServiceRequest.Satisfaction.SATISFIED,
        )


@pytest.fixture
def world(district, resident, staff_a, secretary_a, street_staff_a, category):
    return World(district, resident, staff_a, secretary_a, street_staff_a, category)


def events_of(request):
    return list(RequestEvent.objects.filter(request_id=request.pk).order_by("id"))


def snapshot(request):
    row = ServiceRequest.objects.get(pk=request.pk)
    return {
        "status": row.status,
        "updated_at": row.updated_at,
        "events": RequestEvent.objects.filter(request_id=request.pk).count(),
        "notifications": Notification.objects.filter(dedupe_key__startswith=f"request:{request.pk}:").count(),
        "community_id": row.community_id,
        "resolve_due_at": row.resolve_due_at,
    }


# --- every step from every status -------------------------------------------------------------
def _duplicate(w, r):
    original = w.submit(description="1栋电梯又坏了（先报的一条）")
    return request_mark_duplicate(request=r, by=w.staff, original=original)


def _extension(w, r):
    return request_extension_request(
        request=r, by=w.staff, until=r.resolve_due_at + timedelta(days=3), reason="需厂家更换主板，配件在途"
    )


def _rate(w, r):
    return request_rate(
        request=r,
        by=w.resident,
        solved=ServiceRequest.Solved.SOLVED,
        satisfaction=ServiceRequest.Satisfaction.SATISFIED,
    )


def _follow_up(w, r):
    return request_follow_up(
        request=r,
        by=w.staff,
        solved=ServiceRequest.Solved.SOLVED,
        satisfaction=ServiceRequest.Satisfaction.BASIC,
    )


# action: (call, {from status: (to status, event kind)}, the verb in the conflict message)
ACTIONS = {
    "accept": (lambda w, r: request_accept(request=r, by=w.staff), {S.SUBMITTED: (S.ACCEPTED, E.ACCEPTED)}, "签收"),
    "assign": (
        lambda w, r: request_assign(
            request=r, by=w.staff, kind=ServiceRequest.AssigneeKind.VOLUNTEER_TEAM, label="红管家志愿服务队"
        ),
        {S.ACCEPTED: (S.IN_PROGRESS, E.ASSIGNED), S.IN_PROGRESS: (S.IN_PROGRESS, E.ASSIGNED)},
        "分派",
    ),
    "reply": (
        lambda w, r: request_reply(request=r, by=w.staff, message="维保人员下午两点到场。"),
        {
            S.SUBMITTED: (S.SUBMITTED, E.REPLIED),
            S.ACCEPTED: (S.IN_PROGRESS, E.REPLIED),
            S.IN_PROGRESS: (S.IN_PROGRESS, E.REPLIED),
            S.RESOLVED: (S.RESOLVED, E.REPLIED),
        },
        "答复",
    ),
    "note": (
        lambda w, r: request_reply(request=r, by=w.staff, message="物业电话 0551-1234", public=False),
        {
            S.SUBMITTED: (S.SUBMITTED, E.NOTE),
            S.ACCEPTED: (S.ACCEPTED, E.NOTE),
            S.IN_PROGRESS: (S.IN_PROGRESS, E.NOTE),
            S.RESOLVED: (S.RESOLVED, E.NOTE),
        },
        "答复",
    ),
    "extension": (
        _extension,
        {S.ACCEPTED: (S.ACCEPTED, E.EXTENSION_REQUESTED), S.IN_PROGRESS: (S.IN_PROGRESS, E.EXTENSION_REQUESTED)},
        "申请延期",
    ),
    "resolve": (
        lambda w, r: request_resolve(request=r, by=w.staff, message="已修复"),
        {S.ACCEPTED: (S.RESOLVED, E.RESOLVED), S.IN_PROGRESS: (S.RESOLVED, E.RESOLVED)},
        "办结",
    ),
    "reject": (
        lambda w, r: request_reject(request=r, by=w.staff, reason="不属于社区职责"),
        {
            S.SUBMITTED: (S.REJECTED, E.REJECTED),
            S.ACCEPTED: (S.REJECTED, E.REJECTED),
            S.IN_PROGRESS: (S.REJECTED, E.REJECTED),
        },
        "不予受理",
    ),
    "return": (
        lambda w, r: request_return(request=r, by=w.staff, reason="该楼栋属于宁国路社区"),
        {S.SUBMITTED: (S.RETURNED, E.RETURNED), S.ACCEPTED: (S.RETURNED, E.RETURNED)},
        "退单",
    ),
    "duplicate": (
        _duplicate,
        {
            S.SUBMITTED: (S.CLOSED, E.DUPLICATE),
            S.ACCEPTED: (S.CLOSED, E.DUPLICATE),
            S.IN_PROGRESS: (S.CLOSED, E.DUPLICATE),
        },
        "标记为重复",
    ),
    "close": (
        lambda w, r: request_close(request=r, by=w.staff, note="电话回访，居民表示已解决"),
        {S.RESOLVED: (S.CLOSED, E.CLOSED)},
        "关闭",
    ),
    "rate": (_rate, {S.RESOLVED: (S.CLOSED, E.RATED)}, "评价"),
    "follow_up": (_follow_up, {S.RESOLVED: (S.CLOSED, E.FOLLOWED_UP)}, "回访"),
    "reroute": (
        lambda w, r: request_reroute(request=r, by=w.street_staff, compound=w.district.a2.compound),
        {S.RETURNED: (S.SUBMITTED, E.REROUTED)},
        "改派",
    ),
}
STATUSES = [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED, S.REJECTED, S.RETURNED]
CASES = [(action, status) for action in ACTIONS for status in STATUSES]


@pytest.mark.parametrize(("action", "status"), CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
def test_every_step_from_every_status(world, action, status):
    call, allowed, verb = ACTIONS[action]
    request = world.in_status(status)
    assert ServiceRequest.objects.get(pk=request.pk).status == status
    before = snapshot(request)
    events_before = {e.pk for e in events_of(request)}

    if status in allowed:
        to_status, kind = allowed[status]
        result = call(world, request)
        assert result.status == to_status
        assert ServiceRequest.objects.get(pk=request.pk).status == to_status
        new = [e for e in events_of(request) if e.pk not in events_before]
        assert [(e.kind, e.from_status, e.to_status) for e in new] == [(kind, status, to_status)]
    else:
        with pytest.raises(Conflict) as caught:
            call(world, request)
        message = str(caught.value.message)
        assert CJK.search(message)
        if action == "accept" and status == S.ACCEPTED:
            assert message == "该诉求已被签收。"
        else:
            label = ServiceRequest.Status(status).label
            assert message == f"该诉求当前状态为「{label}」，不能{verb}。"
        assert snapshot(request) == before


# --- who may take a step ----------------------------------------------------------------------
@pytest.mark.parametrize("outsider", ["staff_b", "staff_other_street"])
def test_staff_of_another_community_get_not_found_and_nothing_changes(world, outsider, request):
    user = request.getfixturevalue(outsider)
    sr = world.submit()
    before = snapshot(sr)
    with pytest.raises(Http404):
        request_accept(request=sr, by=user)
    with pytest.raises(Http404):
        access_request_by_id(user, sr.pk)
    assert snapshot(sr) == before


@pytest.mark.parametrize("viewer", ["resident", "street_official_a", "district_official"])
def test_those_who_may_only_look_are_forbidden(world, viewer, request):
    user = request.getfixturevalue(viewer)
    sr = world.submit()
    before = snapshot(sr)
    assert access_request_by_id(user, sr.pk) == sr
    with pytest.raises(PermissionDenied, match="只有本社区工作人员可以办理该诉求"):
        request_accept(request=sr, by=user)
    assert snapshot(sr) == before


def test_admin_may_accept_anywhere(world, admin_user):
    sr = request_accept(request=world.submit(), by=admin_user)
    assert sr.status == S.ACCEPTED
    assert sr.assigned_to == admin_user


def test_only_the_submitter_rates(world, district):
    sr = world.in_status(S.RESOLVED)
    before = snapshot(sr)
    with pytest.raises(PermissionDenied, match="只有提交人可以评价该诉求"):
        request_rate(
            request=sr,
            by=world.staff,
            solved=ServiceRequest.Solved.SOLVED,
            satisfaction=ServiceRequest.Satisfaction.SATISFIED,
        )
    # A member of the same household has no access to the request at all: not found.
    spouse = UserFactory(username="spouse_a1", mobile=district.a1.residents[1].mobile)
    district.a1.residents[1].user = spouse
    district.a1.residents[1].save(update_fields=["user"])
    RoleFactory(user=spouse, resident=True, community=district.a1.community)
    with pytest.raises(Http404):
        request_rate(
            request=sr,
            by=spouse,
            solved=ServiceRequest.Solved.SOLVED,
            satisfaction=ServiceRequest.Satisfaction.SATISFIED,
        )
    assert snapshot(sr) == before


def test_secretary_approves_an_extension(world):
    sr = world.in_status(S.IN_PROGRESS)
    old_due = sr.resolve_due_at
    until = old_due + timedelta(days=4)
    sr = request_extension_request(request=sr, by=world.staff, until=until, reason="需更换曳引机，厂家排期")
    assert sr.resolve_due_at == old_due
    assert sr.extension_until == until
    ask = Notification.objects.get(recipient=world.secretary, kind="request.extension_requested")
    assert ask.body == "需更换曳引机，厂家排期"

    before = snapshot(sr)
    with pytest.raises(PermissionDenied, match="只有社区书记可以审批延期"):
        request_extension_decide(request=sr, by=world.staff, approve=True)
    assert snapshot(sr) == before

    sr = request_extension_decide(request=sr, by=world.secretary, approve=True, note="同意")
    sr.refresh_from_db()
    assert sr.resolve_due_at == until
    assert sr.extension_until is None
    assert sr.extension_reason == ""
    assert sr.extension_count == 1
    last = events_of(sr)[-1]
    assert (last.kind, last.actor, last.public) == (E.EXTENSION_APPROVED, world.secretary, True)
    assert (last.from_status, last.to_status) == (S.IN_PROGRESS, S.IN_PROGRESS)
    old, new = timezone.localtime(old_due, SHANGHAI), timezone.localtime(until, SHANGHAI)
    assert last.message == f"办结期限由 {old:%Y-%m-%d %H:%M} 延至 {new:%Y-%m-%d %H:%M}。同意"
    assert Notification.objects.filter(
        recipient=world.resident, dedupe_key=f"request:{sr.pk}:event:{last.pk}:user:{world.resident.pk}"
    ).exists()

    with pytest.raises(Conflict, match="没有待审批的延期申请"):
        request_extension_decide(request=sr, by=world.secretary, approve=True)


def test_secretary_denies_an_extension_and_the_deadline_stays(world, staff_b):
    sr = world.in_status(S.ACCEPTED)
    due = sr.resolve_due_at
    sr = request_extension_request(request=sr, by=world.staff, until=due + timedelta(days=2), reason="等待业委会表决")
    with pytest.raises(Conflict, match="已有待审批的延期申请"):
        request_extension_request(request=sr, by=world.staff, until=due + timedelta(days=5), reason="再延")
    with pytest.raises(Http404):
        request_extension_decide(request=sr, by=staff_b, approve=True)
    sr = request_extension_decide(request=sr, by=world.secretary, approve=False, note="请按期办结")
    sr.refresh_from_db()
    assert (sr.resolve_due_at, sr.extension_until, sr.extension_count) == (due, None, 0)
    last = events_of(sr)[-1]
    assert (last.kind, last.public, last.message) == (E.EXTENSION_DENIED, False, "请按期办结")


def test_an_extension_must_move_the_deadline_later(world):
    sr = world.in_status(S.ACCEPTED)
    before = snapshot(sr)
    with pytest.raises(ValidationError) as caught:
        request_extension_request(request=sr, by=world.staff, until=sr.resolve_due_at, reason="理由")
    assert caught.value.message_dict == {"until": ["延期后的期限必须晚于当前办结期限。"]}
    with pytest.raises(ValidationError):
        request_extension_request(
            request=sr, by=world.staff, until=sr.resolve_due_at + timedelta(days=1), reason="长" * 301
        )
    assert snapshot(sr) == before


def test_resolving_drops_a_pending_extension(world):
    sr = _extension(world, world.in_status(S.IN_PROGRESS))
    sr = request_resolve(request=sr, by=world.staff, message="已提前修好")
    sr.refresh_from_db()
    assert (sr.extension_until, sr.extension_reason) == (None, "")
    with pytest.raises(Conflict):
        request_extension_decide(request=sr, by=world.secretary, approve=True)


# --- rating -----------------------------------------------------------------------------------
def test_satisfied_closes(world):
    sr = request_rate(
        request=world.in_status(S.RESOLVED),
        by=world.resident,
        solved=ServiceRequest.Solved.SOLVED,
        satisfaction=ServiceRequest.Satisfaction.SATISFIED,
        comment="师傅很负责",
    )
    sr.refresh_from_db()
    assert (sr.status, sr.solved, sr.satisfaction, sr.rating_comment) == (S.CLOSED, "solved", "satisfied", "师傅很负责")
    assert sr.closed_at == sr.rated_at
    assert sr.reopen_count == 0
    last = events_of(sr)[-1]
    assert (last.kind, last.from_status, last.to_status, last.message) == (
        E.RATED,
        S.RESOLVED,
        S.CLOSED,
        "解决 · 满意。师傅很负责。",
    )


def test_unsatisfied_reopens_with_a_new_deadline(world):
    sr = world.in_status(S.RESOLVED)
    overdue = timezone.now() - timedelta(days=1)
    ServiceRequest.objects.filter(pk=sr.pk).update(resolve_due_at=overdue)
    events_before = len(events_of(sr))

    sr = request_rate(
        request=sr,
        by=world.resident,
        solved=ServiceRequest.Solved.PARTLY,
        satisfaction=ServiceRequest.Satisfaction.UNSATISFIED,
        comment="还是经常停",
    )
    sr.refresh_from_db()
    assert sr.status == S.IN_PROGRESS
    assert sr.reopen_count == 1
    assert sr.resolved_at is None
    running = sr.clocks.get(running=True)  # the new resolve clock, nothing sent on it yet
    assert (running.clock, running.due_at, running.overdue_at) == ("resolve", sr.resolve_due_at, None)
    assert sr.resolve_due_at > overdue
    assert sr.resolve_due_at == add_working_days(sr.rated_at, world.category.resolve_within_days)
    new = events_of(sr)[events_before:]
    assert [(e.kind, e.from_status, e.to_status) for e in new] == [
        (E.RATED, S.RESOLVED, S.IN_PROGRESS),
        (E.REOPENED, S.RESOLVED, S.IN_PROGRESS),
    ]
    # The assignee is told it is back on their desk.
    told = Notification.objects.get(recipient=world.staff, kind="request.reopened")
    assert told.title == f"诉求 {sr.number} 重办：部分解决 · 不满意"
    assert told.dedupe_key == f"request:{sr.pk}:event:{new[1].pk}:user:{world.staff.pk}"

    # The second round: resolved again, then satisfied.
    sr = request_resolve(request=sr, by=world.staff, message="更换了控制柜")
    sr = _rate(world, sr)
    assert (sr.status, sr.reopen_count) == (S.CLOSED, 1)


def test_unsolved_reopens_even_when_satisfied(world):
    sr = request_rate(
        request=world.in_status(S.RESOLVED),
        by=world.resident,
        solved=ServiceRequest.Solved.UNSOLVED,
        satisfaction=ServiceRequest.Satisfaction.SATISFIED,
    )
    assert (sr.status, sr.reopen_count) == (S.IN_PROGRESS, 1)


def test_rating_closes_after_seven_days(world):
    sr = world.in_status(S.RESOLVED)
    ServiceRequest.objects.filter(pk=sr.pk).update(resolved_at=timezone.now() - timedelta(days=7, minutes=1))
    before = snapshot(sr)
    with pytest.raises(Conflict, match="办结已超过 7 天，不能再评价"):
        _rate(world, sr)
    assert snapshot(sr) == before


@pytest.mark.parametrize(
    ("solved", "satisfaction", "comment", "field"),
    [
        ("yes", "satisfied", "", "solved"),
        ("solved", "happy", "", "satisfaction"),
        ("solved", "satisfied", "好" * 501, "comment"),
    ],
)
def test_bad_ratings_are_refused(world, solved, satisfaction, comment, field):
    sr = world.in_status(S.RESOLVED)
    before = snapshot(sr)
    with pytest.raises(ValidationError) as caught:
        request_rate(request=sr, by=world.resident, solved=solved, satisfaction=satisfaction, comment=comment)
    assert list(caught.value.message_dict) == [field]
    assert snapshot(sr) == before


# --- return and reroute -----------------------------------------------------------------------
def test_return_then_reroute_by_street_staff(world, district, staff_b):
    sr = world.in_status(S.ACCEPTED)
    sr = request_return(request=sr, by=world.staff, reason="该楼栋属于宁国路社区")
    assert (sr.status, sr.return_count) == (S.RETURNED, 1)
    returned = events_of(sr)[-1]
    assert (returned.kind, returned.from_status, returned.public) == (E.RETURNED, S.ACCEPTED, False)
    told = Notification.objects.get(recipient=world.street_staff, kind="request.returned")
    assert told.dedupe_key == f"request:{sr.pk}:event:{returned.pk}:user:{world.street_staff.pk}"
    assert not Notification.objects.filter(recipient=staff_b).exists()

    # Pretend the old clocks ran out, so the new ones are visibly new.
    past = timezone.now() - timedelta(days=3)
    ServiceRequest.objects.filter(pk=sr.pk).update(accept_due_at=past, resolve_due_at=past)
    target = district.a2.compound
    building = district.a2.buildings[1]
    started = timezone.now()
    sr = request_reroute(request=sr, by=world.street_staff, compound=target, building=building)
    sr.refresh_from_db()
    assert (sr.status, sr.compound, sr.building, sr.household) == (S.SUBMITTED, target, building, None)
    assert (sr.community, sr.street) == (district.a2.community, district.street_a)
    assert (sr.assigned_to, sr.accepted_at) == (None, None)
    running = sr.clocks.get(running=True)  # a new accept clock, in A2, nothing sent on it yet
    assert (running.clock, running.community_id, running.due_at, running.overdue_at) == (
        "accept",
        district.a2.community.pk,
        sr.accept_due_at,
        None,
    )
    assert started + timedelta(hours=4) <= sr.accept_due_at <= timezone.now() + timedelta(hours=4)
    assert sr.resolve_due_at == add_working_days(sr.accept_due_at - timedelta(hours=4), 3)
    rerouted = events_of(sr)[-1]
    assert (rerouted.kind, rerouted.from_status, rerouted.to_status) == (E.REROUTED, S.RETURNED, S.SUBMITTED)
    # The whole history moved with it: the new community sees it, the old one no longer does.
    assert {e.community_id for e in events_of(sr)} == {district.a2.community.pk}
    assert RequestEvent.objects.restrict(staff_b).filter(request=sr).count() == len(events_of(sr))
    assert not RequestEvent.objects.restrict(world.staff).filter(request=sr).exists()
    assert Notification.objects.filter(recipient=staff_b, kind="request.rerouted").count() == 1
    with pytest.raises(Http404):
        access_request_by_id(world.staff, sr.pk)

    sr = request_accept(request=sr, by=staff_b)
    sr = request_return(request=sr, by=staff_b, reason="还是不归我们")
    assert sr.return_count == 2


def test_reroute_stays_inside_the_street(world, district, staff_b):
    sr = world.in_status(S.RETURNED)
    before = snapshot(sr)
    with pytest.raises(ValidationError) as caught:
        request_reroute(request=sr, by=world.street_staff, compound=district.b1.compound)
    assert caught.value.message_dict == {"compound": ["只能改派到您辖区内的小区。"]}
    with pytest.raises(Http404):
        request_reroute(request=sr, by=staff_b, compound=district.a2.compound)
    assert snapshot(sr) == before


# --- assignment ---------------------------------------------------------------------------------
def test_assign_to_a_party_group_leader_who_may_then_reply(world, district):
    leader_record = district.a1.residents[2]  # building 1, room 102
    leader = UserFactory(username="leader_a1", mobile=leader_record.mobile)
    leader_record.user = leader
    leader_record.save(update_fields=["user"])
    sr = world.in_status(S.ACCEPTED)
    sr = request_assign(
        request=sr, by=world.staff, kind=ServiceRequest.AssigneeKind.PARTY_GROUP, user=leader, label="1栋党小组长"
    )
    assert (sr.status, sr.assigned_to, sr.assignee_label) == (S.IN_PROGRESS, leader, "1栋党小组长")
    assert events_of(sr)[-1].message == "楼栋党小组长：1栋党小组长"
    told = Notification.objects.get(recipient=leader, kind="request.assigned")
    assert told.deliveries.get().channel == Delivery.Channel.SMS
    sr = request_reply(request=sr, by=leader, message="我下午上门看看。")
    last = events_of(sr)[-1]
    assert (last.kind, last.actor) == (E.REPLIED, leader)


def test_assign_outside_the_community_is_refused(world, staff_b, staff_other_street):
    sr = world.in_status(S.ACCEPTED)
    before = snapshot(sr)
    for outsider in (staff_b, staff_other_street):
        with pytest.raises(ValidationError) as caught:
            request_assign(request=sr, by=world.staff, kind=ServiceRequest.AssigneeKind.STAFF, user=outsider)
        assert caught.value.message_dict == {"user": ["承办人必须是本社区的工作人员或居民。"]}
    with pytest.raises(ValidationError):
        request_assign(request=sr, by=world.staff, kind="robot", label="机器人")
    assert snapshot(sr) == before


def test_duplicate_must_point_at_another_request_of_the_community(world, district, staff_b):
    sr = world.submit()
    other = ServiceRequestFactory(compound=district.a2.compound, category=world.category)
    before = snapshot(sr)
    for original in (sr, other):
        with pytest.raises(ValidationError):
            request_mark_duplicate(request=sr, by=world.staff, original=original)
    assert snapshot(sr) == before


# --- submission ---------------------------------------------------------------------------------
def test_submission_tells_the_community_staff(world, staff_b):
    sr = world.submit()
    event = events_of(sr)[0]
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        E.SUBMITTED,
        "",
        S.SUBMITTED,
        world.resident,
    )
    rows = Notification.objects.filter(kind="request.submitted").order_by("recipient_id")
    assert {(n.recipient, n.dedupe_key) for n in rows} == {
        (user, f"request:{sr.pk}:event:{event.pk}:user:{user.pk}") for user in (world.staff, world.secretary)
    }
    assert {n.title for n in rows} == {f"新诉求 {sr.number}：{world.category}"}
    assert {n.link for n in rows} == {sr.get_absolute_url()}
    # Staff read the inbox; nobody else is told, and the resident is not told of their own step.
    assert not Delivery.objects.exists()
    assert not Notification.objects.filter(recipient__in=(staff_b, world.resident)).exists()
    assert (sr.submitted_by, sr.entered_by, sr.channel) == (world.resident, None, ServiceRequest.Channel.ONLINE)


def test_submission_tells_the_building_party_group_leader(world, district):
    building = world.home.building
    leader_record = district.a1.residents[2]
    leader = UserFactory(username="leader_b1", mobile=leader_record.mobile)
    leader_record.user = leader
    leader_record.save(update_fields=["user"])
    member = PartyMemberFactory(resident=leader_record)
    group = PartyGroupFactory(branch=member.branch, buildings=[building])
    member.group = group
    member.save(update_fields=["group"])
    group.leader = member
    group.save(update_fields=["leader"])

    sr = world.submit()
    told = Notification.objects.get(recipient=leader)
    assert told.title == f"您服务的楼栋有新诉求 {sr.number}"


def test_accept_tells_the_resident_by_sms(world):
    sr = request_accept(request=world.submit(), by=world.staff)
    event = events_of(sr)[-1]
    told = Notification.objects.get(recipient=world.resident)
    assert told.kind == "request.accepted"
    assert told.title == f"您的诉求 {sr.number} 已被社区签收。"
    assert told.dedupe_key == f"request:{sr.pk}:event:{event.pk}:user:{world.resident.pk}"
    delivery = told.deliveries.get()
    assert (delivery.channel, delivery.status, delivery.attempts) == (Delivery.Channel.SMS, Delivery.Status.PENDING, 0)
    assert delivery.next_attempt_at <= timezone.now()


def test_a_resident_who_turned_sms_off_gets_only_the_inbox(world):
    Preference.objects.create(user=world.resident, sms=False)
    request_accept(request=world.submit(), by=world.staff)
    assert Notification.objects.filter(recipient=world.resident).count() == 1
    assert not Delivery.objects.exists()


def test_notify_twice_with_the_same_key_writes_once(world):
    options = {"recipient": world.resident, "kind": "request.test", "title": "测试", "dedupe_key": "request:1:test:1"}
    first = notify(**options)
    second = notify(**options)
    assert first is not None
    assert second is None
    assert Notification.objects.filter(dedupe_key="request:1:test:1").count() == 1
    assert Delivery.objects.filter(notification=first).count() == 1


def test_staff_enter_a_phone_request_for_a_resident(world):
    sr = world.submit(by=world.staff, resident_user=world.resident, channel=ServiceRequest.Channel.PHONE)
    assert (sr.submitted_by, sr.entered_by, sr.channel) == (world.resident, world.staff, "phone")
    assert events_of(sr)[0].message == "电话"
    told = Notification.objects.get(recipient=world.resident)
    assert told.title == f"您的诉求 {sr.number} 已提交，社区将尽快签收。"
    # The staff member who entered it is not told about their own step.
    assert not Notification.objects.filter(recipient=world.staff).exists()


def test_staff_cannot_enter_a_request_outside_their_community(world, district):
    with pytest.raises(Http404):
        world.submit(by=world.staff, compound=district.a2.compound, building=None, household=None)
    assert not ServiceRequest.objects.exists()
    assert not RequestEvent.objects.exists()
    assert not NumberSequence.objects.exists()


@pytest.mark.parametrize("case", ["other-compound", "neighbour-household", "wrong-building", "top-category"])
def test_bad_submissions_are_refused(world, district, case):
    options = {
        "other-compound": {"compound": district.a2.compound, "building": None, "household": None},
        "neighbour-household": {"household": district.a1.households[1]},
        "wrong-building": {"building": district.a2.buildings[0], "household": None},
        "top-category": {"category": world.category.parent},
    }[case]
    field = {"other-compound": "compound", "neighbour-household": "household", "wrong-building": "building"}
    with pytest.raises(ValidationError) as caught:
        world.submit(**options)
    assert list(caught.value.message_dict) == [field.get(case, "category")]
    assert all(CJK.search(m) for m in caught.value.messages)
    assert not ServiceRequest.objects.exists()


# --- numbers ----------------------------------------------------------------------------------
def test_numbers_count_per_day(db):
    morning = datetime(2026, 9, 18, 9, 0, tzinfo=SHANGHAI)
    assert number_next(morning) == "BH-20260918-0001"
    assert number_next(morning + timedelta(hours=5)) == "BH-20260918-0002"
    assert number_next(morning + timedelta(days=1)) == "BH-20260919-0001"
    # 16:30 UTC is already 00:30 the next day in Hefei.
    assert number_next(datetime(2026, 9, 18, 16, 30, tzinfo=ZoneInfo("UTC"))) == "BH-20260919-0002"
    assert NumberSequence.objects.get(day="2026-09-18").last == 2


def test_submitted_requests_are_numbered_for_today(world):
    today = timezone.localdate(timezone.now(), SHANGHAI)
    first, second = world.submit(), world.submit()
    assert (first.number, second.number) == (f"BH-{today:%Y%m%d}-0001", f"BH-{today:%Y%m%d}-0002")


# --- similar requests -------------------------------------------------------------------------
def test_similar_open_requests_are_open_ones_in_the_same_building_and_category(district):
    building = district.a1.buildings[0]
    category = CategoryFactory()
    compound = district.a1.compound
    same = [
        ServiceRequestFactory(compound=compound, building=building, category=category, status=status)
        for status in (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)
    ]
    for status in (S.RESOLVED, S.CLOSED, S.REJECTED, S.RETURNED):
        ServiceRequestFactory(compound=compound, building=building, category=category, status=status)
    ServiceRequestFactory(compound=compound, building=district.a1.buildings[1], category=category)
    ServiceRequestFactory(compound=compound, building=building, category=CategoryFactory())
    ServiceRequestFactory(compound=compound, building=None, category=category)

    assert list(similar_open_requests(building=building, category=category)) == same[::-1]
    assert list(similar_open_requests(building=building, category=category, limit=2)) == same[:0:-1]
    assert list(similar_open_requests(building=BuildingFactory(), category=category)) == []
    assert list(similar_open_requests(building=None, category=category)) == []
