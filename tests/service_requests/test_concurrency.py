"""Simultaneous steps on PostgreSQL: one accept wins, numbers never repeat (ARCHITECTURE rule 2).

``select_for_update`` is a no-op on SQLite, which serialises whole transactions instead, so
these tests only mean something on PostgreSQL and are skipped elsewhere.
"""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from baohe.exceptions import Conflict
from service_requests.models import NumberSequence, RequestEvent, ServiceRequest
from service_requests.services import request_accept, request_submit
from tests.factories import CategoryFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (select_for_update) need PostgreSQL; set DATABASE_URL=postgres://… to run",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


def test_fifty_simultaneous_accepts_one_wins(district, resident, staff_a):
    category = CategoryFactory()
    request = request_submit(by=resident, category=category, description="电梯困人！", compound=district.a1.compound)

    def accept(_i):
        # Each thread loads its own objects, as each web request would.
        return request_accept(request=ServiceRequest.objects.get(pk=request.pk), by=User.objects.get(pk=staff_a.pk))

    results, errors = run_together(50, accept)

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].status == ServiceRequest.Status.ACCEPTED
    conflicts = [e for e in errors if e is not None]
    assert len(conflicts) == 49
    assert all(isinstance(e, Conflict) for e in conflicts), {type(e) for e in conflicts}
    assert {(e.code, str(e.message)) for e in conflicts} == {("already_accepted", "该诉求已被签收。")}

    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTED
    assert request.assigned_to_id == staff_a.pk
    accepted = RequestEvent.objects.filter(request=request, kind=RequestEvent.Kind.ACCEPTED)
    assert accepted.count() == 1
    assert RequestEvent.objects.filter(request=request).count() == 2  # submitted + accepted


def test_twenty_simultaneous_submissions_get_distinct_numbers(district, resident):
    category = CategoryFactory()

    def submit(i):
        return request_submit(
            by=User.objects.get(pk=resident.pk),
            category=category,
            description=f"第{i + 1}条：楼道灯不亮",
            compound=district.a1.compound,
        ).number

    results, errors = run_together(20, submit)

    assert errors == [None] * 20
    today = timezone.localdate()
    assert sorted(results) == [f"BH-{today:%Y%m%d}-{n:04d}" for n in range(1, 21)]
    assert ServiceRequest.objects.count() == 20
    assert NumberSequence.objects.get(day=today).last == 20
