"""Sending deliveries: email through Django's SMTP backend (a real server on loopback), SMS
through the SMS backend; retries with exponential backoff, giving up, and the send lease."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from baohe.sms import BaseSMSBackend, LogBackend
from notifications.models import Delivery, Notification, Preference
from notifications.services import deliveries_dispatch, delivery_send, message_id, notify
from notifications.tasks import dispatch_pending

from .conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed(staff_a):
    """staff_a, who chose email."""
    Preference.objects.create(user=staff_a, email=True)
    return staff_a


def tell(user, n=1, **kwargs):
    return notify(
        recipient=user,
        kind="test",
        title=kwargs.get("title", f"测试通知{n}"),
        body=kwargs.get("body", "请及时处理。"),
        link=kwargs.get("link", "/requests/1/"),
        dedupe_key=f"test:{user.pk}:{n}",
    )


def delivery_of(notification):
    return Delivery.objects.get(notification=notification)


def test_email_goes_to_a_real_smtp_server_with_a_stable_message_id(emailed, smtp_settings, settings):
    settings.SITE_URL = "https://portal.example"
    delivery = delivery_of(tell(emailed, title="诉求 BH-1 即将超时"))

    result = deliveries_dispatch()

    assert (result.due, result.sent) == (1, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert delivery.sent_at is not None
    [message] = smtp_settings.messages
    assert message["Message-ID"] == message_id(delivery.pk) == f"<delivery-{delivery.pk}@baohe.portal>"
    assert message["To"] == "staff_a@baohe.example"
    assert message["Subject"] == "【和美社区】诉求 BH-1 即将超时"
    assert message.get_content().replace("\r\n", "\n").strip() == "请及时处理。\n\nhttps://portal.example/requests/1/"


def test_one_smtp_connection_serves_a_batch(emailed, smtp_settings):
    for n in range(5):
        tell(emailed, n)
    assert deliveries_dispatch(batch_size=3).sent == 3
    assert deliveries_dispatch(batch_size=3).sent == 2
    assert len(set(smtp_settings.message_ids())) == 5
    assert deliveries_dispatch().due == 0


def test_sms_goes_through_the_sms_backend(resident):
    LogBackend.outbox.clear()
    delivery = delivery_of(tell(resident, title="您的诉求已办结"))
    assert deliveries_dispatch().sent == 1
    assert [(m.to, m.body) for m in LogBackend.outbox] == [(resident.mobile, "【和美社区】您的诉求已办结")]
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_failing_smtp_server_is_retried_with_exponential_backoff_then_given_up(emailed, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.NOTIFICATIONS_BACKOFF_SECONDS, settings.NOTIFICATIONS_MAX_ATTEMPTS = 60, 4
    delivery = delivery_of(tell(emailed))
    now = timezone.now()

    waits = []
    for attempt in (1, 2, 3):
        assert delivery_send(delivery_id=delivery.pk, now=now) == "pending"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", attempt)
        assert delivery.last_error.startswith("ConnectionRefusedError")
        waits.append(round((delivery.next_attempt_at - now).total_seconds()))
        # Not due again before its backoff has passed.
        assert delivery_send(delivery_id=delivery.pk, now=delivery.next_attempt_at - timedelta(seconds=1)) is None
        now = delivery.next_attempt_at
    assert waits == [60, 120, 240]

    assert delivery_send(delivery_id=delivery.pk, now=now) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("failed", 4, None)
    assert deliveries_dispatch(now=now + timedelta(days=1)).due == 0


def test_a_delivery_recovers_when_the_server_comes_back(emailed, settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    delivery = delivery_of(tell(emailed))
    assert deliveries_dispatch().retrying == 1
    settings.EMAIL_PORT = smtp_server.port
    assert deliveries_dispatch().due == 0  # backing off
    assert deliveries_dispatch(now=timezone.now() + timedelta(seconds=61)).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.last_error == ""
    assert smtp_server.message_ids() == [message_id(delivery.pk)]


class DyingBackend(BaseSMSBackend):
    """A worker killed in the middle of sending: nothing after the send runs."""

    def send_messages(self, messages):
        raise KeyboardInterrupt


def test_a_worker_dying_mid_send_leaves_the_delivery_leased_then_it_is_sent_again(resident, settings):
    settings.NOTIFICATIONS_SEND_LEASE_SECONDS = 120
    delivery = delivery_of(tell(resident))
    now = timezone.now()
    settings.SMS_BACKEND = "tests.notifications.test_dispatch.DyingBackend"
    with pytest.raises(KeyboardInterrupt):
        deliveries_dispatch(now=now)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert round((delivery.next_attempt_at - now).total_seconds()) == 120
    now = delivery.next_attempt_at - timedelta(seconds=120)  # leased for 120 s from the send

    settings.SMS_BACKEND = "baohe.sms.LogBackend"
    assert deliveries_dispatch(now=now + timedelta(seconds=119)).due == 0  # another worker keeps off
    assert deliveries_dispatch(now=now + timedelta(seconds=120)).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_a_delivery_whose_worker_always_dies_is_given_up(resident, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    settings.SMS_BACKEND = "tests.notifications.test_dispatch.DyingBackend"
    delivery = delivery_of(tell(resident))
    now = timezone.now()
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            delivery_send(delivery_id=delivery.pk, now=now)
        now += timedelta(seconds=settings.NOTIFICATIONS_SEND_LEASE_SECONDS + 1)
    assert delivery_send(delivery_id=delivery.pk, now=now) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "no result after 2 attempts")


def test_a_recipient_without_address_is_skipped_not_retried(emailed, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    delivery = delivery_of(tell(emailed))
    emailed.email = ""
    emailed.save(update_fields=["email"])
    assert deliveries_dispatch().skipped == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("skipped", "no email address")
    assert mail.outbox == []


def test_notify_enqueues_one_dispatch_when_it_commits(resident, staff_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        tell(staff_a)  # inbox only: nothing to send
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        tell(resident)
    assert len(callbacks) == 1


def test_dispatch_task_sends_in_batches_and_hands_over_when_its_time_is_up(
    resident, settings, django_capture_on_commit_callbacks
):
    for n in range(5):
        tell(resident, n)
    settings.NOTIFICATIONS_DISPATCH_SECONDS = 60
    assert dispatch_pending(batch_size=2) == 5

    for n in range(5, 10):
        tell(resident, n)
    settings.NOTIFICATIONS_DISPATCH_SECONDS = 0
    with django_capture_on_commit_callbacks() as callbacks:
        assert dispatch_pending(batch_size=2) == 2  # one batch, then a fresh task takes over
    assert len(callbacks) == 1
    assert Delivery.objects.filter(status="pending").count() == 3
    assert Notification.objects.count() == 10
