"""The 08:00 daily digest: staff (by default) or whoever enabled it get one email of the last
day's unread notifications, once per day however often the task runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Delivery, Notification, Preference
from notifications.services import deliveries_dispatch, digests_send, notify
from notifications.tasks import send_daily_digest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://portal.example"


def tell(user, n, *, age=timedelta(hours=1), read=False):
    note = notify(
        recipient=user, kind="test", title=f"诉求{n}待签收", link=f"/requests/{n}/", dedupe_key=f"t:{user.pk}:{n}"
    )
    Notification.objects.filter(pk=note.pk).update(
        created_at=timezone.now() - age, read_at=timezone.now() if read else None
    )


def digest_of(user):
    return Notification.objects.filter(recipient=user, kind="digest")


def test_staff_get_a_digest_of_their_unread_notifications_from_the_last_day(staff_a):
    tell(staff_a, 1, age=timedelta(hours=2))
    tell(staff_a, 2, age=timedelta(hours=1))
    tell(staff_a, 3, read=True)  # read: not in it
    tell(staff_a, 4, age=timedelta(days=2))  # older than a day: not in it

    assert digests_send() == 1
    digest = digest_of(staff_a).get()
    assert digest.title == "每日汇总：2 条未读通知"
    assert digest.read_at is not None  # the digest is not one more thing to read
    assert digest.dedupe_key == f"digest:{staff_a.pk}:{timezone.localdate().isoformat()}"
    assert list(digest.deliveries.values_list("channel", "status")) == [("email", "pending")]

    deliveries_dispatch()
    [message] = mail.outbox
    assert message.to == ["staff_a@baohe.example"]
    assert message.subject == "【和美社区】每日汇总：2 条未读通知"
    lines = message.body.splitlines()
    assert lines[0] == "您有 2 条未读通知："
    assert [line.split(" ", 3)[3] for line in lines if line.startswith("· ")] == ["诉求2待签收", "诉求1待签收"]
    assert "  https://portal.example/requests/2/" in lines
    preference = Preference.objects.get(user=staff_a)
    assert (preference.daily_digest, preference.email, preference.digest_sent_on) == (True, False, timezone.localdate())


def test_the_digest_is_sent_once_a_day(staff_a):
    tell(staff_a, 1)
    assert send_daily_digest() == 1
    assert send_daily_digest() == 0
    assert digest_of(staff_a).count() == 1
    assert Delivery.objects.filter(notification__kind="digest").count() == 1
    # The next day there is a new one (if there is something unread).
    tomorrow = timezone.now() + timedelta(days=1)
    tell(staff_a, 2, age=timedelta(hours=-23))
    assert digests_send(now=tomorrow) == 1
    assert digest_of(staff_a).count() == 2


def test_residents_get_no_digest_unless_they_ask(resident, staff_a):
    tell(resident, 1)
    assert digests_send() == 0
    Preference.objects.create(user=resident, daily_digest=True)
    assert digests_send() == 1
    assert digest_of(resident).count() == 1


def test_staff_who_turned_it_off_get_none(staff_a):
    Preference.objects.create(user=staff_a, daily_digest=False)
    tell(staff_a, 1)
    assert digests_send() == 0
    assert not digest_of(staff_a).exists()


def test_nothing_unread_no_mail(staff_a, secretary_a):
    tell(staff_a, 1, read=True)
    assert digests_send() == 0
    assert not Notification.objects.filter(kind="digest").exists()


def test_many_people_in_pages(staff_a, staff_b, secretary_a, street_official_a):
    people = [staff_a, staff_b, secretary_a, street_official_a]
    for n, user in enumerate(people):
        tell(user, n)
    assert digests_send(batch_size=2) == 4
    assert Notification.objects.filter(kind="digest").count() == 4
