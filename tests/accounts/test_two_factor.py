"""The second factor for every non-resident account (accounts/two_factor.py, accounts/middleware.py).

Codes are computed with pyotp from the secret the page shows or the device holds, as an
authenticator app would (tests/signin.py); nothing of our own is mocked.
"""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import ApiToken, User
from accounts.tokens import token_issue
from baohe.models import AuditEntry
from tests.factories import PASSWORD, RoleFactory, UserFactory
from tests.signin import code_for_secret, totp_code, totp_device, verified_login

pytestmark = pytest.mark.django_db

WRONG_CODE = "验证码不正确或已用过，请重试。连续输错后需等待片刻。"
PAGE = "/notifications/"  # any staff page


def password_step(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def signed_in_user_id(client):
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def shown_secret(page):
    return re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)


def wrong(code):
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def clear_throttle(user):
    """django-otp waits 2^(n-1) seconds after n wrong codes on a device; a test moves on without the wait."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


# --- who needs it -----------------------------------------------------------------------------------
def test_every_non_resident_account_needs_a_second_factor(
    resident, staff_a, secretary_a, street_official_a, district_official, admin_user
):
    django_staff = UserFactory(username="django_staff", is_staff=True)

    assert not two_factor.needs_second_factor(resident)
    for user in (staff_a, secretary_a, street_official_a, district_official, admin_user, django_staff):
        assert two_factor.needs_second_factor(User.objects.get(pk=user.pk)), user.username


def test_residents_sign_in_with_the_password_only(resident, client):
    response = client.post("/accounts/login/", {"username": resident.mobile, "password": PASSWORD})

    assert response.url == "/"
    assert client.get("/", follow=True).redirect_chain[-1] == ("/registry/my-building/", 302)
    assert not TOTPDevice.objects.filter(user=resident).exists()


# --- enrolment on the first sign-in ---------------------------------------------------------------------
def test_first_sign_in_enrols_an_authenticator_then_shows_backup_codes_once(staff_a, client):
    response = password_step(client, "staff_a")
    assert response.url == "/accounts/two-factor/setup/?next=/"
    # Until then every page sends them back to enrol.
    assert client.get(PAGE).url == "/accounts/two-factor/setup/?next=/notifications/"

    page = client.get(response.url).content.decode()
    assert "<svg" in page and 'class="totp-qr"' in page  # the QR code, drawn server side
    secret = shown_secret(page)
    assert len(secret) == 32
    device = TOTPDevice.objects.get(user=staff_a)
    assert (device.confirmed, two_factor.totp_secret(device)) == (False, secret)

    refused = client.post("/accounts/two-factor/setup/?next=/", {"code": wrong(code_for_secret(secret))})
    assert refused.status_code == 200
    assert "验证码不正确，请用验证器上当前显示的 6 位数字重试。" in refused.content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False
    clear_throttle(staff_a)

    response = client.post("/accounts/two-factor/setup/", {"code": code_for_secret(secret), "next": PAGE})
    assert response.status_code == 302
    assert response.url == "/accounts/two-factor/backup-codes/?next=/notifications/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is True

    page = client.get(response.url).content.decode()
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", page)
    assert len(codes) == 10
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=staff_a).values_list("token", flat=True))
    assert "data-print" in page and 'href="/notifications/"' in page
    # Shown once: the next visit only counts them.
    again = client.get("/accounts/two-factor/backup-codes/").content.decode()
    assert not any(code in again for code in codes)
    assert "还剩 10 个备用码未使用。" in again
    # The session is verified: the portal opens.
    assert client.get(PAGE).status_code == 200


def test_enrolment_page_is_not_for_someone_already_enrolled(staff_a, client):
    totp_device(staff_a)
    password_step(client, "staff_a")

    assert client.get("/accounts/two-factor/setup/").url == "/accounts/two-factor/?next=/"
    assert TOTPDevice.objects.filter(user=staff_a).count() == 1


# --- the code page --------------------------------------------------------------------------------------
def test_enrolled_staff_sign_in_with_password_and_code(staff_a, client):
    device = totp_device(staff_a)
    response = password_step(client, "staff_a")
    assert response.url == "/accounts/two-factor/?next=/"
    assert client.get(PAGE).url == "/accounts/two-factor/?next=/notifications/"

    code = totp_code(device)
    refused = client.post("/accounts/two-factor/?next=/notifications/", {"code": wrong(code)})
    assert refused.status_code == 200
    assert WRONG_CODE in refused.content.decode()
    assert client.get(PAGE).status_code == 302
    clear_throttle(staff_a)

    response = client.post("/accounts/two-factor/?next=/notifications/", {"code": code, "next": PAGE})

    assert (response.status_code, response.url) == (302, PAGE)
    assert client.get(PAGE).status_code == 200


def test_a_code_is_refused_the_second_time(staff_a):
    device = totp_device(staff_a)
    first = Client()
    password_step(first, "staff_a")
    code = totp_code(device)
    assert first.post("/accounts/two-factor/", {"code": code}).status_code == 302

    second = Client()
    password_step(second, "staff_a")
    response = second.post("/accounts/two-factor/", {"code": code})

    assert response.status_code == 200
    assert WRONG_CODE in response.content.decode()


def test_a_backup_code_works_once(staff_a):
    totp_device(staff_a)
    codes = two_factor.backup_codes_regenerate(user=staff_a)

    first = Client()
    password_step(first, "staff_a")
    response = first.post("/accounts/two-factor/", {"code": codes[0].upper()}, follow=True)
    assert response.redirect_chain[0] == ("/", 302)
    assert "您用了一个备用码，还剩 9 个。可在“我的设备”里重新生成。" in response.content.decode()

    second = Client()
    password_step(second, "staff_a")
    refused = second.post("/accounts/two-factor/", {"code": codes[0]})
    assert WRONG_CODE in refused.content.decode()
    clear_throttle(staff_a)
    assert second.post("/accounts/two-factor/", {"code": codes[1]}).status_code == 302


def test_regenerated_backup_codes_replace_the_old_ones(staff_a, client_for):
    old = two_factor.backup_codes_regenerate(user=staff_a)
    client = client_for(staff_a)

    response = client.post("/accounts/two-factor/backup-codes/")
    assert response.url == "/accounts/two-factor/backup-codes/"
    new = re.findall(r"<li>([a-z2-7]{8})</li>", client.get(response.url).content.decode())

    assert len(new) == 10 and not set(new) & set(old)
    assert two_factor.verify_code(user=staff_a, code=old[0]) is None
    clear_throttle(staff_a)
    assert two_factor.verify_code(user=staff_a, code=new[0]) is not None


def test_next_must_be_one_of_our_pages(staff_a, client):
    device = totp_device(staff_a)
    password_step(client, "staff_a")

    response = client.post("/accounts/two-factor/", {"code": totp_code(device), "next": "https://evil.example/"})

    assert response.url == "/"


# --- what an unverified session may do ------------------------------------------------------------------
def test_unverified_session_gets_403_json_on_the_api(staff_a, client):
    totp_device(staff_a)
    password_step(client, "staff_a")

    response = client.get("/api/v1/me/")

    assert response.status_code == 403
    assert response.json() == {"detail": "请先在网页上完成双因素验证。", "code": "otp_required"}


def test_unverified_session_may_sign_out_and_switch_language(staff_a, client):
    totp_device(staff_a)
    password_step(client, "staff_a")

    assert client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/two-factor/"}).status_code == 302
    assert client.post("/accounts/logout/").url == "/accounts/login/"
    assert signed_in_user_id(client) is None


def test_verified_session_reaches_the_api(staff_a, client_for):
    response = client_for(staff_a).get("/api/v1/me/")

    assert (response.status_code, response.json()["username"]) == (200, "staff_a")


# --- the admin site ----------------------------------------------------------------------------------------
def test_admin_needs_a_verified_second_factor(admin_user):
    unverified = Client()
    unverified.force_login(admin_user)
    assert unverified.get("/admin/").url == "/accounts/two-factor/setup/?next=/admin/"

    assert verified_login(Client(), admin_user).get("/admin/").status_code == 200


def test_admin_login_form_refuses_the_password_alone(admin_user):
    totp_device(admin_user)
    client = Client()

    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": PASSWORD})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_admin_login_form_takes_the_password_and_a_code(admin_user):
    device = totp_device(admin_user)
    client = Client()

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": PASSWORD, "otp_device": device.persistent_id, "otp_token": totp_code(device)},
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# --- "lost my phone" -----------------------------------------------------------------------------------------
@pytest.fixture
def lost_phone(staff_a):
    """staff_a enrolled, signed in on a browser and holding an API token."""
    totp_device(staff_a)
    two_factor.backup_codes_regenerate(user=staff_a)
    browser = verified_login(Client(), staff_a)
    assert browser.get(PAGE).status_code == 200
    token_issue(user=staff_a, name="手机")
    return browser


def test_secretary_resets_a_staff_member_of_their_community(lost_phone, staff_a, secretary_a, client_for):
    secretary = client_for(secretary_a)
    listing = secretary.get("/accounts/two-factor/reset/").content.decode()
    assert 'data-testid="person-staff_a"' in listing

    confirm = secretary.get(f"/accounts/two-factor/reset/{staff_a.pk}/")
    assert confirm.status_code == 200
    response = secretary.post(f"/accounts/two-factor/reset/{staff_a.pk}/")

    assert response.url == "/accounts/two-factor/reset/"
    assert not TOTPDevice.objects.filter(user=staff_a).exists()
    assert not StaticToken.objects.filter(device__user=staff_a).exists()
    assert not ApiToken.objects.filter(user=staff_a).exists()
    # Their browser is signed out; their next sign-in enrols a new authenticator.
    assert lost_phone.get(PAGE).url == "/accounts/login/?next=/notifications/"
    assert password_step(Client(), "staff_a").url == "/accounts/two-factor/setup/?next=/"
    entry = AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get()
    assert (entry.user, entry.action, entry.object_type, entry.object_id) == (
        secretary_a,
        AuditEntry.Action.OTP_RESET,
        "accounts.user",
        str(staff_a.pk),
    )


def test_secretary_cannot_reset_staff_of_another_community(district, secretary_a, client_for):
    other = UserFactory(username="staff_of_a2")
    RoleFactory(user=other, community=district.a2.community)
    totp_device(other)
    token_issue(user=other, name="手机")
    secretary = client_for(secretary_a)

    assert secretary.get(f"/accounts/two-factor/reset/{other.pk}/").status_code == 404
    assert secretary.post(f"/accounts/two-factor/reset/{other.pk}/").status_code == 404
    assert 'data-testid="person-staff_of_a2"' not in secretary.get("/accounts/two-factor/reset/").content.decode()

    assert TOTPDevice.objects.filter(user=other, confirmed=True).count() == 1
    assert ApiToken.objects.filter(user=other).count() == 1
    assert User.objects.get(pk=other.pk).credentials_version == 0
    assert not AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).exists()


def test_staff_and_officials_have_no_reset_page(lost_phone, staff_a, street_official_a, secretary_a, client_for):
    for user in (staff_a, street_official_a):
        client = client_for(user)
        assert client.get("/accounts/two-factor/reset/").status_code == 404
        assert client.post(f"/accounts/two-factor/reset/{secretary_a.pk}/").status_code == 404
    assert TOTPDevice.objects.filter(user=staff_a, confirmed=True).exists()
    assert not AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).exists()


def test_administrator_resets_anyone(district, staff_b, secretary_a, admin_user, client_for):
    totp_device(secretary_a)
    admin = client_for(admin_user)
    listing = admin.get("/accounts/two-factor/reset/").content.decode()
    assert 'data-testid="person-secretary_a"' in listing and 'data-testid="person-staff_b"' in listing

    assert admin.post(f"/accounts/two-factor/reset/{secretary_a.pk}/").status_code == 302

    assert not TOTPDevice.objects.filter(user=secretary_a).exists()
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get().action == AuditEntry.Action.OTP_RESET


def test_reset_list_queries_do_not_grow_with_the_people(
    district, admin_user, client_for, django_assert_max_num_queries
):
    admin = client_for(admin_user)
    for n in range(20):
        user = UserFactory(username=f"worker{n:02d}")
        RoleFactory(user=user, community=district.a1.community)
        if n % 2:
            totp_device(user)

    with django_assert_max_num_queries(9):
        page = admin.get("/accounts/two-factor/reset/").content.decode()

    assert page.count('data-testid="person-worker') == 20
    assert page.count("已绑定") == 10 + 1  # and the administrator's own


def test_admin_action_resets_the_second_factor(lost_phone, staff_a, admin_user, client_for):
    response = client_for(admin_user).post(
        "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [staff_a.pk]}
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff_a).exists()
    assert not ApiToken.objects.filter(user=staff_a).exists()
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get().action == AuditEntry.Action.OTP_RESET
