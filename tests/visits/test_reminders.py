"""The visit scan: the day before → the visitor; after the due date → the party group leader
(and the visitor); three days after → the branch secretary. Each once, whatever the number of
runs; a visit moves the due date and the next due date gets its own reminders."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from notifications.models import Notification
from tests.factories import HouseholdFactory, RoleFactory, UserFactory
from visits import reminders, services
from visits.models import Purpose, VisitPlan, VisitRound

from .conftest import local

pytestmark = pytest.mark.django_db


def set_due(plan, day):
    VisitPlan.objects.filter(pk=plan.pk).update(next_due_on=day)
    plan.refresh_from_db()


def visit_notices():
    return list(
        Notification.objects.filter(kind__startswith="visit.")
        .order_by("id")
        .values_list("recipient__username", "kind", "dedupe_key")
    )


def only_weekly(visiting):
    """Keep only the weekly plan of A1 in play (the others far in the future)."""
    far = timezone.localdate() + timedelta(days=60)
    VisitPlan.objects.exclude(pk=visiting.weekly.pk).update(next_due_on=far)


def test_weekly_plan_reminds_the_day_before_then_overdue_then_secretary(visiting):
    only_weekly(visiting)
    today = timezone.localdate()
    due = today + timedelta(days=1)
    set_due(visiting.weekly, due)
    plan = visiting.weekly
    key = f"visit:{plan.pk}:{due.isoformat()}"

    # Two days before: nothing yet.
    assert reminders.scan_due_visits(now=local(today - timedelta(days=1))) == {
        "reminded": 0,
        "overdue": 0,
        "escalated": 0,
    }
    assert visit_notices() == []

    # The day before: exactly one reminder, to the visitor; running again adds nothing.
    assert reminders.scan_due_visits(now=local(today)) == {"reminded": 1, "overdue": 0, "escalated": 0}
    assert reminders.scan_due_visits(now=local(today, 15)) == {"reminded": 0, "overdue": 0, "escalated": 0}
    assert visit_notices() == [("central_a1", "visit.remind", f"{key}:remind")]
    reminder = Notification.objects.get(dedupe_key=f"{key}:remind")
    assert reminder.title == f"明天请走访 曙光小区 {visiting.alone}（独居老人每周走访）"
    assert reminder.link == f"/visits/record/{visiting.alone.pk}/?plan={plan.pk}"
    plan.refresh_from_db()
    assert (plan.reminded_for, plan.overdue_for, plan.escalated_for) == (due, None, None)

    # The due day itself: still not overdue.
    assert reminders.scan_due_visits(now=local(due, 20)) == {"reminded": 0, "overdue": 0, "escalated": 0}

    # The day after the due date, no visit: overdue → the group leader (and the visitor), once.
    after = due + timedelta(days=1)
    assert reminders.scan_due_visits(now=local(after)) == {"reminded": 0, "overdue": 1, "escalated": 0}
    assert reminders.scan_due_visits(now=local(after, 16)) == {"reminded": 0, "overdue": 0, "escalated": 0}
    assert visit_notices()[1:] == [
        ("leader_a1", "visit.overdue", f"{key}:overdue:{visiting.leader.pk}"),
        ("central_a1", "visit.overdue", f"{key}:overdue:{visiting.central.pk}"),
    ]

    # Two days late: no escalation yet; three days late: the branch secretary, once.
    assert reminders.scan_due_visits(now=local(due + timedelta(days=2))) == {
        "reminded": 0,
        "overdue": 0,
        "escalated": 0,
    }
    late = due + timedelta(days=3)
    assert reminders.scan_due_visits(now=local(late)) == {"reminded": 0, "overdue": 0, "escalated": 1}
    assert reminders.scan_due_visits(now=local(late + timedelta(days=1))) == {
        "reminded": 0,
        "overdue": 0,
        "escalated": 0,
    }
    assert visit_notices()[3:] == [("branch_secretary_a1", "visit.escalate", f"{key}:escalate:{visiting.secretary.pk}")]
    escalation = Notification.objects.get(kind="visit.escalate")
    assert escalation.title == f"走访逾期 3 天，请督促：曙光小区 {visiting.alone}（独居老人每周走访）"
    assert escalation.link == f"/visits/coverage/overdue/?compound={visiting.alone.compound_id}"
    plan.refresh_from_db()
    assert (plan.reminded_for, plan.overdue_for, plan.escalated_for) == (due, due, due)
    assert Notification.objects.filter(kind__startswith="visit.").count() == 4


def test_a_visit_moves_the_due_date_and_the_next_due_date_is_reminded_again(visiting):
    only_weekly(visiting)
    today = timezone.localdate()
    set_due(visiting.weekly, today - timedelta(days=1))
    reminders.scan_due_visits(now=local(today))
    assert Notification.objects.filter(kind="visit.overdue").count() == 2

    services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH, notes="身体不错")

    plan = VisitPlan.objects.get(pk=visiting.weekly.pk)
    assert plan.next_due_on == today + timedelta(days=7)
    assert (plan.reminded_for, plan.overdue_for, plan.escalated_for) == (None, None, None)
    # Nothing new until the day before the new due date; then one new reminder for it.
    assert reminders.scan_due_visits(now=local(today + timedelta(days=5))) == {
        "reminded": 0,
        "overdue": 0,
        "escalated": 0,
    }
    assert reminders.scan_due_visits(now=local(today + timedelta(days=6))) == {
        "reminded": 1,
        "overdue": 0,
        "escalated": 0,
    }
    new_key = f"visit:{plan.pk}:{(today + timedelta(days=7)).isoformat()}:remind"
    assert Notification.objects.filter(dedupe_key=new_key, recipient=visiting.central).count() == 1


def test_missed_day_before_is_reminded_on_the_due_day(visiting):
    only_weekly(visiting)
    today = timezone.localdate()
    set_due(visiting.weekly, today)
    assert reminders.scan_due_visits(now=local(today)) == {"reminded": 1, "overdue": 0, "escalated": 0}
    assert Notification.objects.get(kind="visit.remind").title.startswith("今天请走访")


def test_nothing_is_sent_at_night(visiting):
    only_weekly(visiting)
    today = timezone.localdate()
    set_due(visiting.weekly, today + timedelta(days=1))
    assert reminders.scan_due_visits(now=local(today, 23, 30)) == {"skipped": True}
    assert reminders.scan_due_visits(now=local(today, 6, 0)) == {"skipped": True}
    assert visit_notices() == []
    assert reminders.scan_due_visits(now=local(today, 8, 0))["reminded"] == 1


def test_scan_works_in_bounded_batches(visiting, district):
    today = timezone.localdate()
    VisitPlan.objects.update(next_due_on=today + timedelta(days=1))
    active = VisitPlan.objects.filter(active=True).count()
    assert active == 3
    assert reminders.scan_due_visits(now=local(today), batch_size=1, max_batches=2)["reminded"] == 2
    assert reminders.scan_due_visits(now=local(today), batch_size=1, max_batches=2)["reminded"] == 1
    assert reminders.scan_due_visits(now=local(today), batch_size=1, max_batches=2)["reminded"] == 0
    assert Notification.objects.filter(kind="visit.remind").count() == 3


def test_escalation_without_a_branch_secretary_goes_to_community_staff(visiting, staff_a):
    only_weekly(visiting)
    visiting.branch.secretary = None
    visiting.branch.save(update_fields=["secretary"])
    today = timezone.localdate()
    set_due(visiting.weekly, today - timedelta(days=3))
    result = reminders.scan_due_visits(now=local(today))
    assert result == {"reminded": 0, "overdue": 1, "escalated": 1}
    assert list(Notification.objects.filter(kind="visit.escalate").values_list("recipient__username", flat=True)) == [
        "staff_a"
    ]


def test_staff_round_overdue_tells_the_staff_member_then_the_community_secretary(visiting, district, secretary_a):
    staff = UserFactory(username="round_staff")
    RoleFactory(user=staff, kind=Role.Kind.STAFF, community=district.a1.community)
    services.visit_round_save(
        instance=VisitRound(community=district.a1.community, staff=staff, interval_days=14), by=staff
    )
    plan = VisitPlan.objects.get(rule=VisitPlan.Rule.STAFF_ROUND)
    assert plan.household == visiting.alone  # the only flagged household of A1
    today = timezone.localdate()
    VisitPlan.objects.exclude(pk=plan.pk).update(next_due_on=today + timedelta(days=60))
    set_due(plan, today - timedelta(days=4))
    assert reminders.scan_due_visits(now=local(today)) == {"reminded": 0, "overdue": 1, "escalated": 1}
    assert list(
        Notification.objects.filter(kind__startswith="visit.").order_by("id").values_list("recipient__username", "kind")
    ) == [("round_staff", "visit.overdue"), ("secretary_a", "visit.escalate")]


# --- concurrency and the indexes (PostgreSQL) ---------------------------------------------------
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-lock races and partial-index plans need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_four_scans_at_once_tell_each_person_once(visiting, district):
    today = timezone.localdate()
    building = district.a1.buildings[0]
    households = [HouseholdFactory(building=building, room=str(700 + n), lives_alone_elderly=True) for n in range(12)]
    visiting.central_household.served_households.add(*households)
    services.visit_plans_generate()
    VisitPlan.objects.update(next_due_on=today - timedelta(days=3))
    plans = VisitPlan.objects.count()
    assert plans == 15
    barrier = threading.Barrier(4)
    results, errors = [], []

    def scan():
        try:
            barrier.wait(timeout=30)
            results.append(reminders.scan_due_visits(now=local(today), batch_size=4))
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
    assert sum(r["overdue"] for r in results) == plans
    assert sum(r["escalated"] for r in results) == plans
    # A1 (14 plans): leader + visitor each; A2 (1 plan, no group): the visitor.
    assert Notification.objects.filter(kind="visit.overdue").count() == 14 * 2 + 1
    # A1: the branch secretary; A2: no branch secretary, no staff → nobody.
    assert Notification.objects.filter(kind="visit.escalate").count() == 14
    assert not VisitPlan.objects.filter(overdue_for=None).exists()


@postgres_only
@pytest.mark.parametrize(
    ("candidates", "index"),
    [
        (reminders._remind_candidates, "visits_plan_scan_remind"),
        (reminders._overdue_candidates, "visits_plan_scan_overdue"),
        (reminders._escalate_candidates, "visits_plan_scan_overdue"),
    ],
    ids=["remind", "overdue", "escalate"],
)
def test_each_scan_query_can_use_its_partial_index(candidates, index):
    """The scan predicate implies the index condition (else the planner could not use it)."""
    query = candidates(timezone.localdate()).order_by("next_due_on", "pk").values("pk")[:500]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = query.explain()
    assert index in plan, plan
