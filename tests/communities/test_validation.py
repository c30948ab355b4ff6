"""Bad input gets a clear field error and changes nothing (ARCHITECTURE rule 4).

Each case is sent through the page (a form error, status 200, nothing saved) and through the
API (400 with the field's key, nothing saved). Messages are Chinese by default; the English
catalogue is not written yet, so English requests only check the status and the field key.
"""

import pytest
from django.urls import reverse

from baohe.validators import id_check_char
from communities.models import Building, Household, Resident
from tests.factories import id_number_for

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

VALID_ID_17 = "34011119800101123"
VALID_ID = VALID_ID_17 + id_check_char(VALID_ID_17)
WRONG_CHECK_ID = VALID_ID_17 + ("0" if id_check_char(VALID_ID_17) != "0" else "1")

MOBILE_MESSAGE = "请输入 11 位中国大陆手机号码，如 13812345678。"
ID_LENGTH_MESSAGE = "身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X。"
ID_CHECK_MESSAGE = "身份证号校验位不正确，请核对。"


def form_errors(response):
    """The page's form errors as {field: [messages]} (``__all__`` for non-field errors)."""
    assert response.status_code == 200, response.status_code
    return {key: list(messages) for key, messages in response.context["form"].errors.items()}


# --- unknown parent --------------------------------------------------------------------------
def test_api_household_with_unknown_building_is_400(district, staff_a, api_client_for):
    count = Household.objects.count()

    response = api_client_for(staff_a).post(
        "/api/v1/households/", {"building": 987654, "unit": 1, "room": "909"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"building": ["无效主键 “987654” － 对象不存在。"]}
    assert Household.objects.count() == count


def test_page_household_with_unknown_building_is_a_form_error(district, staff_a, client_for):
    building = district.a1.buildings[0]
    count = Household.objects.count()

    response = client_for(staff_a).post(
        reverse("communities:household_add", args=[building.pk]), {"building": 987654, "unit": 1, "room": "909"}
    )

    assert form_errors(response) == {"building": ["选择一个有效的选项： 该选择不在可用的选项中。"]}
    assert Household.objects.count() == count


def test_api_household_with_malformed_building_is_400_not_500(district, staff_a, api_client_for):
    count = Household.objects.count()

    response = api_client_for(staff_a).post(
        "/api/v1/households/", {"building": "abc", "unit": "x", "room": ""}, format="json"
    )

    assert response.status_code == 400
    assert sorted(response.json()) == ["building", "room", "unit"]
    assert Household.objects.count() == count


# --- unique constraints ----------------------------------------------------------------------
DUPLICATE_BUILDING = "本小区已有这个楼栋号。"


def test_api_duplicate_building_number_answers_the_constraint_message(district, staff_a, api_client_for):
    compound = district.a1.compound

    response = api_client_for(staff_a).post(
        "/api/v1/buildings/", {"compound": compound.pk, "number": "1", "units": 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"number": [DUPLICATE_BUILDING]}
    assert list(Building.objects.filter(compound=compound).values_list("number", flat=True)) == ["1", "2"]


def test_api_renumbering_onto_an_existing_building_is_refused(district, staff_a, api_client_for):
    second = district.a1.buildings[1]

    response = api_client_for(staff_a).patch(f"/api/v1/buildings/{second.pk}/", {"number": "1"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"number": [DUPLICATE_BUILDING]}
    second.refresh_from_db()
    assert second.number == "2"


def test_page_duplicate_building_number_answers_the_constraint_message(district, staff_a, client_for):
    compound = district.a1.compound

    response = client_for(staff_a).post(
        reverse("communities:building_add", args=[compound.pk]), {"compound": compound.pk, "number": "1", "units": 2}
    )

    assert form_errors(response) == {"number": [DUPLICATE_BUILDING]}
    assert DUPLICATE_BUILDING in response.content.decode()
    assert list(Building.objects.filter(compound=compound).values_list("number", flat=True)) == ["1", "2"]


def test_api_duplicate_household_room_is_refused(district, staff_a, api_client_for):
    building = district.a1.buildings[0]
    count = Household.objects.count()

    response = api_client_for(staff_a).post(
        "/api/v1/households/", {"building": building.pk, "unit": 1, "room": "101"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"room": ["本楼栋这个单元已有这个房号。"]}
    assert Household.objects.count() == count


def test_duplicate_id_number_is_refused_by_api_and_page(district, staff_a, api_client_for, client_for):
    """Inside one's scope the duplicate is named (masked) with its record (tests/communities/
    test_no_oracle.py has the answers outside it)."""
    household = district.a1.households[0]
    owner = district.a1.residents[3]
    owner.name = "张小明"
    owner.save(update_fields=["name"])
    taken = owner.id_number
    count = Resident.objects.count()
    named = f"该身份证号已登记为本辖区居民 张**（{owner.household}，编号 {owner.pk}），请勿重复登记。"

    response = api_client_for(staff_a).post(
        "/api/v1/residents/", {"household": household.pk, "name": "重复", "id_number": taken}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"id_number": [named]}

    response = client_for(staff_a).post(
        reverse("communities:resident_add", args=[household.pk]),
        {"household": household.pk, "name": "重复", "id_number": taken, "relation": Resident.Relation.CHILD},
    )
    assert form_errors(response) == {"id_number": [f'{named} <a href="/registry/resident/{owner.pk}/">查看该居民</a>']}
    assert Resident.objects.count() == count


# --- mobile and ID numbers -------------------------------------------------------------------
BAD_PERSONAL = [
    pytest.param({"mobile": "12345"}, {"mobile": [MOBILE_MESSAGE]}, id="mobile-short"),
    pytest.param({"mobile": "2381234567a"}, {"mobile": [MOBILE_MESSAGE]}, id="mobile-letter"),
    pytest.param({"id_number": "34011119800101123"}, {"id_number": [ID_LENGTH_MESSAGE]}, id="id-17-chars"),
    pytest.param({"id_number": WRONG_CHECK_ID}, {"id_number": [ID_CHECK_MESSAGE]}, id="id-check-digit"),
    pytest.param(
        {"mobile": "12345", "id_number": WRONG_CHECK_ID},
        {"mobile": [MOBILE_MESSAGE], "id_number": [ID_CHECK_MESSAGE]},
        id="both",
    ),
]


@pytest.mark.parametrize(("bad", "errors"), BAD_PERSONAL)
def test_api_resident_with_bad_mobile_or_id_is_400(bad, errors, district, staff_a, api_client_for):
    household = district.a1.households[0]
    count = Resident.objects.count()

    response = api_client_for(staff_a).post(
        "/api/v1/residents/", {"household": household.pk, "name": "新居民", **bad}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == errors
    assert Resident.objects.count() == count


@pytest.mark.parametrize(("bad", "errors"), BAD_PERSONAL)
def test_page_resident_with_bad_mobile_or_id_is_a_form_error(bad, errors, district, staff_a, client_for):
    household = district.a1.households[0]
    count = Resident.objects.count()

    response = client_for(staff_a).post(
        reverse("communities:resident_add", args=[household.pk]),
        {"household": household.pk, "name": "新居民", "relation": Resident.Relation.CHILD, **bad},
    )

    assert form_errors(response) == errors
    assert Resident.objects.count() == count


def test_too_long_id_number_is_refused_by_api_and_page(district, staff_a, api_client_for, client_for):
    household = district.a1.households[0]
    count = Resident.objects.count()
    too_long = VALID_ID + "1"

    response = api_client_for(staff_a).post(
        "/api/v1/residents/", {"household": household.pk, "name": "新居民", "id_number": too_long}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"id_number": [ID_LENGTH_MESSAGE, "请确保这个字段不能超过 18 个字符。"]}

    response = client_for(staff_a).post(
        reverse("communities:resident_add", args=[household.pk]),
        {"household": household.pk, "name": "新居民", "relation": Resident.Relation.CHILD, "id_number": too_long},
    )
    assert form_errors(response) == {"id_number": ["确保该变量包含不超过 18 字符 (目前字符数 19)。"]}
    assert Resident.objects.count() == count


def test_api_resident_edit_with_bad_mobile_changes_nothing(district, staff_a, api_client_for):
    record = district.a1.residents[0]
    mobile = record.mobile

    response = api_client_for(staff_a).patch(f"/api/v1/residents/{record.pk}/", {"mobile": "12345"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"mobile": [MOBILE_MESSAGE]}
    record.refresh_from_db()
    assert record.mobile == mobile


def test_messages_name_the_field_in_chinese(district, staff_a, api_client_for):
    response = api_client_for(staff_a).post(
        "/api/v1/residents/",
        {"household": district.a1.households[0].pk, "name": "x", "mobile": "12345", "id_number": "1"},
        format="json",
    )

    body = response.json()
    assert "手机号" in body["mobile"][0]
    assert "身份证号" in body["id_number"][0]


@pytest.mark.parametrize(("bad", "errors"), BAD_PERSONAL)
def test_english_request_gets_the_same_field_keys(bad, errors, district, staff_a, api_client_for, client_for):
    household = district.a1.households[0]
    count = Resident.objects.count()

    response = api_client_for(staff_a).post(
        "/api/v1/residents/", {"household": household.pk, "name": "new", **bad}, format="json", **EN
    )
    assert response.status_code == 400
    assert sorted(response.json()) == sorted(errors)

    response = client_for(staff_a).post(
        reverse("communities:resident_add", args=[household.pk]),
        {"household": household.pk, "name": "new", "relation": Resident.Relation.CHILD, **bad},
        **EN,
    )
    assert sorted(form_errors(response)) == sorted(errors)
    assert Resident.objects.count() == count


def test_valid_mobile_and_id_are_saved_uppercased(district, staff_a, api_client_for):
    household = district.a1.households[0]
    # An ID whose check character is X, typed in lower case.
    first17 = next(f"3401111980010{n:04d}" for n in range(10000) if id_check_char(f"3401111980010{n:04d}") == "X")

    response = api_client_for(staff_a).post(
        "/api/v1/residents/",
        {"household": household.pk, "name": "新居民", "mobile": "13812345678", "id_number": f"{first17}x"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    record = Resident.objects.get(pk=response.json()["id"])
    assert (record.mobile, record.id_number) == ("13812345678", f"{first17}X")
    # read back masked, like every number (the reveal endpoint answers it whole)
    detail = api_client_for(staff_a).get(f"/api/v1/residents/{record.pk}/").json()
    assert (detail["mobile"], detail["id_number"]) == ("138****5678", f"3401{'*' * 10}{first17[-3:]}X")


def test_factory_ids_are_valid():
    """The factories' IDs pass the same validator the forms use (guards the fixtures above)."""
    from baohe.validators import validate_id_number

    for n in (0, 1, 999, 12345):
        validate_id_number(id_number_for(n))
    validate_id_number(VALID_ID)


# --- cross-level rules -------------------------------------------------------------------------
def test_api_building_head_from_another_building_is_an_error_on_head(district, staff_a, api_client_for):
    building = district.a1.buildings[0]
    elsewhere = district.a1.residents[-1]  # lives in building 2
    assert elsewhere.household.building_id != building.pk

    response = api_client_for(staff_a).patch(f"/api/v1/buildings/{building.pk}/", {"head": elsewhere.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {"head": ["楼栋长必须是本楼栋的居民。"]}
    building.refresh_from_db()
    assert building.head_id is None


def test_page_building_head_from_another_building_is_an_error_on_head(district, staff_a, client_for):
    building = district.a1.buildings[0]
    elsewhere = district.a1.residents[-1]

    response = client_for(staff_a).post(
        reverse("communities:building_edit", args=[building.pk]),
        {"compound": building.compound_id, "number": building.number, "units": building.units, "head": elsewhere.pk},
    )

    assert list(form_errors(response)) == ["head"]
    building.refresh_from_db()
    assert building.head_id is None


def test_building_head_from_own_building_is_saved(district, staff_a, api_client_for):
    building = district.a1.buildings[0]
    neighbour = district.a1.residents[2]  # building 1, household 2

    response = api_client_for(staff_a).patch(f"/api/v1/buildings/{building.pk}/", {"head": neighbour.pk}, format="json")

    assert response.status_code == 200
    building.refresh_from_db()
    assert building.head_id == neighbour.pk


def test_api_household_unit_beyond_the_building_is_an_error_on_unit(district, staff_a, api_client_for):
    building = district.a1.buildings[0]  # 2 units
    count = Household.objects.count()

    response = api_client_for(staff_a).post(
        "/api/v1/households/", {"building": building.pk, "unit": 3, "room": "301"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"unit": ["1栋 只有 2 个单元。"]}
    assert Household.objects.count() == count


def test_page_household_unit_beyond_the_building_is_an_error_on_unit(district, staff_a, client_for):
    household = district.a1.households[0]

    response = client_for(staff_a).post(
        reverse("communities:household_edit", args=[household.pk]),
        {"building": household.building_id, "unit": 3, "room": household.room},
    )

    assert form_errors(response) == {"unit": ["1栋 只有 2 个单元。"]}
    household.refresh_from_db()
    assert household.unit == 1


def test_english_unit_error_keeps_the_field_key(district, staff_a, api_client_for):
    building = district.a1.buildings[0]

    response = api_client_for(staff_a).post(
        "/api/v1/households/", {"building": building.pk, "unit": 3, "room": "301"}, format="json", **EN
    )

    assert response.status_code == 400
    assert list(response.json()) == ["unit"]


@pytest.mark.parametrize(
    ("payload", "keys"),
    [
        ({"handed_over": "abc"}, ["handed_over"]),
        ({"handed_over": "-3"}, ["handed_over"]),
        ({"kind": "castle"}, ["kind"]),
        ({"name": ""}, ["name"]),
    ],
)
def test_api_compound_bad_values_are_400(payload, keys, district, staff_a, api_client_for):
    compound = district.a1.compound
    before = (compound.name, compound.kind, compound.fee_collection_rate)

    response = api_client_for(staff_a).patch(f"/api/v1/compounds/{compound.pk}/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == keys
    compound.refresh_from_db()
    assert (compound.name, compound.kind, compound.fee_collection_rate) == before


def test_page_form_with_garbage_is_not_a_500(district, staff_a, client_for):
    building = district.a1.buildings[0]
    count = Household.objects.count()

    response = client_for(staff_a).post(
        reverse("communities:household_add", args=[building.pk]), {"building": "abc", "unit": "-1", "room": ""}
    )

    assert sorted(form_errors(response)) == ["building", "room", "unit"]
    assert Household.objects.count() == count
