"""The 审计日志 page, its Excel export and ``GET /api/v1/audit/``: who reads which lines, the
filters, bad input, query counts (issue 12, part C)."""

import re
from html import unescape
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from baohe.models import AuditEntry
from baohe.services import audit
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action
URL = "/accounts/audit/"


def texts(response, testid):
    html = response.content.decode()
    return [
        unescape(re.sub(r"<[^>]+>", " ", t)).split()
        for t in re.findall(rf'data-testid="{testid}">(.*?)</td>', html, re.S)
    ]


def records(response):
    """The record column's names, in page order."""
    return [words[0] for words in texts(response, "audit-record")]


def reveal(actor, resident, reason="核实住址"):
    return audit(user=actor, action=Action.VIEW_PERSONAL, obj=resident, reason=reason)


@pytest.fixture
def lines(district, staff_a, staff_b, staff_other_street):
    """One reveal in each community: A1 (by staff_a), A2 (by staff_b), B1 (another street)."""
    return {
        "a1": reveal(staff_a, district.a1.residents[0]),
        "a2": reveal(staff_b, district.a2.residents[0]),
        "b1": reveal(staff_other_street, district.b1.residents[0]),
    }


def test_the_secretary_sees_their_community_only(district, lines, secretary_a, client_for):
    response = client_for(secretary_a).get(URL, {"action": "view_personal"})

    assert response.status_code == 200
    assert records(response) == [district.a1.residents[0].name]
    html = response.content.decode()
    assert "核实住址" in html
    assert "staff_a" in html
    assert district.a2.residents[0].name not in html


def test_a_filter_naming_another_communitys_record_answers_empty(district, lines, secretary_a, client_for):
    other = district.a2.residents[0]

    response = client_for(secretary_a).get(URL, {"object_type": "communities.resident", "object_id": str(other.pk)})

    assert response.status_code == 200
    assert records(response) == []
    assert 'data-testid="audit-empty"' in response.content.decode()


def test_the_street_official_sees_their_street_and_the_district_all(
    district, lines, street_official_a, district_official, client_for
):
    street = client_for(street_official_a).get(URL, {"action": "view_personal"})
    everyone = client_for(district_official).get(URL, {"action": "view_personal"})

    assert sorted(records(street)) == sorted([district.a1.residents[0].name, district.a2.residents[0].name])
    assert sorted(records(everyone)) == sorted(r.residents[0].name for r in (district.a1, district.a2, district.b1))


@pytest.mark.parametrize("persona", ["staff_a", "resident"])
def test_other_staff_and_residents_are_refused(persona, request, lines, client_for):
    user = request.getfixturevalue(persona)
    client = client_for(user)

    assert client.get(URL).status_code == 403
    assert client.get(reverse("accounts:audit_export")).status_code == 403
    assert "审计日志" not in client.get(reverse("notifications:list")).content.decode()


def test_the_sidebar_links_the_page_for_readers(secretary_a, client_for):
    html = client_for(secretary_a).get(reverse("notifications:list")).content.decode()

    assert f'href="{URL}"' in html


def test_filters_by_person_record_action_and_date(district, lines, district_official, client_for):
    client = client_for(district_official)
    target = district.a1.residents[0]

    by_person = client.get(URL, {"person": "staff_b", "action": "view_personal"})
    by_record = client.get(URL, {"object_type": "communities.resident", "object_id": str(target.pk)})
    by_date = client.get(URL, {"date_from": "2000-01-01", "date_to": "2000-01-31"})

    assert records(by_person) == [district.a2.residents[0].name]
    assert records(by_record) == [target.name]
    assert records(by_date) == []


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-13-45"},
        {"date_to": "9999-12-31"},
        {"action": "explode"},
        {"object_type": "auth.nothing"},
        {"person": "a\x00b"},
        {"page": "²"},
    ],
)
def test_bad_filters_are_dropped_with_a_notice_never_a_500(params, lines, district_official, client_for):
    response = client_for(district_official).get(URL, params)

    assert response.status_code == 200
    if "page" not in params:
        assert "已忽略无效的筛选条件" in response.content.decode()


@pytest.mark.parametrize("count", [2, 20])
def test_page_query_count_is_flat(count, district, secretary_a, client_for, django_assert_max_num_queries):
    client = client_for(secretary_a)
    for n in range(count):
        reveal(secretary_a, district.a1.residents[n % len(district.a1.residents)], reason=f"核实{n}")

    with django_assert_max_num_queries(8):
        response = client.get(URL, {"action": "view_personal"})

    assert len(records(response)) == count


def test_the_export_lists_the_filtered_lines_and_is_itself_audited(district, lines, secretary_a, client_for):
    client = client_for(secretary_a)

    response = client.get(reverse("accounts:audit_export"), {"action": "view_personal"})

    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "审计日志"
    assert rows[0][1].startswith("导出人：") and "secretary_a" in rows[0][1] and "导出时间：" in rows[0][1]
    assert rows[1][:3] == ("时间", "人员", "操作")
    assert [(row[1], row[2], row[5], row[6], row[9]) for row in rows[2:]] == [
        ("staff_a", "查看完整个人信息", district.a1.residents[0].name, "核实住址", None)
    ]
    [export] = AuditEntry.objects.filter(action=Action.EXPORT)
    assert (export.user, export.object_type, export.ip_address, export.community_id) == (
        secretary_a,
        "baohe.auditentry",
        "127.0.0.1",
        district.a1.community.pk,
    )
    assert export.detail == {
        "table": "baohe.auditentry",
        "rows": 1,
        "truncated": False,
        "filters": {"action": "view_personal"},
        "privileged": False,
    }


# --- API ------------------------------------------------------------------------------------------
def api_records(response):
    return [row["object_repr"] for row in response.json()["results"]]


def test_the_api_has_the_same_scope(district, lines, secretary_a, street_official_a, staff_a, api_client_for):
    secretary = api_client_for(secretary_a).get("/api/v1/audit/", {"action": "view_personal"})
    street = api_client_for(street_official_a).get("/api/v1/audit/", {"action": "view_personal"})
    refused = api_client_for(staff_a).get("/api/v1/audit/")

    assert secretary.status_code == 200
    assert api_records(secretary) == [district.a1.residents[0].name]
    [row] = secretary.json()["results"]
    assert (row["username"], row["action"], row["reason"], row["object_type"]) == (
        "staff_a",
        "view_personal",
        "核实住址",
        "communities.resident",
    )
    assert sorted(api_records(street)) == sorted([district.a1.residents[0].name, district.a2.residents[0].name])
    assert refused.status_code == 403


def test_the_api_filters_and_answers_400_on_bad_input(district, lines, district_official, api_client_for):
    client = api_client_for(district_official)
    other = district.b1.residents[0]

    found = client.get("/api/v1/audit/", {"object_type": "communities.resident", "object_id": str(other.pk)})
    bad = client.get("/api/v1/audit/", {"date_from": "9999-12-31", "action": "explode"})

    assert api_records(found) == [other.name]
    assert bad.status_code == 400
    assert set(bad.json()) == {"date_from", "action"}


def test_the_api_is_in_the_schema(admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()

    parameters = {p["name"] for p in schema["paths"]["/api/v1/audit/"]["get"]["parameters"]}
    assert {"person", "object_type", "object_id", "action", "date_from", "date_to", "page"} <= parameters


def test_a_community_staff_role_with_a_secretary_role_elsewhere_reads_only_the_secretary_community(
    district, lines, client_for
):
    user = UserFactory(username="mixed")
    RoleFactory(user=user, kind="staff", community=district.a2.community)
    RoleFactory(user=user, secretary=True, community=district.a1.community)

    response = client_for(user).get(URL, {"action": "view_personal"})

    assert records(response) == [district.a1.residents[0].name]
