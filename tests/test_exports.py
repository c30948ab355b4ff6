"""Exports (issue 12): every file says who exported it and when, every export is one EXPORT audit
line, numbers are masked unless a privileged export with a reason, and vulnerable households are
listed with their building, unit and room only for those who visit them."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from baohe.models import AuditEntry
from visits.models import VisitPlan


def cells(response):
    book = load_workbook(BytesIO(response.content))
    return book, [str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for value in row]


def exports():
    return list(
        AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN)
        .filter(action="export")
        .values_list("user__username", "object_type", "reason", "detail")
    )


def test_roster_is_masked_stamped_and_audited_once(district, staff_a, client_for):
    url = reverse("communities:roster_export", args=[district.a1.community.pk])

    response = client_for(staff_a).get(url, REMOTE_ADDR="10.3.3.3")

    assert response.status_code == 200
    book, values = cells(response)
    residents = district.a1.residents
    assert not any(r.mobile in values or r.id_number in values for r in residents)
    assert residents[0].masked_mobile in values and residents[0].masked_id_number in values
    assert "staff_a" in book.properties.creator
    assert "导出人" in book.properties.description and "导出时间" in book.properties.description
    assert "staff_a" in book.active.oddHeader.right.text
    assert exports() == [
        (
            "staff_a",
            "communities.resident",
            "",
            {
                "table": "communities.resident",
                "rows": len(residents),
                "filters": {"community": district.a1.community.pk},
                "privileged": False,
            },
        )
    ]
    entry = AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get()
    assert (entry.ip_address, entry.community_id) == ("10.3.3.3", district.a1.community.pk)


def test_privileged_roster_needs_a_reason_and_says_so(district, staff_a, client_for):
    url = reverse("communities:roster_export", args=[district.a1.community.pk])
    client = client_for(staff_a)

    refused = client.post(url, {"privileged": "on", "reason": ""})
    assert refused.status_code == 302 and AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0

    response = client.post(url, {"privileged": "on", "reason": "correction"})

    assert response.status_code == 200
    book, values = cells(response)
    assert district.a1.residents[0].mobile in values and district.a1.residents[0].id_number in values
    assert book.properties.keywords == "privileged"
    [(user, table, reason, detail)] = exports()
    assert (user, table, reason, detail["privileged"], detail["rows"]) == (
        "staff_a",
        "communities.resident",
        "correction",
        True,
        12,
    )


def test_roster_403_for_officials_404_outside_scope(district, street_official_a, staff_b, client_for):
    url = reverse("communities:roster_export", args=[district.a1.community.pk])
    assert client_for(street_official_a).get(url).status_code == 403
    assert client_for(street_official_a).post(url, {"privileged": "on", "reason": "visit"}).status_code == 403
    assert client_for(staff_b).get(url).status_code == 404
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0


def test_volunteer_hours_export_is_stamped_and_audited(district, staff_a, client_for, api_client_for):
    response = client_for(staff_a).get(reverse("volunteers:hours_export"), {"year": 2026})
    assert response.status_code == 200
    book, _values = cells(response)
    assert "staff_a" in book.properties.creator
    api = api_client_for(staff_a).get("/api/v1/service-hours/export/", {"year": 2026})
    assert api.status_code == 200
    assert [(table, detail["rows"], detail["filters"]) for _u, table, _r, detail in exports()] == [
        ("volunteers.servicehours", 0, {"year": 2026}),
        ("volunteers.servicehours", 0, {"year": 2026}),
    ]


@pytest.mark.parametrize("fmt", ["xlsx", "page"])
def test_officials_visit_plan_lists_name_no_building_unit_or_room(district, district_official, client_for, fmt):
    household = district.a1.households[0]
    household.lives_alone_elderly = True
    household.save(update_fields=["lives_alone_elderly"])
    VisitPlan.objects.create(
        household=household,
        compound=household.compound,
        rule=VisitPlan.Rule.ALONE_ELDERLY_WEEKLY,
        interval_days=7,
        visitor_label="王组长",
        next_due_on="2026-12-01",
    )
    query = {"format": "xlsx"} if fmt == "xlsx" else {}

    response = client_for(district_official).get("/dashboard/list/visit_plans/", query)

    assert response.status_code == 200
    text = " ".join(cells(response)[1]) if fmt == "xlsx" else response.content.decode()
    assert "曙光小区" in text
    assert str(household) not in text and "单元" not in text
    assert len(exports()) == (1 if fmt == "xlsx" else 0)
