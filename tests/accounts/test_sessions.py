"""Session limits (accounts/sessions.py): staff 8 h after signing in and 30 min after their last
request; residents 14 days; the idle warning's data and the keepalive view.

A test moves a session's clocks into the past (the two epoch-second keys the session keeps)
instead of waiting."""

import re
import time

import pytest
from django.test import Client

from accounts import sessions
from tests.factories import PASSWORD
from tests.signin import totp_code, totp_device

pytestmark = pytest.mark.django_db

PAGE = "/notifications/"
IDLE_MESSAGE = "您已较长时间没有操作，为保护居民信息已自动退出，请重新登录。"
MAX_MESSAGE = "登录已超过规定时长，为保护居民信息已自动退出，请重新登录。"


def move_clocks(client, *, signed_in_ago=None, seen_ago=None):
    session = client.session
    now = int(time.time())
    if signed_in_ago is not None:
        session[sessions.SIGNED_IN_AT] = now - signed_in_ago
    if seen_ago is not None:
        session[sessions.SEEN_AT] = now - seen_ago
    session.save()


def signed_in_user_id(client):
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def staff_sign_in(user):
    """Through the pages: password, then the code."""
    device = totp_device(user)
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert client.post("/accounts/two-factor/", {"code": totp_code(device)}).status_code == 302
    return client


def test_staff_session_lasts_30_minutes_idle_from_sign_in(staff_a):
    client = staff_sign_in(staff_a)

    session = client.session
    assert session.get_expiry_age() == 30 * 60
    assert abs(session[sessions.SIGNED_IN_AT] - time.time()) < 5
    assert client.cookies["sessionid"]["max-age"] == 30 * 60


def test_staff_idle_for_30_minutes_are_signed_out(staff_a, client_for):
    client = client_for(staff_a)
    move_clocks(client, seen_ago=29 * 60)
    assert client.get(PAGE).status_code == 200

    move_clocks(client, seen_ago=30 * 60 + 1)
    response = client.get(PAGE, follow=True)

    assert response.redirect_chain[0] == (f"/accounts/login/?next={PAGE}", 302)
    assert IDLE_MESSAGE in response.content.decode()
    assert signed_in_user_id(client) is None


def test_activity_moves_the_idle_clock_on(staff_a, client_for):
    client = client_for(staff_a)
    move_clocks(client, seen_ago=25 * 60)

    assert client.get(PAGE).status_code == 200

    assert abs(client.session[sessions.SEEN_AT] - time.time()) < 5
    assert client.session.get_expiry_age() == 30 * 60


def test_staff_are_signed_out_8_hours_after_signing_in_however_busy(staff_a, client_for):
    client = client_for(staff_a)
    move_clocks(client, signed_in_ago=8 * 3600 - 60, seen_ago=120)
    assert client.get(PAGE).status_code == 200
    # Near the end the session's own expiry is what is left of the 8 hours.
    assert client.session.get_expiry_age() <= 60

    move_clocks(client, signed_in_ago=8 * 3600 + 1, seen_ago=10)
    response = client.get(PAGE, follow=True)

    assert MAX_MESSAGE in response.content.decode()
    assert signed_in_user_id(client) is None


def test_an_expired_staff_session_cannot_use_the_api(staff_a, client_for):
    client = client_for(staff_a)
    move_clocks(client, seen_ago=31 * 60)

    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert signed_in_user_id(client) is None


def test_residents_stay_signed_in_for_14_days(resident):
    client = Client()
    client.post("/accounts/login/", {"username": resident.mobile, "password": PASSWORD})

    assert client.session.get_expiry_age() == 14 * 86400
    assert client.cookies["sessionid"]["max-age"] == 14 * 86400
    move_clocks(client, signed_in_ago=13 * 86400, seen_ago=13 * 86400)
    assert client.get("/registry/my-building/").status_code == 200
    assert signed_in_user_id(client) == resident.pk


def test_limits_come_from_the_environment(staff_a, client_for, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 120
    settings.STAFF_SESSION_MAX_SECONDS = 600
    client = client_for(staff_a)

    move_clocks(client, seen_ago=121)
    assert client.get(PAGE).status_code == 302

    client = client_for(staff_a)
    move_clocks(client, signed_in_ago=601, seen_ago=1)
    assert client.get(PAGE).status_code == 302


# --- the warning and the keepalive ----------------------------------------------------------------
def test_staff_pages_carry_the_idle_warning_data(staff_a, client_for):
    client = client_for(staff_a)
    move_clocks(client, seen_ago=10 * 60)

    page = client.get(PAGE).content.decode()

    tag = re.search(r'<div id="session-warning"[^>]*>', page, re.S).group(0)
    assert 'data-idle-seconds="1800"' in tag
    assert 'data-warn-seconds="180"' in tag
    assert 'data-keepalive-url="/accounts/session/keepalive/"' in tag
    assert int(re.search(r'data-idle-left="(\d+)"', tag).group(1)) > 1790  # this request counted
    assert '<script src="/static/js/session.js" nonce=' in page


def test_resident_pages_have_no_idle_warning(resident, client_for):
    page = client_for(resident).get("/registry/my-building/").content.decode()

    assert 'id="session-warning"' not in page


def test_keepalive_tells_the_time_left_and_post_resets_it(staff_a, client_for):
    client = client_for(staff_a)
    move_clocks(client, seen_ago=28 * 60)

    # A GET only asks (the warning checks whether another tab was busy); it is no activity.
    left = client.get("/accounts/session/keepalive/").json()["idle_seconds_left"]
    assert 2 * 60 - 2 <= left <= 2 * 60

    client = client_for(staff_a)
    move_clocks(client, seen_ago=28 * 60)
    response = client.post("/accounts/session/keepalive/")

    assert response.status_code == 200
    assert response.json()["idle_seconds_left"] >= 30 * 60 - 2


def test_keepalive_after_the_limit_is_a_sign_in_page(staff_a, client_for):
    client = client_for(staff_a)
    move_clocks(client, seen_ago=31 * 60)

    response = client.post("/accounts/session/keepalive/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
