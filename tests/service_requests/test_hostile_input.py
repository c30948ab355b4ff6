"""Hostile input on every request page, API parameter and Open311 field (rule 4): a page still
answers 200 with the bad filter ignored and a notice; the API answers 400 naming the field;
Open311 answers its 400 error list and writes nothing; every XML answer parses. Never a 500."""

import base64
import json
import re
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET  # noqa: S405 — parsing our own answers

import pytest
from django.urls import reverse

from service_requests import selectors, services
from service_requests.models import ServiceRequest
from tests.factories import CategoryFactory, ServiceRequestFactory
from tests.hostile import HOSTILE

pytestmark = pytest.mark.django_db

HOSTILE_TEXT = ["\x00", "\x01", "a\x07b", "\x1b[31m"]
BAD_DATETIME = "1217-10-28T13:12:37+16:11"


def b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode()


# Cursors: junk, the old hand-made format with an offset PostgreSQL refuses and a huge id, DRF's
# own unsigned format, and a signed-looking token with a wrong signature.
BAD_CURSORS = [
    "not-a-cursor!!",
    b64(f"{BAD_DATETIME}|1"),
    b64("2026-01-01T00:00:00+08:00|" + "9" * 30),
    "cD0xfDI=",
    "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwxXQ:1tXyZa:forged",
    "\x00",
]


@pytest.fixture
def category(db):
    top = CategoryFactory(parent=None, name="市容环境", code="env")
    return CategoryFactory(parent=top, name="楼道照明", code="hallway-light")


@pytest.fixture
def rows(district, category, resident):
    """Three open requests in A1 building 1 (filed by the resident)."""
    tree = district.a1
    return [
        services.request_submit(
            by=resident, category=category, compound=tree.compound, building=tree.buildings[0], description=f"灯{n}"
        )
        for n in range(3)
    ]


def numbers_in(response):
    return re.findall(r'data-number="([^"]+)"', response.content.decode())


def notice(label):
    return f"已忽略无效的筛选条件“{label}”："


# --- the staff queue -------------------------------------------------------------------------
QUEUE = reverse("service_requests:queue")
QUEUE_LABELS = {"status": "状态", "category": "分类", "compound": "小区", "mine": "分派给我", "due": "时限"}


@pytest.mark.parametrize("name", list(QUEUE_LABELS))
@pytest.mark.parametrize("value", HOSTILE)
def test_queue_ignores_a_bad_filter_with_a_notice(client_for, staff_a, rows, name, value):
    response = client_for(staff_a).get(QUEUE, {name: value})

    assert response.status_code == 200
    assert sorted(numbers_in(response)) == sorted(r.number for r in rows)
    assert notice(QUEUE_LABELS[name]) in response.content.decode()


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_queue_shows_the_first_page_for_a_bad_cursor(client_for, staff_a, rows, cursor):
    response = client_for(staff_a).get(QUEUE, {"after": cursor, "status": "open"})

    assert response.status_code == 200
    assert sorted(numbers_in(response)) == sorted(r.number for r in rows)
    body = response.content.decode()
    assert notice("分页位置") in body
    assert "bi-chevron-double-left" not in body  # no "back to the first page" button: this is it


def test_queue_next_page_follows_the_signed_cursor(client_for, staff_a, rows, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    client = client_for(staff_a)
    first = client.get(QUEUE)
    href = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    token = parse_qs(urlsplit(href).query)["after"][0]
    assert selectors.decode_cursor(token)[1] == rows[1].pk

    second = client.get(QUEUE + href)

    assert second.status_code == 200
    assert numbers_in(first) + numbers_in(second) == [r.number for r in rows]
    assert "已忽略" not in second.content.decode()


# --- staff entry on a resident's behalf --------------------------------------------------------
ON_BEHALF_LABELS = {
    "channel": "来源渠道",
    "category": "诉求分类",
    "compound": "小区",
    "building": "楼栋",
    "household": "住户",
}


@pytest.mark.parametrize("name", list(ON_BEHALF_LABELS))
@pytest.mark.parametrize("value", HOSTILE)
def test_on_behalf_page_ignores_bad_initial_values(client_for, staff_a, district, name, value):
    response = client_for(staff_a).get(reverse("service_requests:new"), {name: value})

    assert response.status_code == 200
    assert notice(ON_BEHALF_LABELS[name]) in response.content.decode()


def test_on_behalf_page_takes_good_initial_values(client_for, staff_a, district):
    compound, building = district.a1.compound, district.a1.buildings[1]
    response = client_for(staff_a).get(
        reverse("service_requests:new"), {"compound": compound.pk, "building": building.pk, "channel": "walk_in"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{building.pk}" selected>' in body
    assert '<option value="walk_in" selected>' in body
    assert "已忽略" not in body


# --- resident pages --------------------------------------------------------------------------
SIMILAR = reverse("service_requests:similar")


@pytest.mark.parametrize("name", ["building", "category"])
@pytest.mark.parametrize("value", HOSTILE)
def test_similar_box_is_empty_for_a_bad_value(client_for, resident, district, category, rows, name, value):
    good = {"building": district.a1.buildings[0].pk, "category": category.pk}
    client = client_for(resident)

    response = client.get(SIMILAR, {**good, name: value})

    assert response.status_code == 200
    assert numbers_in(response) == []
    # No notice is queued for a later page (the fragment has nowhere to show it).
    assert "已忽略" not in client.get(reverse("service_requests:mine")).content.decode()


def test_similar_box_lists_open_requests_for_good_values(client_for, resident, district, category, rows):
    good = {"building": district.a1.buildings[0].pk, "category": category.pk}

    response = client_for(resident).get(SIMILAR, good)

    assert sorted(numbers_in(response)) == sorted(r.number for r in rows)


@pytest.mark.parametrize("value", HOSTILE)
def test_my_requests_page_ignores_a_bad_page_number(client_for, resident, rows, value):
    response = client_for(resident).get(reverse("service_requests:mine"), {"page": value})

    assert response.status_code == 200
    assert sorted(numbers_in(response)) == sorted(r.number for r in rows)
    assert notice("页码") in response.content.decode()


@pytest.mark.parametrize("pk", ["9" * 30, "9223372036854775808"])
def test_huge_ids_in_paths_are_404(client_for, staff_a, district, pk):
    client = client_for(staff_a)
    assert client.get(f"/requests/{pk}/").status_code == 404
    assert client.get(f"/requests/attachment/{pk}/").status_code == 404


# --- the API ---------------------------------------------------------------------------------
REQUESTS_API = reverse("request-list")


@pytest.mark.parametrize("name", ["category", "compound", "building"])
@pytest.mark.parametrize("value", HOSTILE)
def test_api_id_filters_are_400_naming_the_field(api_client_for, staff_a, rows, name, value):
    for path in (REQUESTS_API, reverse("request-counts")):
        response = api_client_for(staff_a).get(path, {name: value})

        assert response.status_code == 400, path
        assert list(response.json()) == [name]


@pytest.mark.parametrize("value", [*HOSTILE, "due;drop", "-id"])
def test_api_unknown_ordering_is_400(api_client_for, staff_a, rows, value):
    response = api_client_for(staff_a).get(REQUESTS_API, {"ordering": value})

    assert response.status_code == 400
    assert list(response.json()) == ["ordering"]


@pytest.mark.parametrize("value", HOSTILE)
def test_api_status_filter_is_400(api_client_for, staff_a, rows, value):
    response = api_client_for(staff_a).get(REQUESTS_API, {"status": value})

    assert response.status_code == 400
    assert list(response.json()) == ["status"]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize("ordering", ["newest", "due"])
def test_api_bad_cursor_is_400(api_client_for, staff_a, rows, cursor, ordering):
    response = api_client_for(staff_a).get(REQUESTS_API, {"cursor": cursor, "ordering": ordering})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["cursor"]


def test_api_cursor_from_the_issue_is_400(api_client_for, staff_a, rows):
    response = api_client_for(staff_a).get(f"{REQUESTS_API}?cursor=cD0xfDI=&ordering=newest")

    assert response.status_code == 400
    assert response.json() == {"cursor": ["无效的分页游标，请从第一页重新开始。"]}


def test_api_cursor_is_only_good_for_its_ordering(api_client_for, staff_a, rows):
    client = api_client_for(staff_a)
    next_url = client.get(REQUESTS_API, {"ordering": "due", "page_size": 1}).json()["next"]
    assert client.get(next_url).status_code == 200

    response = client.get(next_url.replace("ordering=due", "ordering=newest"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["cursor"]


@pytest.mark.parametrize("value", HOSTILE_TEXT)
def test_api_search_with_control_characters_is_400(api_client_for, staff_a, rows, value):
    response = api_client_for(staff_a).get(REQUESTS_API, {"search": value})

    assert response.status_code == 400
    assert list(response.json()) == ["search"]


def test_api_huge_id_in_path_is_404(api_client_for, staff_a, rows):
    response = api_client_for(staff_a).get(f"{REQUESTS_API}{'9' * 30}/")

    assert response.status_code == 404
    assert "detail" in response.json()


# --- Open311 ---------------------------------------------------------------------------------
def open311(name):
    return f"/open311/v2/{name}"


def error_codes(response):
    return [item["code"] for item in json.loads(response.content)]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        *(
            ("start_date", v)
            for v in [BAD_DATETIME, "9999-12-31", "0000-01-01", "2026-13-01", "1e5", "\x00", "x" * 200]
        ),
        *(("end_date", v) for v in [BAD_DATETIME, "9999-12-31", "2026-01-01T00:00:00+99:00", "9e15", "\x01"]),
        ("start_date", "1899-12-31T23:00:00+00:00"),
        ("status", "²"),
        ("status", "\x00"),
        ("service_code", "\x00"),
        ("service_code", "\x01"),
        ("service_request_id", "\x00"),
        ("service_request_id", "BH-1,\x1b"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_bad_search_values_are_400_error_lists(client, rows, name, value, fmt):
    response = client.get(open311(f"requests.{fmt}"), {name: value})

    assert response.status_code == 400
    if fmt == "json":
        assert set(error_codes(response)) == {400}
        assert json.loads(response.content)[0]["description"].startswith(f"{name}: ")
    else:
        root = ET.fromstring(response.content)  # noqa: S314
        assert (root.tag, root.findtext("error/code")) == ("errors", "400")


def test_open311_good_search_still_answers(client, rows):
    response = client.get(open311("requests.json"), {"start_date": "2026-01-01T00:00:00+08:00"})
    assert response.status_code == 200
    numbers = {row["service_request_id"] for row in json.loads(response.content)}
    assert numbers <= {r.number for r in rows}


@pytest.fixture
def api_key(db):
    from service_requests.open311 import key_create

    return key_create(name="hostile-test")[1]


def post_data(api_key, **changes):
    data = {
        "api_key": api_key,
        "service_code": "hallway-light",
        "description": "3栋2单元楼道灯不亮",
        "address_string": "包河区曙光小区3栋",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13912345678",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("name", ["description", "address_string", "first_name", "last_name", "phone"])
@pytest.mark.parametrize("value", HOSTILE_TEXT)
def test_open311_post_refuses_control_characters(client, district, category, api_key, name, value):
    response = client.post(open311("requests.json"), post_data(api_key, **{name: f"曙光小区{value}"}))

    assert response.status_code == 400
    assert set(error_codes(response)) == {400}
    assert json.loads(response.content)[0]["description"].startswith(f"{name}: ")
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "value"), [("lat", v) for v in ["NaN", "1e999999", "\x00", "９０", "91"]] + [("long", "Infinity")]
)
def test_open311_post_refuses_bad_coordinates(client, district, category, api_key, name, value):
    response = client.post(
        open311("requests.json"), post_data(api_key, **{"lat": "31.8", "long": "117.2", name: value})
    )

    assert response.status_code == 400
    assert json.loads(response.content)[0]["description"].startswith(f"{name}: ")
    assert ServiceRequest.objects.count() == 0


def test_open311_post_with_a_bad_key_is_still_403(client, district, category):
    response = client.post(open311("requests.json"), post_data("\x00"))

    assert response.status_code == 403
    assert ServiceRequest.objects.count() == 0


def test_open311_post_files_a_clean_request(client, district, category, api_key):
    response = client.post(open311("requests.json"), post_data(api_key))

    assert response.status_code == 201, response.content
    assert ServiceRequest.objects.get().contact_mobile == "13912345678"


def test_open311_xml_parses_for_rows_written_with_control_characters(client, district, category):
    ServiceRequestFactory(
        compound=district.a1.compound, category=category, description="灯\x01坏\x07了\x1b", address="3栋\x0b"
    )

    for path in ("requests.xml", f"requests/{ServiceRequest.objects.get().number}.xml"):
        response = client.get(open311(path))

        assert response.status_code == 200
        root = ET.fromstring(response.content)  # noqa: S314
        assert root.findtext("request/description") == "灯坏了"
        assert root.findtext("request/address") == "曙光小区"  # public: the compound, not the free-text place
