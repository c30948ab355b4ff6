"""Two approvals at the same instant that together would overdraw a fund: exactly one succeeds
(the fund row is locked with SELECT … FOR UPDATE). PostgreSQL only: ``select_for_update`` is a
no-op on SQLite."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import User
from baohe.exceptions import Conflict
from funds import services
from funds.models import Fund, LedgerEntry, Proposal

from .conftest import assert_ledger_balances

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (select_for_update) need PostgreSQL; set DATABASE_URL=postgres://… to run",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(count, work):
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


def test_two_approvals_that_would_overdraw_the_fund_give_one_success(funds_a1, staff_a, secretary_a):
    _service, party = funds_a1  # 100,000.00
    proposals = [
        services.proposal_submit(
            by=staff_a, fund=party, title=f"党建活动 {i}", purpose=Proposal.Purpose.PARTY, amount="60000.00"
        )
        for i in range(2)
    ]

    def approve(i):
        by = User.objects.get(pk=secretary_a.pk)
        return services.proposal_approve(proposal=Proposal.objects.get(pk=proposals[i].pk), by=by)

    results, errors = run_together(2, approve)
    assert sum(result is not None for result in results) == 1
    assert [type(error) for error in errors if error is not None] == [Conflict]
    assert next(error for error in errors if error).code == "insufficient_funds"
    fund = Fund.objects.get(pk=party.pk)
    assert (fund.committed, fund.available) == (Decimal("60000.00"), Decimal("40000.00"))
    assert sorted(Proposal.objects.values_list("status", flat=True)) == [
        "street_review",
        "submitted",
    ]  # above the street threshold
    assert LedgerEntry.objects.filter(fund=party, kind="commitment").count() == 1
    assert_ledger_balances(fund)
