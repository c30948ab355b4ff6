"""Hostile GET parameters on the party pages and API (rule 4): every parameter is read through a
declared form, FilterSet or serializer (``baohe.query``).

Pages answer 200 with the bad filter ignored and a notice naming it; the API answers 400 with
the parameter named in DRF field errors. Never a 500.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.hostile import HOSTILE as BASE_HOSTILE
from tests.hostile import HOSTILE_CHOICES, not_refused, notice

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
# Values none of the id or year parameters accept ("²".isdigit() is true; int("١٢") is 12).
HOSTILE = [*BASE_HOSTILE, "1 2", " "]
HOSTILE_YEARS = [*HOSTILE, "1999", "2101", "10000", str(2**63)]


def street_staff(district):
    from accounts.models import Role
    from tests.factories import RoleFactory, UserFactory

    user = UserFactory(username="street_staff_a")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


# --- pages: a bad value is ignored, with a notice ----------------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE)
def test_branch_list_ignores_a_bad_community(value, party, district_official, client_for):
    client = client_for(district_official)
    everything = [b.pk for b in client.get(reverse("partybuilding:home")).context["branches"]]

    response = client.get(reverse("partybuilding:home"), {"community": value})

    assert response.status_code == 200
    assert response.context["selected_community"] is None
    assert [b.pk for b in response.context["branches"]] == everything == [party.branch_a1.pk, party.branch_a2.pk]
    assert notice("社区") in response.content.decode()


def test_branch_list_literal_superscript_two(party, district_official, client_for):
    response = client_for(district_official).get("/party/?community=%C2%B2")

    assert response.status_code == 200
    assert len(response.context["branches"]) == 2
    assert notice("社区") in response.content.decode()


def test_branch_list_notices_a_community_outside_scope(party, district, staff_a, client_for):
    response = client_for(staff_a).get(reverse("partybuilding:home"), {"community": district.b1.community.pk})

    assert response.status_code == 200
    assert [b.pk for b in response.context["branches"]] == [party.branch_a1.pk]
    assert "社区不存在或不在您的范围内。" in response.content.decode()


def test_a_good_community_filters_without_a_notice(party, district, district_official, client_for):
    response = client_for(district_official).get(reverse("partybuilding:home"), {"community": district.a2.community.pk})

    assert [b.pk for b in response.context["branches"]] == [party.branch_a2.pk]
    assert notice("社区") not in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE_CHOICES)
def test_branch_list_ignores_a_bad_kind(value, party, district_official, client_for):
    response = client_for(district_official).get(reverse("partybuilding:home"), {"kind": value})

    assert response.status_code == 200
    assert response.context["selected_kind"] == ""
    assert len(response.context["branches"]) == 2
    assert notice("类型") in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE)
def test_branch_list_bad_page_is_the_first_page(value, party, district_official, client_for):
    """``?page=`` (``baohe.views.PagedListView``): junk is the first page, never 404 or 500."""
    response = client_for(district_official).get(reverse("partybuilding:home"), {"page": value})

    assert response.status_code == 200
    assert response.context["page_obj"].number == 1


@pytest.mark.parametrize("kind", ["compounds", "buildings", "households"])
@pytest.mark.parametrize("value", HOSTILE)
def test_coverage_page_ignores_a_bad_community(kind, value, party, district_official, client_for):
    client = client_for(district_official)
    url = reverse("partybuilding:coverage", args=[kind])
    everything = [row.pk for row in client.get(url).context["rows"]]

    response = client.get(url, {"community": value})

    assert response.status_code == 200
    assert [row.pk for row in response.context["rows"]] == everything
    assert notice("社区") in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE)
def test_new_branch_form_ignores_a_bad_community(value, district, staff_a, client_for):
    response = client_for(staff_a).get(reverse("partybuilding:branch_add"), {"community": value})

    assert response.status_code == 200
    assert "community" not in response.context["form"].initial
    assert notice("社区") in response.content.decode()


def test_new_branch_form_takes_a_good_community(district, staff_a, client_for):
    response = client_for(staff_a).get(reverse("partybuilding:branch_add"), {"community": district.a1.community.pk})

    assert response.context["form"].initial["community"] == district.a1.community


@pytest.mark.parametrize("value", HOSTILE_YEARS)
@pytest.mark.parametrize("page", ["backbones", "backbone_training"])
def test_backbone_pages_ignore_a_bad_year(page, value, district, district_official, client_for):
    response = client_for(district_official).get(reverse(f"partybuilding:{page}"), {"year": value})

    assert response.status_code == 200
    assert response.context["year"] == YEAR
    assert notice("年度") in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE_YEARS)
def test_street_progress_ignores_a_bad_year(value, district, street_official_a, client_for):
    url = reverse("partybuilding:backbone_street", args=[district.street_a.pk])
    response = client_for(street_official_a).get(url, {"year": value})

    assert response.status_code == 200
    assert response.context["year"] == YEAR
    assert notice("年度") in response.content.decode()


def test_community_staff_redirect_carries_this_year_and_the_notice(district, staff_a, client_for):
    client = client_for(staff_a)
    response = client.get(reverse("partybuilding:backbones"), {"year": "¹²"})

    street_url = reverse("partybuilding:backbone_street", args=[district.street_a.pk])
    assert response.status_code == 302 and response["Location"] == f"{street_url}?year={YEAR}"
    assert notice("年度") in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("value", HOSTILE_CHOICES)
def test_street_progress_ignores_a_bad_kind(value, district, street_official_a, client_for):
    url = reverse("partybuilding:backbone_street", args=[district.street_a.pk])
    response = client_for(street_official_a).get(url, {"kind": value})

    assert response.status_code == 200
    assert response.context["selected_kind"] == ""
    assert notice("类别") in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE_YEARS)
def test_new_target_form_ignores_a_bad_year(value, district, client_for):
    response = client_for(street_staff(district)).get(reverse("partybuilding:backbone_target_add"), {"year": value})

    assert response.status_code == 200
    assert response.context["form"].initial["year"] == YEAR
    assert notice("年度") in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE)
def test_new_target_form_ignores_a_bad_street(value, district, client_for):
    response = client_for(street_staff(district)).get(reverse("partybuilding:backbone_target_add"), {"street": value})

    assert response.status_code == 200
    assert "street" not in response.context["form"].initial
    assert notice("街道") in response.content.decode()


def test_new_target_form_takes_good_values(district, client_for):
    url = reverse("partybuilding:backbone_target_add")
    response = client_for(street_staff(district)).get(url, {"street": district.street_a.pk, "year": YEAR + 1})

    assert response.context["form"].initial == {"street": district.street_a, "year": YEAR + 1}
    assert notice("街道") not in response.content.decode()


# --- API views: 400 with the parameter named ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["community", "street"])
def test_party_coverage_refuses_a_bad_id(name, district, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), "/api/v1/party-coverage/", name, HOSTILE) == {}


def test_party_coverage_literal_superscript_two(district, staff_a, api_client_for):
    response = api_client_for(staff_a).get("/api/v1/party-coverage/?community=%C2%B2")

    assert response.status_code == 400
    assert list(response.json()) == ["community"]


def test_party_coverage_good_ids_answer_one_object(party, district, district_official, api_client_for):
    response = api_client_for(district_official).get("/api/v1/party-coverage/", {"community": district.a2.community.pk})

    assert response.status_code == 200
    assert response.json()["compounds_without_branch"] == 1


def test_backbone_progress_refuses_a_bad_year(district, district_official, api_client_for):
    assert not_refused(api_client_for(district_official), "/api/v1/backbone-progress/", "year", HOSTILE_YEARS) == {}


def test_backbone_progress_literal_superscript_twelve(district, district_official, api_client_for):
    response = api_client_for(district_official).get("/api/v1/backbone-progress/?year=%C2%B9%C2%B2")

    assert response.status_code == 400
    assert list(response.json()) == ["year"]


# --- API lists (FilterSets): 400 with the parameter named --------------------------------------------------
ID_FILTERS = [
    ("party-branches", "street"),
    ("party-branches", "community"),
    ("party-branches", "compound"),
    ("party-groups", "branch"),
    ("party-groups", "building"),
    ("party-members", "branch"),
    ("party-members", "group"),
    ("party-members", "compound"),
    ("party-members", "building"),
    ("central-households", "member"),
    ("central-households", "compound"),
    ("central-households", "building"),
    ("central-households", "serves"),
    ("backbones", "community"),
    ("backbone-targets", "street"),
    ("training-sessions", "course"),
    ("training-sessions", "street"),
    ("training-attendances", "session"),
    ("training-attendances", "backbone"),
]
YEAR_FILTERS = [("backbones", "year"), ("backbone-targets", "year"), ("training-sessions", "year")]


@pytest.mark.parametrize(("endpoint", "name"), ID_FILTERS)
def test_id_filters_refuse_bad_values(endpoint, name, district, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), f"/api/v1/{endpoint}/", name, HOSTILE) == {}


@pytest.mark.parametrize(("endpoint", "name"), YEAR_FILTERS)
def test_year_filters_refuse_bad_values(endpoint, name, district, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), f"/api/v1/{endpoint}/", name, HOSTILE_YEARS) == {}


@pytest.mark.parametrize("value", ["0", "-1", "10000", "9e15", ("9" * 30)])
def test_training_sessions_year_out_of_range_is_400(value, district, staff_a, api_client_for):
    """Once ValueError / OverflowError (a 500) from ``starts_at__year``."""
    response = api_client_for(staff_a).get(f"/api/v1/training-sessions/?year={value}")

    assert response.status_code == 400
    assert list(response.json()) == ["year"]


def test_good_filter_values_still_filter(party, district, staff_a, api_client_for):
    client = api_client_for(staff_a)

    assert client.get("/api/v1/training-sessions/", {"year": YEAR}).status_code == 200
    response = client.get("/api/v1/party-branches/", {"community": district.a1.community.pk})
    assert [row["id"] for row in response.json()["results"]] == [party.branch_a1.pk]


@pytest.mark.parametrize(("endpoint", "name"), [("party-branches", "kind"), ("backbones", "kind")])
def test_choice_filters_refuse_bad_values(endpoint, name, district, staff_a, api_client_for):
    assert not_refused(api_client_for(staff_a), f"/api/v1/{endpoint}/", name, HOSTILE_CHOICES) == {}


def test_name_filter_refuses_control_characters(district, staff_a, api_client_for):
    values = ["\x00", "\x01", "a\x1bb"]
    assert not_refused(api_client_for(staff_a), "/api/v1/party-branches/", "name", values) == {}


# --- the schema tells the truth ----------------------------------------------------------------------------
@pytest.fixture
def schema(admin_client):
    return admin_client.get("/api/schema/", {"format": "json"}).json()


def test_party_coverage_is_one_object_in_the_schema(schema):
    responses = schema["paths"]["/api/v1/party-coverage/"]["get"]["responses"]

    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Coverage"}


@pytest.mark.parametrize(
    ("path", "names"),
    [("/api/v1/party-coverage/", {"community", "street"}), ("/api/v1/backbone-progress/", {"year"})],
)
def test_query_400_is_documented_as_field_errors(schema, path, names):
    ref = schema["paths"][path]["get"]["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert set(component["properties"]) == names
    assert all(p == {"type": "array", "items": {"type": "string"}} for p in component["properties"].values())


def test_attendance_sheet_answers_the_status_it_documents(schema):
    responses = schema["paths"]["/api/v1/training-sessions/{session_pk}/attendance/"]["post"]["responses"]

    assert set(responses) == {"200"}


def test_new_training_session_answers_its_attendance_count(district, staff_a, api_client_for):
    from tests.volunteers.factories import CourseFactory

    body = {
        "course": CourseFactory().pk,
        "street": district.street_a.pk,
        "community": district.a1.community.pk,
        "starts_at": "2030-01-01T10:00:00+08:00",
        "place": "曙光社区活动室",
    }
    response = api_client_for(staff_a).post("/api/v1/training-sessions/", body, format="json")

    assert response.status_code == 201
    assert response.json()["attended"] == 0


@pytest.mark.parametrize("value", ["x", "²", "١٢", "-1", "0", "\x00"])
def test_attendance_sheet_refuses_a_bad_backbone_id(value, district, staff_a, client_for):
    from django.contrib.messages import get_messages

    from partybuilding.models import Attendance
    from tests.volunteers.factories import TrainingSessionFactory

    session = TrainingSessionFactory(street=district.street_a, community=district.a1.community)
    url = reverse("partybuilding:backbone_session", args=[session.pk])
    response = client_for(staff_a).post(url, {"attended": [value]})

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["骨干编号必须是整数。"]
    assert not Attendance.objects.exists()
