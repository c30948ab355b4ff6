"""Simultaneous sign-ups on PostgreSQL: the activity row is locked while its places are
counted, so the last place goes to exactly one person and the rest wait (rule 2).

``select_for_update`` is a no-op on SQLite (which serialises whole transactions instead), so
these tests only mean something on PostgreSQL and are skipped elsewhere.
"""

import threading

import pytest
from django.db import connection

from accounts.models import User
from tests.factories import ResidentFactory
from volunteers import services
from volunteers.models import Signup

from .conftest import user_for
from .factories import ActivityFactory, SignupFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (select_for_update) need PostgreSQL; set DATABASE_URL=postgres://… to run",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(count, work):
    """Run ``work(i)`` in ``count`` threads released at the same instant; returns (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, [None] * count

    def target(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - every outcome is collected and asserted below
            errors[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def test_two_residents_take_the_last_place_at_once_exactly_one_gets_it(vol, district):
    activity = vol.activity_a1  # capacity 2
    SignupFactory(activity=activity, volunteer=vol.v4)  # one place left
    users = [user_for(district.a1.residents[8], "racer_1"), user_for(district.a1.residents[10], "racer_2")]

    def sign_up(i):
        return services.signup_create(activity_id=activity.pk, by=User.objects.get(pk=users[i].pk))

    results, errors = run_together(2, sign_up)

    assert errors == [None, None]
    assert sorted(r.status for r in results) == [Signup.Status.CONFIRMED, Signup.Status.WAITLISTED]
    assert Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count() == 2
    assert Signup.objects.filter(activity=activity, status=Signup.Status.WAITLISTED).count() == 1


def test_twenty_residents_for_five_places(vol, district):
    activity = ActivityFactory(project=vol.project_a1, capacity=5)
    records = [ResidentFactory(household=district.a1.households[i % 6]) for i in range(20)]
    users = [user_for(record, f"crowd_{i}") for i, record in enumerate(records)]
    count = len(users)

    def sign_up(i):
        return services.signup_create(activity_id=activity.pk, by=User.objects.get(pk=users[i].pk))

    results, errors = run_together(count, sign_up)

    assert errors == [None] * count
    confirmed = [r for r in results if r.status == Signup.Status.CONFIRMED]
    assert len(confirmed) == 5
    assert Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count() == 5
    assert Signup.objects.filter(activity=activity, status=Signup.Status.WAITLISTED).count() == count - 5
    # The waitlist is in the order the sign-ups committed.
    waiting = list(
        Signup.objects.filter(activity=activity, status=Signup.Status.WAITLISTED).order_by("queued_at", "id")
    )
    assert [s.queued_at for s in waiting] == sorted(s.queued_at for s in waiting)


def test_the_same_person_twice_at_once_gets_one_signup(vol, resident):
    def sign_up(_i):
        return services.signup_create(activity_id=vol.activity_a1.pk, by=User.objects.get(pk=resident.pk))

    results, errors = run_together(2, sign_up)

    assert len([r for r in results if r is not None]) == 1
    assert [type(e).__name__ for e in errors if e is not None] == ["Conflict"]
    assert Signup.objects.filter(activity=vol.activity_a1, volunteer=vol.v1).count() == 1


def test_a_cancellation_and_a_signup_at_once_never_overfill(vol, district, member_b):
    activity = vol.activity_a1  # capacity 2
    SignupFactory(activity=activity, volunteer=vol.v2)
    SignupFactory(activity=activity, volunteer=vol.v4)
    newcomer = user_for(district.a1.residents[8], "newcomer")

    def work(i):
        if i == 0:
            return services.signup_cancel_own(activity_id=activity.pk, by=User.objects.get(pk=member_b.pk))
        return services.signup_create(activity_id=activity.pk, by=User.objects.get(pk=newcomer.pk))

    _results, errors = run_together(2, work)

    assert errors == [None, None]
    assert Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count() == 2
    assert Signup.objects.filter(activity=activity, status=Signup.Status.WAITLISTED).count() == 0
