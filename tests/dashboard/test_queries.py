"""Query counts on every dashboard page and endpoint are pinned, and the same with 2 and with 20
requests and compounds (ARCHITECTURE rule 7): the summary makes a dashboard's cost
independent of how much there is to count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partybuilding.models import Backbone
from service_requests import services
from tests.factories import (
    BackboneFactory,
    BuildingFactory,
    CentralHouseholdFactory,
    CompoundFactory,
    HouseholdFactory,
    PartyBranchFactory,
    PartyMemberFactory,
    ResidentFactory,
)

from .conftest import at

# (name, URL template, pinned number of queries). The URL may use {street}, {community},
# {compound}. The numbers include the session, the user, their verified second-factor device and
# their roles (4) and the inbox count of the navigation bar (1). (A place with no requests at all skips one: the names of
# its top ten compounds.)
PINNED = [
    # The pages include the funds section: 3 queries over the ledger (total, rows, purposes).
    ("district page", "/dashboard/?from=2025-03&to=2025-04", 30),
    ("street page", "/dashboard/street/{street}/?from=2025-03&to=2025-04", 30),
    ("community page", "/dashboard/community/{community}/?from=2025-03&to=2025-04", 27),
    ("compound page", "/dashboard/compound/{compound}/?from=2025-03&to=2025-04", 27),
    ("district chart data", "/dashboard/chart-data/", 9),
    ("street chart data", "/dashboard/street/{street}/chart-data/", 9),
    ("community chart data", "/dashboard/community/{community}/chart-data/", 9),
    ("compound chart data", "/dashboard/compound/{compound}/chart-data/", 7),
    ("district ranking (Excel)", "/dashboard/table/children/?format=xlsx", 9),  # + the EXPORT audit line
    ("street categories (Excel)", "/dashboard/street/{street}/table/categories/?format=xlsx", 7),
    ("community top compounds", "/dashboard/community/{community}/table/top_compounds/", 7),
    ("compound organisation", "/dashboard/compound/{compound}/table/organisation/", 15),
    ("district list", "/dashboard/list/received/?from=2025-03&to=2025-04", 8),
    ("community list", "/dashboard/community/{community}/list/satisfied/?from=2025-03&to=2025-04", 8),
    ("compound uncovered households", "/dashboard/compound/{compound}/list/households_uncovered/", 8),
    ("district list (Excel)", "/dashboard/list/resolved/?format=xlsx&from=2025-03&to=2025-04", 7),
    ("reports", "/dashboard/reports/", 7),
    ("street funds (Excel)", "/dashboard/street/{street}/table/funds/?format=xlsx", 9),
    ("district fund purposes", "/dashboard/table/fund_purposes/", 8),  # the funds section: 3 ledger sums
]


def build(n, district, groups, clock, staff_a, staff_other_street):
    """``n`` compounds in A1 (and n in B1), each with one request taken to a rating, plus party rows."""
    community = district.a1.community
    for i in range(n):
        for parent, staff in ((community, staff_a), (district.b1.community, staff_other_street)):
            compound = CompoundFactory(community=parent)
            household = HouseholdFactory(building=BuildingFactory(compound=compound))
            member = PartyMemberFactory(resident=ResidentFactory(household=household))
            CentralHouseholdFactory(member=member)
            PartyBranchFactory(community=parent, compounds=[compound])
            BackboneFactory(resident=member.resident, year=2025, kind=Backbone.Kind.PARTY)
            leaf = groups.l1 if i % 2 else groups.l2
            clock.set(at(3, 3 + i % 20))
            request = services.request_submit(by=staff, category=leaf, description="描述", compound=compound)
            clock.set(at(3, 3 + i % 20, 10))
            services.request_accept(request=request, by=staff)
            clock.set(at(4, 1 + i % 20))
            services.request_resolve(request=request, by=staff, message="已处理")
            services.request_follow_up(request=request, by=staff, solved="solved", satisfaction="basic")


def measure(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


@pytest.fixture
def urls(district):
    values = {
        "street": district.street_a.pk,
        "community": district.a1.community.pk,
        "compound": district.a1.compound.pk,
    }
    return [(name, template.format(**values), pinned) for name, template, pinned in PINNED]


@pytest.mark.parametrize("n", [2, 20])
def test_pinned_query_counts(
    n, district, groups, clock, staff_a, staff_other_street, district_official, client_for, urls
):
    build(n, district, groups, clock, staff_a, staff_other_street)
    client = client_for(district_official)
    measured = {name: measure(client, url) for name, url, _pinned in urls}
    assert measured == {name: pinned for name, _url, pinned in urls}


def test_the_organisation_section_is_cached_per_place_and_scope(
    district, groups, clock, staff_a, staff_other_street, district_official, street_official_a, client_for, settings
):
    """Coverage over a whole district is the one expensive live count: it is cached for a few
    minutes (7 queries fewer), per place and per scope."""
    build(2, district, groups, clock, staff_a, staff_other_street)
    settings.DASHBOARD_CACHE_SECONDS = 600
    official = client_for(district_official)
    street = f"/dashboard/street/{district.street_a.pk}/?from=2025-03&to=2025-04"
    assert measure(official, street) == 30
    assert measure(official, street) == 30 - 7
    first = official.get(street).context["dashboard"].organisation
    PartyBranchFactory(community=district.a1.community, compounds=[district.a1.compound])
    assert official.get(street).context["dashboard"].organisation == first  # until the cache expires
    # Another scope does not share the district official's entry.
    assert measure(client_for(street_official_a), street) == 30
    settings.DASHBOARD_CACHE_SECONDS = 0
    assert official.get(street).context["dashboard"].organisation["branches"] == first["branches"] + 1
