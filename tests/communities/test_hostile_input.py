"""Hostile input on the registry (rule 4), and the schema telling the truth about what it answers.

The API's filters answer a bad value 400 naming the parameter; the registry pages read no query
parameters and answer junk ones 200; never a 500. A resident's mobile and ID number come back
full (staff who may change the record) or masked (everyone else), a blank gender as ``null``:
every row validates against the published schema.
"""

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft7Validator

from communities.models import Resident
from tests.hostile import HOSTILE

ID_FILTERS = [
    ("streets", "district"),
    ("communities", "street"),
    ("compounds", "street"),
    ("compounds", "community"),
    ("buildings", "community"),
    ("buildings", "compound"),
    ("households", "compound"),
    ("households", "building"),
    ("residents", "street"),
    ("residents", "household"),
    ("residents", "compound"),
    ("residents", "building"),
]


@pytest.mark.parametrize(("path", "param"), ID_FILTERS)
def test_api_refuses_a_bad_id_naming_the_filter(district, district_official, api_client_for, path, param):
    client = api_client_for(district_official)
    for value in HOSTILE:
        response = client.get(f"/api/v1/{path}/", {param: value})
        assert (response.status_code, list(response.json())) == (400, [param]), value


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("compounds", "name", "\x00"),
        ("buildings", "number", "\x01"),
        ("residents", "name", "\x00"),
        ("residents", "gender", "²"),
        ("residents", "relation", "\x00"),
        ("streets", "kind", "١٢"),
        ("households", "elderly", "²"),
        ("households", "lives_alone_elderly", "maybe"),
    ],
)
def test_api_refuses_bad_text_and_choices_naming_the_filter(
    district, district_official, api_client_for, path, param, value
):
    response = api_client_for(district_official).get(f"/api/v1/{path}/", {param: value})
    assert (response.status_code, list(response.json())) == (400, [param])


def test_api_answers_another_communitys_id_like_a_missing_one(district, staff_a, api_client_for):
    client = api_client_for(staff_a)
    for value in (district.b1.compound.pk, 2**63 - 1):
        assert client.get("/api/v1/buildings/", {"compound": value}).json()["count"] == 0


@pytest.mark.parametrize("param", ["community", "compound", "household", "page", "year", "sort"])
def test_registry_pages_answer_parameters_they_do_not_read(district, staff_a, client_for, param):
    client, tree = client_for(staff_a), district.a1
    pages = [
        tree.community.get_absolute_url(),
        tree.compound.get_absolute_url(),
        tree.buildings[0].get_absolute_url(),
        tree.households[0].get_absolute_url(),
        tree.residents[0].get_absolute_url(),
    ]
    for page in pages:
        for value in HOSTILE:
            assert client.get(page, {param: value}).status_code == 200, (page, value)


# --- the schema tells the truth ---------------------------------------------------------------------
def _json_schema(node):
    """OpenAPI 3.0 → JSON Schema: ``nullable: true`` becomes "or null"."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture(scope="module")
def resident_schema():
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]
    document = {"allOf": [{"$ref": "#/components/schemas/Resident"}], "components": _json_schema(components)}
    return Draft7Validator(document)


@pytest.fixture
def blank_resident(district):
    household = district.a1.households[0]
    return Resident.objects.create(household=household, name="无证件居民", mobile="", id_number="", gender="")


@pytest.mark.parametrize("who", ["staff_a", "street_official_a", "resident"])
def test_every_resident_row_matches_the_schema(request, who, blank_resident, api_client_for, resident_schema):
    rows = api_client_for(request.getfixturevalue(who)).get("/api/v1/residents/", {"page_size": 200}).json()
    assert rows["results"]
    for row in rows["results"]:
        errors = [error.message for error in resident_schema.iter_errors(row)]
        assert errors == [], row


def test_masked_for_staff_and_the_street_official_blank_gender_null(
    district, blank_resident, staff_a, street_official_a, api_client_for
):
    record = district.a1.residents[0]
    for user in (staff_a, street_official_a):
        masked = api_client_for(user).get(f"/api/v1/residents/{record.pk}/").json()
        assert (masked["mobile"], masked["id_number"]) == (record.masked_mobile, record.masked_id_number)
    assert "****" in masked["mobile"] and masked["id_number"][4:14] == "*" * 10
    blank = api_client_for(staff_a).get(f"/api/v1/residents/{blank_resident.pk}/").json()
    assert (blank["gender"], blank["mobile"], blank["id_number"]) == (None, "", "")


@pytest.mark.parametrize("gender", [None, ""])
def test_a_blank_gender_is_written_as_null_or_empty(district, staff_a, api_client_for, gender):
    data = {"household": district.a1.households[0].pk, "name": "新居民", "gender": gender}
    response = api_client_for(staff_a).post("/api/v1/residents/", data, format="json")
    assert (response.status_code, response.json()["gender"]) == (201, None)
    assert Resident.objects.get(pk=response.json()["id"]).gender == ""
