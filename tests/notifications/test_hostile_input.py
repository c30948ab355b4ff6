"""Hostile input on the inbox (rule 4): a bad ``?page=`` or ``?unread=`` is ignored with a notice
(junk for ``unread`` shows everything), a redirect target elsewhere goes back to the inbox; never
a 500."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notify
from tests.hostile import HOSTILE

pytestmark = pytest.mark.django_db

INBOX = reverse("notifications:list")


@pytest.fixture
def inbox(staff_a):
    first = notify(recipient=staff_a, kind="test", title="通知1", link="/requests/1/", dedupe_key="t:1")
    notify(recipient=staff_a, kind="test", title="通知2", link="/requests/2/", dedupe_key="t:2")
    Notification.objects.filter(pk=first.pk).update(read_at=first.created_at)
    return staff_a


@pytest.mark.parametrize("value", HOSTILE)
def test_a_bad_page_is_ignored_with_a_notice(client_for, inbox, value):
    response = client_for(inbox).get(INBOX, {"page": value})
    assert response.status_code == 200
    assert "已忽略无效的筛选条件“页码”" in response.content.decode()
    assert (response.context["page"].number, len(response.context["page"].object_list)) == (1, 2)


@pytest.mark.parametrize("value", HOSTILE)
def test_junk_for_unread_shows_everything_with_a_notice(client_for, inbox, value):
    response = client_for(inbox).get(INBOX, {"unread": value})
    assert (response.status_code, response.context["unread_only"]) == (200, False)
    assert ("已忽略无效的筛选条件“未读”" in response.content.decode()) is (value != "0")  # "0" is a plain no
    assert len(response.context["page"].object_list) == 2


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_unread_still_narrows_the_list(client_for, inbox, value):
    response = client_for(inbox).get(INBOX, {"unread": value})
    assert [n.title for n in response.context["page"].object_list] == ["通知2"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "\x00", "javascript:alert(1)"])
def test_a_redirect_target_elsewhere_goes_back_to_the_inbox(client_for, inbox, target):
    response = client_for(inbox).post(reverse("notifications:read_all"), {"next": target})
    assert (response.status_code, response.url) == (302, INBOX)
