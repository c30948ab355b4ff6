"""The funds API: lists in scope, the same steps as the pages (409 when a fund has not enough
left), 400 with field errors for bad input, 404 for another community's rows."""

from decimal import Decimal

import pytest

from funds import services
from funds.models import LedgerEntry, Proposal

pytestmark = pytest.mark.django_db


def test_submit_approve_and_pay_through_the_api(funds_a1, staff_a, secretary_a, api_client_for):
    service, party = funds_a1
    staff = api_client_for(staff_a)
    listed = staff.get("/api/v1/funds/").json()
    assert sorted((row["kind"], row["budget"]) for row in listed["results"]) == [
        ("party", "100000.00"),
        ("service", "300000.00"),
    ]
    bad = staff.post(
        "/api/v1/fund-proposals/", {"fund": party.pk, "title": "", "purpose": "x", "amount": "1.001"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"title", "purpose", "amount"}
    created = staff.post(
        "/api/v1/fund-proposals/",
        {"fund": party.pk, "title": "主题党日活动", "purpose": "party", "amount": "70000.00"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "submitted"
    assert staff.post(f"/api/v1/fund-proposals/{pk}/approve/", {}, format="json").status_code == 403
    secretary = api_client_for(secretary_a)
    approved = secretary.post(f"/api/v1/fund-proposals/{pk}/approve/", {"note": "同意"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "street_review"
    other = staff.post(
        "/api/v1/fund-proposals/",
        {"fund": party.pk, "title": "另一项", "purpose": "party", "amount": "30000.01"},
        format="json",
    ).json()["id"]
    refused = secretary.post(f"/api/v1/fund-proposals/{other}/approve/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_funds"
    entries = staff.get(f"/api/v1/fund-entries/?fund={party.pk}").json()["results"]
    assert [(row["kind"], row["amount"]) for row in entries] == [("budget", "100000.00"), ("commitment", "70000.00")]


def test_another_community_gets_404(funds_a1, staff_a, staff_b, secretary_a, api_client_for, resident):
    proposal = services.proposal_submit(
        by=staff_a, fund=funds_a1[0], title="楼道照明", purpose=Proposal.Purpose.FACILITIES, amount="900"
    )
    outsider = api_client_for(staff_b)
    assert outsider.get(f"/api/v1/fund-proposals/{proposal.pk}/").status_code == 404
    assert outsider.get(f"/api/v1/funds/{funds_a1[0].pk}/").status_code == 404
    assert (
        outsider.post(f"/api/v1/fund-proposals/{proposal.pk}/withdraw/", {"reason": "x"}, format="json").status_code
        == 404
    )
    assert outsider.get("/api/v1/fund-entries/").json()["results"] == []
    citizen = api_client_for(resident)
    assert citizen.get("/api/v1/fund-proposals/").json()["results"] == []
    assert citizen.get(f"/api/v1/fund-proposals/{proposal.pk}/").status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SUBMITTED
    assert LedgerEntry.objects.filter(proposal=proposal).count() == 0


def test_the_street_adjusts_the_budget_through_the_api(funds_a1, street_staff_a, staff_a, api_client_for):
    fund = funds_a1[1]
    assert (
        api_client_for(staff_a)
        .post(f"/api/v1/funds/{fund.pk}/budget/", {"budget": "120000", "reason": "追加"}, format="json")
        .status_code
        == 403
    )
    answer = api_client_for(street_staff_a).post(
        f"/api/v1/funds/{fund.pk}/budget/", {"budget": "120000.00", "reason": "追加党建阵地建设"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["budget"] == "120000.00"
    fund.refresh_from_db()
    assert fund.budget == Decimal("120000.00")
