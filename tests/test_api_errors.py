"""Errors on /api/ answer JSON in DRF's format, whatever raised them (baohe/errors.py).

400, 403, 404, 405, 409 and 500, each from a different layer: a serializer, a permission, the
URL resolver, the method check, a service conflict, and an exception nobody caught. (Open311's
own error list is tested in tests/service_requests/test_open311_errors.py.)
"""

import pytest
from django.test import Client, override_settings
from django.urls import include, path

from baohe import urls as project_urls
from tests.signin import verified_login


def _boom(request):
    raise RuntimeError("an error nobody caught")


urlpatterns = [
    path("api/v1/test-boom/", _boom),
    path("test-boom/", _boom),
    path("", include(project_urls)),
]

pytestmark = pytest.mark.django_db


def _json(response, status):
    assert response.status_code == status
    assert response["Content-Type"].split(";")[0] == "application/json"
    return response.json()


def test_400_is_field_errors(district, staff_a, api_client_for):
    response = api_client_for(staff_a).post("/api/v1/compounds/", {"name": ""}, format="json")

    body = _json(response, 400)
    assert "name" in body
    assert "community" in body


def test_403_for_a_resident_on_a_staff_endpoint_is_json(resident, api_client_for):
    body = _json(api_client_for(resident).get("/api/v1/party-coverage/"), 403)

    assert set(body) >= {"detail"}


def test_401_without_sign_in_is_json(db):
    body = _json(Client().get("/api/v1/compounds/"), 401)

    assert body["detail"]


def test_csrf_refusal_on_the_api_is_json(staff_a):
    client = verified_login(Client(enforce_csrf_checks=True), staff_a)

    body = _json(client.post("/api/v1/compounds/", {"name": "x"}), 403)

    assert "CSRF" in body["detail"]


def test_404_for_an_unknown_api_path_is_json(staff_a, client_for):
    body = _json(client_for(staff_a).get("/api/v1/no-such-thing/"), 404)

    assert body == {"detail": "未找到。", "code": "not_found"}


def test_404_in_english_follows_the_reader(staff_a, client_for):
    body = _json(client_for(staff_a).get("/api/v1/no-such-thing/", headers={"accept-language": "en"}), 404)

    assert body["detail"] == "Not found."


def test_404_for_another_communitys_row_is_json(district, staff_a, api_client_for):
    body = _json(api_client_for(staff_a).get(f"/api/v1/compounds/{district.b1.compound.pk}/"), 404)

    assert "detail" in body


def test_405_is_json_and_names_the_allowed_methods(district, staff_a, api_client_for):
    response = api_client_for(staff_a).put("/api/v1/auth/token/", {}, format="json")

    body = _json(response, 405)
    assert body["detail"]
    assert "POST" in response["Allow"]


def test_409_from_a_service_conflict_is_json(district, staff_a, api_client_for):
    compound = district.a1.compound  # has buildings: deleting it is refused

    body = _json(api_client_for(staff_a).delete(f"/api/v1/compounds/{compound.pk}/"), 409)

    assert body["code"] == "protected"
    assert type(compound).objects.filter(pk=compound.pk).exists()


@override_settings(ROOT_URLCONF=__name__)
def test_500_on_the_api_is_json(staff_a):
    client = verified_login(Client(raise_request_exception=False), staff_a)

    body = _json(client.get("/api/v1/test-boom/"), 500)

    assert body == {"detail": "服务器出错，请稍后再试；问题已记录。", "code": "server_error"}


@override_settings(ROOT_URLCONF=__name__)
def test_500_on_a_page_stays_the_html_page(staff_a):
    client = verified_login(Client(raise_request_exception=False), staff_a)

    response = client.get("/test-boom/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_field_errors_survive_for_a_browser(district, staff_a, client_for):
    """A browser asks for HTML: DRF's browsable page carries the same field errors; they are not
    replaced by a generic answer."""
    client = client_for(staff_a)

    as_json = client.get("/api/v1/requests/?cursor=cD0xfDI%3D&ordering=newest")
    as_page = client.get("/api/v1/requests/?cursor=cD0xfDI%3D&ordering=newest", headers={"accept": "text/html"})

    assert list(_json(as_json, 400)) == ["cursor"]
    assert as_page.status_code == 400
    assert "cursor" in as_page.content.decode()
    assert "无效的分页游标" in as_page.content.decode()
