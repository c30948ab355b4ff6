"""The workflow table (service_requests/workflow.py) walked through the page and the API.

For every step of ``workflow.STEPS`` and every status a request can be in, the step is taken by
someone who may take it (the staff of the request's community, its secretary, the street's
staff for a reroute, the resident who filed it for the rating), once through each of its
buttons on the request pages and once through its API endpoint, each time on a fresh request
brought to that status through the services:

- where the status refuses it, the page and the API refuse it with the same Chinese message
  (the page as an error message, the API as a 409), the one written in :data:`REFUSED`, and
  nothing changes (the request row, its events, notifications and reminder clocks);
- where the status allows it, it works through both, and the request ends in the status
  :data:`MACHINE` says;
- the staff page shows the step's button exactly where the step is allowed.

:data:`MACHINE` is the state machine written out independently of the table (as
ARCHITECTURE describes it), so a rule changed in the table alone — a from-status added or
dropped, a step's label — fails here.
"""

from datetime import timedelta

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from notifications.models import Notification
from service_requests import services, workflow
from service_requests.api import ENDPOINTS
from service_requests.models import RequestClock, RequestEvent, ServiceRequest
from service_requests.views.staff import BUTTONS
from tests.factories import CategoryFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

S = ServiceRequest.Status
STATUSES = [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED, S.REJECTED, S.RETURNED]

# The state machine: step -> {from status: to status}. Every other status refuses the step.
MACHINE = {
    "accept": {S.SUBMITTED: S.ACCEPTED},
    "assign": {S.ACCEPTED: S.IN_PROGRESS, S.IN_PROGRESS: S.IN_PROGRESS},
    "reply": {
        S.SUBMITTED: S.SUBMITTED,
        S.ACCEPTED: S.IN_PROGRESS,
        S.IN_PROGRESS: S.IN_PROGRESS,
        S.RESOLVED: S.RESOLVED,
    },
    "extension_request": {S.ACCEPTED: S.ACCEPTED, S.IN_PROGRESS: S.IN_PROGRESS},
    "extension_decide": {S.ACCEPTED: S.ACCEPTED, S.IN_PROGRESS: S.IN_PROGRESS},
    "return": {S.SUBMITTED: S.RETURNED, S.ACCEPTED: S.RETURNED},
    "reroute": {S.RETURNED: S.SUBMITTED},
    "resolve": {S.ACCEPTED: S.RESOLVED, S.IN_PROGRESS: S.RESOLVED},
    "reject": {S.SUBMITTED: S.REJECTED, S.ACCEPTED: S.REJECTED, S.IN_PROGRESS: S.REJECTED},
    "duplicate": {S.SUBMITTED: S.CLOSED, S.ACCEPTED: S.CLOSED, S.IN_PROGRESS: S.CLOSED},
    "close": {S.RESOLVED: S.CLOSED},
    "rate": {S.RESOLVED: S.CLOSED},
    "follow_up": {S.RESOLVED: S.CLOSED},
    # The resident's own steps (an urge here comes after the deadline: tests/service_requests/test_follow_up.py
    # walks its rules of time) and a neighbour's 我也遇到.
    "urge": {S.SUBMITTED: S.SUBMITTED, S.ACCEPTED: S.ACCEPTED, S.IN_PROGRESS: S.IN_PROGRESS},
    "supplement": {S.SUBMITTED: S.SUBMITTED, S.ACCEPTED: S.ACCEPTED, S.IN_PROGRESS: S.IN_PROGRESS},
    "withdraw": {S.SUBMITTED: S.CLOSED},
    # 督办 by an official, here past the deadline (tests/service_requests/test_supervision.py: its rules).
    "supervise": {S.SUBMITTED: S.SUBMITTED, S.ACCEPTED: S.ACCEPTED, S.IN_PROGRESS: S.IN_PROGRESS},
    "support": {S.SUBMITTED: S.SUBMITTED, S.ACCEPTED: S.ACCEPTED, S.IN_PROGRESS: S.IN_PROGRESS},
}
# An internal note is a reply that leaves the status as it is.
NOTE = {status: status for status in MACHINE["reply"]}

# What the resident and staff read when a status refuses a step ("不能<verb>").
VERBS = {
    "accept": "签收",
    "assign": "分派",
    "reply": "答复",
    "extension_request": "申请延期",
    "extension_decide": "审批延期",
    "return": "退单",
    "reroute": "改派",
    "resolve": "办结",
    "reject": "不予受理",
    "duplicate": "标记为重复",
    "close": "关闭",
    "rate": "评价",
    "follow_up": "回访",
    "urge": "催办",
    "supplement": "补充说明",
    "withdraw": "撤回",
    "supervise": "督办",
    "support": "附议",
}


def refused(step_name, status):
    """(message, code) of the refusal of ``step_name`` from ``status``."""
    if step_name == "accept" and status == S.ACCEPTED:
        return "该诉求已被签收。", "already_accepted"
    label = ServiceRequest.Status(status).label
    return f"该诉求当前状态为「{label}」，不能{VERBS[step_name]}。", "invalid_transition"


# --- the world ----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(district, resident, staff_a, secretary_a, district_official, client_for, api_client_for):
    street_staff = UserFactory(username="street_staff_a", name="芜湖路街道工作人员")
    RoleFactory(user=street_staff, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    category = CategoryFactory(name="电梯故障", code="t-lift", accept_within_hours=4, resolve_within_days=3)
    world = World(district, resident, staff_a, secretary_a, street_staff, category, client_for, api_client_for)
    world.neighbour = neighbour_of(district)
    world.official = district_official
    return world


def neighbour_of(district):
    """A resident of building 2 of the same compound (for 我也遇到)."""
    record = district.a1.residents[6]
    user = UserFactory(username="neighbour_a1", name=record.name)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, resident=True, community=district.a1.community)
    return user


class World:
    def __init__(self, district, resident, staff, secretary, street_staff, category, client_for, api_client_for):
        self.district, self.resident, self.staff = district, resident, staff
        self.secretary, self.street_staff, self.category = secretary, street_staff, category
        self.client_for, self.api_client_for = client_for, api_client_for

    def submit(self, text="2栋电梯停在3楼不动"):
        home = self.district.a1.households[0]
        return services.request_submit(
            by=self.resident,
            category=self.category,
            description=text,
            compound=self.district.a1.compound,
            building=home.building,
            household=home,
        )

    def in_status(self, status, step_name):
        """A request brought to ``status`` through the services, ready for ``step_name`` (an
        extension to decide waits on it where one can be asked for)."""
        request = self.submit()
        if status == S.RETURNED:
            return services.request_return(request=request, by=self.staff, reason="不在本社区辖区")
        if status == S.REJECTED:
            return services.request_reject(request=request, by=self.staff, reason="属于司法诉讼事项")
        if status != S.SUBMITTED:
            request = services.request_accept(request=request, by=self.staff)
        if status not in (S.SUBMITTED, S.ACCEPTED):
            request = services.request_assign(
                request=request, by=self.staff, kind=ServiceRequest.AssigneeKind.STAFF, user=self.staff
            )
        if status in (S.RESOLVED, S.CLOSED):
            request = services.request_resolve(request=request, by=self.staff, message="电梯已恢复运行。")
        if status == S.CLOSED:
            request = services.request_rate(
                request=request,
                by=self.resident,
                solved=ServiceRequest.Solved.SOLVED,
                satisfaction=ServiceRequest.Satisfaction.SATISFIED,
            )
        if step_name in ("urge", "supervise"):  # past its deadline, so the urge (or 督办) is due
            past = timezone.now() - timedelta(hours=1)
            ServiceRequest.objects.filter(pk=request.pk).update(accept_due_at=past, resolve_due_at=past)
        if step_name == "extension_decide" and status in (S.ACCEPTED, S.IN_PROGRESS):
            request.refresh_from_db()
            services.request_extension_request(
                request=request, by=self.staff, until=request.resolve_due_at + timedelta(days=3), reason="等配件"
            )
        return ServiceRequest.objects.get(pk=request.pk)

    def actor(self, step_name):
        return {
            "extension_decide": self.secretary,
            "reroute": self.street_staff,
            "rate": self.resident,
            "urge": self.resident,
            "supplement": self.resident,
            "withdraw": self.resident,
            "support": self.neighbour,
            "supervise": self.official,
        }.get(step_name, self.staff)


# --- each way of taking a step: its input on the page and on the API -------------------------------
def page_input(name, world, request):
    """The form data of the page button ``name`` (its fields carry the button's prefix)."""
    until = timezone.localtime(request.resolve_due_at + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    rating = {"solved": "solved", "satisfaction": "satisfied", "comment": ""}
    soon = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "accept": {},
        "assign": {"assignee": "volunteer_team", "team_label": "红管家志愿服务队"},
        "reply": {"message": "维保人员下午两点到场。"},
        "note": {"message": "物业电话 0551-1234"},
        "extend": {"until": until, "reason": "需厂家更换主板"},
        "extension": {"decision": "approve", "note": "同意"},
        "return": {"reason": "该楼栋属于宁国路社区"},
        "reroute": {"compound": world.district.a2.compound.pk},
        "resolve": {"message": "已联系维保单位修好。"},
        "reject": {"reason": "不属于社区职责"},
        "duplicate": {"original": world.original.number},
        "close": {"note": "电话回访满意"},
        "follow_up": rating,
        "rate": rating,
        "urge": {},
        "supplement": {"message": "电梯今天又停了两次。"},
        "withdraw": {"reason": "物业已经修好了"},
        "supervise": {"due_at": soon, "note": "请两天内修好。"},
        "support": {},
    }[name]
    return {f"{name}-{key}": value for key, value in data.items()}


def api_input(path, world, request):
    rating = {"solved": "solved", "satisfaction": "satisfied", "comment": ""}
    return {
        "accept": {},
        "assign": {"assignee_kind": "volunteer_team", "label": "红管家志愿服务队"},
        "reply": {"message": "维保人员下午两点到场。", "public": True},
        "extension": {"until": (request.resolve_due_at + timedelta(days=3)).isoformat(), "reason": "需厂家更换主板"},
        "extension/decide": {"approve": True, "note": "同意"},
        "return": {"reason": "该楼栋属于宁国路社区"},
        "reroute": {"compound": world.district.a2.compound.pk},
        "resolve": {"message": "已联系维保单位修好。"},
        "reject": {"reason": "不属于社区职责"},
        "duplicate": {"original": world.original.pk},
        "close": {"note": "电话回访满意"},
        "follow-up": rating,
        "rate": rating,
        "urge": {},
        "supplement": {"message": "电梯今天又停了两次。"},
        "withdraw": {"reason": "物业已经修好了"},
        "supervise": {"due_at": (timezone.now() + timedelta(days=2)).isoformat(), "note": "请两天内修好。"},
        "support": {},
    }[path]


def page_ways(step):
    """(button name, URL name) of every way the pages take ``step``."""
    ways = [(name, "service_requests:action") for name, button in BUTTONS.items() if button.step is step]
    if step is workflow.RATE:
        ways.append(("rate", "service_requests:rate"))  # the resident's own page
    if step in (workflow.URGE, workflow.SUPPLEMENT, workflow.WITHDRAW):
        ways.append((step.name, "service_requests:follow_up"))  # the resident's own page
    if step is workflow.SUPPORT:
        ways.append(("support", "service_requests:support"))  # the board and the similar-requests box
    return ways


def api_ways(step):
    return [endpoint.path for endpoint in ENDPOINTS if endpoint.step is step]


def snapshot(request):
    return (
        ServiceRequest.objects.filter(pk=request.pk).values().get(),
        sorted(RequestEvent.objects.filter(request_id=request.pk).values_list("pk", flat=True)),
        Notification.objects.filter(dedupe_key__startswith=f"request:{request.pk}:").count(),
        sorted(RequestClock.objects.filter(request_id=request.pk).values_list()),
    )


def take_on_page(world, step, name, url_name, request):
    """POST the button; returns (level, message) of the page's message after the redirect."""
    if url_name in ("service_requests:rate", "service_requests:support"):
        url = reverse(url_name, args=[request.pk])
    else:
        url = reverse(url_name, args=[request.pk, name])
    response = world.client_for(world.actor(step.name)).post(url, page_input(name, world, request))
    assert response.status_code == 302, (name, response.status_code)
    if url_name == "service_requests:support":  # the neighbour goes back to the board
        assert response["Location"] == f"{reverse('service_requests:board', args=[request.compound_id])}#r{request.pk}"
    else:
        assert response["Location"] == request.get_absolute_url()
    shown = [(m.level, m.message) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1, shown
    return shown[0]


def take_on_api(world, step, path, request):
    client = world.api_client_for(world.actor(step.name))
    url = reverse(f"request-{path.replace('/', '-')}", args=[request.pk])
    return client.post(url, api_input(path, world, request), format="json")


CASES = [(name, status) for name in workflow.STEPS for status in STATUSES]


# --- the walk -----------------------------------------------------------------------------------
def test_the_walk_covers_the_whole_table():
    assert set(MACHINE) == set(workflow.STEPS)
    for name, step in workflow.STEPS.items():
        assert len(api_ways(step)) == 1, name  # one endpoint each
        assert page_ways(step), name  # and at least one button
        assert callable(step.run) and step.run.__module__ == "service_requests.services", name
    assert {button.step for button in BUTTONS.values()} <= set(workflow.STEPS.values())


@pytest.mark.parametrize(("step_name", "status"), CASES, ids=[f"{n}-from-{s}" for n, s in CASES])
def test_each_step_from_each_status_on_the_page_and_the_api(world, step_name, status):
    step = workflow.STEPS[step_name]
    allowed = status in MACHINE[step_name]
    world.original = world.submit("同一部电梯（先报的一条）")  # for "duplicate"
    page_messages, api_messages = [], []

    for name, url_name in page_ways(step):
        request = world.in_status(status, step_name)
        before = snapshot(request)
        level, message = take_on_page(world, step, name, url_name, request)
        after = ServiceRequest.objects.get(pk=request.pk)
        if allowed:
            assert level in (message_levels.SUCCESS, message_levels.WARNING), (name, message)
            expected = (NOTE if name == "note" else MACHINE[step_name])[status]
            assert after.status == expected, name
        else:
            assert level == message_levels.ERROR, (name, message)
            page_messages.append(message)
            assert snapshot(request) == before, name

    for path in api_ways(step):
        request = world.in_status(status, step_name)
        before = snapshot(request)
        response = take_on_api(world, step, path, request)
        if allowed:
            assert response.status_code == 200, (path, response.json())
            assert response.json()["status"] == MACHINE[step_name][status]
            assert ServiceRequest.objects.get(pk=request.pk).status == MACHINE[step_name][status]
        else:
            assert response.status_code == 409, (path, response.json())
            body = response.json()
            api_messages.append(body["detail"])
            assert body["code"] == refused(step_name, status)[1]
            assert snapshot(request) == before, path

    if not allowed:
        # Refused identically: the same words on every page and on the API.
        message = refused(step_name, status)[0]
        assert page_messages == [message] * len(page_ways(step))
        assert api_messages == [message]


@pytest.mark.parametrize("status", STATUSES)
def test_the_staff_page_shows_a_button_exactly_where_its_step_is_allowed(world, status):
    for name, button in BUTTONS.items():
        request = world.in_status(status, button.step.name)
        body = world.client_for(world.actor(button.step.name)).get(request.get_absolute_url()).content.decode()
        shown = f'data-step="{name}"' in body or f'data-action="{name}"' in body
        assert shown == (status in MACHINE[button.step.name]), (name, status)
    request = world.in_status(status, "rate")
    body = world.client_for(world.resident).get(request.get_absolute_url()).content.decode()
    assert ('data-testid="rate"' in body) == (status in MACHINE["rate"]), status
