"""The demo's funds (``funds/seed/demo.py``): every community's two 2026 funds, proposals in every
state, 滨湖和园小区's meeting decisions paid with receipts, and every ledger balancing."""

from decimal import Decimal

import pytest

from communities.models import Community
from funds.models import Fund, LedgerEntry, Proposal, ProposalFile

from .conftest import assert_ledger_balances

pytestmark = pytest.mark.django_db


def test_every_community_has_both_funds_with_proposals_in_every_state(demo_module):
    communities = Community.objects.count()
    assert Fund.objects.filter(year=2026, kind="service").count() == communities
    assert Fund.objects.filter(year=2026, kind="party").count() == communities
    for community in Community.objects.all():
        states = set(Proposal.objects.filter(community=community).values_list("status", flat=True))
        assert states == set(Proposal.Status.values), community.name
    for fund in Fund.objects.all():
        assert_ledger_balances(fund)
    paid = Proposal.objects.filter(status="paid")
    assert paid.count() == ProposalFile.objects.filter(kind="receipt").values("proposal").distinct().count()
    assert (
        not LedgerEntry.objects.filter(created_at__gt=Proposal.objects.latest("created_at").created_at)
        .filter(kind="budget")
        .exists()
    )


def test_binhu_heyuan_spends_what_its_meetings_decided(demo_module):
    decided = Proposal.objects.filter(decision__meeting__compound__name="滨湖和园小区").order_by("decision__order")
    assert [(p.title[:8], p.status) for p in decided] == [
        ("地下车库杂物清运", "paid"),
        ("公共设施改造：路", "approved"),
    ]
    garage = decided[0]
    assert garage.paid_amount == Decimal("12600.00") and garage.files.filter(kind="receipt").count() == 1
    heyuan = Fund.objects.get(community__name="和园社区", year=2026, kind="service")
    assert heyuan.budget == Decimal("500000.00")
    raised = LedgerEntry.objects.filter(fund=heyuan, kind="budget").order_by("pk").values_list("amount", "reason")
    assert [amount for amount, _reason in raised] == [Decimal("300000.00"), Decimal("200000.00")]
