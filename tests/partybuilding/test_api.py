"""Party API: scope on every endpoint, M2M rules as 400 field errors, read-only officials,
flat query counts, and the coverage endpoint."""

import pytest
from django.urls import reverse

from partybuilding.models import Backbone, CentralHousehold, PartyBranch, PartyGroup, PartyMember
from tests.factories import (
    BackboneFactory,
    CentralHouseholdFactory,
    HouseholdFactory,
    PartyBranchFactory,
    PartyGroupFactory,
    PartyMemberFactory,
    ResidentFactory,
)

pytestmark = pytest.mark.django_db

# basename → (A1's rows, A2's rows) in the ``party`` fixture.
ENDPOINTS = {
    "party-branch": (("branch_a1",), ("branch_a2",)),
    "party-group": (("group_a1",), ("group_a2",)),
    "party-member": (("member_a1", "member2_a1"), ("member_a2",)),
    "central-household": (("central_a1",), ("central_a2",)),
    "backbone": (("backbone_a1",), ("backbone_a2",)),
}


def pks(party, names):
    return sorted(getattr(party, name).pk for name in names)


def list_url(basename):
    return reverse(f"{basename}-list")


def detail_url(basename, pk):
    return reverse(f"{basename}-detail", args=[pk])


def result_ids(response):
    return sorted(row["id"] for row in response.json()["results"])


# --- scope -----------------------------------------------------------------------------------
@pytest.mark.parametrize("basename", ENDPOINTS)
def test_list_shows_only_own_community(party, staff_a, api_client_for, basename):
    own, _other = ENDPOINTS[basename]

    response = api_client_for(staff_a).get(list_url(basename))

    assert response.status_code == 200
    assert result_ids(response) == pks(party, own)


@pytest.mark.parametrize("basename", ENDPOINTS)
def test_street_official_lists_both_communities_of_the_street(party, street_official_a, api_client_for, basename):
    own, other = ENDPOINTS[basename]

    response = api_client_for(street_official_a).get(list_url(basename))

    assert result_ids(response) == pks(party, own + other)


@pytest.mark.parametrize("basename", ENDPOINTS)
def test_other_community_rows_answer_404_and_stay_unchanged(party, staff_b, api_client_for, basename):
    row = getattr(party, ENDPOINTS[basename][0][0])
    before = type(row).objects.filter(pk=row.pk).values().get()
    client = api_client_for(staff_b)
    url = detail_url(basename, row.pk)

    assert client.get(url).status_code == 404
    assert client.patch(url, {"name": "改名", "joined_on": "2000-01-01", "rated_on": "2000-01-01"}).status_code == 404
    assert client.delete(url).status_code == 404
    assert type(row).objects.filter(pk=row.pk).values().get() == before


@pytest.mark.parametrize("basename", ENDPOINTS)
def test_district_official_reads_everything_but_cannot_write(party, district_official, api_client_for, basename):
    row = getattr(party, ENDPOINTS[basename][0][0])
    before = type(row).objects.filter(pk=row.pk).values().get()
    client = api_client_for(district_official)
    url = detail_url(basename, row.pk)

    assert client.get(url).status_code == 200
    assert client.patch(url, {"name": "改名"}).status_code == 403
    assert client.delete(url).status_code == 403
    assert type(row).objects.filter(pk=row.pk).values().get() == before


def test_district_official_cannot_create(party, district, district_official, api_client_for):
    response = api_client_for(district_official).post(
        list_url("party-branch"), {"community": district.a1.community.pk, "name": "区领导建的支部"}
    )

    assert response.status_code == 400
    assert "community" in response.json()
    assert not PartyBranch.objects.filter(name="区领导建的支部").exists()


def test_group_under_another_communitys_branch_is_refused(party, staff_b, api_client_for):
    response = api_client_for(staff_b).post(
        list_url("party-group"), {"branch": party.branch_a1.pk, "name": "越界小组"}, format="json"
    )

    assert response.status_code == 400
    # The same answer as for a branch that does not exist at all.
    assert response.json() == {"branch": [f"无效主键 “{party.branch_a1.pk}” － 对象不存在。"]}
    assert not PartyGroup.objects.filter(name="越界小组").exists()


def test_resident_sees_no_branches(party, resident, api_client_for):
    response = api_client_for(resident).get(list_url("party-branch"))

    assert response.status_code == 200
    assert response.json()["count"] == 0


# --- writes and M2M rules --------------------------------------------------------------------
def test_staff_creates_a_branch(district, staff_a, api_client_for):
    response = api_client_for(staff_a).post(
        list_url("party-branch"),
        {
            "community": district.a1.community.pk,
            "name": "新支部",
            "kind": "compound",
            "compounds": [district.a1.compound.pk],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    branch = PartyBranch.objects.get(name="新支部")
    assert response.json() == {
        "id": branch.pk,
        "street": district.street_a.pk,
        "community": district.a1.community.pk,
        "name": "新支部",
        "kind": "compound",
        "compounds": [district.a1.compound.pk],
        "secretary": None,
        "founded_on": None,
    }


def test_branch_compounds_of_another_community_answer_400(party, district, admin_user, api_client_for):
    response = api_client_for(admin_user).patch(
        detail_url("party-branch", party.branch_a1.pk), {"compounds": [district.a2.compound.pk]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"compounds": ["小区 宁国小区 不属于社区 曙光社区，党支部只能覆盖本社区的小区。"]}
    assert list(party.branch_a1.compounds.values_list("pk", flat=True)) == [district.a1.compound.pk]


def test_branch_compound_outside_scope_is_an_invalid_choice(party, district, staff_a, api_client_for):
    response = api_client_for(staff_a).patch(
        detail_url("party-branch", party.branch_a1.pk), {"compounds": [district.b1.compound.pk]}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["compounds"]
    assert list(party.branch_a1.compounds.values_list("pk", flat=True)) == [district.a1.compound.pk]


def test_branch_cannot_move_to_another_community(party, district, admin_user, api_client_for):
    response = api_client_for(admin_user).patch(
        detail_url("party-branch", party.branch_a1.pk), {"community": district.a2.community.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"community": ["党支部不能移到其他社区。"]}


def test_branch_secretary_must_be_its_member(party, admin_user, api_client_for):
    response = api_client_for(admin_user).patch(
        detail_url("party-branch", party.branch_a1.pk), {"secretary": party.member_a2.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"secretary": ["支部书记必须是本支部的党员。"]}


def test_group_buildings_of_another_community_answer_400(party, district, admin_user, api_client_for):
    response = api_client_for(admin_user).post(
        list_url("party-group"),
        {
            "branch": party.branch_a1.pk,
            "name": "跨社区小组",
            "buildings": [district.a1.buildings[1].pk, district.a2.buildings[1].pk],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "buildings": ["楼栋 宁国小区2栋 不属于党支部 曙光小区党支部 所在社区，党小组只能覆盖本社区的楼栋。"]
    }
    assert not PartyGroup.objects.filter(name="跨社区小组").exists()


def test_group_leader_cannot_be_set_on_create(party, staff_a, api_client_for):
    response = api_client_for(staff_a).post(
        list_url("party-group"),
        {"branch": party.branch_a1.pk, "name": "新小组", "leader": party.member2_a1.pk},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["leader"]


def test_staff_patches_a_group(party, district, staff_a, api_client_for):
    response = api_client_for(staff_a).patch(
        detail_url("party-group", party.group_a1.pk),
        {"buildings": [b.pk for b in district.a1.buildings], "leader": party.member2_a1.pk},
        format="json",
    )

    assert response.status_code == 200, response.json()
    party.group_a1.refresh_from_db()
    assert party.group_a1.leader_id == party.member2_a1.pk
    assert sorted(party.group_a1.buildings.values_list("pk", flat=True)) == sorted(b.pk for b in district.a1.buildings)


def test_member_group_must_be_in_its_branch(party, district, staff_a, api_client_for):
    other_branch = PartyBranchFactory(community=district.a1.community)

    response = api_client_for(staff_a).post(
        list_url("party-member"),
        {"resident": district.a1.residents[8].pk, "branch": other_branch.pk, "group": party.group_a1.pk},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["group"]
    assert not PartyMember.objects.filter(resident=district.a1.residents[8]).exists()


def test_staff_registers_a_member(party, district, staff_a, api_client_for):
    resident = district.a1.residents[8]

    response = api_client_for(staff_a).post(
        list_url("party-member"),
        {"resident": resident.pk, "branch": party.branch_a1.pk, "group": party.group_a1.pk, "joined_on": "1999-07-01"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["name"] == resident.name
    assert response.json()["community"] == district.a1.community.pk


def test_central_household_follows_its_member(party, district, staff_a, api_client_for):
    member = party.member2_a1

    response = api_client_for(staff_a).post(
        list_url("central-household"),
        {"member": member.pk, "served_households": [district.a1.households[5].pk]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    central = CentralHousehold.objects.get(member=member)
    assert response.json()["household"] == central.household_id == member.resident.household_id
    assert response.json()["served_households"] == [district.a1.households[5].pk]


def test_central_household_served_in_another_community_answer_400(party, district, admin_user, api_client_for):
    response = api_client_for(admin_user).patch(
        detail_url("central-household", party.central_a1.pk),
        {"served_households": [district.a1.households[2].pk, district.a2.households[4].pk]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["served_households"]
    assert "不在中心户所在社区" in response.json()["served_households"][0]
    assert list(party.central_a1.served_households.values_list("pk", flat=True)) == [district.a1.households[0].pk]


def test_central_household_cannot_serve_itself(party, district, staff_a, api_client_for):
    response = api_client_for(staff_a).patch(
        detail_url("central-household", party.central_a1.pk),
        {"served_households": [district.a1.households[1].pk]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"served_households": ["中心户不能把自己这一户列为联系服务的住户。"]}


def test_household_is_one_central_household(party, staff_a, api_client_for):
    spouse = PartyMemberFactory(
        resident=party.member_a1.resident.household.residents.exclude(pk=party.member_a1.resident_id).get(),
        branch=party.branch_a1,
    )

    response = api_client_for(staff_a).post(list_url("central-household"), {"member": spouse.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {"member": ["该党员所在的住户已经是党员中心户。"]}


def test_staff_records_a_backbone(party, district, staff_a, api_client_for):
    resident = district.a1.residents[9]

    response = api_client_for(staff_a).post(
        list_url("backbone"),
        {"resident": resident.pk, "kind": "mass", "year": 2024, "specialty": "调解"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    backbone = Backbone.objects.get(resident=resident)
    assert (backbone.street_id, backbone.community_id) == (district.street_a.pk, district.a1.community.pk)


def test_backbone_of_another_community_resident_is_refused(party, district, staff_a, api_client_for):
    response = api_client_for(staff_a).post(
        list_url("backbone"), {"resident": district.a2.residents[9].pk, "kind": "mass", "year": 2024}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["resident"]


def test_deleting_a_branch_with_groups_is_a_conflict(party, staff_a, api_client_for):
    response = api_client_for(staff_a).delete(detail_url("party-branch", party.branch_a1.pk))

    assert response.status_code == 409
    assert PartyBranch.objects.filter(pk=party.branch_a1.pk).exists()


def test_staff_deletes_an_empty_group(party, district, staff_a, api_client_for):
    group = PartyGroupFactory(branch=party.branch_a1)

    response = api_client_for(staff_a).delete(detail_url("party-group", group.pk))

    assert response.status_code == 204
    assert not PartyGroup.objects.filter(pk=group.pk).exists()


# --- coverage --------------------------------------------------------------------------------
def test_coverage_endpoint_for_staff(party, staff_a, api_client_for):
    response = api_client_for(staff_a).get(reverse("party-coverage-list"))

    assert response.status_code == 200
    assert response.json() == {
        "compounds_without_branch": 0,
        "buildings_without_group": 1,
        "households_unserved": 4,
        "compounds_total": 1,
        "buildings_total": 2,
        "households_total": 6,
    }


def test_coverage_endpoint_narrowed_to_a_community(party, district, street_official_a, api_client_for):
    response = api_client_for(street_official_a).get(
        reverse("party-coverage-list"), {"community": district.a2.community.pk}
    )

    assert [
        response.json()[k] for k in ("compounds_without_branch", "buildings_without_group", "households_unserved")
    ] == [
        1,
        1,
        4,
    ]


def test_coverage_endpoint_rejects_bad_ids_and_residents(party, staff_a, resident, api_client_for):
    assert api_client_for(staff_a).get(reverse("party-coverage-list"), {"community": "x"}).status_code == 400
    assert api_client_for(resident).get(reverse("party-coverage-list")).status_code == 403


# --- query counts ----------------------------------------------------------------------------
def make_rows(district, n):
    """n rows of every party model in A1 (each with its M2M filled)."""
    a1 = district.a1
    for _ in range(n):
        household = HouseholdFactory(building=a1.buildings[0])
        resident = ResidentFactory(household=household)
        branch = PartyBranchFactory(community=a1.community, compounds=[a1.compound])
        group = PartyGroupFactory(branch=branch, buildings=list(a1.buildings))
        member = PartyMemberFactory(resident=resident, branch=branch, group=group)
        CentralHouseholdFactory(member=member, served_households=a1.households[:2])
        BackboneFactory(resident=resident)


# roles, count, rows (+ one prefetch for the M2M).
API_LIST_QUERIES = 4


@pytest.mark.parametrize("rows", [2, 20])
@pytest.mark.parametrize("basename", ENDPOINTS)
def test_api_list_query_count_is_flat(district, staff_a, api_client_for, django_assert_max_num_queries, basename, rows):
    make_rows(district, rows)
    client = api_client_for(staff_a)

    with django_assert_max_num_queries(API_LIST_QUERIES):
        response = client.get(list_url(basename))

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_coverage_endpoint_query_count_is_flat(district, staff_a, api_client_for, django_assert_max_num_queries, rows):
    make_rows(district, rows)

    with django_assert_max_num_queries(4):
        api_client_for(staff_a).get(reverse("party-coverage-list"))


# --- filters ---------------------------------------------------------------------------------
def test_filters_narrow_the_list(party, district, street_official_a, api_client_for):
    client = api_client_for(street_official_a)

    by_community = client.get(list_url("party-member"), {"community": district.a2.community.pk})
    by_group = client.get(list_url("party-member"), {"group": party.group_a1.pk})
    by_building = client.get(list_url("party-group"), {"building": district.a1.buildings[0].pk})
    serving = client.get(list_url("central-household"), {"serves": district.a1.households[0].pk})

    assert result_ids(by_community) == [party.member_a2.pk]
    assert result_ids(by_group) == sorted([party.member_a1.pk, party.member2_a1.pk])
    assert result_ids(by_building) == [party.group_a1.pk]
    assert result_ids(serving) == [party.central_a1.pk]


def test_filter_by_another_communitys_id_looks_like_a_missing_one(party, staff_b, api_client_for):
    client = api_client_for(staff_b)

    foreign = client.get(list_url("party-member"), {"branch": party.branch_a1.pk})
    missing = client.get(list_url("party-member"), {"branch": 999999})

    assert (foreign.status_code, foreign.json()["count"]) == (200, 0)
    assert (missing.status_code, missing.json()["count"]) == (200, 0)
