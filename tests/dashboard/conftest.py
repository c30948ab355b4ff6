"""Dashboard fixtures: a clock the services follow, two category groups, and ``story``: eleven
requests taken through the real services at fixed moments in March and April 2025.

The story (A1 = 曙光社区, A2 = 宁国路社区, both in street A; B1 = 望湖社区 in street B)::

    r1  A1  G1  03-03 submitted, accepted on time, resolved on time, rated 解决/满意 → closed
    r2  A1  G1  03-04 submitted, accepted LATE, resolved LATE, phone follow-up 部分解决/基本满意 → closed
    r3  A1  G2  03-06 submitted, accepted, resolved, rated 未解决/不满意 → REOPENED (03-07),
                resolved again LATE (04-02), rated 解决/满意 (04-03) → closed
    r4  A1→A2 G2 03-10 submitted, RETURNED (03-10), rerouted to A2 (03-11), accepted on time → open, overdue
    r5  A1  G1  03-12 submitted, accepted, resolved on time, never rated → closed automatically (03-20)
    r6  A1  G1  03-25 submitted, never accepted → overdue
    r7  B1  G1  03-05 submitted, accepted, resolved on time, follow-up 解决/满意 → closed
    r8  A1  G2  03-31 20:00 submitted, accepted LATE on 04-01 (the next month) → open, overdue
    r9  A1  G1  04-08 submitted, rejected (不予受理)
    r10 A1  G1  04-09 submitted, accepted on time, RETURNED (stays returned)
    r11 A1  G1  04-01 submitted, accepted, resolved, rated 解决/不满意 (04-03) → REOPENED, open, overdue

"Now" afterwards is 2025-04-15 12:00 (Asia/Shanghai).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Role
from service_requests import services
from tests.caches import clear_default_cache
from tests.factories import CategoryFactory, RoleFactory, UserFactory

TZ = ZoneInfo("Asia/Shanghai")
STORY_NOW = datetime(2025, 4, 15, 12, 0, tzinfo=TZ)


def at(month, day, hour=9, minute=0):
    return datetime(2025, month, day, hour, minute, tzinfo=TZ)


class Clock:
    """``timezone.now()`` for everything (services, auto_now_add, the dashboard's "today")."""

    def __init__(self, monkeypatch, start):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment):
        self.now = moment


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, STORY_NOW)


@pytest.fixture(autouse=True)
def _no_dashboard_cache(settings):
    """Pages count live in these tests (``test_queries`` and ``test_page_cache`` check the caches
    on their own): neither the organisation section nor whole pages are kept."""
    settings.DASHBOARD_CACHE_SECONDS = 0
    settings.PAGE_CACHE_SECONDS = 0
    clear_default_cache()


@dataclass
class Groups:
    g1: object  # 物业服务-like: accept within 24 h, resolve within 5 working days
    g2: object  # accept within 4 h, resolve within 2 working days
    l1: object
    l2: object


@pytest.fixture
def groups(db):
    g1 = CategoryFactory(parent=None, name="物业服务", code="g1", order=10)
    g2 = CategoryFactory(parent=None, name="环境卫生", code="g2", order=20)
    l1 = CategoryFactory(parent=g1, name="电梯故障", code="l1", accept_within_hours=24, resolve_within_days=5)
    l2 = CategoryFactory(parent=g2, name="垃圾清运", code="l2", accept_within_hours=4, resolve_within_days=2)
    return Groups(g1, g2, l1, l2)


@pytest.fixture
def street_staff_a(district):
    user = UserFactory(username="street_staff_a", name="芜湖路街道工作人员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


@dataclass
class Story:
    requests: dict = field(default_factory=dict)
    steps: int = 0


def run_story(district, groups, clock, people, after_step=None):
    """Take the eleven requests of the module docstring through the services, calling
    ``after_step()`` after every step. Returns the :class:`Story`."""
    story = Story()
    resident, staff_a, staff_b, staff_b1, street_staff = people
    a1, a2, b1 = district.a1.compound, district.a2.compound, district.b1.compound
    r = story.requests

    def step(moment, fn, **kwargs):
        clock.set(moment)
        result = fn(**kwargs)
        story.steps += 1
        if after_step is not None:
            after_step()
        return result

    def submit(name, moment, by, compound, leaf):
        r[name] = step(
            moment, services.request_submit, by=by, category=leaf, description=f"{name} 描述", compound=compound
        )

    def do(name, moment, fn, **kwargs):
        r[name] = step(moment, fn, request=r[name], **kwargs)

    l1, l2 = groups.l1, groups.l2
    # r1: on time all along, rated solved and satisfied.
    submit("r1", at(3, 3), resident, a1, l1)
    do("r1", at(3, 3, 10), services.request_accept, by=staff_a)
    do("r1", at(3, 4), services.request_resolve, by=staff_a, message="已修复")
    do("r1", at(3, 5), services.request_rate, by=resident, solved="solved", satisfaction="satisfied")
    # r2: accepted late (24 h limit), resolved late, phone follow-up: partly solved, basically satisfied.
    submit("r2", at(3, 4), staff_a, a1, l1)
    do("r2", at(3, 5, 15), services.request_accept, by=staff_a)
    do("r2", at(3, 20), services.request_resolve, by=staff_a, message="已处理")
    do("r2", at(3, 21), services.request_follow_up, by=staff_a, solved="partly", satisfaction="basic")
    # r7 (street B): on time, follow-up solved and satisfied.
    submit("r7", at(3, 5), staff_b1, b1, l1)
    do("r7", at(3, 5, 10), services.request_accept, by=staff_b1)
    do("r7", at(3, 6), services.request_resolve, by=staff_b1, message="已处理")
    do("r7", at(3, 7), services.request_follow_up, by=staff_b1, solved="solved", satisfaction="satisfied")
    # r3: rated unsolved → reopened, resolved again late, then rated solved and satisfied.
    submit("r3", at(3, 6, 10), resident, a1, l2)
    do("r3", at(3, 6, 11), services.request_accept, by=staff_a)
    do("r3", at(3, 6, 12), services.request_resolve, by=staff_a, message="已清运")
    do("r3", at(3, 7), services.request_rate, by=resident, solved="unsolved", satisfaction="unsatisfied")
    # r4: returned to the street, rerouted to A2, accepted there on time; left open.
    submit("r4", at(3, 10), staff_a, a1, l2)
    do("r4", at(3, 10, 12), services.request_return, by=staff_a, reason="不属于本小区")
    do("r4", at(3, 11), services.request_reroute, by=street_staff, compound=a2)
    do("r4", at(3, 11, 10), services.request_accept, by=staff_b)
    # r5: resolved on time, never rated: closed automatically.
    submit("r5", at(3, 12), staff_a, a1, l1)
    do("r5", at(3, 12, 10), services.request_accept, by=staff_a)
    do("r5", at(3, 13), services.request_resolve, by=staff_a, message="已处理")
    do("r5", at(3, 20), services.request_close, automatic=True)
    # r6: never accepted.
    submit("r6", at(3, 25), staff_a, a1, l1)
    # r8: submitted late in March, accepted late on 1 April.
    submit("r8", at(3, 31, 20), staff_a, a1, l2)
    do("r8", at(4, 1, 2), services.request_accept, by=staff_a)
    # r11: rated solved but unsatisfied → reopened and still open.
    submit("r11", at(4, 1), resident, a1, l1)
    do("r11", at(4, 1, 10), services.request_accept, by=staff_a)
    # r3 again: resolved late against the fresh limit, then rated solved and satisfied.
    do("r3", at(4, 2), services.request_resolve, by=staff_a, message="再次清运")
    do("r11", at(4, 2, 10), services.request_resolve, by=staff_a, message="已处理")
    do("r3", at(4, 3), services.request_rate, by=resident, solved="solved", satisfaction="satisfied")
    do("r11", at(4, 3, 10), services.request_rate, by=resident, solved="solved", satisfaction="unsatisfied")
    # r9: rejected.
    submit("r9", at(4, 8), staff_a, a1, l1)
    do("r9", at(4, 8, 10), services.request_reject, by=staff_a, reason="不属于受理范围")
    # r10: accepted on time, then returned (not rerouted).
    submit("r10", at(4, 9), staff_a, a1, l1)
    do("r10", at(4, 9, 10), services.request_accept, by=staff_a)
    do("r10", at(4, 9, 11), services.request_return, by=staff_a, reason="需街道协调")
    clock.set(STORY_NOW)
    for name, request in r.items():
        request.refresh_from_db()
        r[name] = request
    return story


@pytest.fixture
def people(resident, staff_a, staff_b, staff_other_street, street_staff_a):
    return resident, staff_a, staff_b, staff_other_street, street_staff_a


@pytest.fixture
def story(district, groups, clock, people):
    return run_story(district, groups, clock, people)


def shift(moment, **kwargs):
    return moment + timedelta(**kwargs)
