"""Telling people: write a notification and its deliveries (the outbox), and send them.

:func:`notify` is called inside the transaction of whatever caused it, so the notification
exists exactly when the change does; its unique ``dedupe_key`` makes repeating it harmless.
:func:`deliveries_dispatch` is what the worker runs: it claims due deliveries one at a time
(``SELECT … FOR UPDATE SKIP LOCKED``), sends, and records the outcome in the same short
transaction, retrying failures with exponential backoff.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from baohe.sms import send_sms

from .models import Delivery, Notification, Preference

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 60


def channels_for(user):
    """The sending channels (besides the inbox) a user receives notifications on."""
    preference = Preference.objects.filter(user=user).first()
    if preference is not None:
        channels = []
        if preference.email and user.email:
            channels.append(Delivery.Channel.EMAIL)
        if preference.sms and user.mobile:
            channels.append(Delivery.Channel.SMS)
        return channels
    # Defaults: residents are told by SMS; staff read the inbox (and get the daily digest).
    if not user.is_portal_staff and user.mobile:
        return [Delivery.Channel.SMS]
    return []


def notify(*, recipient, kind, title, dedupe_key, body="", link=""):
    """Write one notification for ``recipient`` and its deliveries; ``None`` if already written."""
    if recipient is None or not recipient.is_active:
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None
    now = timezone.now()
    Delivery.objects.bulk_create(
        [
            Delivery(notification=notification, channel=channel, next_attempt_at=now)
            for channel in channels_for(recipient)
        ]
    )
    return notification


def notification_mark_read(*, user, notification_id=None):
    """Mark one of the user's notifications read, or all of them; returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at=None)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def _send(delivery):
    notification = delivery.notification
    user = notification.recipient
    text = notification.body or notification.title
    if notification.link:
        text = f"{text}\n{settings.SITE_URL.rstrip('/')}{notification.link}"
    if delivery.channel == Delivery.Channel.EMAIL:
        message = EmailMessage(
            subject=f"【和美社区】{notification.title}",
            body=text,
            to=[user.email],
            headers={"Message-ID": f"<delivery-{delivery.pk}@baohe.portal>", "X-Baohe-Delivery": str(delivery.pk)},
        )
        message.send(fail_silently=False)
    elif delivery.channel == Delivery.Channel.SMS:
        send_sms(user.mobile, f"【和美社区】{notification.title}")


def delivery_send(*, delivery_id, now=None):
    """Claim one due delivery, send it and record the result. Returns its new status or None."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__recipient")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        try:
            _send(delivery)
        except Exception as error:  # noqa: BLE001 - any channel failure is recorded and retried
            delivery.last_error = f"{error.__class__.__name__}: {error}"[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = Delivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + timedelta(seconds=BACKOFF_BASE_SECONDS * 2 ** (delivery.attempts - 1))
            logger.warning("delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, delivery.last_error)
        else:
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        delivery.save(update_fields=["attempts", "status", "next_attempt_at", "last_error", "sent_at"])
        return delivery.status


def deliveries_dispatch(*, batch_size=200, now=None):
    """Send up to ``batch_size`` due deliveries, each in its own short transaction."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    sent = 0
    for delivery_id in ids:
        if delivery_send(delivery_id=delivery_id, now=now) == Delivery.Status.SENT:
            sent += 1
    return sent
