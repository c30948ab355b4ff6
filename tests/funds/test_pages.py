"""Funds pages: the list (query counts pinned), a meeting decision becoming a proposal, the
proposal page (decision and minutes), steps through the page, receipts only for those in scope,
the compound board's 经费公示 (no personal data), and the dashboard's funds table and its Excel."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from funds import services
from funds.models import LedgerEntry, Proposal, ProposalFile

from .conftest import photo

pytestmark = pytest.mark.django_db
S = Proposal.Status


def submit(fund, by, amount="1000.00", **kwargs):
    kwargs.setdefault("title", "楼道照明维修")
    kwargs.setdefault("purpose", Proposal.Purpose.FACILITIES)
    return services.proposal_submit(by=by, fund=fund, amount=amount, **kwargs)


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.mark.parametrize("n", [2, 20])
def test_the_list_page_pins_its_queries(n, funds_a1, staff_a, client_for):
    service, party = funds_a1
    for i in range(n):
        submit(service if i % 2 else party, staff_a, f"{100 + i}.00", title=f"事项 {i}")
    client = client_for(staff_a)
    assert queries(client, "/funds/") == 7
    page = client.get("/funds/").content.decode()
    assert page.count('data-testid="proposal-row"') == min(n, 20)
    assert page.count('data-testid="fund-row"') == 2


def test_a_decision_becomes_a_proposal_showing_its_minutes(decision_a1, funds_a1, staff_a, client_for):
    client = client_for(staff_a)
    meeting_page = client.get(decision_a1.meeting.get_absolute_url()).content.decode()
    assert f"/funds/new/?decision={decision_a1.pk}" in meeting_page
    form = client.get(f"/funds/new/?decision={decision_a1.pk}").content.decode()
    assert "更换东门至 2 栋损坏路灯 12 盏" in form and 'data-testid="from-decision"' in form
    response = client.post(
        f"/funds/new/?decision={decision_a1.pk}",
        {
            "fund": funds_a1[0].pk,
            "title": "更换东门至 2 栋损坏路灯",
            "purpose": "facilities",
            "amount": "23600.00",
            "decision": decision_a1.pk,
            "quotes": [photo("quote.jpg")],
        },
    )
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and response["Location"] == proposal.get_absolute_url()
    assert (proposal.decision, proposal.amount, proposal.status) == (decision_a1, Decimal("23600.00"), S.SUBMITTED)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "曙光小区路灯更换协商议事会" in page
    assert "到会居民一致同意更换小区东门至 2 栋的损坏路灯" in page
    # A bad query parameter is set aside with a message (read_query), never a 500.
    bad = client.get("/funds/new/?decision=²")
    assert bad.status_code == 200 and 'data-testid="from-decision"' not in bad.content.decode()


def test_steps_through_the_page_and_bad_input(funds_a1, staff_a, secretary_a, client_for):
    proposal = submit(funds_a1[0], staff_a, "5000.00")
    secretary = client_for(secretary_a)
    assert secretary.post(f"/funds/proposals/{proposal.pk}/approve/", {"note": "同意"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == S.APPROVED
    staff = client_for(staff_a)
    entries = LedgerEntry.objects.count()
    bad = staff.post(f"/funds/proposals/{proposal.pk}/pay/", {"amount": "6000.00", "receipts": [photo()]})
    assert bad.status_code == 400
    assert "实付金额不能超过批准金额" in bad.content.decode()
    bad = staff.post(f"/funds/proposals/{proposal.pk}/pay/", {"amount": "1.234"})
    assert bad.status_code == 400
    assert LedgerEntry.objects.count() == entries and ProposalFile.objects.count() == 0
    ok = staff.post(f"/funds/proposals/{proposal.pk}/pay/", {"amount": "4980.00", "receipts": [photo()]})
    assert ok.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.paid_amount) == (S.PAID, Decimal("4980.00"))
    assert staff.post(f"/funds/proposals/{proposal.pk}/nonsense/").status_code == 404


def test_another_community_gets_404_and_residents_see_no_staff_page(
    funds_a1, staff_a, staff_b, secretary_a, resident, client_for
):
    proposal = submit(funds_a1[0], staff_a, "800.00", quotes=[photo()])
    receipt = proposal.files.get()
    mine = client_for(staff_a)
    assert mine.get(receipt.get_absolute_url()).status_code == 200
    other = client_for(staff_b)
    for url in (proposal.get_absolute_url(), receipt.get_absolute_url(), funds_a1[0].get_absolute_url()):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/funds/proposals/{proposal.pk}/withdraw/", {"reason": "x"}).status_code == 404
    assert other.get("/funds/").content.decode().count('data-testid="proposal-row"') == 0
    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED
    citizen = client_for(resident)
    for url in (proposal.get_absolute_url(), receipt.get_absolute_url(), "/funds/"):
        assert citizen.get(url).status_code in (403, 404), url


def test_the_board_shows_the_spending_without_personal_data(
    funds_a1, staff_a, secretary_a, resident, client_for, decision_a1, district
):
    proposal = submit(funds_a1[0], staff_a, "30000.00", decision=decision_a1, payee="合肥明亮电气工程部")
    services.proposal_approve(proposal=proposal, by=secretary_a)
    services.proposal_pay(proposal=proposal, by=staff_a, amount="30000.00", receipts=[photo()])
    submit(funds_a1[1], staff_a, "500.00", title="尚未审批的事项")
    page = client_for(resident).get(f"/requests/board/{district.a1.compound.pk}/").content.decode()
    assert 'data-testid="board-funds"' in page
    assert "楼道照明维修" in page and "曙光小区路灯更换协商议事会" in page
    assert "尚未审批的事项" not in page  # only approved or paid spending is published
    assert "10.0%" in page  # 30,000 of 300,000 paid
    assert staff_a.name not in page and secretary_a.name not in page
    assert "/funds/files/" not in page  # receipts stay with staff


def test_the_dashboard_funds_table_and_its_excel_match(funds_a1, staff_a, secretary_a, district_official, client_for):
    proposal = submit(funds_a1[0], staff_a, "45000.00")
    services.proposal_approve(proposal=proposal, by=secretary_a)
    services.proposal_pay(proposal=proposal, by=staff_a, amount="45000.00", receipts=[photo()])
    client = client_for(district_official)
    table = client.get("/dashboard/table/funds/").json()
    rows = {row[0]["value"]: [cell["value"] for cell in row] for row in table["rows"]}
    street = rows["芜湖路街道"]
    assert street[1:5] == ["400000.00", "45000.00", "45000.00", "355000.00"]
    assert street[5] == pytest.approx(45000 / 400000)
    page = client.get("/dashboard/").content.decode()
    assert 'id="table-funds"' in page and "400,000.00" in page and "11.2%" in page
    download = client.get("/dashboard/table/funds/?format=xlsx")
    book = load_workbook(BytesIO(download.content))
    sheet = book.active
    data = [list(row) for row in sheet.iter_rows(min_row=4, values_only=True) if row[0]]
    by_name = {row[0]: row for row in data}
    assert [Decimal(str(v)) for v in by_name["芜湖路街道"][1:5]] == [
        Decimal("400000"),
        Decimal("45000"),
        Decimal("45000"),
        Decimal("355000"),
    ]
    assert by_name["芜湖路街道"][5] == pytest.approx(45000 / 400000)
    assert sheet.cell(row=4, column=2).number_format == "#,##0.00"
    purposes = client.get("/dashboard/table/fund_purposes/").json()
    assert [[c["value"] for c in row] for row in purposes["rows"]] == [["设施维修改造", "45000.00", "45000.00"]]
