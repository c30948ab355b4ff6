"""The funds services: the whole path of a proposal, every refusal changing nothing, and the
ledger that always balances (every entry summed against the fund's totals)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from baohe.exceptions import Conflict, OutOfScope
from baohe.models import AuditEntry
from funds import services
from funds.models import Fund, LedgerEntry, Proposal, ProposalEvent, ProposalFile
from notifications.models import Notification

from .conftest import assert_ledger_balances, fake, pdf, photo

pytestmark = pytest.mark.django_db
S = Proposal.Status
D = Decimal


def submit(fund, by, amount="1000.00", **kwargs):
    kwargs.setdefault("title", "楼道照明维修")
    kwargs.setdefault("purpose", Proposal.Purpose.FACILITIES)
    return services.proposal_submit(by=by, fund=fund, amount=amount, **kwargs)


def counts():
    return (
        Proposal.objects.count(),
        LedgerEntry.objects.count(),
        ProposalEvent.objects.count(),
        ProposalFile.objects.count(),
        list(Fund.objects.order_by("pk").values_list("budget", "committed", "paid")),
    )


def test_base_funds_take_the_district_defaults(funds_a1, district):
    service, party = funds_a1
    assert (service.kind, service.budget, service.name) == ("service", D("300000.00"), "服务群众专项经费")
    assert (party.kind, party.budget) == ("party", D("100000.00"))
    assert service.community_id == district.a1.community.pk and service.street_id == district.street_a.pk
    assert LedgerEntry.objects.filter(fund=service, kind="budget").get().amount == D("300000.00")


def test_the_whole_path_above_the_street_threshold(funds_a1, staff_a, secretary_a, street_staff_a, settings):
    settings.FUNDS_STREET_REVIEW_ABOVE = 50_000
    service, _party = funds_a1
    proposal = submit(service, staff_a, "68000.50", quotes=[photo("q.jpg"), pdf()])
    assert proposal.status == S.SUBMITTED
    assert [f.content_type for f in proposal.files.order_by("pk")] == ["image/jpeg", "application/pdf"]
    assert Notification.objects.filter(recipient=secretary_a, kind="funds").count() == 1

    proposal = services.proposal_approve(proposal=proposal, by=secretary_a, note="同意")
    assert proposal.status == S.STREET_REVIEW
    service.refresh_from_db()
    assert (service.committed, service.available) == (D("68000.50"), D("231999.50"))
    assert Notification.objects.filter(recipient=street_staff_a, kind="funds").count() == 1

    proposal = services.proposal_street_approve(proposal=proposal, by=street_staff_a)
    assert proposal.status == S.APPROVED

    with pytest.raises(ValidationError) as error:
        services.proposal_pay(proposal=proposal, by=staff_a, amount="68000.50")
    assert "receipts" in error.value.message_dict
    proposal = services.proposal_pay(proposal=proposal, by=staff_a, amount="67000.00", receipts=[photo()])
    assert (proposal.status, proposal.paid_amount) == (S.PAID, D("67000.00"))
    service.refresh_from_db()
    # The unspent 1,000.50 is released by a reversal of the commitment.
    assert (service.committed, service.paid) == (D("67000.00"), D("67000.00"))
    kinds = list(LedgerEntry.objects.filter(proposal=proposal).order_by("pk").values_list("kind", "account", "amount"))
    assert kinds == [
        ("commitment", "committed", D("68000.50")),
        ("payment", "paid", D("67000.00")),
        ("reversal", "committed", D("-1000.50")),
    ]
    assert list(proposal.events.order_by("pk").values_list("kind", flat=True)) == [
        "submitted",
        "approved",
        "street_approved",
        "paid",
    ]
    assert_ledger_balances(service)

    # A wrong payment is reversed, never edited: the released part is committed again.
    proposal = services.payment_reverse(proposal=proposal, by=staff_a, reason="金额录入错误")
    assert proposal.status == S.APPROVED and proposal.paid_amount is None
    service.refresh_from_db()
    assert (service.committed, service.paid) == (D("68000.50"), D("0.00"))
    proposal = services.proposal_pay(proposal=proposal, by=staff_a, amount="68000.50")
    service.refresh_from_db()
    assert (service.committed, service.paid) == (D("68000.50"), D("68000.50"))
    assert_ledger_balances(service)


def test_small_amounts_skip_the_street(funds_a1, staff_a, secretary_a, settings):
    settings.FUNDS_STREET_REVIEW_ABOVE = 50_000
    proposal = services.proposal_approve(proposal=submit(funds_a1[0], staff_a, "50000.00"), by=secretary_a)
    assert proposal.status == S.APPROVED


def test_rejections_and_withdrawals_release_what_was_committed(
    funds_a1, staff_a, secretary_a, street_staff_a, settings
):
    settings.FUNDS_STREET_REVIEW_ABOVE = 50_000
    service, party = funds_a1
    rejected = services.proposal_reject(proposal=submit(service, staff_a), by=secretary_a, reason="重复申请")
    assert (rejected.status, rejected.closed_reason) == (S.REJECTED, "重复申请")
    big = services.proposal_approve(proposal=submit(service, staff_a, "80000"), by=secretary_a)
    big = services.proposal_reject(proposal=big, by=street_staff_a, reason="预算偏高，请重新询价")
    assert big.status == S.REJECTED
    approved = services.proposal_approve(proposal=submit(party, staff_a, "3000"), by=secretary_a)
    withdrawn = services.proposal_withdraw(proposal=approved, by=staff_a, reason="活动取消")
    assert withdrawn.status == S.WITHDRAWN
    early = services.proposal_withdraw(proposal=submit(party, staff_a), by=staff_a, reason="填错了")
    assert early.status == S.WITHDRAWN
    for fund in (service, party):
        fund.refresh_from_db()
        assert fund.committed == D("0.00")
        assert_ledger_balances(fund)
    assert LedgerEntry.objects.filter(kind="reversal").count() == 2


def test_an_approval_that_would_overdraw_is_refused_and_changes_nothing(funds_a1, staff_a, secretary_a):
    _service, party = funds_a1
    first = submit(party, staff_a, "60000")
    second = submit(party, staff_a, "40000.01")
    services.proposal_approve(proposal=first, by=secretary_a)
    before = counts()
    with pytest.raises(Conflict) as error:
        services.proposal_approve(proposal=second, by=secretary_a)
    assert error.value.code == "insufficient_funds"
    assert "可用 40000.00 元" in str(error.value.message)
    assert counts() == before
    second.refresh_from_db()
    assert second.status == S.SUBMITTED
    assert_ledger_balances(party)


def test_the_ledger_is_append_only(funds_a1):
    entry = LedgerEntry.objects.filter(fund=funds_a1[0]).get()
    entry.amount = D("1.00")
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("300000.00")


def test_the_street_adjusts_a_budget_with_a_reason(funds_a1, street_staff_a, staff_a, secretary_a):
    service, _party = funds_a1
    services.proposal_approve(proposal=submit(service, staff_a, "100000"), by=secretary_a)
    with pytest.raises(PermissionDenied):
        services.fund_adjust_budget(fund=service, budget="350000", reason="追加", by=staff_a)
    with pytest.raises(ValidationError) as error:
        services.fund_adjust_budget(fund=service, budget="99999.99", reason="压减", by=street_staff_a)
    assert "budget" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.fund_adjust_budget(fund=service, budget="350000", reason="  ", by=street_staff_a)
    fund = services.fund_adjust_budget(fund=service, budget="350000", reason="追加老旧小区改造配套", by=street_staff_a)
    assert fund.budget == D("350000.00")
    line = LedgerEntry.objects.filter(fund=service, kind="budget").order_by("-pk").first()
    assert (line.amount, line.reason) == (D("50000.00"), "追加老旧小区改造配套")
    audit = AuditEntry.objects.get(action="update", object_type="funds.fund")
    assert audit.changes == {"budget": ["300000.00", "350000.00"]} and audit.reason == "追加老旧小区改造配套"
    assert_ledger_balances(service)


def test_who_may_do_what(funds_a1, staff_a, staff_b, secretary_a, street_official_a, street_staff_a, resident):
    service, _party = funds_a1
    proposal = submit(service, staff_a, "80000")
    before = counts()
    with pytest.raises(PermissionDenied):  # staff, not the secretary
        services.proposal_approve(proposal=proposal, by=staff_a)
    with pytest.raises(PermissionDenied):  # the street official reads, never approves
        services.proposal_approve(proposal=proposal, by=street_official_a)
    for outsider in (staff_b, resident):
        with pytest.raises(OutOfScope):
            services.proposal_approve(proposal=proposal, by=outsider)
        with pytest.raises(OutOfScope):
            submit(service, outsider)
    with pytest.raises(PermissionDenied):
        submit(service, street_official_a)
    assert counts() == before
    proposal = services.proposal_approve(proposal=proposal, by=secretary_a)
    with pytest.raises(PermissionDenied):  # the secretary does not do the street's review
        services.proposal_street_approve(proposal=proposal, by=secretary_a)
    with pytest.raises(Conflict):  # approved twice
        services.proposal_approve(proposal=proposal, by=secretary_a)
    with pytest.raises(Conflict):  # paid before the street's review
        services.proposal_pay(proposal=proposal, by=staff_a, amount="80000", receipts=[photo()])


@pytest.mark.parametrize(
    ("amount", "field"),
    [("abc", "amount"), ("1.001", "amount"), ("-5", "amount"), ("0", "amount"), ("1e30", "amount"), ("NaN", "amount")],
)
def test_bad_amounts_are_refused_clearly(funds_a1, staff_a, amount, field):
    before = counts()
    with pytest.raises(ValidationError) as error:
        submit(funds_a1[0], staff_a, amount)
    assert field in error.value.message_dict
    assert counts() == before


def test_bad_files_and_text_are_refused(funds_a1, staff_a):
    before = counts()
    with pytest.raises(ValidationError) as error:
        submit(funds_a1[0], staff_a, quotes=[fake()], title="x\x01y")
    assert set(error.value.message_dict) == {"quotes", "title"}
    with pytest.raises(ValidationError) as error:
        submit(funds_a1[0], staff_a, quotes=[pdf(body=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")])
    assert "quotes" in error.value.message_dict
    with pytest.raises(ValidationError):
        submit(funds_a1[0], staff_a, quotes=[photo() for _ in range(7)])
    assert counts() == before


def test_every_entry_sums_to_the_totals_after_many_steps(funds_a1, staff_a, secretary_a, street_staff_a, settings):
    """Whatever path each proposal takes, the sum of every entry equals each fund's totals."""
    settings.FUNDS_STREET_REVIEW_ABOVE = 20_000
    service, party = funds_a1
    for index in range(12):
        fund = service if index % 3 else party
        proposal = submit(fund, staff_a, f"{1500 * (index + 1)}.{index:02d}")
        if index % 6 == 5:
            services.proposal_withdraw(proposal=proposal, by=staff_a, reason="撤回")
            continue
        proposal = services.proposal_approve(proposal=proposal, by=secretary_a)
        if proposal.status == S.STREET_REVIEW:
            if index % 2:
                services.proposal_reject(proposal=proposal, by=street_staff_a, reason="不同意")
                continue
            proposal = services.proposal_street_approve(proposal=proposal, by=street_staff_a)
        if index % 4 == 0:
            proposal = services.proposal_pay(
                proposal=proposal, by=staff_a, amount=proposal.amount - D("0.33"), receipts=[pdf()]
            )
            if index == 4:
                proposal = services.payment_reverse(proposal=proposal, by=staff_a, reason="票据有误")
    for fund in (service, party):
        assert_ledger_balances(fund)
    totals = LedgerEntry.objects.values("account").annotate(total=Sum("amount"))
    fund_totals = Fund.objects.aggregate(b=Sum("budget"), c=Sum("committed"), p=Sum("paid"))
    assert {row["account"]: row["total"] for row in totals} == {
        "budget": fund_totals["b"],
        "committed": fund_totals["c"],
        "paid": fund_totals["p"],
    }
