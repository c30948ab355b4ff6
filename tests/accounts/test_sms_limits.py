"""SMS codes: caps per number per day and per IP per hour (page and API), one answer whether or
not a number is registered, no code and no full number in any log line, and the log backend
kept to development."""

import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import PhoneCode, User
from baohe.sms import HttpGatewayBackend, LogBackend, send_sms
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NUMBER_CAP = "该手机号 24 小时内获取验证码的次数已达上限，请 {hours} 小时后再试。"
IP_CAP = "当前网络获取验证码过于频繁，请 {minutes} 分钟后再试。"
BAD_CODE = "验证码错误或已过期，请重新获取。"
NOTICE = "【和美社区】该手机号已注册和美社区账号，请直接登录；忘记密码请联系所在社区。如非本人操作，请忽略本短信。"
NEW_PASSWORD = "Hemei-register-2024!"


@pytest.fixture(autouse=True)
def sms(settings, tmp_path):
    """The log backend with an empty outbox, no resend pause, generous throttles, small caps."""
    settings.SMS_BACKEND = "baohe.sms.LogBackend"
    settings.SMS_OUTBOX_FILE = str(tmp_path / "sms-outbox.txt")
    settings.PHONE_CODE_RESEND_SECONDS = 0
    settings.PHONE_CODE_PER_NUMBER_DAILY = 3
    settings.PHONE_CODE_PER_IP_HOURLY = 5
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "auth": "100/min",
            "sms_send": "100/min",
            "register": "100/min",
            "open311": "100/min",
        },
    }
    LogBackend.outbox.clear()
    yield LogBackend.outbox
    LogBackend.outbox.clear()


def send_api(mobile, **headers):
    return APIClient().post("/api/v1/register/code/", {"mobile": mobile}, format="json", **headers)


def send_page(client, mobile, **headers):
    return client.post("/accounts/register/", {"action": "send_code", "mobile": mobile}, **headers)


def age(**filters):
    """Move matching codes a day and a minute into the past."""
    PhoneCode.objects.filter(**filters).update(created_at=timezone.now() - timedelta(days=1, minutes=1))


# --- caps -----------------------------------------------------------------------------------------------
def test_a_number_gets_three_codes_a_day_then_429(district, sms):
    for _ in range(3):
        assert send_api("13700000001").status_code == 204

    response = send_api("13700000001")

    assert response.status_code == 429
    assert response.json() == {"detail": NUMBER_CAP.format(hours=24), "code": "sms_number_cap"}
    assert 86400 - 60 < int(response["Retry-After"]) <= 86400
    assert len(sms) == 3
    assert PhoneCode.objects.for_mobile("13700000001").count() == 3


def test_the_number_cap_is_a_rolling_day(district, sms):
    for _ in range(3):
        send_api("13700000001")
    age(pk=PhoneCode.objects.order_by("created_at").first().pk)

    assert send_api("13700000001").status_code == 204
    assert send_api("13700000001").status_code == 429


def test_the_number_cap_on_the_page(district, client, sms):
    for _ in range(3):
        send_page(client, "13700000001")

    response = send_page(client, "13700000001")

    assert response.status_code == 429
    assert response.context["form"].errors == {"mobile": [NUMBER_CAP.format(hours=24)]}
    assert len(sms) == 3


def test_one_ip_gets_five_codes_an_hour_then_429(district, sms):
    for n in range(5):
        assert send_api(f"1370000000{n}").status_code == 204

    response = send_api("13700000009")

    assert response.status_code == 429
    assert response.json() == {"detail": IP_CAP.format(minutes=60), "code": "sms_ip_cap"}
    assert 3540 < int(response["Retry-After"]) <= 3600
    assert len(sms) == 5


def test_the_ip_cap_is_per_client_behind_a_trusted_proxy(district, client, settings, sms):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        send_page(client, f"1370000000{n}", HTTP_X_FORWARDED_FOR="203.0.113.5")

    refused = send_page(client, "13700000009", HTTP_X_FORWARDED_FOR="203.0.113.5")
    other = send_page(client, "13700000009", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert refused.status_code == 429
    assert refused.context["form"].errors == {"mobile": [IP_CAP.format(minutes=60)]}
    assert other.status_code == 200
    assert [m.to for m in sms][-1] == "13700000009"
    assert set(PhoneCode.objects.values_list("ip_address", flat=True)) == {"203.0.113.5", "203.0.113.9"}


def test_the_ip_cap_frees_up_after_an_hour(district, sms):
    for n in range(5):
        send_api(f"1370000000{n}")
    PhoneCode.objects.update(created_at=timezone.now() - timedelta(minutes=61))

    assert send_api("13700000009").status_code == 204


# --- one answer, registered or not -----------------------------------------------------------------------
def test_the_api_answers_a_registered_number_like_any_other(resident, sms):
    registered, fresh = send_api(resident.mobile), send_api("13700000001")

    assert (registered.status_code, registered.content) == (fresh.status_code, fresh.content) == (204, b"")
    assert [(m.to, m.body) for m in sms][0] == (resident.mobile, NOTICE)
    assert re.search(r"\d{6}", sms[1].body)


def test_the_page_answers_a_registered_number_like_any_other(resident, client, sms):
    def shown(response, mobile):
        assert response.status_code == 200
        html = response.content.decode().replace(mobile, "NUMBER").replace(mobile[:3] + "****" + mobile[-4:], "NUMBER")
        html = re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value="|nonce=")[^"]+', r"\1TOKEN", html)
        return html, response.context["form"].errors

    registered = shown(send_page(client, resident.mobile), resident.mobile)
    fresh = shown(send_page(client, "13700000001"), "13700000001")

    assert registered == fresh
    assert registered[1] == {}
    assert "短信已发送到 NUMBER，请查收。" in registered[0]


def test_caps_and_resend_pause_count_a_registered_number_the_same(resident, settings, sms):
    settings.PHONE_CODE_RESEND_SECONDS = 60
    registered = [send_api(resident.mobile).status_code for _ in range(2)]
    fresh = [send_api("13700000001").status_code for _ in range(2)]

    assert registered == fresh == [204, 400]


def test_the_final_step_for_a_registered_number_says_wrong_code(resident, client, sms):
    send_page(client, resident.mobile)
    send_page(client, "13700000001")
    answers = []
    for mobile in (resident.mobile, "13700000001"):
        response = client.post(
            "/accounts/register/",
            {
                "action": "register",
                "mobile": mobile,
                "code": "123456",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )
        answers.append((response.status_code, response.context["form"].errors))
        api = APIClient().post(
            "/api/v1/register/", {"mobile": mobile, "code": "123456", "password": NEW_PASSWORD}, format="json"
        )
        answers.append((api.status_code, api.json()))

    assert answers == [(200, {"code": [BAD_CODE]}), (400, {"code": [BAD_CODE]})] * 2
    resident.refresh_from_db()
    assert resident.check_password(PASSWORD)
    assert (User.objects.with_mobile(resident.mobile) | User.objects.with_mobile("13700000001")).count() == 1


def test_no_code_ever_matches_a_registered_number(resident, sms):
    send_api(resident.mobile)
    row = PhoneCode.objects.for_mobile(resident.mobile).get()

    assert row.code_hash == ""
    for guess in ("000000", "123456", "999999"):
        response = APIClient().post(
            "/api/v1/register/", {"mobile": resident.mobile, "code": guess, "password": NEW_PASSWORD}
        )
        assert (response.status_code, response.json()) == (400, {"code": [BAD_CODE]})


# --- logs and the log backend ------------------------------------------------------------------------------
def test_the_log_backend_keeps_codes_in_its_file_not_in_the_log(district, sms, settings, caplog):
    caplog.set_level(logging.DEBUG)
    send_api("13700000001")
    code = re.search(r"\d{6}", sms[0].body).group()

    text = Path(settings.SMS_OUTBOX_FILE).read_text(encoding="utf-8")
    assert text.endswith(f" 137****0001 【和美社区】您的验证码是 {code}，10 分钟内有效。\n")
    assert "13700000001" not in text
    assert [r.getMessage() for r in caplog.records if r.name == "baohe.sms"] == [
        f"SMS to 137****0001 kept in {settings.SMS_OUTBOX_FILE} (not sent)"
    ]
    assert code not in caplog.text


def test_every_log_line_has_mobile_and_id_numbers_masked(caplog):
    logger = logging.getLogger("tests.masking")
    logger.warning("to %s, id %s, order 20261207123456789", "13812345678", "34010419900101123X")
    try:
        raise ValueError("gateway refused 13987654321")
    except ValueError:
        logger.exception("send failed")

    assert caplog.records[0].getMessage() == "to 138****5678, id 3401**********123X, order 20261207123456789"
    assert "139****4321" in caplog.text
    assert "13987654321" not in caplog.text
    assert "13812345678" not in caplog.text


def test_a_gateway_failure_is_logged_with_the_number_masked(caplog):
    backend = HttpGatewayBackend(fail_silently=True, url="http://127.0.0.1:1/sms", key="k", timeout=0.5)
    assert send_sms("13812345678", "【和美社区】通知", connection=backend) == 0
    assert "SMS to 138****5678 not sent" in caplog.text
    assert "13812345678" not in caplog.text


def settings_in_a_new_process(**environ):
    env = {k: v for k, v in os.environ.items() if k not in ("SMS_BACKEND", "DEBUG", "SECRET_KEY")}
    # Production needs the personal-data keys too (baohe/crypto.py); any 32 bytes do here.
    env.update(PERSONAL_DATA_KEYS=f"k1:{'A' * 43}=", BLIND_INDEX_KEY=f"{'B' * 43}=")
    env.update(environ)
    code = "import django; django.setup(); from django.conf import settings; print(settings.SMS_BACKEND)"
    return subprocess.run(  # noqa: S603 — our own interpreter and a fixed snippet
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_log_backend_is_refused_with_debug_off():
    result = settings_in_a_new_process(
        DEBUG="false", SECRET_KEY="x" * 50, SMS_BACKEND="baohe.sms.LogBackend", DJANGO_SETTINGS_MODULE="baohe.settings"
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: SMS_BACKEND=baohe.sms.LogBackend is for development only" in result.stderr


def test_with_debug_off_the_default_is_the_gateway():
    result = settings_in_a_new_process(DEBUG="false", SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="baohe.settings")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "baohe.sms.HttpGatewayBackend"
