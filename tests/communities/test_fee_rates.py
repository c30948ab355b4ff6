"""物业费缴纳率 per compound and month: staff record it (page, API), a second entry for a month
corrects it, the compound's rate is the latest month's; bad input is 400 and writes nothing;
another community's staff get 404; the compound board shows the trend."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from baohe.exceptions import OutOfScope
from baohe.models import AuditEntry, ImportJob
from communities.models import CompoundFeeRate
from communities.selectors import fee_rate_trend
from communities.services.fees import fee_rate_record
from communities.services.imports import import_apply, import_apply_start, import_upload, import_validate

pytestmark = pytest.mark.django_db


def test_record_correct_and_derive_the_compound_rate(district, staff_a):
    compound = district.a1.compound
    fee_rate_record(compound=compound, month=dt.date(2026, 9, 17), rate="88.5%", by=staff_a)
    fee_rate_record(compound=compound, month=dt.date(2026, 8, 1), rate=Decimal("86"), by=staff_a)
    compound.refresh_from_db()
    assert (compound.fee_collection_rate, compound.fee_rate_month) == (Decimal("88.50"), dt.date(2026, 9, 1))
    corrected = fee_rate_record(compound=compound, month=dt.date(2026, 9, 1), rate="90.25", by=staff_a)
    compound.refresh_from_db()
    assert compound.fee_collection_rate == Decimal("90.25") and corrected.entered_by == staff_a
    assert fee_rate_trend(compound) == [
        (dt.date(2026, 8, 1), Decimal("86.00")),
        (dt.date(2026, 9, 1), Decimal("90.25")),
    ]
    changes = AuditEntry.objects.filter(object_type="communities.compoundfeerate").values_list("action", flat=True)
    assert sorted(changes) == ["create", "create", "update"]


def test_page_form_bad_input_and_scope(district, staff_a, staff_b, resident, client_for):
    compound = district.a1.compound
    url = reverse("communities:compound_fees", args=[compound.pk])
    page = client_for(staff_a)
    assert page.post(url, {"month": "2026-09", "rate": "150"}).status_code == 400
    assert page.post(url, {"month": "2026-13", "rate": "90"}).status_code == 400
    assert page.post(url, {"month": "２０２６-09", "rate": "９０"}).status_code == 400
    assert page.post(url, {"month": "2026-09", "rate": "NaN"}).status_code == 400
    assert page.post(url, {"month": "2099-09", "rate": "90"}).status_code == 400  # not yet
    assert not CompoundFeeRate.objects.exists()
    response = page.post(url, {"month": "2026-09", "rate": "91.5"})
    assert response.status_code == 302
    assert list(CompoundFeeRate.objects.values_list("month", "rate", "source")) == [
        (dt.date(2026, 9, 1), Decimal("91.50"), "manual")
    ]
    listing = page.get(url).content.decode()
    assert 'data-month="2026-09"' in listing and "91.50%" in listing
    other = client_for(staff_b)
    assert other.get(url).status_code == 404
    assert other.post(url, {"month": "2026-10", "rate": "10"}).status_code == 404
    assert client_for(resident).get(url).status_code == 403
    with pytest.raises(OutOfScope):
        fee_rate_record(compound=compound, month=dt.date(2026, 10, 1), rate="10", by=staff_b)
    assert CompoundFeeRate.objects.count() == 1
    compound.refresh_from_db()
    assert compound.fee_collection_rate == Decimal("91.50")
    # The compound's page shows the derived rate with its month and links to the months.
    detail = page.get(reverse("communities:compound", args=[compound.pk])).content.decode()
    assert "91.50%（2026-09）" in detail and url in detail


def test_api_and_board_trend(district, staff_a, staff_b, resident, api_client_for, client_for):
    compound = district.a1.compound
    api = api_client_for(staff_a)
    for month, rate in (("2026-07", 80), ("2026-08-01", "85.5"), ("2026-09", "90.6")):
        assert (
            api.post("/api/v1/fee-rates/", {"compound": compound.pk, "month": month, "rate": rate}).status_code == 201
        )
    assert api.post("/api/v1/fee-rates/", {"compound": compound.pk, "month": "x", "rate": 101}).json().keys() == {
        "month",
        "rate",
    }
    outsider = api_client_for(staff_b).post(
        "/api/v1/fee-rates/", {"compound": compound.pk, "month": "2026-10", "rate": 1}
    )
    assert outsider.status_code == 400 and list(outsider.json()) == ["compound"]
    assert api_client_for(staff_b).get("/api/v1/fee-rates/").json()["count"] == 0
    listed = api.get("/api/v1/fee-rates/", {"compound": compound.pk, "month_from": "2026-08-01"}).json()
    assert [(row["month"], row["rate"]) for row in listed["results"]] == [
        ("2026-09-01", "90.60"),
        ("2026-08-01", "85.50"),
    ]
    assert (
        api.patch(f"/api/v1/compounds/{compound.pk}/", {"fee_collection_rate": "1"}, format="json").status_code == 200
    )
    compound.refresh_from_db()
    assert compound.fee_collection_rate == Decimal("90.60")  # read-only: derived from the months
    board = client_for(resident).get(reverse("service_requests:board", args=[compound.pk])).content.decode()
    assert 'data-testid="fee-trend"' in board and "90.60%（2026-09）" in board and board.count("<meter") == 3


# --- the spreadsheet import (kind "fees") -------------------------------------------------------
FEE_HEADER = ["序号", "小区*", "月份*", "缴纳率(%)*"]


def fee_sheet(rows):
    book = Workbook()
    book.active.append(FEE_HEADER)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("fees.xlsx", buffer.getvalue())


def test_import_reports_applies_and_a_second_run_changes_nothing(district, staff_a, staff_b, client_for):
    a1 = district.a1
    name = a1.compound.name
    fee_rate_record(compound=a1.compound, month=dt.date(2026, 7, 1), rate="80", by=staff_a)
    rows = [
        ["示例", name, "2026-06", "1"],  # skipped
        ["1", name, "2026-07", "80"],  # unchanged
        ["2", name, "2026年8月", "85.5%"],
        ["3", name, "2026-09-01", "90.6"],
        ["4", "宁国小区", "2026-09", "70"],  # another community's compound
        ["5", name, "2026-13", "70"],
        ["6", name, "2026-10", "101"],
        ["7", name, "2026-09", "91"],  # twice
        ["8", name, "2099-01", "50"],  # future
    ]
    job = import_upload(by=staff_a, community=a1.community, upload=fee_sheet(rows), kind=ImportJob.Kind.FEES)
    job = import_validate(job_id=job.pk)
    by_row = {number: (column, message) for number, column, message in job.errors}
    assert by_row == {
        6: ("小区", "本社区没有名为“宁国小区”的小区。"),
        7: ("月份", "月份应写成 2026-09。"),
        8: ("缴纳率(%)", "缴纳率请填写 0 到 100 之间的数字，如 91.5。"),
        9: ("月份", "与第 5 行的小区和月份重复。"),
        10: ("月份", "不能登记未来月份的缴纳率。"),
    }
    assert CompoundFeeRate.objects.count() == 1  # nothing written by a check

    good = rows[:4]
    job = import_upload(by=staff_a, community=a1.community, upload=fee_sheet(good), kind=ImportJob.Kind.FEES)
    job = import_validate(job_id=job.pk)
    assert job.errors == [] and job.plan == {"fees_create": 2, "fees_update": 0, "fees_unchanged": 1}
    import_apply_start(by=staff_a, job=job)
    job = import_apply(job_id=job.pk, batch_rows=2)
    assert job.status == ImportJob.Status.APPLIED
    assert list(CompoundFeeRate.objects.order_by("month").values_list("month", "rate", "source")) == [
        (dt.date(2026, 7, 1), Decimal("80.00"), "manual"),
        (dt.date(2026, 8, 1), Decimal("85.50"), "import"),
        (dt.date(2026, 9, 1), Decimal("90.60"), "import"),
    ]
    a1.compound.refresh_from_db()
    assert (a1.compound.fee_collection_rate, a1.compound.fee_rate_month) == (Decimal("90.60"), dt.date(2026, 9, 1))
    again = import_validate(
        job_id=import_upload(by=staff_a, community=a1.community, upload=fee_sheet(good), kind="fees").pk
    )
    assert again.plan == {"fees_create": 0, "fees_update": 0, "fees_unchanged": 3}
    # The template, for the community's staff only.
    url = reverse("communities:import_kind_template", args=[a1.community.pk, "fees"])
    template = load_workbook(io.BytesIO(client_for(staff_a).get(url).content))
    assert template.active.title == "物业费缴纳率导入" and [c.value for c in template.active[1]] == FEE_HEADER
    assert client_for(staff_b).get(url).status_code == 404
