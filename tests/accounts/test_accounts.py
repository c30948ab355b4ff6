"""Signing in and resident self-registration, through the pages and the API.

Codes travel through the real SMS backend interface (``baohe.sms.LogBackend``, whose
``outbox`` keeps what was sent); nothing of our own is mocked.
"""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import PhoneCode, Role, User
from baohe.sms import LogBackend
from tests.factories import PASSWORD, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Hemei-register-2024!"
BAD_CODE = "验证码错误或已过期，请重新获取。"
TOO_SOON = "验证码已发送，请稍后再试。"
MOBILE_MESSAGE = "请输入 11 位中国大陆手机号码，如 13812345678。"


@pytest.fixture(autouse=True)
def sms(settings):
    """The log backend with an empty outbox, and the documented code limits."""
    settings.SMS_BACKEND = "baohe.sms.LogBackend"
    settings.PHONE_CODE_RESEND_SECONDS = 60
    settings.PHONE_CODE_MAX_ATTEMPTS = 5
    settings.PHONE_CODE_TTL_SECONDS = 600
    LogBackend.outbox.clear()
    yield LogBackend.outbox
    LogBackend.outbox.clear()


def sent_code(outbox, mobile):
    """The 6-digit code in the last SMS sent to ``mobile``."""
    messages = [m for m in outbox if m.to == mobile]
    assert messages, f"no SMS to {mobile}"
    return re.search(r"\b(\d{6})\b", messages[-1].body).group(1)


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def logged_in_user_id(client):
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def form_errors(response):
    assert response.status_code == 200
    return {key: list(messages) for key, messages in response.context["form"].errors.items()}


@pytest.fixture
def registered_household(district):
    """A mobile number staff registered for two resident records (A1 and B1) without an account."""
    a1_record = district.a1.residents[4]
    b1_record = district.b1.residents[7]
    b1_record.mobile = a1_record.mobile
    b1_record.save(update_fields=["mobile"])
    return a1_record.mobile, [a1_record, b1_record]


# --- login ---------------------------------------------------------------------------------------
def test_staff_logs_in_with_username_then_meets_the_second_step(staff_a, client):
    response = client.post("/accounts/login/", {"username": "staff_a", "password": PASSWORD})

    # First sign-in: enrol an authenticator (tests/accounts/test_two_factor.py goes on from here).
    assert response.status_code == 302
    assert response.url == "/accounts/two-factor/setup/?next=/"
    assert logged_in_user_id(client) == staff_a.pk


def test_resident_logs_in_with_mobile(resident, client):
    response = client.post("/accounts/login/", {"username": f" {resident.mobile} ", "password": PASSWORD})

    assert response.status_code == 302
    assert logged_in_user_id(client) == resident.pk
    assert client.get("/", follow=True).redirect_chain[-1] == ("/registry/my-building/", 302)


@pytest.mark.parametrize("username", ["staff_a", "13900000000", "nobody"])
def test_wrong_password_is_refused_with_a_message(username, staff_a, resident, client):
    response = client.post("/accounts/login/", {"username": username, "password": "wrong-password"})

    assert form_errors(response) == {"__all__": ["手机号/用户名或密码不正确。"]}
    assert "手机号/用户名或密码不正确。" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_inactive_user_cannot_log_in(staff_a, client):
    staff_a.is_active = False
    staff_a.save(update_fields=["is_active"])

    response = client.post("/accounts/login/", {"username": "staff_a", "password": PASSWORD})

    assert response.status_code == 200
    assert logged_in_user_id(client) is None


# --- registration through the page -----------------------------------------------------------------
def register_page(client, mobile, code, password=NEW_PASSWORD, name="", password2=None):
    return client.post(
        "/accounts/register/",
        {
            "action": "register",
            "mobile": mobile,
            "code": code,
            "name": name,
            "password1": password,
            "password2": password if password2 is None else password2,
        },
    )


def send_code_page(client, mobile):
    return client.post("/accounts/register/", {"action": "send_code", "mobile": mobile})


def test_page_registration_links_records_and_logs_in(registered_household, client, sms):
    mobile, records = registered_household

    response = send_code_page(client, mobile)
    assert response.status_code == 200
    assert f"短信已发送到 {mobile[:3]}****{mobile[-4:]}，请查收。" in response.content.decode()
    assert [m.to for m in sms] == [mobile]
    assert sms[0].body.startswith("【和美社区】您的验证码是 ")
    code = sent_code(sms, mobile)

    response = register_page(client, mobile, code)

    assert response.status_code == 302
    assert response.url == "/"
    user = User.objects.with_mobile(mobile).get()
    assert user.name == records[0].name
    # The username is opaque (not the mobile number, which stays encrypted): resident_ + 12 hex digits.
    assert re.fullmatch(r"resident_[0-9a-f]{12}", user.username)
    assert user.check_password(NEW_PASSWORD)
    assert logged_in_user_id(client) == user.pk
    assert sorted(user.resident_records.values_list("pk", flat=True)) == sorted(r.pk for r in records)
    assert sorted(user.roles.values_list("kind", "community_id")) == sorted(
        (Role.Kind.RESIDENT, r.community_id) for r in records
    )
    # The new resident sees their building at once.
    page = client.get("/registry/my-building/").content.decode()
    assert page.count('data-testid="my-household"') == 2


def test_page_registration_without_records_makes_a_bare_resident(district, client, sms):
    mobile = "13700001234"
    send_code_page(client, mobile)

    response = register_page(client, mobile, sent_code(sms, mobile), name="王新")

    assert response.status_code == 302
    user = User.objects.with_mobile(mobile).get()
    assert user.name == "王新"
    assert list(user.roles.all()) == []
    assert "您的手机号尚未与社区登记的住户关联。" in client.get("/registry/my-building/").content.decode()


def test_page_wrong_code_is_an_error_on_code(registered_household, client, sms):
    mobile, records = registered_household
    send_code_page(client, mobile)

    response = register_page(client, mobile, wrong(sent_code(sms, mobile)))

    assert form_errors(response) == {"code": [BAD_CODE]}
    assert User.objects.with_mobile(mobile).count() == 0
    assert logged_in_user_id(client) is None
    assert [r.user_id for r in records] == [None, None]


def test_page_code_without_sending_is_an_error_on_code(district, client):
    response = register_page(client, "13700001234", "123456")

    assert form_errors(response) == {"code": [BAD_CODE]}
    assert User.objects.with_mobile("13700001234").count() == 0


def test_five_wrong_codes_use_the_code_up(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)
    code = sent_code(sms, mobile)

    for _ in range(5):
        assert form_errors(register_page(client, mobile, wrong(code))) == {"code": [BAD_CODE]}
    assert PhoneCode.objects.for_mobile(mobile).get().attempts == 5

    response = register_page(client, mobile, code)

    assert form_errors(response) == {"code": [BAD_CODE]}
    assert User.objects.with_mobile(mobile).count() == 0


def test_four_wrong_codes_still_allow_the_right_one(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)
    code = sent_code(sms, mobile)
    for _ in range(4):
        register_page(client, mobile, wrong(code))

    response = register_page(client, mobile, code)

    assert response.status_code == 302
    assert User.objects.with_mobile(mobile).count() == 1


def test_a_code_works_once(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)
    code = sent_code(sms, mobile)
    User.objects.create_user(username="someone", password=PASSWORD)  # unrelated
    assert register_page(client, mobile, code).status_code == 302
    client.logout()
    # The account gives up the number (it cannot be deleted: its sign-in is in the audit trail).
    for account in User.objects.with_mobile(mobile):
        account.mobile = None
        account.username = "gave-up-the-number"
        account.save()

    response = register_page(client, mobile, code)

    assert form_errors(response) == {"code": [BAD_CODE]}


def test_expired_code_is_refused(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)
    PhoneCode.objects.for_mobile(mobile).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = register_page(client, mobile, sent_code(sms, mobile))

    assert form_errors(response) == {"code": [BAD_CODE]}


def test_resend_within_60_seconds_is_refused(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)

    response = send_code_page(client, mobile)

    assert form_errors(response) == {"mobile": [TOO_SOON]}
    assert [m.to for m in sms] == [mobile]
    assert PhoneCode.objects.for_mobile(mobile).count() == 1


def test_resend_after_60_seconds_sends_a_new_code_and_only_it_works(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)
    first = sent_code(sms, mobile)
    PhoneCode.objects.for_mobile(mobile).update(created_at=timezone.now() - timedelta(seconds=61))

    assert send_code_page(client, mobile).status_code == 200
    second = sent_code(sms, mobile)
    assert len(sms) == 2

    if first != second:
        assert form_errors(register_page(client, mobile, first)) == {"code": [BAD_CODE]}
    assert register_page(client, mobile, second).status_code == 302


@pytest.mark.parametrize("mobile", ["12345", "2381234567a"])
def test_page_malformed_mobile_is_an_error_on_mobile(mobile, district, client, sms):
    response = send_code_page(client, mobile)

    assert form_errors(response) == {"mobile": [MOBILE_MESSAGE]}
    assert list(sms) == []


def test_page_password_mismatch_is_an_error_on_password2(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)

    response = register_page(client, mobile, sent_code(sms, mobile), password2="Other-password-1")

    assert form_errors(response) == {"password2": ["两次输入的密码不一致。"]}
    assert User.objects.with_mobile(mobile).count() == 0


def test_page_weak_password_is_an_error_on_password1(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)

    response = register_page(client, mobile, sent_code(sms, mobile), password="12345678")

    errors = form_errors(response)
    assert list(errors) == ["password1"]
    assert User.objects.with_mobile(mobile).count() == 0
    # The code was not spent on a password the portal refused.
    assert PhoneCode.objects.for_mobile(mobile).get().used_at is None


def test_page_english_request_keeps_the_field_keys(registered_household, client, sms):
    mobile, _records = registered_household
    send_code_page(client, mobile)

    response = client.post(
        "/accounts/register/",
        {
            "action": "register",
            "mobile": mobile,
            "code": wrong(sent_code(sms, mobile)),
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert list(form_errors(response)) == ["code"]


# --- registration through the API -----------------------------------------------------------------
def test_api_registration(registered_household, sms):
    mobile, records = registered_household
    api = APIClient()

    response = api.post("/api/v1/register/code/", {"mobile": mobile}, format="json")
    assert response.status_code == 204
    code = sent_code(sms, mobile)

    response = api.post("/api/v1/register/", {"mobile": mobile, "code": code, "password": NEW_PASSWORD}, format="json")

    assert response.status_code == 201
    user = User.objects.with_mobile(mobile).get()
    body = response.json()
    assert (
        {key: body[key] for key in ("id", "username", "name", "mobile")}
        == {
            "id": user.pk,
            "username": user.username,  # opaque (resident_…), never the mobile number
            "name": records[0].name,
            "mobile": f"{mobile[:3]}****{mobile[-4:]}",
        }
    )
    assert sorted((role["kind"], role["community"]) for role in body["roles"]) == sorted(
        ("resident", r.community_id) for r in records
    )
    assert sorted(user.resident_records.values_list("pk", flat=True)) == sorted(r.pk for r in records)


def test_api_wrong_code_is_400_on_code(registered_household, sms):
    mobile, _records = registered_household
    api = APIClient()
    api.post("/api/v1/register/code/", {"mobile": mobile}, format="json")

    response = api.post(
        "/api/v1/register/",
        {"mobile": mobile, "code": wrong(sent_code(sms, mobile)), "password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"code": [BAD_CODE]}
    assert User.objects.with_mobile(mobile).count() == 0


def test_api_five_wrong_codes_use_the_code_up(registered_household, sms):
    mobile, _records = registered_household
    api = APIClient()
    api.post("/api/v1/register/code/", {"mobile": mobile}, format="json")
    code = sent_code(sms, mobile)
    payload = {"mobile": mobile, "password": NEW_PASSWORD}

    statuses = [
        api.post("/api/v1/register/", {**payload, "code": wrong(code)}, format="json").status_code for _ in range(5)
    ]
    response = api.post("/api/v1/register/", {**payload, "code": code}, format="json")

    assert statuses == [400] * 5
    assert response.status_code == 400
    assert response.json() == {"code": [BAD_CODE]}
    assert User.objects.with_mobile(mobile).count() == 0


def test_api_resend_within_60_seconds_is_400(registered_household, sms):
    mobile, _records = registered_household
    api = APIClient()
    assert api.post("/api/v1/register/code/", {"mobile": mobile}, format="json").status_code == 204

    response = api.post("/api/v1/register/code/", {"mobile": mobile}, format="json")

    assert response.status_code == 400
    assert response.json() == {"mobile": [TOO_SOON]}
    assert len(sms) == 1


@pytest.mark.parametrize("mobile", ["12345", "2381234567a", ""])
def test_api_malformed_mobile_is_400_on_mobile(mobile, db, sms):
    api = APIClient()

    code = api.post("/api/v1/register/code/", {"mobile": mobile}, format="json")
    register = api.post(
        "/api/v1/register/", {"mobile": mobile, "code": "123456", "password": NEW_PASSWORD}, format="json"
    )

    assert (code.status_code, list(code.json())) == (400, ["mobile"])
    assert (register.status_code, list(register.json())) == (400, ["mobile"])
    assert list(sms) == []


def test_api_missing_fields_are_400_with_each_field(db):
    response = APIClient().post("/api/v1/register/", {}, format="json")

    assert response.status_code == 400
    assert sorted(response.json()) == ["code", "mobile", "password"]


def test_api_weak_password_is_400_on_password(registered_household, sms):
    mobile, _records = registered_household
    api = APIClient()
    api.post("/api/v1/register/code/", {"mobile": mobile}, format="json")

    response = api.post(
        "/api/v1/register/", {"mobile": mobile, "code": sent_code(sms, mobile), "password": "12345678"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert User.objects.with_mobile(mobile).count() == 0


# --- the Role check constraint ----------------------------------------------------------------------
INVALID_ROLES = [
    pytest.param({"kind": Role.Kind.STAFF}, id="staff-nowhere"),
    pytest.param({"kind": Role.Kind.STAFF, "street": "a", "community": "a1"}, id="staff-both"),
    pytest.param({"kind": Role.Kind.STREET_OFFICIAL}, id="street-official-nowhere"),
    pytest.param({"kind": Role.Kind.STREET_OFFICIAL, "community": "a1"}, id="street-official-community"),
    pytest.param({"kind": Role.Kind.SECRETARY, "street": "a"}, id="secretary-street"),
    pytest.param({"kind": Role.Kind.RESIDENT}, id="resident-nowhere"),
    pytest.param({"kind": Role.Kind.DISTRICT_OFFICIAL, "street": "a"}, id="district-official-street"),
    pytest.param({"kind": Role.Kind.ADMIN, "community": "a1"}, id="admin-community"),
]


def role_kwargs(spec, district):
    places = {"a": district.street_a, "a1": district.a1.community}
    return {
        "kind": spec["kind"],
        "street": places.get(spec.get("street")),
        "community": places.get(spec.get("community")),
    }


@pytest.mark.parametrize("spec", INVALID_ROLES)
def test_role_scope_must_fit_kind_in_the_database(spec, district):
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(user=user, **role_kwargs(spec, district))
    assert user.roles.count() == 0


@pytest.mark.parametrize("spec", INVALID_ROLES)
def test_role_scope_must_fit_kind_in_validation(spec, district):
    role = Role(user=UserFactory(), **role_kwargs(spec, district))

    with pytest.raises(ValidationError) as error:
        role.full_clean()

    assert error.value.messages == [
        "角色的适用范围不对：街道领导填街道；书记和居民填社区；工作者填街道或社区之一；区领导和管理员都不填。"
    ]


def test_valid_roles_are_accepted(district):
    user = UserFactory()
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    RoleFactory(user=user, kind=Role.Kind.STAFF, community=district.a1.community)
    RoleFactory(user=user, street_official=True, street=district.street_b)
    RoleFactory(user=user, district_official=True)

    assert sorted(user.roles.values_list("kind", flat=True)) == [
        "district_official",
        "staff",
        "staff",
        "street_official",
    ]
