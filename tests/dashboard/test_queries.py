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
# {compound}. The numbers include the user and their verified second-factor device (2; the session
# and the roles are read from the cache: SESSION_ENGINE cached_db, accounts/roles.py). The pages'
# inbox count and report form are fragments of their own (baohe.pagecache). (A place with no requests at all skips one:
# the names of its top ten compounds.)
PINNED = [
    # The pages include the funds section: 3 queries over the ledger (total, rows, purposes).
    ("district page", "/dashboard/?from=2025-03&to=2025-04", 25),
    ("street page", "/dashboard/street/{street}/?from=2025-03&to=2025-04", 25),
    ("community page", "/dashboard/community/{community}/?from=2025-03&to=2025-04", 24),
    ("compound page", "/dashboard/compound/{compound}/?from=2025-03&to=2025-04", 24),
    ("district chart data", "/dashboard/chart-data/", 7),
    ("street chart data", "/dashboard/street/{street}/chart-data/", 7),
    ("community chart data", "/dashboard/community/{community}/chart-data/", 7),
    ("compound chart data", "/dashboard/compound/{compound}/chart-data/", 5),
    ("district ranking (Excel)", "/dashboard/table/children/?format=xlsx", 7),  # + the EXPORT audit line
    ("street categories (Excel)", "/dashboard/street/{street}/table/categories/?format=xlsx", 5),
    ("community top compounds", "/dashboard/community/{community}/table/top_compounds/", 5),
    ("compound organisation", "/dashboard/compound/{compound}/table/organisation/", 13),
    ("district list", "/dashboard/list/received/?from=2025-03&to=2025-04", 6),
    ("community list", "/dashboard/community/{community}/list/satisfied/?from=2025-03&to=2025-04", 6),
    ("compound uncovered households", "/dashboard/compound/{compound}/list/households_uncovered/", 6),
    ("district list (Excel)", "/dashboard/list/resolved/?format=xlsx&from=2025-03&to=2025-04", 5),
    ("reports", "/dashboard/reports/", 5),
    ("street funds (Excel)", "/dashboard/street/{street}/table/funds/?format=xlsx", 7),
    ("district fund purposes", "/dashboard/table/fund_purposes/", 6),  # the funds section: 3 ledger sums
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
    assert measure(official, street) == 25
    assert measure(official, street) == 25 - 7
    first = official.get(street).context["dashboard"].organisation
    PartyBranchFactory(community=district.a1.community, compounds=[district.a1.compound])
    assert official.get(street).context["dashboard"].organisation == first  # until the cache expires
    # Another scope does not share the district official's entry.
    assert measure(client_for(street_official_a), street) == 25
    settings.DASHBOARD_CACHE_SECONDS = 0
    assert official.get(street).context["dashboard"].organisation["branches"] == first["branches"] + 1
