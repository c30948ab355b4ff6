"""Coverage selectors, the registry counters and the "my building" server provider."""

import pytest

from communities.selectors import household_servers, level_counts
from partybuilding import selectors

pytestmark = pytest.mark.django_db


def ids(rows):
    return sorted(row.pk for row in rows)


def test_uncovered_lists_for_community_staff(party, district, staff_a):
    a1 = district.a1

    assert ids(selectors.compounds_without_branch(staff_a)) == []
    assert ids(selectors.buildings_without_group(staff_a)) == [a1.buildings[1].pk]
    assert ids(selectors.households_unserved(staff_a)) == ids(a1.households[2:])


def test_uncovered_lists_for_street_official_span_both_communities(party, district, street_official_a):
    a1, a2 = district.a1, district.a2

    assert ids(selectors.compounds_without_branch(street_official_a)) == [a2.compound.pk]
    assert ids(selectors.buildings_without_group(street_official_a)) == sorted([a1.buildings[1].pk, a2.buildings[1].pk])
    # A2: households 0 (central) and 3 (served) are covered.
    expected = a1.households[2:] + [a2.households[1], a2.households[2], a2.households[4], a2.households[5]]
    assert ids(selectors.households_unserved(street_official_a)) == ids(expected)


def test_uncovered_lists_accept_filters(party, district, district_official):
    b1 = district.b1

    assert ids(selectors.buildings_without_group(district_official, community=b1.community)) == ids(b1.buildings)
    assert ids(selectors.households_unserved(district_official, building=b1.buildings[0])) == ids(b1.households[:3])


def test_coverage_counts_per_persona(party, district, staff_a, street_official_a, district_official):
    assert selectors.coverage_counts(staff_a) == {
        "compounds_without_branch": 0,
        "buildings_without_group": 1,
        "households_unserved": 4,
        "compounds_total": 1,
        "buildings_total": 2,
        "households_total": 6,
    }
    assert selectors.coverage_counts(street_official_a) == {
        "compounds_without_branch": 1,
        "buildings_without_group": 2,
        "households_unserved": 8,
        "compounds_total": 2,
        "buildings_total": 4,
        "households_total": 12,
    }
    assert selectors.coverage_counts(district_official) == {
        "compounds_without_branch": 2,
        "buildings_without_group": 4,
        "households_unserved": 14,
        "compounds_total": 3,
        "buildings_total": 6,
        "households_total": 18,
    }


def test_coverage_counts_narrowed_to_a_community_or_street(party, district, district_official, staff_a):
    by_community = selectors.coverage_counts(district_official, community=district.a2.community)
    by_street = selectors.coverage_counts(district_official, street=district.street_b.pk)

    assert [
        by_community[k] for k in ("compounds_without_branch", "buildings_without_group", "households_unserved")
    ] == [
        1,
        1,
        4,
    ]
    assert [by_street[k] for k in ("compounds_without_branch", "buildings_without_group", "households_unserved")] == [
        1,
        2,
        6,
    ]
    # A community outside the user's scope counts nothing.
    assert set(selectors.coverage_counts(staff_a, community=district.a2.community).values()) == {0}


def test_coverage_counts_cost_three_queries(party, district_official, django_assert_num_queries):
    district_official.get_scope("view")  # the roles are loaded once per request

    with django_assert_num_queries(3):
        selectors.coverage_counts(district_official)


def test_anonymous_coverage_is_empty(party):
    from django.contrib.auth.models import AnonymousUser

    assert set(selectors.coverage_counts(AnonymousUser()).values()) == {0}


def test_party_servers_of_a_served_household(party, district, django_assert_num_queries):
    household = district.a1.households[0]
    leader = party.member_a1.resident

    with django_assert_num_queries(2):
        servers = selectors.household_party_servers(household)

    assert servers == [
        {
            "role": "党小组长",
            "role_key": "group_leader",
            "name": leader.name,
            "mobile": leader.masked_mobile,
            "icon": "flag",
            "resident": leader,
        },
        {
            "role": "党员中心户",
            "role_key": "central_household",
            "name": leader.name,
            "mobile": leader.masked_mobile,
            "icon": "house-heart",
            "resident": leader,
        },
    ]
    assert leader.masked_mobile == f"{leader.mobile[:3]}****{leader.mobile[-4:]}"


def test_party_servers_of_a_central_household_is_itself(party, district):
    # group_a2 covers the building but has no leader yet, so only the central household shows.
    member = party.member_a2.resident

    servers = selectors.household_party_servers(district.a2.households[0])

    assert servers == [
        {
            "role": "党员中心户",
            "role_key": "central_household",
            "name": member.name,
            "mobile": member.masked_mobile,
            "icon": "house-heart",
            "resident": member,
        }
    ]


def test_party_servers_of_an_uncovered_household_is_empty(party, district):
    assert selectors.household_party_servers(district.a1.households[3]) == []


def test_server_provider_is_registered(party, district):
    household = district.a1.households[0]
    roles = [server["role"] for server in household_servers(household)]

    assert roles == ["党小组长", "党员中心户"]


def test_my_building_page_shows_party_servers(party, resident, client_for):
    leader = party.member_a1.resident

    response = client_for(resident).get("/registry/my-building/")

    assert response.status_code == 200
    servers = response.context["households"][0]["servers"]
    assert [(s["role"], s["name"], s["mobile"]) for s in servers] == [
        ("党小组长", leader.name, leader.masked_mobile),
        ("党员中心户", leader.name, leader.masked_mobile),
    ]
    assert leader.mobile not in response.content.decode()


def test_counters_on_the_community_page(party, district, staff_a):
    counts = level_counts(user=staff_a, level="community", parent_id=district.a1.community.pk)
    compound = district.a1.compound.pk

    assert counts.totals["partybranch"] == 1
    assert counts.totals["partygroup"] == 1
    assert counts.totals["partymember"] == 2
    assert counts.totals["centralhousehold"] == 1
    assert counts.by_child[compound]["partybranch"] == 1
    assert counts.by_child[compound]["partygroup"] == 1
    assert counts.by_child[compound]["partymember"] == 2
    assert counts.by_child[compound]["centralhousehold"] == 1


def test_counters_on_the_compound_page_are_per_building(party, district, staff_a):
    counts = level_counts(user=staff_a, level="compound", parent_id=district.a1.compound.pk)
    first, second = (b.pk for b in district.a1.buildings)

    assert [c.key for c in counts.columns if c.key.startswith(("party", "central"))] == [
        "partygroup",
        "partymember",
        "centralhousehold",
    ]
    assert counts.by_child[first] == {
        "household": 3,
        "resident": 6,
        "partygroup": 1,
        "partymember": 2,
        "centralhousehold": 1,
    }
    assert counts.by_child[second] == {"household": 3, "resident": 6}


def test_counters_on_the_street_page(party, district, street_official_a):
    counts = level_counts(user=street_official_a, level="street", parent_id=district.street_a.pk)

    assert counts.totals["partybranch"] == 2
    assert counts.by_child[district.a1.community.pk]["partymember"] == 2
    assert counts.by_child[district.a2.community.pk]["partymember"] == 1
