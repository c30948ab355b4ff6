"""Open311 GeoReport v2 over real HTTP (``live_server``, stdlib ``urllib``): discovery,
services, filing with an API key, reading back in JSON and XML, tokens and errors."""

import io
import json
import urllib.error
import urllib.parse
import urllib.request
from xml.etree import ElementTree as ET  # noqa: S405 — parsing our own test server's answers

import pytest
from django.core.management import call_command

from service_requests import services
from service_requests.models import Open311Key, RequestEvent, ServiceRequest
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def category(db):
    top = CategoryFactory(parent=None, name="市容环境", code="env")
    return CategoryFactory(parent=top, name="楼道照明", code="hallway-light", description="楼道灯、声控灯")


@pytest.fixture
def other_category(category):
    return CategoryFactory(parent=category.parent, name="垃圾清运", code="garbage")


@pytest.fixture
def api_key(db):
    out = io.StringIO()
    call_command("open311_key", "create", "test-client", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def call(live_server, path, data=None):
    """(status, content type, body) for GET, or POST when ``data`` is given (form-encoded)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(f"{live_server.url}/open311/v2/{path}", data=body)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def xml(text):
    return ET.fromstring(text)  # noqa: S314


def file_request(live_server, api_key, **extra):
    data = {
        "api_key": api_key,
        "service_code": "hallway-light",
        "description": "3栋2单元楼道灯不亮",
        "address_string": "包河区曙光小区3栋",
        "lat": "31.820591",
        "long": "117.227239",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13912345678",
    }
    data.update(extra)
    return call(live_server, "requests.json", data)


# --- discovery and services ------------------------------------------------------------------
def test_discovery_in_json_and_xml(live_server, category):
    status, content_type, body = call(live_server, "discovery.json")
    assert (status, content_type) == (200, "application/json; charset=utf-8")
    endpoint = json.loads(body)["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"{live_server.url}/open311/v2"
    assert endpoint["formats"] == ["application/json", "text/xml"]

    status, content_type, body = call(live_server, "discovery.xml")
    assert (status, content_type) == (200, "text/xml; charset=utf-8")
    root = xml(body)
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["application/json", "text/xml"]


def test_services_list_the_leaf_categories(live_server, other_category):
    status, _type, body = call(live_server, "services.json")

    assert status == 200
    assert json.loads(body) == [
        {
            "service_code": "hallway-light",
            "service_name": "楼道照明",
            "description": "楼道灯、声控灯",
            "metadata": False,
            "type": "realtime",
            "keywords": "市容环境,楼道照明",
            "group": "市容环境",
        },
        {
            "service_code": "garbage",
            "service_name": "垃圾清运",
            "description": "",
            "metadata": False,
            "type": "realtime",
            "keywords": "市容环境,垃圾清运",
            "group": "市容环境",
        },
    ]
    root = xml(call(live_server, "services.xml")[2])
    assert [s.findtext("service_code") for s in root.findall("service")] == ["hallway-light", "garbage"]
    assert root.find("service").findtext("metadata") == "false"


def test_service_definition_and_unknown_code(live_server, category):
    status, _type, body = call(live_server, "services/hallway-light.json")
    assert (status, json.loads(body)) == (200, {"service_code": "hallway-light", "attributes": []})

    status, _type, body = call(live_server, "services/no-such-thing.json")
    assert status == 404
    assert json.loads(body) == [{"code": 404, "description": "没有服务代码为 no-such-thing 的服务。"}]

    status, _type, body = call(live_server, "services/no-such-thing.xml")
    assert status == 404
    root = xml(body)
    assert (root.tag, root.findtext("error/code")) == ("errors", "404")


def test_an_unknown_format_is_404(live_server, category):
    for path in ("services.yaml", "discovery.html", "requests.yaml", "services/hallway-light.csv"):
        status, _type, body = call(live_server, path)
        assert status == 404, path
        assert json.loads(body)[0]["code"] == 404


# --- filing ----------------------------------------------------------------------------------
def test_posting_without_a_valid_key_is_403(live_server, district, category, api_key):
    for fmt in ("json", "xml"):
        data = {"service_code": "hallway-light", "description": "灯不亮", "address_string": "曙光小区"}
        status, _type, body = call(live_server, f"requests.{fmt}", data)
        assert status == 403
        if fmt == "json":
            assert json.loads(body) == [{"code": 403, "description": "缺少 api_key 或 api_key 无效。"}]
        else:
            assert (xml(body).tag, xml(body).findtext("error/code")) == ("errors", "403")

    status, _type, _body = file_request(live_server, "not-the-key")
    assert status == 403
    call_command("open311_key", "revoke", "test-client", stdout=io.StringIO())
    assert file_request(live_server, api_key)[0] == 403
    assert ServiceRequest.objects.count() == 0


def test_the_key_is_stored_only_as_a_hash(api_key):
    key = Open311Key.objects.get(name="test-client")

    assert api_key not in (key.key_hash, key.prefix)
    assert key.prefix == api_key[:8]
    assert len(key.key_hash) == 64


def test_file_a_request_and_read_it_back(live_server, district, category, api_key):
    status, content_type, body = file_request(live_server, api_key)

    assert (status, content_type) == (201, "application/json; charset=utf-8")
    [answer] = json.loads(body)
    request = ServiceRequest.objects.get(number=answer["service_request_id"])
    assert answer["token"] == request.open311_token != ""
    assert answer["service_notice"] == "社区将在 24 小时内签收，5 个工作日内办结。"
    assert (request.compound, request.channel, request.status) == (district.a1.compound, "open311", "submitted")
    assert (request.submitted_by, request.entered_by, request.contact_name) == (None, None, "王小明")
    assert str(request.latitude) == "31.820591"

    status, _type, body = call(live_server, f"requests/{request.number}.json")
    assert status == 200
    [row] = json.loads(body)
    assert row["service_request_id"] == request.number
    assert isinstance(row["service_request_id"], str)
    assert (row["status"], row["service_code"], row["agency_responsible"]) == ("open", "hallway-light", "曙光社区")
    assert row["expected_datetime"].endswith("+08:00")
    assert row["requested_datetime"].endswith("+08:00")
    # Public: the place rounded to ~100 m (service_requests/public.py).
    assert (row["lat"], row["long"], row["media_url"], row["status_notes"]) == (31.821, 117.227, "", "")
    assert "13912345678" not in body and "王小明" not in body

    status, _type, body = call(live_server, f"requests/{request.number}.xml")
    assert status == 200
    root = xml(body)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == request.number
    assert root.findtext("request/status") == "open"
    assert root.findtext("request/expected_datetime").endswith("+08:00")

    status, _type, body = call(live_server, f"tokens/{answer['token']}.json")
    assert (status, json.loads(body)) == (200, [{"service_request_id": request.number, "token": answer["token"]}])


def test_routing_by_the_compound_attribute(live_server, district, category, api_key):
    status, _type, body = file_request(
        live_server, api_key, address_string="人民路 8 号", **{"attribute[compound]": "宁国小区"}
    )

    assert status == 201, body
    request = ServiceRequest.objects.get(number=json.loads(body)[0]["service_request_id"])
    assert (request.compound, request.community) == (district.a2.compound, district.a2.community)


def test_a_request_without_a_compound_is_400(live_server, district, category, api_key):
    status, _type, body = file_request(live_server, api_key, address_string="人民路 8 号")

    assert status == 400
    assert json.loads(body) == [
        {
            "code": 400,
            "description": "无法确定诉求所属的小区：请在 attribute[compound] 填写小区名称，"
            "或在 address_string 中写明小区名称。",
        }
    ]
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"service_code": ""}, 400),
        ({"service_code": "no-such-thing"}, 400),
        ({"description": ""}, 400),
        ({"lat": "north", "long": "117.2"}, 400),
        ({"lat": "", "long": "", "address_string": ""}, 400),
    ],
)
def test_bad_posts_are_400_with_an_error_list(live_server, district, category, api_key, change, status):
    answer_status, _type, body = file_request(live_server, api_key, **change)

    assert answer_status == status
    assert [error["code"] for error in json.loads(body)] == [status]
    assert ServiceRequest.objects.count() == 0


def test_a_key_acting_for_staff_files_only_in_their_scope(live_server, district, staff_a, category):
    out = io.StringIO()
    call_command("open311_key", "create", "a1-hotline", "--user", "staff_a", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()

    status, _type, body = file_request(live_server, key)
    assert status == 201, body
    request = ServiceRequest.objects.get(number=json.loads(body)[0]["service_request_id"])
    assert request.entered_by == staff_a

    status, _type, _body = file_request(live_server, key, address_string="望湖小区5栋")
    assert status == 403
    assert ServiceRequest.objects.count() == 1


# --- searching -------------------------------------------------------------------------------
def test_search_requests_by_code_status_and_id(live_server, district, resident, staff_a, other_category, category):
    lamp = services.request_submit(by=resident, category=category, compound=district.a1.compound, description="灯")
    bins = services.request_submit(
        by=resident, category=other_category, compound=district.a1.compound, description="桶"
    )
    done = services.request_submit(by=resident, category=category, compound=district.a1.compound, description="灯2")
    services.request_accept(request=done, by=staff_a)
    services.request_reply(request=done, by=staff_a, message="内部备注", public=False)
    services.request_resolve(request=done, by=staff_a, message="已更换灯泡")

    def numbers(query):
        status, _type, body = call(live_server, f"requests.json?{query}")
        assert status == 200, body
        return [row["service_request_id"] for row in json.loads(body)]

    assert numbers("service_code=hallway-light&status=open") == [lamp.number]
    assert numbers("service_code=hallway-light&status=closed") == [done.number]
    assert numbers("") == [done.number, bins.number, lamp.number]
    assert numbers(f"service_request_id={bins.number},{lamp.number}&service_code=nothing") == [
        bins.number,
        lamp.number,
    ]
    assert numbers("start_date=2000-01-01T00:00:00+08:00&end_date=2000-02-01T00:00:00+08:00") == []
    [row] = json.loads(call(live_server, f"requests/{done.number}.json")[2])
    assert (row["status"], row["status_notes"]) == ("closed", "已更换灯泡")
    assert RequestEvent.objects.filter(request=done, public=False).count() == 1

    status, _type, body = call(live_server, "requests.json?status=pending")
    assert status == 400
    status, _type, body = call(live_server, "requests.json?start_date=2000-01-01&end_date=2001-01-01")
    assert (status, json.loads(body)[0]["code"]) == (400, 400)


def test_unknown_request_and_token_are_404(live_server, category):
    status, _type, body = call(live_server, "requests/BH-20990101-0001.json")
    assert (status, json.loads(body)[0]["code"]) == (404, 404)
    status, _type, body = call(live_server, "tokens/nope.xml")
    assert (status, xml(body).findtext("error/code")) == (404, "404")


def test_key_command_lists_and_revokes(api_key):
    out = io.StringIO()
    call_command("open311_key", "list", stdout=out)
    assert out.getvalue().startswith(f"test-client\t{api_key[:8]}…\tactive\t-\t")

    call_command("open311_key", "revoke", "test-client", stdout=io.StringIO())

    assert Open311Key.objects.get(name="test-client").is_active is False
