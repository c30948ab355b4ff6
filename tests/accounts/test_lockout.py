"""Login lockout (django-axes) on every password door, over HTTP against a live server, and the
"登录锁定" page where secretaries and administrators lift locks.

A staff login whose password is right is "accepted" when the answer is a redirect (home today,
or a second-factor step): a wrong password re-shows the form (200) and a lock answers 429.
"""

import re
from datetime import timedelta

import pytest
import requests
from axes.models import AccessAttempt, AccessFailureLog
from django.utils import timezone

from baohe.models import AuditEntry
from tests.factories import PASSWORD, RoleFactory, UserFactory

LOCKED = "登录失败次数过多，该账号在当前网络已被锁定。请 {minutes} 分钟后再试，或联系社区书记解除锁定。"
WRONG = "wrong-password"


# --- HTTP helpers ----------------------------------------------------------------------------------
def form_post(base, path, username, password, headers=None):
    """GET the form (for its CSRF token), then POST it, as a browser would; no redirects followed."""
    headers = headers or {}
    with requests.Session() as session:
        page = session.get(f"{base}{path}", headers=headers, timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return session.post(
            f"{base}{path}",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={**headers, "Referer": f"{base}{path}"},
            allow_redirects=False,
            timeout=10,
        )


def web_login(base, username, password, headers=None):
    return form_post(base, "/accounts/login/", username, password, headers)


def admin_login(base, username, password):
    return form_post(base, "/admin/login/?next=/admin/", username, password)


def token(base, username, password, headers=None):
    return requests.post(
        f"{base}/api/v1/auth/token/",
        json={"username": username, "password": password},
        headers=headers or {},
        timeout=10,
    )


def assert_locked_page(response, minutes=30):
    assert response.status_code == 429
    assert response.headers["Content-Type"].startswith("text/html")
    assert LOCKED.format(minutes=minutes) in response.text
    assert minutes * 60 - 60 < int(response.headers["Retry-After"]) <= minutes * 60


def assert_accepted(response):
    """The password was taken: a redirect away from the form (not the form again, not a lock)."""
    assert response.status_code == 302, response.status_code
    assert not response.headers["Location"].startswith("/accounts/login/")


def failures(username, ip="127.0.0.1"):
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=username, ip_address=ip))


# --- the web login -----------------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_web_login_then_a_secretary_lifts_it(
    staff_a, secretary_a, live_server, client_for
):
    for _ in range(4):
        response = web_login(live_server.url, "staff_a", WRONG)
        assert response.status_code == 200
        assert "手机号/用户名或密码不正确。" in response.text

    assert_locked_page(web_login(live_server.url, "staff_a", WRONG))
    assert_locked_page(web_login(live_server.url, "staff_a", PASSWORD))
    assert failures("staff_a") == 5
    logged = AccessFailureLog.objects.filter(username="staff_a").order_by("attempt_time")
    assert [entry.locked_out for entry in logged] == [False, False, False, False, True]

    page = client_for(secretary_a).get("/accounts/lockouts/")
    lock_ids = [lock.pk for lock in page.context["locks"] if lock.username == "staff_a"]
    assert len(lock_ids) == 1
    assert client_for(secretary_a).post(f"/accounts/lockouts/{lock_ids[0]}/unlock/").status_code == 302

    assert_accepted(web_login(live_server.url, "staff_a", PASSWORD))
    assert failures("staff_a") == 0


def test_resident_by_username_and_mobile_counts_as_one_account(resident, live_server):
    for typed in ["resident_a1", resident.mobile, f" {resident.mobile} ", "resident_a1"]:
        assert web_login(live_server.url, typed, WRONG).status_code == 200

    assert_locked_page(web_login(live_server.url, resident.mobile, WRONG))
    assert_locked_page(web_login(live_server.url, "resident_a1", PASSWORD))
    assert list(AccessAttempt.objects.values_list("username", flat=True).distinct()) == ["resident_a1"]


def test_a_success_resets_the_count(staff_a, live_server):
    for _ in range(4):
        web_login(live_server.url, "staff_a", WRONG)
    assert_accepted(web_login(live_server.url, "staff_a", PASSWORD))
    assert failures("staff_a") == 0

    for _ in range(4):
        assert web_login(live_server.url, "staff_a", WRONG).status_code == 200
    assert_accepted(web_login(live_server.url, "staff_a", PASSWORD))


def test_the_lock_expires_after_the_cool_off(resident, live_server):
    for _ in range(5):
        web_login(live_server.url, "resident_a1", WRONG)

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=20))
    assert_locked_page(web_login(live_server.url, "resident_a1", PASSWORD), minutes=10)

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    response = web_login(live_server.url, "resident_a1", PASSWORD)
    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_cool_off_and_limit_come_from_settings(resident, live_server, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=10)
    for _ in range(2):
        assert web_login(live_server.url, "resident_a1", WRONG).status_code == 200

    assert_locked_page(web_login(live_server.url, "resident_a1", WRONG), minutes=10)


# --- the client's IP ---------------------------------------------------------------------------------
def test_another_ip_is_not_locked_behind_a_trusted_proxy(staff_a, live_server, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = {"X-Forwarded-For": "203.0.113.5"}
    for _ in range(5):
        web_login(live_server.url, "staff_a", WRONG, attacker)

    assert_locked_page(web_login(live_server.url, "staff_a", PASSWORD, attacker))
    assert_accepted(web_login(live_server.url, "staff_a", PASSWORD, {"X-Forwarded-For": "203.0.113.9"}))
    assert failures("staff_a", "203.0.113.5") == 5
    assert failures("staff_a", "127.0.0.1") == 0


def test_forwarded_for_is_ignored_without_a_trusted_proxy(staff_a, live_server, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for _ in range(5):
        web_login(live_server.url, "staff_a", WRONG, {"X-Forwarded-For": "203.0.113.5"})

    assert_locked_page(web_login(live_server.url, "staff_a", PASSWORD, {"X-Forwarded-For": "203.0.113.9"}))
    assert failures("staff_a", "127.0.0.1") == 5


def test_only_the_proxy_entry_counts_not_what_the_client_wrote(staff_a, live_server, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for forged in ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"]:
        web_login(live_server.url, "staff_a", WRONG, {"X-Forwarded-For": f"{forged}, 203.0.113.5"})

    assert_locked_page(web_login(live_server.url, "staff_a", PASSWORD, {"X-Forwarded-For": "203.0.113.5"}))


# --- the admin and the token endpoint ------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_admin_login(admin_user, live_server):
    for _ in range(4):
        response = admin_login(live_server.url, "admin", WRONG)
        assert response.status_code == 200
    assert_locked_page(admin_login(live_server.url, "admin", WRONG))
    assert_locked_page(admin_login(live_server.url, "admin", PASSWORD))
    assert failures("admin") == 5


def test_five_wrong_passwords_lock_the_token_endpoint(resident, live_server):
    for _ in range(4):
        response = token(live_server.url, resident.mobile, WRONG)
        assert response.status_code == 403

    locked = token(live_server.url, resident.mobile, WRONG)
    right = token(live_server.url, "resident_a1", PASSWORD)

    for response in (locked, right):
        assert response.status_code == 429
        assert response.json() == {"detail": LOCKED.format(minutes=30), "code": "locked_out"}
        assert 1740 < int(response.headers["Retry-After"]) <= 1800
    # One lock for the account on every door: the web login from this IP is locked too.
    assert_locked_page(web_login(live_server.url, "resident_a1", PASSWORD))


def test_the_token_lock_expires(resident, live_server):
    for _ in range(5):
        token(live_server.url, "resident_a1", WRONG)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))

    response = token(live_server.url, "resident_a1", PASSWORD)

    assert response.status_code == 200
    assert response.json()["token"]


def test_a_token_success_resets_the_count(resident, live_server):
    for _ in range(4):
        token(live_server.url, "resident_a1", WRONG)
    assert token(live_server.url, "resident_a1", PASSWORD).status_code == 200
    assert failures("resident_a1") == 0


def test_token_lockout_another_ip_is_not_locked(resident, live_server, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        token(live_server.url, "resident_a1", WRONG, {"X-Forwarded-For": "203.0.113.5"})

    assert token(live_server.url, "resident_a1", PASSWORD, {"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert token(live_server.url, "resident_a1", PASSWORD, {"X-Forwarded-For": "203.0.113.9"}).status_code == 200


def test_the_lockout_is_logged_with_the_username_masked(resident, client, caplog):
    for _ in range(5):
        client.post("/accounts/login/", {"username": resident.mobile, "password": WRONG})

    lines = [r.getMessage() for r in caplog.records if r.name == "accounts.lockout"]
    assert lines == ["login locked: r******1 from 127.0.0.1 after 5 failures, for 30 minutes"]


def test_the_locked_page_is_in_english_for_an_english_reader(staff_a, client):
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"username": "staff_a", "password": WRONG}, HTTP_ACCEPT_LANGUAGE="en"
        )

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


# --- the 登录锁定 page -------------------------------------------------------------------------------------
def lock(username, ip="127.0.0.1", minutes_ago=0, failures=5, user_agent="test"):
    """A locked pair as axes records it (what five failed POSTs leave behind)."""
    attempt = AccessAttempt.objects.create(
        username=username,
        ip_address=ip,
        user_agent=user_agent,
        get_data="",
        post_data="",
        http_accept="*/*",
        path_info="/accounts/login/",
        failures_since_start=failures,
    )
    attempt.attempt_time = timezone.now() - timedelta(minutes=minutes_ago)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time)
    return attempt


def rows(response):
    assert response.status_code == 200
    return [(lock.username, lock.ip_address, lock.failures, lock.minutes_left) for lock in response.context["locks"]]


def test_secretary_sees_the_locks_of_their_community_only(
    staff_a, staff_b, resident, secretary_a, street_official_a, client_for
):
    lock("staff_a", minutes_ago=10)
    lock("staff_b")  # another community
    lock("resident_a1", ip="203.0.113.7", minutes_ago=5)
    lock("street_official_a")  # works for the street, not in the secretary's community
    lock("nobody")  # typed, no account
    lock("staff_a", ip="203.0.113.8", failures=4)  # not locked yet
    lock("resident_a1", minutes_ago=31)  # expired

    response = client_for(secretary_a).get("/accounts/lockouts/")

    assert rows(response) == [("resident_a1", "203.0.113.7", 5, 25), ("staff_a", "127.0.0.1", 5, 20)]
    html = response.content.decode()
    assert "曙光社区网格员" in html
    assert resident.mobile not in html  # a resident's name is shown, never the full number


def test_administrator_sees_every_lock_and_typed_names_masked(staff_a, staff_b, admin_user, client_for):
    lock("staff_a")
    lock("staff_b", minutes_ago=1)
    lock("wrongpassword123")

    response = client_for(admin_user).get("/accounts/lockouts/")

    assert sorted(rows(response)) == [
        ("staff_a", "127.0.0.1", 5, 30),
        ("staff_b", "127.0.0.1", 5, 29),
        ("wrongpassword123", "127.0.0.1", 5, 30),
    ]
    html = response.content.decode()
    assert "w******3" in html
    assert "wrongpassword123" not in html


def test_failures_from_several_browsers_add_up_to_one_lock(staff_a, admin_user, client_for):
    lock("staff_a", failures=3, minutes_ago=12)
    lock("staff_a", failures=2, minutes_ago=2, user_agent="another browser")

    # Locked until the older row, needed to reach five, is older than the cool-off: 18 minutes.
    assert rows(client_for(admin_user).get("/accounts/lockouts/")) == [("staff_a", "127.0.0.1", 5, 18)]


def test_secretary_lifts_a_lock_and_it_is_audited(staff_a, secretary_a, client_for, client):
    attempt = lock("staff_a")
    other_ip = lock("staff_a", ip="203.0.113.8")

    response = client_for(secretary_a).post(f"/accounts/lockouts/{attempt.pk}/unlock/", follow=True)

    assert "已解除 曙光社区网格员 的登录锁定。" in response.content.decode()
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [other_ip.pk]
    entry = AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get()
    assert (entry.user, entry.action, entry.object_type, entry.object_id, entry.ip_address) == (
        secretary_a,
        AuditEntry.Action.LOGIN_UNLOCK,
        "accounts.user",
        str(staff_a.pk),
        "127.0.0.1",
    )
    assert client.post("/accounts/login/", {"username": "staff_a", "password": PASSWORD}).status_code == 302


def test_another_communitys_lock_is_not_found_and_stays(staff_b, secretary_a, client_for):
    attempt = lock("staff_b")

    response = client_for(secretary_a).post(f"/accounts/lockouts/{attempt.pk}/unlock/")

    assert response.status_code == 404
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert not AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).exists()


def test_a_missing_lock_is_not_found(admin_user, client_for):
    assert client_for(admin_user).post("/accounts/lockouts/999999/unlock/").status_code == 404


def test_unlock_needs_post(staff_a, secretary_a, client_for):
    attempt = lock("staff_a")

    assert client_for(secretary_a).get(f"/accounts/lockouts/{attempt.pk}/unlock/").status_code == 405
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


@pytest.mark.parametrize("persona", ["staff_a", "street_official_a", "district_official", "resident"])
def test_the_page_is_for_secretaries_and_administrators(persona, request, client_for):
    user = request.getfixturevalue(persona)
    attempt = lock(user.username)

    assert client_for(user).get("/accounts/lockouts/").status_code == 403
    assert client_for(user).post(f"/accounts/lockouts/{attempt.pk}/unlock/").status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_anonymous_is_sent_to_the_login(client, db):
    response = client.get("/accounts/lockouts/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/accounts/lockouts/")


def test_the_sidebar_links_the_page_for_secretaries_and_administrators(staff_a, secretary_a, admin_user, client_for):
    link = 'href="/accounts/lockouts/"'
    assert link in client_for(secretary_a).get("/notifications/").content.decode()
    assert link in client_for(admin_user).get("/notifications/").content.decode()
    assert link not in client_for(staff_a).get("/notifications/").content.decode()


def test_the_page_is_in_english_for_an_english_reader(secretary_a, staff_a, client_for):
    lock("staff_a")
    html = client_for(secretary_a).get("/accounts/lockouts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Login locks" in html
    assert "Unlock" in html


@pytest.mark.parametrize("count", [2, 20])
def test_page_query_count_is_flat(count, district, secretary_a, client_for, django_assert_max_num_queries):
    for n in range(count):
        user = UserFactory(username=f"worker{n}")
        RoleFactory(user=user, kind="staff", community=district.a1.community)
        lock(user.username)
    client = client_for(secretary_a)

    with django_assert_max_num_queries(7):  # 6 + django-otp's device lookup for a verified staff session
        response = client.get("/accounts/lockouts/")

    assert len(rows(response)) == count
