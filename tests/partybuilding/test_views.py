"""Party pages: render in scope, 404 outside it, forms validate and save, query counts stay flat."""

import pytest
from django.urls import reverse

from partybuilding.models import CentralHousehold, PartyBranch, PartyGroup, PartyMember
from tests.factories import (
    CompoundFactory,
    PartyBranchFactory,
    PartyGroupFactory,
    PartyMemberFactory,
    ResidentFactory,
)

pytestmark = pytest.mark.django_db


def page_urls(party):
    """Every page about one of A1's rows (detail, edit and 'add under')."""
    return [
        reverse("partybuilding:branch", args=[party.branch_a1.pk]),
        reverse("partybuilding:branch_edit", args=[party.branch_a1.pk]),
        reverse("partybuilding:group_add", args=[party.branch_a1.pk]),
        reverse("partybuilding:member_add", args=[party.branch_a1.pk]),
        reverse("partybuilding:group", args=[party.group_a1.pk]),
        reverse("partybuilding:group_edit", args=[party.group_a1.pk]),
        reverse("partybuilding:member", args=[party.member_a1.pk]),
        reverse("partybuilding:member_edit", args=[party.member_a1.pk]),
        reverse("partybuilding:central_household_add", args=[party.member2_a1.pk]),
        reverse("partybuilding:central_household", args=[party.central_a1.pk]),
        reverse("partybuilding:central_household_edit", args=[party.central_a1.pk]),
    ]


# --- access ----------------------------------------------------------------------------------
def test_staff_a_sees_every_page_of_a1(party, staff_a, client_for):
    client = client_for(staff_a)
    urls = [
        reverse("partybuilding:home"),
        reverse("partybuilding:branch_add"),
        *(reverse("partybuilding:coverage", args=[kind]) for kind in ("compounds", "buildings", "households")),
        *page_urls(party),
    ]

    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 200)


def test_staff_of_another_community_gets_404_on_a1_pages(party, staff_b, client_for):
    client = client_for(staff_b)
    urls = page_urls(party)

    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 404)


def test_staff_of_another_street_gets_404_on_a1_pages(party, staff_other_street, client_for):
    client = client_for(staff_other_street)
    urls = page_urls(party)

    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 404)


def test_district_official_reads_but_cannot_open_edit_pages(party, district_official, client_for):
    client = client_for(district_official)

    assert client.get(reverse("partybuilding:branch", args=[party.branch_a1.pk])).status_code == 200
    assert client.get(reverse("partybuilding:branch_edit", args=[party.branch_a1.pk])).status_code == 404
    assert client.get(reverse("partybuilding:group_add", args=[party.branch_a1.pk])).status_code == 404


def test_resident_is_refused_and_anonymous_sent_to_login(party, resident, client_for, client):
    url = reverse("partybuilding:home")

    assert client_for(resident).get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_unknown_coverage_kind_is_404(staff_a, client_for):
    assert client_for(staff_a).get("/party/coverage/residents/").status_code == 404


# --- content ---------------------------------------------------------------------------------
def test_branch_list_shows_own_branches_and_coverage(party, district, staff_a, client_for):
    response = client_for(staff_a).get(reverse("partybuilding:home"))

    branches = list(response.context["branches"])
    assert [b.pk for b in branches] == [party.branch_a1.pk]
    assert (branches[0].group_count, branches[0].member_count) == (1, 2)
    assert [(c["kind"], c["count"], c["total"]) for c in response.context["coverage_cards"]] == [
        ("compounds", 0, 1),
        ("buildings", 1, 2),
        ("households", 4, 6),
    ]
    html = response.content.decode()
    assert "曙光小区党支部" in html
    assert "宁国路功能型党支部" not in html


def test_branch_list_filters_by_community(party, district, street_official_a, client_for):
    client = client_for(street_official_a)

    everything = client.get(reverse("partybuilding:home"))
    only_a2 = client.get(reverse("partybuilding:home"), {"community": district.a2.community.pk})

    assert [b.pk for b in everything.context["branches"]] == [party.branch_a1.pk, party.branch_a2.pk]
    assert [b.pk for b in only_a2.context["branches"]] == [party.branch_a2.pk]
    assert [c["count"] for c in only_a2.context["coverage_cards"]] == [1, 1, 4]
    assert f"?community={district.a2.community.pk}" in only_a2.context["coverage_cards"][0]["url"]


def test_branch_list_ignores_a_community_outside_scope(party, district, staff_a, client_for):
    response = client_for(staff_a).get(reverse("partybuilding:home"), {"community": district.a2.community.pk})

    assert response.context["selected_community"] is None
    assert [b.pk for b in response.context["branches"]] == [party.branch_a1.pk]


def test_coverage_page_lists_uncovered_rows(party, district, staff_a, client_for):
    client = client_for(staff_a)

    buildings = client.get(reverse("partybuilding:coverage", args=["buildings"]))
    households = client.get(reverse("partybuilding:coverage", args=["households"]))

    assert [b.pk for b in buildings.context["rows"]] == [district.a1.buildings[1].pk]
    assert [h.pk for h in households.context["rows"]] == [h.pk for h in district.a1.households[2:]]


def test_branch_detail_shows_groups_and_members(party, staff_a, client_for):
    response = client_for(staff_a).get(party.branch_a1.get_absolute_url())

    groups = list(response.context["groups"])
    assert [(g.pk, g.member_count, g.leader_id) for g in groups] == [(party.group_a1.pk, 2, party.member_a1.pk)]
    assert [m.pk for m in response.context["members"]] == sorted(
        [party.member_a1.pk, party.member2_a1.pk],
        key=lambda pk: PartyMember.objects.get(pk=pk).resident.name,
    )
    html = response.content.decode()
    resident = party.member_a1.resident
    assert resident.masked_mobile in html
    assert resident.mobile not in html


def test_group_detail_shows_members_buildings_and_central_households(party, district, staff_a, client_for):
    response = client_for(staff_a).get(party.group_a1.get_absolute_url())

    assert {m.pk for m in response.context["members"]} == {party.member_a1.pk, party.member2_a1.pk}
    assert [c.pk for c in response.context["central_households"]] == [party.central_a1.pk]
    assert response.context["central_households"][0].served_count == 1
    assert [b.pk for b in response.context["group"].buildings.all()] == [district.a1.buildings[0].pk]


def test_central_household_detail_lists_served_households(party, district, staff_a, client_for):
    response = client_for(staff_a).get(party.central_a1.get_absolute_url())

    assert [h.pk for h in response.context["served"]] == [district.a1.households[0].pk]


# --- forms -----------------------------------------------------------------------------------
def test_staff_creates_a_branch(district, staff_a, client_for):
    community = district.a1.community

    response = client_for(staff_a).post(
        reverse("partybuilding:branch_add"),
        {"community": community.pk, "name": "新党支部", "kind": "compound", "compounds": [district.a1.compound.pk]},
    )

    branch = PartyBranch.objects.get(name="新党支部")
    assert response.status_code == 302
    assert response.url == branch.get_absolute_url()
    assert (branch.street_id, branch.community_id) == (district.street_a.pk, community.pk)
    assert list(branch.compounds.values_list("pk", flat=True)) == [district.a1.compound.pk]


def test_staff_cannot_create_a_branch_in_another_community(district, staff_a, client_for):
    response = client_for(staff_a).post(
        reverse("partybuilding:branch_add"),
        {"community": district.a2.community.pk, "name": "越界党支部", "kind": "compound"},
    )

    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    assert not PartyBranch.objects.filter(name="越界党支部").exists()


def test_branch_compounds_must_be_in_its_community(district, admin_user, client_for):
    response = client_for(admin_user).post(
        reverse("partybuilding:branch_add"),
        {
            "community": district.a1.community.pk,
            "name": "跨社区党支部",
            "kind": "compound",
            "compounds": [district.a1.compound.pk, district.a2.compound.pk],
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["compounds"] == [
        "小区 宁国小区 不属于社区 曙光社区，党支部只能覆盖本社区的小区。"
    ]
    assert not PartyBranch.objects.filter(name="跨社区党支部").exists()


def test_edit_branch_sets_secretary_from_its_members(party, staff_a, client_for):
    branch = party.branch_a1

    response = client_for(staff_a).post(
        reverse("partybuilding:branch_edit", args=[branch.pk]),
        {"name": "曙光小区第一党支部", "kind": "compound", "compounds": [], "secretary": party.member2_a1.pk},
    )

    branch.refresh_from_db()
    assert response.status_code == 302
    assert (branch.name, branch.secretary_id, branch.community_id) == (
        "曙光小区第一党支部",
        party.member2_a1.pk,
        party.branch_a1.community_id,
    )
    assert branch.compounds.count() == 0


def test_edit_branch_refuses_a_secretary_from_another_branch(party, admin_user, client_for):
    response = client_for(admin_user).post(
        reverse("partybuilding:branch_edit", args=[party.branch_a1.pk]),
        {"name": "曙光小区党支部", "kind": "compound", "secretary": party.member_a2.pk},
    )

    assert response.status_code == 200
    assert "secretary" in response.context["form"].errors
    party.branch_a1.refresh_from_db()
    assert party.branch_a1.secretary_id == party.member_a1.pk


def test_staff_b_cannot_post_to_a1_edit_pages(party, staff_b, client_for):
    client = client_for(staff_b)

    response = client.post(
        reverse("partybuilding:branch_edit", args=[party.branch_a1.pk]), {"name": "被改名", "kind": "compound"}
    )
    created = client.post(
        reverse("partybuilding:group_add", args=[party.branch_a1.pk]),
        {"branch": party.branch_a1.pk, "name": "越界小组", "kind": "building"},
    )

    assert (response.status_code, created.status_code) == (404, 404)
    party.branch_a1.refresh_from_db()
    assert party.branch_a1.name == "曙光小区党支部"
    assert not PartyGroup.objects.filter(name="越界小组").exists()


def test_staff_creates_a_group_under_a_branch(party, district, staff_a, client_for):
    building = district.a1.buildings[1]

    response = client_for(staff_a).post(
        reverse("partybuilding:group_add", args=[party.branch_a1.pk]),
        {"branch": party.branch_a1.pk, "name": "曙光2栋党小组", "kind": "building", "buildings": [building.pk]},
    )

    group = PartyGroup.objects.get(name="曙光2栋党小组")
    assert response.status_code == 302
    assert (group.branch_id, group.community_id) == (party.branch_a1.pk, district.a1.community.pk)
    assert list(group.buildings.values_list("pk", flat=True)) == [building.pk]


def test_group_buildings_must_be_in_its_branch_community(party, district, admin_user, client_for):
    response = client_for(admin_user).post(
        reverse("partybuilding:group_add", args=[party.branch_a1.pk]),
        {
            "branch": party.branch_a1.pk,
            "name": "跨社区小组",
            "kind": "building",
            "buildings": [district.a2.buildings[1].pk],
        },
    )

    assert response.status_code == 200
    assert "buildings" in response.context["form"].errors
    assert not PartyGroup.objects.filter(name="跨社区小组").exists()


def test_group_leader_must_be_a_member_of_the_group(party, admin_user, client_for):
    outsider = PartyMemberFactory(resident=party.member2_a1.resident.household.residents.last(), branch=party.branch_a1)

    response = client_for(admin_user).post(
        reverse("partybuilding:group_edit", args=[party.group_a1.pk]),
        {"name": "曙光1栋党小组", "kind": "building", "leader": outsider.pk},
    )

    assert response.status_code == 200
    assert "leader" in response.context["form"].errors


def test_staff_registers_a_member(party, district, staff_a, client_for):
    resident = district.a1.residents[7]

    response = client_for(staff_a).post(
        reverse("partybuilding:member_add", args=[party.branch_a1.pk]),
        {"resident": resident.pk, "branch": party.branch_a1.pk, "group": party.group_a1.pk, "joined_on": "2001-07-01"},
    )

    member = PartyMember.objects.get(resident=resident)
    assert response.status_code == 302
    assert response.url == reverse("partybuilding:member", args=[member.pk])
    assert (member.branch_id, member.group_id, member.community_id) == (
        party.branch_a1.pk,
        party.group_a1.pk,
        district.a1.community.pk,
    )


def test_member_of_a_branch_must_live_in_its_community(party, district, admin_user, client_for):
    resident = district.a2.residents[5]

    response = client_for(admin_user).post(
        reverse("partybuilding:member_add", args=[party.branch_a1.pk]),
        {"resident": resident.pk, "branch": party.branch_a1.pk},
    )

    assert response.status_code == 200
    assert "resident" in response.context["form"].errors
    assert not PartyMember.objects.filter(resident=resident).exists()


def test_staff_sets_up_a_central_household(party, district, staff_a, client_for):
    member = party.member2_a1  # lives in households[2]
    served = [district.a1.households[3].pk, district.a1.households[4].pk]

    response = client_for(staff_a).post(
        reverse("partybuilding:central_household_add", args=[member.pk]),
        {"member": member.pk, "served_households": served, "rated_on": "2024-06-30"},
    )

    central = CentralHousehold.objects.get(member=member)
    assert response.status_code == 302
    assert response.url == central.get_absolute_url()
    assert central.household_id == district.a1.households[2].pk
    assert sorted(central.served_households.values_list("pk", flat=True)) == served


def test_a_household_is_one_central_household(party, staff_a, client_for):
    # A second member in member_a1's household.
    spouse = PartyMemberFactory(
        resident=party.member_a1.resident.household.residents.exclude(pk=party.member_a1.resident_id).get(),
        branch=party.branch_a1,
    )

    response = client_for(staff_a).post(
        reverse("partybuilding:central_household_add", args=[spouse.pk]), {"member": spouse.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["member"] == ["该党员所在的住户已经是党员中心户。"]
    assert CentralHousehold.objects.filter(member=spouse).count() == 0


def test_central_household_serves_only_its_community(party, district, admin_user, client_for):
    response = client_for(admin_user).post(
        reverse("partybuilding:central_household_edit", args=[party.central_a1.pk]),
        {"member": party.member_a1.pk, "served_households": [district.a2.households[4].pk]},
    )

    assert response.status_code == 200
    assert "served_households" in response.context["form"].errors
    assert list(party.central_a1.served_households.values_list("pk", flat=True)) == [district.a1.households[0].pk]


def test_central_household_cannot_serve_itself(party, district, staff_a, client_for):
    response = client_for(staff_a).post(
        reverse("partybuilding:central_household_edit", args=[party.central_a1.pk]),
        {"member": party.member_a1.pk, "served_households": [district.a1.households[1].pk]},
    )

    # Its own household is not offered, so choosing it is an invalid choice.
    assert response.status_code == 200
    assert "served_households" in response.context["form"].errors
    assert list(party.central_a1.served_households.values_list("pk", flat=True)) == [district.a1.households[0].pk]


# --- query counts ----------------------------------------------------------------------------
def make_branches(community, n):
    """n branches in ``community``, each covering a compound, with a group and a secretary."""
    for _ in range(n):
        compound = CompoundFactory(community=community)
        branch = PartyBranchFactory(community=community, compounds=[compound])
        group = PartyGroupFactory(branch=branch)
        member = PartyMemberFactory(
            resident=ResidentFactory(household__building__compound=compound), branch=branch, group=group
        )
        branch.secretary = member
        branch.save(update_fields=["secretary"])
        group.leader = member
        group.save(update_fields=["leader"])


# session, user, roles, the navigation bar's unread counter, then the page's own: see each test.
BRANCH_LIST_QUERIES = 12  # + count, communities, 3 coverage aggregates, branches, compounds
COVERAGE_QUERIES = 8  # + communities, count, rows
BRANCH_DETAIL_QUERIES = 11  # + branch, compounds, may-change, groups, buildings, members


@pytest.mark.parametrize("rows", [2, 20])
def test_branch_list_query_count_is_flat(district, staff_a, client_for, django_assert_max_num_queries, rows):
    make_branches(district.a1.community, rows)
    client = client_for(staff_a)

    with django_assert_max_num_queries(BRANCH_LIST_QUERIES):
        response = client.get(reverse("partybuilding:home"))

    assert len(response.context["branches"]) == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_coverage_page_query_count_is_flat(district, staff_a, client_for, django_assert_max_num_queries, rows):
    for _ in range(rows):
        CompoundFactory(community=district.a1.community)
    client = client_for(staff_a)

    with django_assert_max_num_queries(COVERAGE_QUERIES):
        response = client.get(reverse("partybuilding:coverage", args=["compounds"]))

    assert len(response.context["rows"]) == rows + 1


@pytest.mark.parametrize("rows", [2, 20])
def test_branch_detail_query_count_is_flat(district, staff_a, client_for, django_assert_max_num_queries, rows):
    branch = PartyBranchFactory(community=district.a1.community)
    for resident in district.a1.residents[:rows] + [
        ResidentFactory(household=district.a1.households[0]) for _ in range(max(rows - 12, 0))
    ]:
        group = PartyGroupFactory(branch=branch, buildings=[resident.household.building])
        member = PartyMemberFactory(resident=resident, branch=branch, group=group)
        group.leader = member
        group.save(update_fields=["leader"])
    client = client_for(staff_a)

    with django_assert_max_num_queries(BRANCH_DETAIL_QUERIES):
        response = client.get(branch.get_absolute_url())

    assert len(response.context["groups"]) == rows
