"""API tokens (accounts/tokens.py, accounts/authentication.py): hashed, per device, expiring by
role, revocable, and ended by a password change or a disabled account."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.test import Client
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.tokens import token_issue
from baohe.models import AuditEntry
from tests.factories import PASSWORD
from tests.signin import totp_code, totp_device, verified_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Hemei-changed-2026!"
INVALID = {"detail": "令牌无效、已过期或已注销，请重新获取。"}


def get_token(username, password=PASSWORD, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json")


def me(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/me/")


def staff_token(user, **extra):
    response = get_token(user.username, otp=totp_code(totp_device(user)), **extra)
    assert response.status_code == 200, response.content
    return response.json()["token"]


# --- issuing ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("login", ["username", "mobile"])
def test_resident_token_authenticates_me_and_lasts_30_days(login, resident):
    username = "resident_a1" if login == "username" else resident.mobile

    response = get_token(username, device="我的手机")

    assert response.status_code == 200
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{64}", body["token"])
    assert body["device"] == "我的手机"
    token = ApiToken.objects.get(user=resident)
    assert abs(token.expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    answer = me(body["token"])
    assert answer.status_code == 200
    assert (answer.json()["id"], answer.json()["username"]) == (resident.pk, "resident_a1")


def test_only_a_digest_is_stored(resident):
    key = get_token("resident_a1").json()["token"]

    token = ApiToken.objects.get(user=resident)
    assert token.digest == hash_token(key)
    assert key not in (token.digest, token.name, token.credentials_hash)


def test_each_sign_in_is_a_new_token_named_after_the_device(resident):
    first = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "resident_a1", "password": PASSWORD},
        format="json",
        HTTP_USER_AGENT="BaoheApp/2.1 (Android 14)",
    )
    second = get_token("resident_a1", device="家里的平板")

    assert first.json()["token"] != second.json()["token"]
    assert sorted(ApiToken.objects.filter(user=resident).values_list("name", flat=True)) == [
        "BaoheApp/2.1 (Android 14)",
        "家里的平板",
    ]
    assert me(first.json()["token"]).status_code == 200
    assert me(second.json()["token"]).status_code == 200


def test_staff_token_needs_the_code_and_lasts_8_hours(staff_a):
    device = totp_device(staff_a)

    missing = get_token("staff_a")
    wrong = get_token("staff_a", otp="000000" if totp_code(device) != "000000" else "111111")

    assert (missing.status_code, missing.json()) == (
        403,
        {"detail": "请填写验证器上的 6 位验证码（otp）。", "code": "otp_required"},
    )
    assert (wrong.status_code, wrong.json()) == (403, {"detail": "验证码不正确或已用过。", "code": "otp_invalid"})
    assert not ApiToken.objects.filter(user=staff_a).exists()

    device.throttling_failure_count = 0
    device.save(update_fields=["throttling_failure_count"])
    key = staff_token(staff_a)

    token = ApiToken.objects.get(user=staff_a)
    assert abs(token.expiry - (timezone.now() + timedelta(hours=8))) < timedelta(minutes=1)
    assert me(key).json()["username"] == "staff_a"


def test_staff_who_never_enrolled_get_no_token(staff_a):
    response = get_token("staff_a", otp="123456")

    assert response.status_code == 403
    assert response.json()["code"] == "otp_not_enrolled"
    assert not ApiToken.objects.exists()


def test_a_backup_code_gets_a_token_once(staff_a):
    from accounts.two_factor import backup_codes_regenerate

    totp_device(staff_a)
    code = backup_codes_regenerate(user=staff_a)[0]

    assert get_token("staff_a", otp=code).status_code == 200
    assert get_token("staff_a", otp=code).json()["code"] == "otp_invalid"


def test_wrong_password_is_refused(staff_a):
    response = get_token("staff_a", password="wrong-password")

    assert response.status_code == 403
    assert response.json() == {"detail": "手机号/用户名或密码不正确。"}


@pytest.mark.parametrize("role", ["staff_a", "resident"])
def test_token_lifetimes_come_from_the_environment(role, request, settings):
    settings.API_TOKEN_STAFF_SECONDS = 600
    settings.API_TOKEN_RESIDENT_SECONDS = 3600
    user = request.getfixturevalue(role)

    if role == "staff_a":
        staff_token(user)
    else:
        get_token("resident_a1")

    expected = timedelta(seconds=600 if role == "staff_a" else 3600)
    assert abs(ApiToken.objects.get(user=user).expiry - (timezone.now() + expected)) < timedelta(seconds=30)


# --- refusing ---------------------------------------------------------------------------------------------
def test_no_token_or_a_bad_one_is_401(db):
    response = APIClient().get("/api/v1/me/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token")

    for header in ("Token " + "0" * 64, "Token", "Token a b"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/me/")
        assert (response.status_code, response.json()) == (401, INVALID), header


def test_an_expired_token_is_401_and_removed(resident):
    key = get_token("resident_a1").json()["token"]
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    response = me(key)

    assert (response.status_code, response.json()) == (401, INVALID)
    assert not ApiToken.objects.exists()


def test_a_password_change_on_the_page_ends_tokens_and_other_sessions(staff_a):
    key = staff_token(staff_a)
    other_browser = verified_login(Client(), staff_a)
    this_browser = verified_login(Client(), staff_a)

    response = this_browser.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.url == "/"
    assert me(key).status_code == 401
    assert not ApiToken.objects.filter(user=staff_a).exists()
    assert other_browser.get("/notifications/").url == "/accounts/login/?next=/notifications/"
    assert this_browser.get("/notifications/").status_code == 200


@pytest.mark.parametrize("path", ["admin form", "set_password"])
def test_a_password_set_anywhere_else_ends_tokens_too(path, resident):
    key = get_token("resident_a1").json()["token"]
    browser = verified_login(Client(), resident)
    user = User.objects.get(pk=resident.pk)

    if path == "admin form":
        form = AdminPasswordChangeForm(user, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert form.is_valid(), form.errors
        form.save()
    else:
        user.set_password(NEW_PASSWORD)
        user.save()

    assert me(key).status_code == 401
    assert browser.get("/registry/my-building/").status_code == 302
    assert me(get_token("resident_a1", password=NEW_PASSWORD).json()["token"]).status_code == 200


def test_a_disabled_account_loses_its_tokens_and_sessions(staff_a, admin_user, client_for):
    key = staff_token(staff_a)
    browser = verified_login(Client(), staff_a)
    admin = client_for(admin_user)
    page = admin.get(f"/admin/accounts/user/{staff_a.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"is_active": "", "roles-TOTAL_FORMS": "0", "roles-INITIAL_FORMS": "0"})
    data = {key: value for key, value in data.items() if key not in ("is_active", "groups", "user_permissions")}
    data["date_joined_0"], data["date_joined_1"] = str(staff_a.date_joined.date()), "00:00:00"

    response = admin.post(f"/admin/accounts/user/{staff_a.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert User.objects.get(pk=staff_a.pk).is_active is False
    assert not ApiToken.objects.filter(user=staff_a).exists()
    assert me(key).status_code == 401
    assert browser.get("/notifications/").status_code == 302
    # Enabled again, the old sessions stay ended.
    User.objects.filter(pk=staff_a.pk).update(is_active=True)
    assert browser.get("/notifications/").status_code == 302


# --- revoking -----------------------------------------------------------------------------------------------
def test_revoking_a_device_on_my_devices_makes_its_token_401(resident, client_for):
    phone = get_token("resident_a1", device="手机").json()["token"]
    tablet = get_token("resident_a1", device="平板").json()["token"]
    page = client_for(resident)
    listing = page.get("/accounts/devices/").content.decode()
    assert listing.count('data-testid="token"') == 2
    phone_row = ApiToken.objects.get(name="手机")

    response = page.post(f"/accounts/devices/tokens/{phone_row.pk}/revoke/")

    assert response.url == "/accounts/devices/"
    assert me(phone).status_code == 401
    assert me(tablet).status_code == 200
    assert page.get("/accounts/devices/").content.decode().count('data-testid="token"') == 1
    entry = AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get()
    assert (entry.user, entry.action, entry.object_repr) == (
        resident,
        AuditEntry.Action.TOKENS_REVOKED,
        "手机 · " + str(resident),
    )


def test_another_users_token_cannot_be_revoked(resident, staff_a, client_for):
    key = get_token("resident_a1").json()["token"]
    token = ApiToken.objects.get(user=resident)

    assert client_for(staff_a).post(f"/accounts/devices/tokens/{token.pk}/revoke/").status_code == 404
    assert me(key).status_code == 200
    assert not AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).exists()


def test_sign_out_other_devices_keeps_this_one(resident, client_for):
    key = get_token("resident_a1").json()["token"]
    other = verified_login(Client(), resident)
    this = client_for(resident)

    assert this.post("/accounts/devices/sign-out-others/").url == "/accounts/devices/"

    assert me(key).status_code == 401
    assert other.get("/registry/my-building/").status_code == 302
    assert this.get("/registry/my-building/").status_code == 200
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get().action == AuditEntry.Action.TOKENS_REVOKED


def test_api_logout_revokes_the_current_token_and_logout_all_every_token(resident):
    first = get_token("resident_a1").json()["token"]
    second = get_token("resident_a1").json()["token"]
    third = get_token("resident_a1").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")

    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert (me(first).status_code, me(second).status_code) == (401, 200)

    client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert client.post("/api/v1/auth/logout-all/").status_code == 204
    assert (me(second).status_code, me(third).status_code) == (401, 401)
    assert not ApiToken.objects.exists()


def test_my_devices_lists_only_live_tokens_of_mine(resident, staff_a, client_for, django_assert_max_num_queries):
    get_token("resident_a1", device="设备0")  # one through the endpoint; the rest under its rate limit
    for n in range(1, 20):
        token_issue(user=resident, name=f"设备{n}")
    ApiToken.objects.filter(name="设备0").update(expiry=timezone.now() - timedelta(minutes=1))
    staff_token(staff_a, device="别人的")
    client = client_for(resident)

    with django_assert_max_num_queries(12):
        page = client.get("/accounts/devices/").content.decode()

    assert page.count('data-testid="token"') == 19
    assert "别人的" not in page and "设备0<" not in page


def test_an_unverified_staff_session_is_not_an_api_login(staff_a):
    totp_device(staff_a)
    browser = Client()
    browser.force_login(staff_a)

    response = browser.get("/api/v1/me/")

    assert response.status_code == 403
    assert response.json()["code"] == "otp_required"
