"""Errors under /open311/ answer the GeoReport v2 error list, whatever raised them: a view's own
400/403/404 (tested with the endpoints), and here what no view answers — an unknown path, a
method not allowed, a CSRF refusal, an exception nobody caught — in JSON, or in XML when the
path asks for ``.xml`` (``open311.error_answer``, registered with ``baohe.errors`` in apps.py)."""

import json
from xml.etree import ElementTree as ET  # noqa: S405 — parsing our own answers

import pytest
from django.test import Client, override_settings
from django.urls import include, path

from baohe import urls as project_urls


def _boom(request, fmt):
    raise RuntimeError("an error nobody caught")


urlpatterns = [
    path("open311/v2/boom.<str:fmt>", _boom),
    path("", include(project_urls)),
]

pytestmark = pytest.mark.django_db


def error_list(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def xml_errors(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == "errors"
    return [(error.findtext("code"), error.findtext("description")) for error in root.findall("error")]


def test_method_not_allowed_is_an_error_list_in_json(client):
    response = client.put("/open311/v2/requests.json")

    assert error_list(response, 405) == [{"code": 405, "description": "不支持此请求方法。"}]
    assert sorted(response["Allow"].split(", ")) == ["GET", "POST"]


def test_method_not_allowed_is_an_error_list_in_xml(client):
    response = client.put("/open311/v2/requests.xml")

    assert xml_errors(response, 405) == [("405", "不支持此请求方法。")]
    assert sorted(response["Allow"].split(", ")) == ["GET", "POST"]


@pytest.mark.parametrize("path", ["/open311/v2/nope.json", "/open311/v2/requests/a/b.json", "/open311/nope.json"])
def test_unknown_path_is_a_404_error_list(client, path):
    assert error_list(client.get(path), 404) == [{"code": 404, "description": "未找到。"}]


def test_unknown_path_in_xml_is_a_404_error_list_in_xml(client):
    assert xml_errors(client.get("/open311/v2/nope.xml"), 404) == [("404", "未找到。")]


def test_csrf_refusal_is_an_error_list(staff_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a)

    response = client.post("/open311/v2/discovery.json", {"x": "1"})

    assert error_list(response, 403) == [{"code": 403, "description": "您无权执行此操作。"}]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_exception_nobody_caught_is_a_500_error_list(fmt):
    response = Client(raise_request_exception=False).get(f"/open311/v2/boom.{fmt}")

    expected = "服务器出错，请稍后再试；问题已记录。"
    if fmt == "json":
        assert error_list(response, 500) == [{"code": 500, "description": expected}]
    else:
        assert xml_errors(response, 500) == [("500", expected)]


def test_the_views_own_error_lists_pass_untouched(client, db):
    response = client.get("/open311/v2/requests/BH-20990101-0001.json")

    assert error_list(response, 404) == [{"code": 404, "description": "没有编号为 BH-20990101-0001 的诉求。"}]
