"""The scope matrix of the registry (ARCHITECTURE rule 1), for pages and API alike.

Every registry model (compound, building, household, resident) of community A1 is checked
against each persona: outsiders (staff of A2 in the same street, staff of another street)
get 404 everywhere and change nothing; officials read and are refused writes (403 on the API,
404 on edit pages); residents see exactly their own household; list endpoints return exactly
the rows in scope.
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from accounts.models import Role
from communities.models import Building, Compound, Household, Resident
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Spec:
    """How to reach one registry model of A1 through the pages and the API."""

    key: str
    model: type
    basename: str  # API path segment
    page: str  # URL name of the detail page; the edit page is f"{page}_edit"

    def obj(self, district):
        a1 = district.a1
        return {
            "compound": a1.compound,
            "building": a1.buildings[0],
            "household": a1.households[0],
            "resident": a1.residents[0],
        }[self.key]

    def api_url(self, obj):
        return f"/api/v1/{self.basename}/{obj.pk}/"

    def patch_payload(self):
        return {
            "compound": {"name": "改过的小区"},
            "building": {"units": 5},
            "household": {"note": "改过的备注"},
            "resident": {"name": "改过的名字"},
        }[self.key]

    def put_payload(self, district):
        a1 = district.a1
        return {
            "compound": {"community": a1.community.pk, "name": "改过的小区", "kind": Compound.Kind.OLD},
            "building": {"compound": a1.compound.pk, "number": "1", "units": 5},
            "household": {"building": a1.buildings[0].pk, "unit": 1, "room": "101", "note": "改过的备注"},
            "resident": {"household": a1.households[0].pk, "name": "改过的名字"},
        }[self.key]

    def form_payload(self, district):
        """A complete, valid edit-page POST that would change the row if it were allowed."""
        obj = self.obj(district)
        if self.key == "compound":
            return {"community": obj.community_id, "name": "改过的小区", "kind": Compound.Kind.OLD}
        if self.key == "building":
            return {"compound": obj.compound_id, "number": obj.number, "units": 5}
        if self.key == "household":
            return {"building": obj.building_id, "unit": 1, "room": obj.room, "note": "改过的备注"}
        return {"household": obj.household_id, "name": "改过的名字", "relation": obj.relation}


SPECS = [
    Spec("compound", Compound, "compounds", "communities:compound"),
    Spec("building", Building, "buildings", "communities:building"),
    Spec("household", Household, "households", "communities:household"),
    Spec("resident", Resident, "residents", "communities:resident"),
]
SPEC_IDS = [spec.key for spec in SPECS]


def snapshot(obj):
    """Every stored column of ``obj`` as it is in the database now."""
    obj.refresh_from_db()
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


@pytest.fixture
def outsider(request):
    """Staff of A2 (same street as A1) or staff of B1 (another street)."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def official(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def street_staff(district):
    """Staff whose role covers the whole of street A (communities A1 and A2)."""
    user = UserFactory(username="street_staff_a", name="芜湖路街道工作者")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


OUTSIDERS = pytest.mark.parametrize("outsider", ["staff_b", "staff_other_street"], indirect=True)
OFFICIALS = pytest.mark.parametrize("official", ["street_official_a", "district_official"], indirect=True)


# --- the control: staff of A1 reach everything of A1 ----------------------------------------------
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_staff_a_reaches_a1_pages_and_api(spec, district, staff_a, client_for, api_client_for):
    obj = spec.obj(district)
    client = client_for(staff_a)

    assert client.get(reverse(spec.page, args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"{spec.page}_edit", args=[obj.pk])).status_code == 200
    response = api_client_for(staff_a).get(spec.api_url(obj))
    assert response.status_code == 200
    assert response.json()["id"] == obj.pk


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_staff_a_can_patch_a1_rows(spec, district, staff_a, api_client_for):
    obj = spec.obj(district)

    response = api_client_for(staff_a).patch(spec.api_url(obj), spec.patch_payload(), format="json")

    assert response.status_code == 200, response.json()
    obj.refresh_from_db()
    for key, value in spec.patch_payload().items():
        assert getattr(obj, key) == value


# --- outsiders: 404 everywhere, nothing changes ---------------------------------------------------
@OUTSIDERS
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_outsider_gets_404_on_detail_and_edit_pages(spec, outsider, district, client_for):
    obj = spec.obj(district)
    before = snapshot(obj)
    client = client_for(outsider)

    assert client.get(reverse(spec.page, args=[obj.pk])).status_code == 404
    assert client.get(reverse(f"{spec.page}_edit", args=[obj.pk])).status_code == 404
    response = client.post(reverse(f"{spec.page}_edit", args=[obj.pk]), spec.form_payload(district))
    assert response.status_code == 404
    assert snapshot(obj) == before


@OUTSIDERS
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_outsider_gets_404_on_api_detail_and_every_write(spec, outsider, district, api_client_for):
    obj = spec.obj(district)
    before = snapshot(obj)
    api = api_client_for(outsider)
    url = spec.api_url(obj)

    assert api.get(url).status_code == 404
    assert api.patch(url, spec.patch_payload(), format="json").status_code == 404
    assert snapshot(obj) == before
    assert api.put(url, spec.put_payload(district), format="json").status_code == 404
    assert snapshot(obj) == before
    assert api.delete(url).status_code == 404
    assert snapshot(obj) == before


@OUTSIDERS
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_outsider_and_missing_row_answer_alike(spec, outsider, district, api_client_for):
    """Out of scope and not there look the same: same status, same body."""
    api = api_client_for(outsider)
    hidden = api.get(spec.api_url(spec.obj(district)))
    missing = api.get(f"/api/v1/{spec.basename}/987654/")

    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


# --- creating under A1 from A2 ----------------------------------------------------------------
def create_pages(district):
    """(URL of the 'new … under A1 parent' page, model created, a valid POST)."""
    a1 = district.a1
    return [
        (
            reverse("communities:compound_add", args=[a1.community.pk]),
            Compound,
            {"community": a1.community.pk, "name": "新小区", "kind": Compound.Kind.COMMERCIAL},
        ),
        (
            reverse("communities:building_add", args=[a1.compound.pk]),
            Building,
            {"compound": a1.compound.pk, "number": "9", "units": 2},
        ),
        (
            reverse("communities:household_add", args=[a1.buildings[0].pk]),
            Household,
            {"building": a1.buildings[0].pk, "unit": 1, "room": "909"},
        ),
        (
            reverse("communities:resident_add", args=[a1.households[0].pk]),
            Resident,
            {"household": a1.households[0].pk, "name": "新居民", "relation": Resident.Relation.CHILD},
        ),
    ]


@OUTSIDERS
def test_outsider_cannot_open_or_post_create_pages_under_a1(outsider, district, client_for):
    client = client_for(outsider)
    for url, model, data in create_pages(district):
        count = model.objects.count()

        assert client.get(url).status_code == 404, url
        assert client.post(url, data).status_code == 404, url
        assert model.objects.count() == count, url


def test_staff_b_building_page_post_under_a1_compound_is_404(district, staff_b, client_for):
    compound = district.a1.compound
    url = f"/registry/compound/{compound.pk}/buildings/new/"

    response = client_for(staff_b).post(url, {"compound": compound.pk, "number": "9", "units": 2})

    assert response.status_code == 404
    assert list(Building.objects.filter(compound=compound).values_list("number", flat=True)) == ["1", "2"]


@pytest.mark.parametrize(
    ("basename", "field", "model"),
    [
        ("compounds", "community", Compound),
        ("buildings", "compound", Building),
        ("households", "building", Household),
        ("residents", "household", Resident),
    ],
)
def test_staff_b_api_create_under_a1_is_400_on_the_parent_field(
    basename, field, model, district, staff_b, api_client_for
):
    a1 = district.a1
    payload = {
        "compounds": {"community": a1.community.pk, "name": "新小区"},
        "buildings": {"compound": a1.compound.pk, "number": "9", "units": 2},
        "households": {"building": a1.buildings[0].pk, "unit": 1, "room": "909"},
        "residents": {"household": a1.households[0].pk, "name": "新居民"},
    }[basename]
    count = model.objects.count()

    response = api_client_for(staff_b).post(f"/api/v1/{basename}/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert model.objects.count() == count


def test_staff_b_can_create_under_own_community(district, staff_b, api_client_for):
    """The control for the test above: the same request under A2 succeeds."""
    compound = district.a2.compound

    response = api_client_for(staff_b).post(
        "/api/v1/buildings/", {"compound": compound.pk, "number": "9", "units": 2}, format="json"
    )

    assert response.status_code == 201, response.json()
    building = Building.objects.get(pk=response.json()["id"])
    assert (building.compound_id, building.street_id, building.community_id) == (
        compound.pk,
        district.street_a.pk,
        district.a2.community.pk,
    )


# --- moving a row out of one's own community ------------------------------------------------------
def test_staff_a_cannot_move_a_household_to_another_community_by_api(district, staff_a, api_client_for):
    household = district.a1.households[0]
    before = snapshot(household)

    response = api_client_for(staff_a).patch(
        f"/api/v1/households/{household.pk}/", {"building": district.a2.buildings[0].pk}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["building"]
    assert snapshot(household) == before


def test_staff_a_cannot_move_a_household_to_another_community_by_page(district, staff_a, client_for):
    household = district.a1.households[0]
    before = snapshot(household)

    response = client_for(staff_a).post(
        reverse("communities:household_edit", args=[household.pk]),
        {"building": district.a2.buildings[0].pk, "unit": 1, "room": household.room},
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["building"]
    assert snapshot(household) == before


def test_staff_a_cannot_move_a_resident_to_another_community(district, staff_a, api_client_for):
    resident = district.a1.residents[0]
    before = snapshot(resident)

    response = api_client_for(staff_a).patch(
        f"/api/v1/residents/{resident.pk}/", {"household": district.b1.households[0].pk}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["household"]
    assert snapshot(resident) == before


# --- officials: read, never write -----------------------------------------------------------------
@OFFICIALS
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_official_reads_a1_rows(spec, official, district, client_for, api_client_for):
    obj = spec.obj(district)

    assert client_for(official).get(reverse(spec.page, args=[obj.pk])).status_code == 200
    response = api_client_for(official).get(spec.api_url(obj))
    assert response.status_code == 200
    assert response.json()["id"] == obj.pk


@OFFICIALS
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_official_api_writes_are_403_and_change_nothing(spec, official, district, api_client_for):
    obj = spec.obj(district)
    before = snapshot(obj)
    api = api_client_for(official)
    url = spec.api_url(obj)

    assert api.patch(url, spec.patch_payload(), format="json").status_code == 403
    assert snapshot(obj) == before
    assert api.put(url, spec.put_payload(district), format="json").status_code == 403
    assert snapshot(obj) == before
    assert api.delete(url).status_code == 403
    assert snapshot(obj) == before


@OFFICIALS
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_official_edit_pages_are_404_and_change_nothing(spec, official, district, client_for):
    obj = spec.obj(district)
    before = snapshot(obj)
    client = client_for(official)
    url = reverse(f"{spec.page}_edit", args=[obj.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, spec.form_payload(district)).status_code == 404
    assert snapshot(obj) == before


def test_street_official_does_not_see_another_street(district, street_official_a, api_client_for, client_for):
    b1 = district.b1

    assert api_client_for(street_official_a).get(f"/api/v1/compounds/{b1.compound.pk}/").status_code == 404
    assert client_for(street_official_a).get(reverse("communities:compound", args=[b1.compound.pk])).status_code == 404


# --- residents ----------------------------------------------------------------------------------
def test_resident_lists_exactly_their_household(district, resident, api_client_for):
    response = api_client_for(resident).get("/api/v1/households/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [district.a1.households[0].pk]


def test_resident_lists_exactly_their_households_residents_masked(district, resident, api_client_for):
    own = district.a1.residents[:2]

    response = api_client_for(resident).get("/api/v1/residents/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [record.pk for record in own]
    assert [row["mobile"] for row in rows] == [f"{r.mobile[:3]}****{r.mobile[-4:]}" for r in own]


def test_resident_gets_404_for_another_household(district, resident, api_client_for):
    api = api_client_for(resident)
    neighbour = district.a1.households[1]

    assert api.get(f"/api/v1/households/{neighbour.pk}/").status_code == 404
    assert api.get(f"/api/v1/residents/{district.a1.residents[2].pk}/").status_code == 404


def test_resident_cannot_change_their_own_household(district, resident, api_client_for):
    household = district.a1.households[0]
    before = snapshot(household)

    response = api_client_for(resident).patch(f"/api/v1/households/{household.pk}/", {"note": "x"}, format="json")

    assert response.status_code == 403
    assert snapshot(household) == before


def test_resident_is_refused_staff_pages(district, resident, client_for):
    client = client_for(resident)
    a1 = district.a1
    urls = [
        reverse("communities:district", args=[district.district.pk]),
        reverse("communities:street", args=[district.street_a.pk]),
        reverse("communities:community", args=[a1.community.pk]),
        reverse("communities:compound", args=[a1.compound.pk]),
        reverse("communities:building", args=[a1.buildings[0].pk]),
        reverse("communities:household", args=[a1.households[0].pk]),
        reverse("communities:resident", args=[a1.residents[0].pk]),
        reverse("communities:household_edit", args=[a1.households[0].pk]),
    ]

    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 403)


def test_anonymous_api_is_refused(district, client):
    response = client.get("/api/v1/households/")

    # 401 with "WWW-Authenticate: Token": the API's first authentication is the token (issue 11).
    assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token")
    assert response.json() == {"detail": "身份认证信息未提供。"}


# --- list endpoints return exactly the rows in scope ---------------------------------------------
def list_ids(api, basename):
    response = api.get(f"/api/v1/{basename}/", {"page_size": 200})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def registry_ids(*trees):
    return {
        "compounds": {tree.compound.pk for tree in trees},
        "buildings": {b.pk for tree in trees for b in tree.buildings},
        "households": {h.pk for tree in trees for h in tree.households},
        "residents": {r.pk for tree in trees for r in tree.residents},
        "communities": {tree.community.pk for tree in trees},
    }


def test_staff_a_lists_exactly_a1(district, staff_a, api_client_for):
    api = api_client_for(staff_a)
    expected = registry_ids(district.a1)

    assert {basename: list_ids(api, basename) for basename in expected} == expected
    # The street is visible as the parent of A1 (its name), not street B.
    assert list_ids(api, "streets") == {district.street_a.pk}


def test_street_staff_lists_a1_and_a2(district, street_staff, api_client_for):
    api = api_client_for(street_staff)
    expected = registry_ids(district.a1, district.a2)

    assert {basename: list_ids(api, basename) for basename in expected} == expected
    assert list_ids(api, "streets") == {district.street_a.pk}


def test_street_staff_may_change_a2_rows(district, street_staff, api_client_for):
    household = district.a2.households[0]

    response = api_client_for(street_staff).patch(
        f"/api/v1/households/{household.pk}/", {"elderly": True}, format="json"
    )

    assert response.status_code == 200
    household.refresh_from_db()
    assert household.elderly is True


def test_district_official_lists_everything(district, district_official, api_client_for):
    api = api_client_for(district_official)
    expected = registry_ids(district.a1, district.a2, district.b1)

    assert {basename: list_ids(api, basename) for basename in expected} == expected
    assert list_ids(api, "streets") == {district.street_a.pk, district.street_b.pk}
