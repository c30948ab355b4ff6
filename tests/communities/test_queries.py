"""Query counts stay flat (ARCHITECTURE rule 7): every registry list page and API list costs
the same number of queries with 2 rows as with 20.

Each scenario builds its own small tree with ``rows`` children at the level the page lists
(streets of a district, communities of a street, compounds of a community, buildings of a
compound, households of a building, residents of a household) and one request is counted.
The pinned number is what the page costs with 2 rows; a page that needs more with 20 rows
has an N+1 query.
"""

import pytest

from accounts.models import Role
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    DistrictFactory,
    HouseholdFactory,
    ResidentFactory,
    RoleFactory,
    StreetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROWS = pytest.mark.parametrize("rows", [2, 20])


# --- building blocks ---------------------------------------------------------------------------
def household_with_resident(building, *, head=False):
    household = HouseholdFactory(building=building)
    resident = ResidentFactory(household=household)
    if head:
        building.head = resident
        building.save(update_fields=["head"])
    return household


def building_below(compound, *, head=True):
    building = BuildingFactory(compound=compound)
    household_with_resident(building, head=head)
    return building


def compound_below(community):
    compound = CompoundFactory(community=community)
    building_below(compound)
    return compound


def community_below(street):
    community = CommunityFactory(street=street)
    compound_below(community)
    return community


def staff_of(community):
    user = UserFactory()
    RoleFactory(user=user, kind=Role.Kind.STAFF, community=community)
    return user


def district_official():
    user = UserFactory()
    RoleFactory(user=user, district_official=True)
    return user


# --- scenarios: (user, url, is_api) with ``rows`` children ---------------------------------------
def page_district(rows):
    district = DistrictFactory(code="340199000000", name="测试区")
    for _ in range(rows):
        community_below(StreetFactory(district=district))
    return district_official(), f"/registry/district/{district.pk}/", False


def page_street(rows):
    street = StreetFactory()
    for _ in range(rows):
        community_below(street)
    official = UserFactory()
    RoleFactory(user=official, street_official=True, street=street)
    return official, f"/registry/street/{street.pk}/", False


def page_community(rows):
    community = CommunityFactory()
    for _ in range(rows):
        compound_below(community)
    return staff_of(community), f"/registry/community/{community.pk}/", False


def page_compound(rows):
    compound = CompoundFactory()
    for _ in range(rows):
        building_below(compound)
    return staff_of(compound.community), f"/registry/compound/{compound.pk}/", False


def page_building(rows):
    building = BuildingFactory(units=2)
    for n in range(rows):
        household_with_resident(building, head=n == 0)
    return staff_of(building.community), f"/registry/building/{building.pk}/", False


def page_household(rows):
    household = HouseholdFactory()
    for _ in range(rows):
        ResidentFactory(household=household)
    return staff_of(household.community), f"/registry/household/{household.pk}/", False


def api_streets(rows):
    district = DistrictFactory(code="340199000000", name="测试区")
    for _ in range(rows):
        StreetFactory(district=district)
    return district_official(), "/api/v1/streets/", True


def api_communities(rows):
    street = StreetFactory()
    for _ in range(rows):
        CommunityFactory(street=street)
    return district_official(), "/api/v1/communities/", True


def api_compounds(rows):
    community = CommunityFactory()
    for _ in range(rows):
        CompoundFactory(community=community)
    return staff_of(community), "/api/v1/compounds/", True


def api_buildings(rows):
    compound = CompoundFactory()
    for _ in range(rows):
        building_below(compound)
    return staff_of(compound.community), "/api/v1/buildings/", True


def api_households(rows):
    building = BuildingFactory()
    for _ in range(rows):
        household_with_resident(building)
    return staff_of(building.community), "/api/v1/households/", True


def api_residents(rows):
    household = HouseholdFactory()
    for _ in range(rows):
        ResidentFactory(household=household)
    return staff_of(household.community), "/api/v1/residents/", True


# Pinned counts, measured with 2 rows. A page costs session + user + the verified second-factor
# device + roles + the unread counter in the navigation bar (5) and then:
# a level page 1 for its row, 2 per counter of the level (one grouped, one total; the registry
# and the party organisation register 9 counters below a district) and 1 for the child rows;
# an API list costs roles + count + page (3), residents 1 more for which rows may be unmasked.
SCENARIOS = {
    "page-district": (page_district, 25),  # 5 + row + 2 × 9 counters + children
    "page-street": (page_street, 23),  # 5 + row + 2 × 8 counters + children
    "page-community": (page_community, 23),  # 5 + row + 2 × 7 counters + children + "may add?" + 迁入 to decide
    "page-compound": (page_compound, 18),  # 5 + row + 2 × 5 counters + children + "may add?"
    "page-building": (page_building, 10),  # 5 + row + "may change?" + households + 四美一好 badges + flag counts
    "page-household": (page_household, 8),  # 5 + row + residents + "may change?"
    "api-streets": (api_streets, 3),
    "api-communities": (api_communities, 3),
    "api-compounds": (api_compounds, 3),
    "api-buildings": (api_buildings, 3),
    "api-households": (api_households, 3),
    "api-residents": (api_residents, 4),
}


def build(name, rows):
    return SCENARIOS[name][0](rows)


@ROWS
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_list_query_count_is_flat(name, rows, client_for, api_client_for, django_assert_max_num_queries):
    user, url, is_api = build(name, rows)
    client = api_client_for(user) if is_api else client_for(user)

    with django_assert_max_num_queries(SCENARIOS[name][1]):
        response = client.get(url)

    assert response.status_code == 200
    if is_api:
        assert response.json()["count"] == rows
