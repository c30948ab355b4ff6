"""Per-IP throttles (DRF ScopedRateThrottle keyed by ``baohe.client_ip``) on the token endpoint,
sending SMS codes, registration (API and page) and Open311 POST: over the rate each answers
429 in its own format, in Chinese, with Retry-After."""

import json
from xml.etree import ElementTree as ET  # noqa: S405 — parsing our own answers

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from baohe.sms import LogBackend
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

THROTTLED = "请求过于频繁，请 {seconds} 秒后再试。"
LOW = {"auth": "3/min", "sms_send": "2/min", "register": "2/min", "open311": "2/min"}


@pytest.fixture(autouse=True)
def low_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": LOW}
    settings.SMS_BACKEND = "baohe.sms.LogBackend"
    settings.SMS_OUTBOX_FILE = ""
    LogBackend.outbox.clear()
    yield
    LogBackend.outbox.clear()


def assert_throttled_json(response, period=60):
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 0 < seconds <= period
    assert response.json() == {"detail": THROTTLED.format(seconds=seconds), "code": "throttled"}


def test_token_endpoint_is_throttled_per_ip(resident):
    api = APIClient()
    for _ in range(3):
        assert api.post("/api/v1/auth/token/", {"username": "resident_a1", "password": PASSWORD}).status_code == 200

    assert_throttled_json(api.post("/api/v1/auth/token/", {"username": "resident_a1", "password": PASSWORD}))


def test_another_ip_behind_a_trusted_proxy_has_its_own_count(resident, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    api = APIClient()
    payload = {"username": "resident_a1", "password": PASSWORD}
    for _ in range(3):
        api.post("/api/v1/auth/token/", payload, HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert api.post("/api/v1/auth/token/", payload, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert api.post("/api/v1/auth/token/", payload, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200


def test_a_forged_forwarded_for_does_not_escape_without_a_trusted_proxy(resident, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    api = APIClient()
    payload = {"username": "resident_a1", "password": PASSWORD}
    for n in range(3):
        api.post("/api/v1/auth/token/", payload, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert api.post("/api/v1/auth/token/", payload, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_sending_codes_is_throttled(district):
    api = APIClient()
    for n in range(2):
        assert api.post("/api/v1/register/code/", {"mobile": f"1370000000{n}"}).status_code == 204

    assert_throttled_json(api.post("/api/v1/register/code/", {"mobile": "13700000009"}))
    assert [m.to for m in LogBackend.outbox] == ["13700000000", "13700000001"]


def test_registration_is_throttled(district):
    api = APIClient()
    payload = {"mobile": "13700000000", "code": "000000", "password": "Hemei-register-2024!"}
    for _ in range(2):
        assert api.post("/api/v1/register/", payload).status_code == 400

    assert_throttled_json(api.post("/api/v1/register/", payload))


def test_the_registration_page_is_throttled(district, client):
    for n in range(2):
        client.post("/accounts/register/", {"action": "send_code", "mobile": f"1370000000{n}"})

    response = client.post("/accounts/register/", {"action": "send_code", "mobile": "13700000009"})

    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert response.context["form"].non_field_errors() == [THROTTLED.format(seconds=seconds)]
    assert len(LogBackend.outbox) == 2

    for _ in range(2):
        client.post("/accounts/register/", {"action": "register", "mobile": "13700000000", "code": "1"})
    assert client.post("/accounts/register/", {"action": "register", "mobile": "13700000000"}).status_code == 429


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_is_throttled_in_its_own_format(fmt, client, district):
    for _ in range(2):
        assert client.post(f"/open311/v2/requests.{fmt}", {"api_key": "nope"}).status_code == 403

    response = client.post(f"/open311/v2/requests.{fmt}", {"api_key": "nope"})

    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 0 < seconds <= 60
    message = THROTTLED.format(seconds=seconds)
    if fmt == "json":
        assert json.loads(response.content) == [{"code": 429, "description": message}]
    else:
        root = ET.fromstring(response.content)  # noqa: S314
        assert [(e.findtext("code"), e.findtext("description")) for e in root] == [("429", message)]
    # Reading is not throttled.
    assert client.get(f"/open311/v2/requests.{fmt}").status_code == 200


def test_the_answer_is_in_english_for_an_english_client(resident):
    api = APIClient()
    for _ in range(3):
        api.post("/api/v1/auth/token/", {"username": "resident_a1", "password": PASSWORD})

    response = api.post(
        "/api/v1/auth/token/", {"username": "resident_a1", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 429
    assert response.json()["detail"] == f"Too many requests; try again in {response['Retry-After']} seconds."


def test_rates_come_from_settings(resident, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**LOW, "auth": "1/hour"}}
    api = APIClient()
    api.post("/api/v1/auth/token/", {"username": "resident_a1", "password": PASSWORD})

    response = api.post("/api/v1/auth/token/", {"username": "resident_a1", "password": PASSWORD})

    assert response.status_code == 429
    assert 3540 < int(response["Retry-After"]) <= 3600


def test_an_unreachable_throttle_cache_lets_requests_through(resident, settings):
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    api = APIClient()
    for _ in range(5):
        assert api.post("/api/v1/auth/token/", {"username": "resident_a1", "password": PASSWORD}).status_code == 200
    assert caches["throttle"].__class__.__name__ == "RedisCache"
