"""The inbox pages: list, open (marks read), mark read, mark all read, preferences, the navbar counter.

A notification is its recipient's alone: anyone else — another user, an admin — gets the same
404 as for a missing one.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, Preference
from notifications.services import notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("notifications:list")
PREFERENCES = reverse("notifications:preferences")


def tell(user, n, *, link="/requests/1/", read=False, age=timedelta(0)):
    note = notify(recipient=user, kind="test", title=f"通知{n}", link=link, dedupe_key=f"test:{user.pk}:{n}")
    Notification.objects.filter(pk=note.pk).update(
        created_at=timezone.now() - age, read_at=timezone.now() if read else None
    )
    return note


def titles(response):
    return re.findall(r'<div class="text-break(?: fw-bold)?">([^<]+)</div>', response.content.decode())


def unread_badge(response):
    match = re.search(r'data-testid="unread-count">([^<]+)<', response.content.decode())
    return match.group(1) if match else None


def test_anonymous_visitors_are_sent_to_login(client):
    for url in (INBOX, PREFERENCES, reverse("notifications:open", args=[1])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_the_inbox_lists_my_notifications_newest_first_unread_bold(client_for, staff_a, staff_b):
    tell(staff_a, 1, age=timedelta(hours=3), read=True)
    tell(staff_a, 2, age=timedelta(hours=2))
    tell(staff_a, 3, age=timedelta(hours=1))
    tell(staff_b, 4)  # someone else's
    response = client_for(staff_a).get(INBOX)
    assert response.status_code == 200
    assert titles(response) == ["通知3", "通知2", "通知1"]
    html = response.content.decode()
    assert html.count('class="text-break fw-bold"') == 2  # the two unread ones
    assert unread_badge(response) == "2"
    assert "2 条未读" in html

    unread = client_for(staff_a).get(INBOX + "?unread=1")
    assert titles(unread) == ["通知3", "通知2"]


def test_the_inbox_pages_by_twenty(client_for, resident):
    for n in range(25):
        tell(resident, n, age=timedelta(minutes=n))
    client = client_for(resident)
    assert titles(client.get(INBOX)) == [f"通知{n}" for n in range(20)]
    assert titles(client.get(INBOX + "?page=2")) == [f"通知{n}" for n in range(20, 25)]


def test_opening_a_notification_marks_it_read_and_follows_its_link(client_for, staff_a):
    note = tell(staff_a, 1, link="/requests/42/")
    client = client_for(staff_a)
    response = client.get(reverse("notifications:open", args=[note.pk]))
    assert (response.status_code, response.url) == (302, "/requests/42/")
    note.refresh_from_db()
    assert note.read_at is not None
    assert unread_badge(client.get(INBOX)) is None


def test_a_link_off_the_portal_is_not_followed(client_for, staff_a):
    note = tell(staff_a, 1, link="https://evil.example/")
    response = client_for(staff_a).get(reverse("notifications:open", args=[note.pk]))
    assert response.url == INBOX


def test_mark_one_read_and_all_read(client_for, staff_a, staff_b):
    first, second, third = (tell(staff_a, n) for n in (1, 2, 3))
    others = tell(staff_b, 4)
    client = client_for(staff_a)
    response = client.post(reverse("notifications:read", args=[first.pk]), {"next": INBOX + "?unread=1"})
    assert (response.status_code, response.url) == (302, INBOX + "?unread=1")
    assert Notification.objects.filter(recipient=staff_a, read_at=None).count() == 2

    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "已将 2 条通知标为已读。" in response.content.decode()
    assert not Notification.objects.filter(recipient=staff_a, read_at=None).exists()
    others.refresh_from_db()
    assert others.read_at is None  # staff_b's is untouched


def test_mark_read_needs_post(client_for, staff_a):
    note = tell(staff_a, 1)
    client = client_for(staff_a)
    assert client.get(reverse("notifications:read", args=[note.pk])).status_code == 405
    assert client.get(reverse("notifications:read_all")).status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


@pytest.mark.parametrize("outsider", ["staff_b", "admin_user", "resident"])
def test_someone_elses_notification_is_not_found(client_for, staff_a, outsider, request):
    note = tell(staff_a, 1)
    client = client_for(request.getfixturevalue(outsider))
    assert client.get(reverse("notifications:open", args=[note.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[note.pk])).status_code == 404
    assert client.get(reverse("notifications:open", args=[note.pk + 1000])).status_code == 404  # missing: same
    note.refresh_from_db()
    assert note.read_at is None


@pytest.mark.parametrize("rows", [2, 20])
def test_inbox_and_counter_queries_are_flat(client_for, staff_a, django_assert_max_num_queries, rows):
    for n in range(rows):
        tell(staff_a, n)
    client = client_for(staff_a)
    # session, user, second-factor device, roles, the navbar's unread COUNT, the page's count and rows
    with django_assert_max_num_queries(7):
        response = client.get(INBOX)
    assert unread_badge(response) == str(rows)


def test_the_counter_is_one_count_query_on_every_page(client_for, staff_a, django_assert_num_queries):
    tell(staff_a, 1)
    client = client_for(staff_a)
    client.get(PREFERENCES)  # warm up the session
    # user, second-factor device, preference, the unread COUNT (the session and the roles come
    # from the cache: SESSION_ENGINE cached_db, accounts/roles.py)
    with django_assert_num_queries(4) as captured:
        response = client.get(PREFERENCES)
    assert unread_badge(response) == "1"
    counts = [q["sql"] for q in captured.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1
    assert counts[0].startswith("SELECT COUNT(*)")


def test_the_badge_caps_at_99(client_for, staff_a):
    for n in range(100):
        tell(staff_a, n)
    assert unread_badge(client_for(staff_a).get(PREFERENCES)) == "99+"


# --- preferences --------------------------------------------------------------------------------
def checked(response, name):
    """Whether the channel's switch is on (``None``: not offered, the account cannot receive it)."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', response.content.decode())
    return None if match is None else "checked" in match.group(0)


def test_residents_see_sms_on_by_default_and_staff_the_digest(client_for, resident, staff_a):
    page = client_for(resident).get(PREFERENCES)
    assert (checked(page, "sms"), checked(page, "email"), checked(page, "daily_digest")) == (True, False, False)
    assert "当前为居民默认设置：短信通知。" in page.content.decode()
    assert "发送到 139****" in page.content.decode()  # the resident's own number, masked
    page = client_for(staff_a).get(PREFERENCES)  # staff_a has no mobile: no SMS switch
    assert (checked(page, "sms"), checked(page, "email"), checked(page, "daily_digest")) == (None, False, True)


def test_saving_preferences(client_for, resident):
    client = client_for(resident)
    response = client.post(PREFERENCES, {"email": "on", "daily_digest": "on"})
    assert (response.status_code, response.url) == (302, PREFERENCES)
    saved = Preference.objects.get(user=resident)
    assert (saved.email, saved.sms, saved.daily_digest) == (True, False, True)
    page = client.get(PREFERENCES)
    assert (checked(page, "sms"), checked(page, "email"), checked(page, "daily_digest")) == (False, True, True)
    assert "通知设置已保存。" in page.content.decode()


def test_a_channel_the_account_cannot_receive_is_not_offered(client_for, staff_a):
    """No mobile: no SMS switch; no email address: no email and no daily digest (issue 15)."""
    user = UserFactory(username="no_address", email="", mobile=None)
    client = client_for(user)
    html = client.get(PREFERENCES).content.decode()
    for channel in ("sms", "email", "daily_digest"):
        assert f'name="{channel}"' not in html
    assert "您的账号没有手机号，不能接收短信通知。" in html
    assert "您的账号没有邮箱地址，不能接收邮件和每日汇总邮件。" in html
    # A forged POST turns nothing on.
    response = client.post(PREFERENCES, {"sms": "on", "email": "on", "daily_digest": "on"})
    assert response.status_code == 302
    saved = Preference.objects.get(user=user)
    assert (saved.email, saved.sms, saved.daily_digest) == (False, False, False)


def test_only_the_missing_channel_is_hidden(client_for, staff_a):
    user = UserFactory(username="mobile_only", email="", mobile="13800138000")
    html = client_for(user).get(PREFERENCES).content.decode()
    assert 'name="sms"' in html
    assert 'name="email"' not in html and 'name="daily_digest"' not in html
