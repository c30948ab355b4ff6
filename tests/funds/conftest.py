"""Funds fixtures: the street's staff (who open funds and review), A1's two base funds, and
uploads (a photo, a PDF, something that is neither)."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Role
from funds import services
from funds.models import Fund, LedgerEntry
from tests.factories import RoleFactory, UserFactory

YEAR = 2026


@pytest.fixture
def street_staff_a(district):
    user = UserFactory(username="street_staff_a", name="芜湖路街道工作人员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


@pytest.fixture
def funds_a1(district, street_staff_a, settings):
    """A1's 服务群众专项经费 (300,000) and 党组织活动经费 (100,000) for this year."""
    from django.utils import timezone

    service, party = services.fund_ensure_base(
        community=district.a1.community, year=timezone.localdate().year, by=street_staff_a
    )
    return service, party


def photo(name="receipt.jpg", size=(64, 48), fmt="JPEG"):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def pdf(name="quote.pdf", body=b"1 0 obj << /Type /Catalog >> endobj"):
    data = b"%PDF-1.4\n" + body + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def fake(name="receipt.jpg"):
    return SimpleUploadedFile(name, b"<html><script>alert(1)</script></html>", content_type="image/jpeg")


def assert_ledger_balances(fund: Fund) -> None:
    """The fund's running totals are exactly the sums of its ledger lines, per account, and the
    fund is neither overdrawn nor paid beyond what was committed."""
    fund.refresh_from_db()
    sums = {account: Decimal("0.00") for account in LedgerEntry.Account.values}
    for entry in LedgerEntry.objects.filter(fund=fund):
        sums[entry.account] += entry.amount
    assert (fund.budget, fund.committed, fund.paid) == (
        sums["budget"],
        sums["committed"],
        sums["paid"],
    )
    assert Decimal(0) <= fund.paid <= fund.committed <= fund.budget


@pytest.fixture
def decision_a1(district, staff_a):
    """A held meeting of 曙光小区 with minutes and one decision (the meetings services)."""
    from datetime import timedelta

    from django.utils import timezone

    from meetings import services as meetings
    from meetings.models import Invitee

    tree = district.a1
    meeting = meetings.meeting_create(
        by=staff_a,
        community=tree.community,
        compound=tree.compound,
        topic="曙光小区路灯更换协商议事会",
        kind="council",
        scheduled_at=timezone.now() - timedelta(hours=3),
        place="曙光社区党群服务中心",
        agenda="一、通报情况；二、协商表决",
        requests=[],
        invitees=[{"role": Invitee.Role.RESIDENT, "resident": tree.residents[0], "name": ""}],
    )
    meetings.meeting_record_minutes(
        meeting=meeting,
        by=staff_a,
        minutes="到会居民一致同意更换小区东门至 2 栋的损坏路灯，费用从服务群众专项经费列支。",
        decisions=[
            {
                "text": "更换东门至 2 栋损坏路灯 12 盏",
                "action_items": [
                    {
                        "task": "联系施工单位更换路灯",
                        "owner": staff_a,
                        "due_on": timezone.localdate() + timedelta(days=14),
                    }
                ],
            }
        ],
    )
    return meeting.decisions.get()
