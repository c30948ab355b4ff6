"""The deadline scan (service_requests/reminders.py): each reminder once, to the right people.

Requests are made through the services (which keep their ``RequestClock`` rows); a test then
moves the reminder times it needs into the past with queryset ``update()`` s on the request and
its running clock (``make_due``) and runs the scan. Fixed personas of community A1
(曙光社区, street A 芜湖路街道): ``staff_a``, ``secretary_a``, ``street_official_a`` and a
street-level staff member; ``staff_b`` (A2) and the other street's staff must never be told.
"""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

from accounts.models import Role
from notifications.models import Delivery, Notification
from service_requests import reminders, selectors
from service_requests.models import RequestClock, RequestEvent, ServiceRequest
from service_requests.services import (
    request_accept,
    request_assign,
    request_extension_decide,
    request_extension_request,
    request_rate,
    request_reroute,
    request_resolve,
    request_return,
    request_submit,
)
from tests.clocks import make_due
from tests.factories import CategoryFactory, RoleFactory, UserFactory

S = ServiceRequest.Status
E = RequestEvent.Kind
ACCEPT_COLUMNS = ("accept_warn_at", "accept_due_at", "accept_escalate_at")
RESOLVE_COLUMNS = ("resolve_warn_at", "resolve_due_at", "resolve_escalate_at")
NOTHING = {
    "accept.warn": 0,
    "accept.overdue": 0,
    "accept.escalate": 0,
    "resolve.warn": 0,
    "resolve.overdue": 0,
    "resolve.escalate": 0,
    "rate.remind": 0,
    "closed": 0,
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def category(db):
    return CategoryFactory(name="电梯故障", code="t-lift", accept_within_hours=4, resolve_within_days=3)


@pytest.fixture
def street_staff_a(district):
    user = UserFactory(username="street_staff_a", name="芜湖路街道工作人员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


@pytest.fixture
def people(resident, staff_a, staff_b, staff_other_street, secretary_a, street_official_a, street_staff_a):
    return {
        "resident": resident,
        "staff": staff_a,
        "staff_b": staff_b,
        "other_street": staff_other_street,
        "secretary": secretary_a,
        "street_official": street_official_a,
        "street_staff": street_staff_a,
    }


def submit(district, resident, category, text="2栋电梯停在3楼不动"):
    home = district.a1.households[0]
    return request_submit(
        by=resident,
        category=category,
        description=text,
        compound=district.a1.compound,
        building=home.building,
        household=home,
    )


def clock(request, name):
    """The last cycle of ``request``'s clock ``name`` (``None`` if it never ran or ran without claims)."""
    return RequestClock.objects.filter(request=request, clock=name).order_by("cycle").last()


def claims(request, name):
    row = clock(request, name)
    return (row.warned_at, row.overdue_at, row.escalated_at)


NUMBER = re.compile(r"BH-[0-9-]+[0-9]")


def mentioned(kind, user):
    """The request numbers named in ``user``'s notifications of ``kind``, once per notification."""
    numbers = []
    for note in Notification.objects.filter(kind=kind, recipient=user):
        numbers.extend(sorted(set(NUMBER.findall(f"{note.title}\n{note.body}"))))
    return sorted(numbers)


def told(kind):
    """{username: dedupe_key} of the reminders of ``kind`` (e.g. "request.accept.warn")."""
    rows = Notification.objects.filter(kind=kind).select_related("recipient").order_by("recipient__username")
    return {row.recipient.username: row.dedupe_key for row in rows}


def counts(**changed):
    return {**NOTHING, **changed}


# --- the schedule ---------------------------------------------------------------------------
def test_submitting_schedules_warning_at_75_percent_and_escalation_at_twice_the_time(district, resident, category):
    before = timezone.now()
    request = submit(district, resident, category)
    after = timezone.now()
    request.refresh_from_db()
    # accept: 4 hours → warn after 3 hours, escalate after 8 hours
    assert before + timedelta(hours=3) <= request.accept_warn_at <= after + timedelta(hours=3)
    assert request.accept_escalate_at - request.accept_due_at == timedelta(hours=4)
    start = request.accept_due_at - timedelta(hours=4)  # the moment the clocks started
    assert before <= start <= after
    span = request.resolve_due_at - start
    assert request.resolve_warn_at == start + span * 0.75
    assert request.resolve_escalate_at == start + span * 2
    assert request.resolve_clock_start() == start
    # The scan's copy: only the accept clock runs while the request waits to be accepted.
    accept = RequestClock.objects.get(request=request)
    assert (accept.clock, accept.cycle, accept.running, accept.number) == ("accept", 1, True, request.number)
    assert (accept.warn_at, accept.due_at, accept.escalate_at) == (
        request.accept_warn_at,
        request.accept_due_at,
        request.accept_escalate_at,
    )
    assert accept.next_due_at == accept.warn_at
    assert claims(request, "accept") == (None, None, None)


def test_nothing_due_sends_nothing(people, district, category):
    submit(district, people["resident"], category)
    assert reminders.scan_deadlines() == NOTHING
    assert not Notification.objects.filter(kind__startswith="request.accept").exists()


def test_an_idle_scan_is_one_query(people, district, category, django_assert_num_queries):
    for _ in range(3):
        submit(district, people["resident"], category)
    # One statement of two probes (a clock with a reminder due, a request to close); nothing else.
    with django_assert_num_queries(1) as captured:
        assert reminders.scan_deadlines() == NOTHING
    assert captured.captured_queries[0]["sql"].count("IS NOT NULL") == 2


# --- accept: warn, overdue, escalate --------------------------------------------------------
def test_accept_deadline_passing_warns_marks_overdue_and_escalates_once_each(people, district, category):
    request = submit(district, people["resident"], category)
    Notification.objects.all().delete()  # the "new request" notices
    make_due(request, *ACCEPT_COLUMNS)

    assert reminders.scan_deadlines() == counts(**{"accept.warn": 1, "accept.overdue": 1, "accept.escalate": 1})

    key = f"request:{request.pk}:accept"
    staff, secretary = people["staff"], people["secretary"]
    # Nobody has it yet: the community's staff (the secretary is staff too) are warned.
    assert told("request.accept.warn") == {
        "secretary_a": f"{key}:warn:1:user:{secretary.pk}",
        "staff_a": f"{key}:warn:1:user:{staff.pk}",
    }
    assert told("request.accept.overdue") == {"secretary_a": f"{key}:overdue:1:user:{secretary.pk}"}
    assert told("request.accept.escalate") == {
        "street_official_a": f"{key}:escalate:1:user:{people['street_official'].pk}",
        "street_staff_a": f"{key}:escalate:1:user:{people['street_staff'].pk}",
    }
    warning = Notification.objects.get(kind="request.accept.warn", recipient=staff)
    request.refresh_from_db()
    deadline = timezone.localtime(request.accept_due_at).strftime("%Y-%m-%d %H:%M")
    # Warned and overdue in the same scan: the warning says it is late already (issue 15) …
    assert warning.title == f"诉求 {request.number} 已超过签收时限（{deadline}），请尽快签收。"
    assert warning.link == f"/requests/{request.pk}/"
    # … and reads in the reader's language, the deadline in their date format.
    with translation.override("en"):
        english_deadline = date_format(timezone.localtime(request.accept_due_at), "M j, Y H:i")
        assert warning.display_title == (
            f"Request {request.number} is past its acceptance time limit ({english_deadline}); please accept it now."
        )
    assert Notification.objects.get(kind="request.accept.overdue").title == (
        f"诉求 {request.number} 已超过签收时限（{deadline}），仍未签收。"
    )
    assert Notification.objects.get(kind="request.accept.escalate", recipient=people["street_official"]).title == (
        f"诉求 {request.number} 超过签收时限一倍仍未签收，请街道督办。"
    )
    # Nobody outside community A1 / street A; the resident is not told about internal escalation.
    outsiders = [people["staff_b"], people["other_street"], people["resident"]]
    assert not Notification.objects.filter(recipient__in=outsiders).exists()

    request.refresh_from_db()
    assert request.status == S.SUBMITTED
    warned, overdue, escalated = claims(request, "accept")
    assert warned and overdue and escalated
    assert clock(request, "accept").next_due_at is None  # nothing left to send on this clock
    # Staff read "overdue, the secretary was told" and "escalated" in the timeline; residents don't.
    events = [
        (e.kind, e.actor_id, e.public, e.message, e.created_at)
        for e in selectors.timeline_events(request=request, staff=True)
    ]
    assert events[1:] == [
        (E.OVERDUE, None, False, "超过签收时限，已通知社区书记。", overdue),
        (E.ESCALATED, None, False, "超过签收时限一倍，已上报街道。", escalated),
    ]
    assert [e.kind for e in selectors.timeline_events(request=request, staff=False)] == [E.SUBMITTED]
    assert RequestEvent.objects.filter(request=request).count() == 1  # the scan writes no event rows


def test_running_the_scan_again_sends_nothing_more(people, district, category):
    request = submit(district, people["resident"], category)
    make_due(request, *ACCEPT_COLUMNS)
    reminders.scan_deadlines()
    before = (Notification.objects.count(), Delivery.objects.count(), RequestEvent.objects.count())

    assert reminders.scan_deadlines() == NOTHING
    assert reminders.scan_deadlines() == NOTHING
    assert (Notification.objects.count(), Delivery.objects.count(), RequestEvent.objects.count()) == before


def test_each_step_falls_due_on_its_own(people, district, category):
    request = submit(district, people["resident"], category)
    make_due(request, "accept_warn_at")
    assert reminders.scan_deadlines() == counts(**{"accept.warn": 1})
    make_due(request, "accept_due_at")
    assert reminders.scan_deadlines() == counts(**{"accept.overdue": 1})
    make_due(request, "accept_escalate_at")
    assert reminders.scan_deadlines() == counts(**{"accept.escalate": 1})
    assert reminders.scan_deadlines() == NOTHING


def test_an_accepted_request_gets_no_accept_reminders(people, district, category):
    request = request_accept(request=submit(district, people["resident"], category), by=people["staff"])
    make_due(request, *ACCEPT_COLUMNS)
    assert reminders.scan_deadlines() == NOTHING


def test_a_community_without_secretary_tells_its_staff_when_overdue(district, resident, staff_a, category):
    request = submit(district, resident, category)
    make_due(request, "accept_due_at")
    reminders.scan_deadlines()
    assert told("request.accept.overdue") == {"staff_a": f"request:{request.pk}:accept:overdue:1:user:{staff_a.pk}"}


def test_inactive_people_are_not_told(people, district, category):
    people["street_official"].is_active = False
    people["street_official"].save(update_fields=["is_active"])
    request = submit(district, people["resident"], category)
    make_due(request, "accept_escalate_at")
    reminders.scan_deadlines()
    assert set(told("request.accept.escalate")) == {"street_staff_a"}


def test_batches_claim_every_row_once_and_tell_each_person_once_per_batch(people, district, category):
    requests = [submit(district, people["resident"], category, text=f"第{i}件") for i in range(7)]
    for request in requests:
        make_due(request, "accept_warn_at")
    assert reminders.scan_deadlines(batch_size=3)["accept.warn"] == 7
    assert RequestClock.objects.filter(warned_at=None).count() == 0
    # Batches of 3, 3 and 1: staff_a and secretary_a each get 3 notifications naming all 7 once.
    numbers = sorted(r.number for r in requests)
    for person in (people["staff"], people["secretary"]):
        assert Notification.objects.filter(kind="request.accept.warn", recipient=person).count() == 3
        assert mentioned("request.accept.warn", person) == numbers


def test_many_requests_due_at_once_are_one_notification_per_person(people, district, category):
    requests = [submit(district, people["resident"], category, text=f"第{i}件") for i in range(5)]
    Notification.objects.all().delete()
    for request in requests:
        make_due(request, "accept_due_at")
    assert reminders.scan_deadlines()["accept.overdue"] == 5
    note = Notification.objects.get(kind="request.accept.overdue")
    assert note.recipient == people["secretary"]
    first = sorted(requests, key=lambda r: r.accept_due_at)
    assert note.title.startswith("5 件诉求已超过签收时限，仍未签收：")
    assert note.link == "/requests/queue/?due=overdue"
    assert mentioned("request.accept.overdue", people["secretary"]) == sorted(r.number for r in first)
    assert len(note.body.splitlines()) == 5


# --- resolve ----------------------------------------------------------------------------------
def accepted_and_assigned(people, district, category):
    request = submit(district, people["resident"], category)
    request = request_accept(request=request, by=people["secretary"])
    return request_assign(
        request=request, by=people["secretary"], kind=ServiceRequest.AssigneeKind.STAFF, user=people["staff"]
    )


def test_resolve_deadline_warns_the_assignee_then_secretary_then_street(people, district, category):
    request = accepted_and_assigned(people, district, category)
    make_due(request, *RESOLVE_COLUMNS)

    assert reminders.scan_deadlines() == counts(**{"resolve.warn": 1, "resolve.overdue": 1, "resolve.escalate": 1})
    key = f"request:{request.pk}:resolve"
    assert told("request.resolve.warn") == {"staff_a": f"{key}:warn:1:user:{people['staff'].pk}"}
    assert told("request.resolve.overdue") == {"secretary_a": f"{key}:overdue:1:user:{people['secretary'].pk}"}
    assert set(told("request.resolve.escalate")) == {"street_official_a", "street_staff_a"}
    assert reminders.scan_deadlines() == NOTHING


def test_a_resolved_request_gets_no_resolve_reminders(people, district, category):
    request = accepted_and_assigned(people, district, category)
    request_resolve(request=request, by=people["staff"], message="已修好")
    make_due(request, *RESOLVE_COLUMNS)
    assert reminders.scan_deadlines() == NOTHING


def test_an_approved_extension_moves_the_reminders_and_they_are_sent_again(people, district, category):
    request = accepted_and_assigned(people, district, category)
    make_due(request, "resolve_warn_at", "resolve_due_at")
    reminders.scan_deadlines()
    request.refresh_from_db()
    start = request.resolve_clock_start()

    until = timezone.now() + timedelta(days=10)
    request_extension_request(request=request, by=people["staff"], until=until, reason="需要更换电梯主板")
    request = request_extension_decide(request=request, by=people["secretary"], approve=True)
    request.refresh_from_db()
    # The clock keeps its start; the warning and escalation follow the new deadline.
    span = until - start
    assert request.resolve_due_at == until
    assert abs(request.resolve_warn_at - (start + span * 0.75)) < timedelta(seconds=1)
    assert abs(request.resolve_escalate_at - (start + span * 2)) < timedelta(seconds=1)
    # A new cycle of the resolve clock, nothing claimed on it; the old one is kept, stopped.
    assert clock(request, "resolve").cycle == 2
    assert claims(request, "resolve") == (None, None, None)
    old = RequestClock.objects.get(request=request, clock="resolve", cycle=1)
    assert (old.running, old.next_due_at, bool(old.warned_at), bool(old.overdue_at)) == (False, None, True, True)

    make_due(request, "resolve_warn_at")
    assert reminders.scan_deadlines()["resolve.warn"] == 1
    keys = sorted(Notification.objects.filter(kind="request.resolve.warn").values_list("dedupe_key", flat=True))
    assert keys == [
        f"request:{request.pk}:resolve:warn:1:user:{people['staff'].pk}",
        f"request:{request.pk}:resolve:warn:2:user:{people['staff'].pk}",
    ]


def test_a_reopened_request_starts_a_new_resolve_clock(people, district, category):
    request = accepted_and_assigned(people, district, category)
    make_due(request, *RESOLVE_COLUMNS)
    reminders.scan_deadlines()
    request = request_resolve(request=request, by=people["staff"], message="已修好")
    request = request_rate(
        request=request,
        by=people["resident"],
        solved=ServiceRequest.Solved.UNSOLVED,
        satisfaction=ServiceRequest.Satisfaction.UNSATISFIED,
    )
    request.refresh_from_db()
    assert request.status == S.IN_PROGRESS
    assert request.resolve_warn_at > timezone.now()
    assert clock(request, "resolve").cycle == 2
    assert claims(request, "resolve") == (None, None, None)

    make_due(request, *RESOLVE_COLUMNS)
    assert reminders.scan_deadlines() == counts(**{"resolve.warn": 1, "resolve.overdue": 1, "resolve.escalate": 1})
    assert Notification.objects.filter(dedupe_key__contains=":resolve:overdue:2:").count() == 1
    # The timeline keeps both overdue notices, one per clock cycle.
    kinds = [e.kind for e in selectors.timeline_events(request=request, staff=True)]
    assert kinds.count(E.OVERDUE) == 2


def test_a_rerouted_request_starts_new_clocks(people, district, category, staff_b):
    request = submit(district, people["resident"], category)
    make_due(request, *ACCEPT_COLUMNS)
    reminders.scan_deadlines()
    request = request_return(request=request, by=people["staff"], reason="不属于本社区")
    request = request_reroute(request=request, by=people["street_staff"], compound=district.a2.compound)
    request.refresh_from_db()
    assert request.accept_warn_at > timezone.now()
    assert clock(request, "accept").cycle == 2
    assert claims(request, "accept") == (None, None, None)

    make_due(request, "accept_warn_at")
    assert reminders.scan_deadlines()["accept.warn"] == 1
    # Now A2's staff are warned, under a new cycle.
    assert Notification.objects.get(recipient=staff_b, kind="request.accept.warn").dedupe_key == (
        f"request:{request.pk}:accept:warn:2:user:{staff_b.pk}"
    )


# --- rating and closing -----------------------------------------------------------------------
def resolved(people, district, category):
    request = accepted_and_assigned(people, district, category)
    return request_resolve(request=request, by=people["staff"], message="已联系维保单位修好")


def test_the_resident_is_asked_to_rate_three_days_after_resolving(people, district, category):
    request = resolved(people, district, category)
    make_due(request, "resolved_at", ago=timedelta(days=2))
    assert reminders.scan_deadlines() == NOTHING

    make_due(request, "resolved_at", ago=timedelta(days=3, minutes=1))
    assert reminders.scan_deadlines() == counts(**{"rate.remind": 1})
    note = Notification.objects.get(kind="request.rate.remind")
    assert (note.recipient, note.title, note.dedupe_key) == (
        people["resident"],
        f"您的诉求 {request.number} 已办结，请对办理结果进行评价。",
        f"request:{request.pk}:rate:remind:1:user:{people['resident'].pk}",
    )
    # Residents are told by SMS by default.
    assert list(note.deliveries.values_list("channel", "status")) == [("sms", "pending")]
    assert reminders.scan_deadlines() == NOTHING


def test_unrated_requests_close_after_seven_days_without_a_rating_reminder(people, district, category):
    request = resolved(people, district, category)
    make_due(request, "resolved_at", ago=timedelta(days=7, minutes=1))

    assert reminders.scan_deadlines() == counts(closed=1)
    request.refresh_from_db()
    assert request.status == S.CLOSED
    closing = RequestEvent.objects.filter(request=request).last()
    assert (closing.kind, closing.actor, closing.message, closing.from_status) == (
        E.CLOSED,
        None,
        "7 天内未评价，自动关闭。",
        "resolved",
    )
    assert not Notification.objects.filter(kind="request.rate.remind").exists()
    assert reminders.scan_deadlines() == NOTHING


def test_a_rated_request_is_neither_reminded_nor_closed_again(people, district, category):
    request = resolved(people, district, category)
    request_rate(
        request=request,
        by=people["resident"],
        solved=ServiceRequest.Solved.SOLVED,
        satisfaction=ServiceRequest.Satisfaction.SATISFIED,
    )
    make_due(request, "resolved_at", ago=timedelta(days=8))
    closed_events = RequestEvent.objects.filter(kind=E.CLOSED).count()
    assert reminders.scan_deadlines() == NOTHING
    assert RequestEvent.objects.filter(kind=E.CLOSED).count() == closed_events


# --- concurrency and the indexes (PostgreSQL) ---------------------------------------------------
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SKIP LOCKED and partial-index plans need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_four_scans_at_once_send_each_reminder_once(people, district, category):
    requests = [submit(district, people["resident"], category, text=f"第{i}件") for i in range(30)]
    for request in requests:
        make_due(request, *ACCEPT_COLUMNS)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def scan():
        try:
            barrier.wait(timeout=30)
            results.append(reminders.scan_deadlines(batch_size=4))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    for key in ("accept.warn", "accept.overdue", "accept.escalate"):
        assert sum(result[key] for result in results) == 30
    # Each person named each request exactly once: warn (staff, secretary), overdue (secretary),
    # escalate (official, street staff) — however the scans split the batches between them.
    numbers = sorted(r.number for r in requests)
    for kind, person in (
        ("request.accept.warn", "staff"),
        ("request.accept.warn", "secretary"),
        ("request.accept.overdue", "secretary"),
        ("request.accept.escalate", "street_official"),
        ("request.accept.escalate", "street_staff"),
    ):
        assert mentioned(kind, people[person]) == numbers, (kind, person)
    assert RequestClock.objects.filter(running=True, next_due_at__isnull=False).count() == 0


@postgres_only
def test_the_claim_and_the_probe_use_the_partial_index(db):
    """Both find due clocks through sr_clock_next_due (the scan predicate implies its condition)."""
    now = timezone.now()
    query = RequestClock.objects.filter(next_due_at__lte=now).order_by("next_due_at").values("pk")[:5000]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = query.explain()
        cursor.execute("EXPLAIN " + reminders._claim_sql(), reminders._Params(now=now, batch=5000, stale=now))
        claim_plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "sr_clock_next_due" in plan, plan
    assert "sr_clock_next_due" in claim_plan, claim_plan


# --- the clocks follow the request ------------------------------------------------------------------
def running(request):
    return sorted(RequestClock.objects.filter(request=request, running=True).values_list("clock", flat=True))


def test_each_clock_runs_only_in_its_status_and_stops_without_a_trace_when_nothing_was_sent(people, district, category):
    request = submit(district, people["resident"], category)
    assert running(request) == ["accept"]
    request = request_accept(request=request, by=people["staff"])
    assert running(request) == ["resolve"]
    request = request_resolve(request=request, by=people["staff"], message="已修好")
    assert running(request) == ["rate"]
    request_rate(
        request=request,
        by=people["resident"],
        solved=ServiceRequest.Solved.SOLVED,
        satisfaction=ServiceRequest.Satisfaction.SATISFIED,
    )
    assert running(request) == []
    assert not RequestClock.objects.filter(request=request).exists()  # nothing was sent on any clock


def test_an_assignment_moves_the_warning_to_the_new_assignee(people, district, category, staff_b):
    request = accepted_and_assigned(people, district, category)
    assert clock(request, "resolve").recipient == people["staff"]
    request_assign(
        request=request, by=people["secretary"], kind=ServiceRequest.AssigneeKind.STAFF, user=people["secretary"]
    )
    assert clock(request, "resolve").recipient == people["secretary"]
    assert clock(request, "resolve").cycle == 1  # the same clock, not a new one
    make_due(request, "resolve_warn_at")
    reminders.scan_deadlines()
    assert set(told("request.resolve.warn")) == {"secretary_a"}


def test_staff_read_the_overdue_notice_in_the_timeline_and_residents_do_not(people, district, category, client_for):
    request = submit(district, people["resident"], category)
    make_due(request, *ACCEPT_COLUMNS)
    reminders.scan_deadlines()
    staff_page = client_for(people["staff"]).get(request.get_absolute_url()).content.decode()
    assert "超过签收时限，已通知社区书记。" in staff_page
    assert "超过签收时限一倍，已上报街道。" in staff_page
    resident_page = client_for(people["resident"]).get(request.get_absolute_url()).content.decode()
    assert "超过签收时限" not in resident_page
