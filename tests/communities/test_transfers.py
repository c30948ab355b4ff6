"""迁入 (move-in) requests: 望湖社区 (B1, ``staff_other_street``) asks 曙光社区 (A1, ``staff_a``)
to move A1's resident into a B1 household. The requester sees a masked name until approved;
A1 decides; approval moves the person with what points at them and writes one UPDATE audit
line; A2 (``staff_b``) sees nothing of it (404)."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Role, User
from baohe.exceptions import Conflict
from baohe.models import AuditEntry
from baohe.validators import id_check_char
from communities import services
from communities.models import Building, Resident, ResidentTransfer
from tests.volunteers.factories import VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(district, resident):
    """A1's resident with an account (the ``resident`` persona), a volunteer record, heading 1栋."""
    record = Resident.objects.get(user=resident)
    record.name = "李秀英"
    record.save(update_fields=["name"])
    building = record.household.building
    building.head = record
    building.save(update_fields=["head"])
    return record


def ask(api, household, person, reason="已购房迁入本小区"):
    return api.post(
        "/api/v1/transfers/", {"id_number": person.id_number, "to_household": household.pk, "reason": reason}
    )


def audit_lines(action):
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def test_request_is_an_audited_lookup_and_shows_a_masked_name(
    district, person, staff_other_street, staff_a, api_client_for
):
    household = district.b1.households[1]

    response = ask(api_client_for(staff_other_street), household, person)

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("status", "resident", "resident_name", "source_community_name", "direction")} == {
        "status": "pending",
        "resident": None,
        "resident_name": "李**",
        "source_community_name": "曙光社区",
        "direction": "outgoing",
    }
    [line] = audit_lines(AuditEntry.Action.TRANSFER_LOOKUP)
    assert (line.user, line.object_id, line.community_id, line.detail) == (
        staff_other_street,
        str(person.pk),
        district.a1.community.pk,
        {"via": "transfer", "found": True},
    )

    incoming = api_client_for(staff_a).get("/api/v1/transfers/?direction=incoming").json()["results"]
    assert [
        (row["id"], row["resident_name"], row["resident"], row["community_name"], row["direction"]) for row in incoming
    ] == [(body["id"], "李秀英", person.pk, "望湖社区", "incoming")]


def test_a_number_not_registered_anywhere_is_a_lookup_too(district, staff_other_street, api_client_for):
    first17 = "34011119900101777"
    response = api_client_for(staff_other_street).post(
        "/api/v1/transfers/",
        {"id_number": first17 + id_check_char(first17), "to_household": district.b1.households[0].pk, "reason": "迁入"},
    )

    assert response.status_code == 400
    assert response.json() == {"id_number": ["全区没有登记这个身份证号的居民，请直接新增居民。"]}
    [line] = audit_lines(AuditEntry.Action.TRANSFER_LOOKUP)
    assert (line.object_id, line.community_id, line.detail) == (
        "",
        district.b1.community.pk,
        {"via": "transfer", "found": False},
    )
    assert ResidentTransfer.objects.count() == 0


def test_bad_requests_are_field_errors_and_change_nothing(district, person, staff_other_street, api_client_for):
    api = api_client_for(staff_other_street)

    own = district.b1.residents[0]
    response = ask(api, district.b1.households[1], own)
    assert response.status_code == 400
    assert response.json()["id_number"][0].startswith("该居民已是本辖区居民")

    response = ask(api, district.a1.households[0], person)  # a household outside one's scope
    assert response.status_code == 400
    assert list(response.json()) == ["to_household"]

    response = api.post("/api/v1/transfers/", {"id_number": "123", "to_household": district.b1.households[0].pk})
    assert response.status_code == 400
    assert set(response.json()) == {"id_number", "reason"}

    assert ask(api, district.b1.households[1], person).status_code == 201
    response = ask(api, district.b1.households[2], person)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["该居民已有待处理的迁入申请。"]}
    assert ResidentTransfer.objects.count() == 1
    # The two requests that reached the lookup; one's own resident and bad input look nothing up.
    assert len(audit_lines(AuditEntry.Action.TRANSFER_LOOKUP)) == 2


def test_requests_count_against_the_lookup_cap(district, person, staff_other_street, api_client_for, settings):
    settings.TRANSFER_LOOKUPS_PER_DAY = 1
    api = api_client_for(staff_other_street)
    assert ask(api, district.b1.households[1], person).status_code == 201

    response = ask(api, district.b1.households[1], district.a2.residents[0])

    assert response.status_code == 429
    assert response.json()["code"] == "transfer_lookup_cap"
    assert ResidentTransfer.objects.count() == 1
    assert len(audit_lines(AuditEntry.Action.TRANSFER_LOOKUP)) == 1


def test_approval_moves_the_person_with_their_history(
    district, person, resident, staff_other_street, staff_a, api_client_for
):
    volunteer = VolunteerFactory(resident=person)
    target = district.b1.households[1]
    transfer_id = ask(api_client_for(staff_other_street), target, person).json()["id"]

    response = api_client_for(staff_a).post(f"/api/v1/transfers/{transfer_id}/approve/", {"note": "同意"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_by_name"]) == ("approved", staff_a.name)
    person.refresh_from_db()
    volunteer.refresh_from_db()
    assert (person.household_id, person.street_id, person.community_id) == (
        target.pk,
        district.street_b.pk,
        district.b1.community.pk,
    )
    assert (volunteer.street_id, volunteer.community_id) == (district.street_b.pk, district.b1.community.pk)
    assert Building.objects.get(pk=district.a1.buildings[0].pk).head_id is None
    assert list(Role.objects.filter(user=resident).values_list("kind", "community_id")) == [
        ("resident", district.b1.community.pk)
    ]
    [line] = audit_lines(AuditEntry.Action.UPDATE)
    assert (line.user, line.object_id, line.community_id) == (staff_a, str(person.pk), district.a1.community.pk)
    assert line.changes["community"] == ["曙光社区", "望湖社区"]
    assert line.detail == {"transfer": transfer_id, "building_head_cleared": [district.a1.buildings[0].pk]}

    # Now the requester's own resident: the full name, and the record.
    mine = api_client_for(staff_other_street).get(f"/api/v1/transfers/{transfer_id}/").json()
    assert (mine["resident_name"], mine["resident"]) == ("李秀英", person.pk)
    assert api_client_for(staff_other_street).get(f"/api/v1/residents/{person.pk}/").status_code == 200
    assert api_client_for(staff_a).get(f"/api/v1/residents/{person.pk}/").status_code == 404


def test_who_may_take_which_step(district, person, staff_other_street, staff_a, staff_b, api_client_for):
    transfer_id = ask(api_client_for(staff_other_street), district.b1.households[1], person).json()["id"]

    # A2 sees nothing of it.
    other = api_client_for(staff_b)
    assert other.get(f"/api/v1/transfers/{transfer_id}/").status_code == 404
    assert other.get("/api/v1/transfers/").json()["results"] == []
    for step in ("approve", "reject", "cancel"):
        assert other.post(f"/api/v1/transfers/{transfer_id}/{step}/", {"note": "x"}).status_code == 404

    # The requester may not decide; the source may not withdraw.
    assert api_client_for(staff_other_street).post(f"/api/v1/transfers/{transfer_id}/approve/").status_code == 403
    assert api_client_for(staff_a).post(f"/api/v1/transfers/{transfer_id}/cancel/").status_code == 403

    # Rejecting needs a note.
    response = api_client_for(staff_a).post(f"/api/v1/transfers/{transfer_id}/reject/", {"note": " "})
    assert (response.status_code, response.json()) == (400, {"note": ["请填写处理意见。"]})
    response = api_client_for(staff_a).post(f"/api/v1/transfers/{transfer_id}/reject/", {"note": "查无此人迁出手续"})
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    person.refresh_from_db()
    assert person.community_id == district.a1.community.pk

    # Decided: every further step is a conflict.
    response = api_client_for(staff_a).post(f"/api/v1/transfers/{transfer_id}/approve/")
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    assert api_client_for(staff_other_street).post(f"/api/v1/transfers/{transfer_id}/cancel/").status_code == 409


def test_pages_request_list_and_decide(district, person, staff_other_street, staff_a, client_for):
    requester, source = client_for(staff_other_street), client_for(staff_a)
    household = district.b1.households[1]

    form = requester.get(reverse("communities:transfer_add") + f"?household={household.pk}")
    assert form.status_code == 200
    assert form.context["form"].initial == {"to_household": household.pk}
    response = requester.post(
        reverse("communities:transfer_add"),
        {"id_number": person.id_number, "to_household": household.pk, "reason": "购房迁入"},
    )
    transfer = ResidentTransfer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/registry/transfers/{transfer.pk}/"

    page = requester.get(reverse("communities:transfer", args=[transfer.pk])).content.decode()
    assert "李**" in page and "李秀英" not in page and "同意迁入" not in page and "撤回申请" in page
    outgoing = requester.get(reverse("communities:transfers") + "?tab=outgoing")
    assert [name for _transfer, name in outgoing.context["rows"]] == ["李**"]

    community_page = source.get(reverse("communities:community", args=[district.a1.community.pk])).content.decode()
    assert "有 1 份迁入申请待本社区处理" in community_page
    incoming = source.get(reverse("communities:transfers"))
    assert [name for _transfer, name in incoming.context["rows"]] == ["李秀英"]
    assert incoming.context["incoming_pending"] == 1
    page = source.get(reverse("communities:transfer", args=[transfer.pk])).content.decode()
    assert "同意迁入" in page and "撤回申请" not in page

    response = source.post(reverse("communities:transfer_approve", args=[transfer.pk]), {"note": ""}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["已同意迁入，居民已迁入 望湖社区。"]
    person.refresh_from_db()
    assert person.household_id == household.pk
    again = source.post(reverse("communities:transfer_approve", args=[transfer.pk]), {"note": ""}, follow=True)
    assert [str(m) for m in again.context["messages"]] == ["该迁入申请已处理（已同意）。"]


def test_the_request_page_answers_429_over_the_cap(district, person, staff_other_street, client_for, settings):
    settings.TRANSFER_LOOKUPS_PER_DAY = 0
    response = client_for(staff_other_street).post(
        reverse("communities:transfer_add"),
        {"id_number": person.id_number, "to_household": district.b1.households[0].pk, "reason": "购房迁入"},
    )
    assert response.status_code == 429
    assert response.context["form"].errors["id_number"][0].startswith("您 24 小时内的跨社区身份证号查询已达 0 次上限")
    assert ResidentTransfer.objects.count() == 0


def test_list_queries_stay_flat(
    district, staff_a, staff_other_street, api_client_for, client_for, django_assert_max_num_queries
):
    api = api_client_for(staff_other_street)
    for index, record in enumerate(district.a1.residents[:6]):
        assert ask(api, district.b1.households[index % 6], record).status_code == 201
    source = client_for(staff_a)
    with django_assert_max_num_queries(14):
        assert source.get(reverse("communities:transfers")).status_code == 200
    with django_assert_max_num_queries(8):
        assert len(api_client_for(staff_a).get("/api/v1/transfers/").json()["results"]) == 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_give_one_success(district, person, staff_other_street, staff_a, secretary_a):
    transfer = services.transfer_request(
        by=staff_other_street, id_number=person.id_number, to_household=district.b1.households[1], reason="迁入"
    )
    people = [staff_a.pk, secretary_a.pk]
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def approve(i):
        try:
            barrier.wait(timeout=30)
            by = User.objects.get(pk=people[i])
            services.transfer_approve(by=by, transfer=ResidentTransfer.objects.get(pk=transfer.pk))
            outcomes[i] = "ok"
        except Conflict:
            outcomes[i] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).count() == 1
