"""No cross-community oracle (issue 12): staff of one community cannot learn whether another
community's resident's ID number is registered, except through an audited, rate-limited lookup.

Staff of 望湖社区 (``staff_other_street``, B1) and of 宁国路社区 (``staff_b``, A2) try A1's
resident's ID number through the page form, the API (create, update, filters, search, detail)
and the admin. Each answer that tells "registered elsewhere" writes exactly one
``TRANSFER_LOOKUP`` audit line (placed under A1, so its secretary sees who looked); over
``TRANSFER_LOOKUPS_PER_DAY`` every ID number outside one's scope gets the same 429, found or not,
and nothing is looked up.
"""

import pytest
from django.urls import reverse

from baohe.models import AuditEntry
from baohe.validators import id_check_char
from communities.models import Resident

pytestmark = pytest.mark.django_db

ELSEWHERE = (
    "该身份证号已在其他社区登记，不能在此直接新增。如此人已搬入本辖区，请发起迁入申请，"
    "经其登记社区同意后连同其记录一并迁入。"
)


def fresh_id(serial):
    first17 = f"340111199001{serial:05d}"
    return first17 + id_check_char(first17)


def lookups():
    return list(
        AuditEntry.objects.filter(action=AuditEntry.Action.TRANSFER_LOOKUP)
        .order_by("pk")
        .values_list("username", "object_type", "object_id", "community_id", "ip_address", "detail")
    )


def page_errors(response):
    return {key: list(messages) for key, messages in response.context["form"].errors.items()}


@pytest.fixture
def target(district):
    """A1's resident whose ID number the other communities try."""
    return district.a1.residents[2]


def test_page_create_with_another_communitys_number_is_one_audited_lookup(
    district, staff_other_street, target, client_for
):
    household = district.b1.households[0]
    count = Resident.objects.count()

    response = client_for(staff_other_street).post(
        reverse("communities:resident_add", args=[household.pk]),
        {"household": household.pk, "name": "迁来的人", "id_number": target.id_number, "relation": "head"},
        REMOTE_ADDR="10.1.2.3",
    )

    link = f'<a href="/registry/transfers/new/?household={household.pk}">发起迁入申请</a>'
    assert page_errors(response) == {"id_number": [f"{ELSEWHERE} {link}"]}
    assert target.name not in response.content.decode()
    assert Resident.objects.count() == count
    assert lookups() == [
        (
            "staff_other_street",
            "communities.resident",
            str(target.pk),
            district.a1.community.pk,
            "10.1.2.3",
            {"via": "resident", "found": True},
        )
    ]


def test_api_create_and_update_with_another_communitys_number_are_audited_lookups(
    district, staff_b, target, api_client_for
):
    api = api_client_for(staff_b)
    household = district.a2.households[0]
    count = Resident.objects.count()

    response = api.post(
        "/api/v1/residents/", {"household": household.pk, "name": "迁来的人", "id_number": target.id_number}
    )
    assert response.status_code == 400
    assert response.json() == {"id_number": [ELSEWHERE]}
    assert Resident.objects.count() == count

    own = district.a2.residents[0]
    before = own.id_number
    response = api.patch(f"/api/v1/residents/{own.pk}/", {"id_number": target.id_number}, format="json")
    assert response.status_code == 400
    assert response.json() == {"id_number": [ELSEWHERE]}
    own.refresh_from_db()
    assert own.id_number == before

    assert [(line[0], line[2], line[5]) for line in lookups()] == [
        ("staff_b", str(target.pk), {"via": "resident", "found": True}),
        ("staff_b", str(target.pk), {"via": "resident", "found": True}),
    ]


def test_a_new_number_is_created_without_a_lookup_line(district, staff_b, api_client_for):
    household = district.a2.households[0]

    response = api_client_for(staff_b).post(
        "/api/v1/residents/", {"household": household.pk, "name": "新居民", "id_number": fresh_id(1)}
    )

    assert response.status_code == 201
    assert lookups() == []


def test_keeping_ones_own_number_looks_nothing_up(district, staff_a, api_client_for):
    own = district.a1.residents[0]

    response = api_client_for(staff_a).patch(
        f"/api/v1/residents/{own.pk}/", {"id_number": own.id_number, "name": "改名"}, format="json"
    )

    assert response.status_code == 200
    assert lookups() == []


def test_filters_search_and_detail_do_not_reach_across_scope(district, staff_other_street, target, api_client_for):
    api = api_client_for(staff_other_street)
    own_ids = sorted(r.pk for r in district.b1.residents)

    for query in (
        f"id_number={target.id_number}",
        f"search={target.id_number}",
        f"mobile={target.mobile}",
        f"search={target.mobile}",
        f"name={target.name}",
        f"search={target.name}",
    ):
        response = api.get(f"/api/v1/residents/?{query}&page_size=100")
        assert response.status_code == 200, query
        ids = sorted(row["id"] for row in response.json()["results"])
        assert target.pk not in ids, query
        assert set(ids) <= set(own_ids), query
    assert sorted(row["id"] for row in api.get("/api/v1/residents/?page_size=100").json()["results"]) == own_ids
    assert api.get(f"/api/v1/residents/{target.pk}/").status_code == 404
    assert lookups() == []


def test_over_the_cap_every_number_outside_scope_gets_the_same_429_without_a_lookup(
    district, staff_b, target, api_client_for, client_for, settings
):
    settings.TRANSFER_LOOKUPS_PER_DAY = 2
    api = api_client_for(staff_b)
    household = district.a2.households[0]
    others = district.b1.residents
    for other in others[:2]:
        response = api.post(
            "/api/v1/residents/", {"household": household.pk, "name": "x", "id_number": other.id_number}
        )
        assert response.status_code == 400
    assert len(lookups()) == 2
    count = Resident.objects.count()

    answers = []
    for number in (target.id_number, fresh_id(2)):
        response = api.post("/api/v1/residents/", {"household": household.pk, "name": "x", "id_number": number})
        answers.append((response.status_code, response.json(), response["Retry-After"] != ""))
    assert answers[0] == answers[1]
    status, body, has_retry = answers[0]
    assert (status, body["code"], has_retry) == (429, "transfer_lookup_cap", True)
    assert body["detail"].startswith("您 24 小时内的跨社区身份证号查询已达 2 次上限")

    response = client_for(staff_b).post(
        reverse("communities:resident_add", args=[household.pk]),
        {"household": household.pk, "name": "x", "id_number": target.id_number, "relation": "head"},
    )
    assert response.status_code == 429
    assert response.context["form"].errors["id_number"][0].startswith("您 24 小时内的跨社区身份证号查询已达 2 次上限")

    # Inside one's own scope nothing is looked up, so the cap does not apply.
    response = api.post(
        "/api/v1/residents/", {"household": household.pk, "name": "x", "id_number": district.a2.residents[1].id_number}
    )
    assert response.status_code == 400
    assert response.json()["id_number"][0].startswith("该身份证号已登记为本辖区居民")

    assert Resident.objects.count() == count
    assert len(lookups()) == 2


def test_admin_answers_with_the_same_check(district, target, admin_client, staff_other_street, client_for):
    household = district.b1.households[0]
    count = Resident.objects.count()

    response = admin_client.post(
        reverse("admin:communities_resident_add"),
        {"household": household.pk, "name": "重复", "id_number": target.id_number, "relation": "head"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["id_number"]
    assert errors[0].startswith(f"该身份证号已登记为本辖区居民 {target.name[0]}")
    assert Resident.objects.count() == count
    assert lookups() == []
    # Community staff do not reach the admin at all.
    assert client_for(staff_other_street).get(reverse("admin:communities_resident_add")).status_code == 302
