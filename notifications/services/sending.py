"""Sending deliveries: claim one with a leased conditional UPDATE, send it by email or SMS,
record the outcome while still holding the lease; back off and give up (see the package docstring)."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.sms import BaseSMSBackend, SMSMessage
from baohe.sms import get_connection as get_sms_connection

from ..models import Delivery, Notification

logger = logging.getLogger(__name__)


def _setting(name: str, default: int) -> int:
    return getattr(settings, name, default)


class _Connections:
    """One SMTP connection and one SMS backend for a whole batch (opened when first needed)."""

    def __init__(self) -> None:
        self._email: BaseEmailBackend | None = None
        self._sms: BaseSMSBackend | None = None

    @property
    def email(self) -> BaseEmailBackend:
        if self._email is None:
            self._email = mail.get_connection(fail_silently=False)
        return self._email

    @property
    def sms(self) -> BaseSMSBackend:
        if self._sms is None:
            self._sms = get_sms_connection(fail_silently=False)
        return self._sms

    def reset_email(self) -> None:
        """After an error the SMTP session may be broken: start the next send on a new one."""
        if self._email is not None:
            try:
                self._email.close()
            except OSError:  # closing a broken socket may fail too; it is dropped either way
                pass
            self._email = None

    def close(self) -> None:
        self.reset_email()


class Undeliverable(Exception):
    """This delivery cannot be sent (e.g. the user removed their address): skip it, do not retry."""


def message_id(delivery_id: int) -> str:
    """The stable Message-ID of a delivery's email: a resend carries the same one."""
    return f"<delivery-{delivery_id}@baohe.portal>"


def _text(notification: Notification) -> str:
    text = notification.body or notification.title
    if notification.link:
        text = f"{text}\n\n{settings.SITE_URL.rstrip('/')}{notification.link}"
    return text


def _send(delivery: Delivery, connections: _Connections) -> None:
    notification = delivery.notification
    user = notification.recipient
    if delivery.channel == Delivery.Channel.EMAIL:
        if user is None or not user.email:
            raise Undeliverable("no email address")
        message = mail.EmailMessage(
            subject=_("【和美社区】%(title)s") % {"title": notification.title},
            body=_text(notification),
            to=[user.email],
            headers={"Message-ID": message_id(delivery.pk), "X-Baohe-Delivery": str(delivery.pk)},
            connection=connections.email,
        )
        try:
            message.send(fail_silently=False)
        except BaseException:
            connections.reset_email()
            raise
    elif delivery.channel == Delivery.Channel.SMS:
        # A message to a bare number (no account) carries its own; otherwise the recipient's.
        mobile = notification.mobile or (user.mobile if user is not None else None)
        if not mobile:
            raise Undeliverable("no mobile number")
        connections.sms.send_messages(
            [SMSMessage(to=mobile, body=_("【和美社区】%(title)s") % {"title": notification.title})]
        )
    else:
        raise Undeliverable(f"unknown channel {delivery.channel!r}")


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=_setting("NOTIFICATIONS_BACKOFF_SECONDS", 60) * 2 ** (attempts - 1))


def delivery_send(
    *, delivery_id: int, now: datetime | None = None, connections: _Connections | None = None
) -> str | None:
    """Claim one due delivery, send it and record the result.

    Returns the new status (``sent``, ``failed``, ``skipped``, or ``pending`` when it will be
    retried), or ``None`` when the delivery was not due or another worker holds it.
    """
    now = now or timezone.now()
    # Leases and backoff count from the moment of sending (a batch's ``now`` is when it began).
    sending_at = max(now, timezone.now())
    lease = timedelta(seconds=_setting("NOTIFICATIONS_SEND_LEASE_SECONDS", 120))
    claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, next_attempt_at=sending_at + lease
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("notification__recipient").get(pk=delivery_id)
    own = connections is None
    connections = connections or _Connections()
    update: dict[str, Any] = {"last_error": ""}
    max_attempts = _setting("NOTIFICATIONS_MAX_ATTEMPTS", 6)
    try:
        if delivery.attempts > max_attempts:
            # Its lease ran out every time (a worker died while sending it): stop trying.
            update.update(status=Delivery.Status.FAILED, last_error=f"no result after {max_attempts} attempts")
        else:
            _send(delivery, connections)
    except Undeliverable as error:
        update.update(status=Delivery.Status.SKIPPED, last_error=str(error))
    # Whatever a channel backend raises (SMTP, socket, HTTP gateway, a misconfigured backend) is
    # recorded on the row and retried with backoff; one bad message must not stop the worker.
    except Exception as error:  # noqa: BLE001
        update["last_error"] = f"{error.__class__.__name__}: {error}"[:2000]
        if delivery.attempts >= max_attempts:
            update["status"] = Delivery.Status.FAILED
        else:
            update["next_attempt_at"] = sending_at + _backoff(delivery.attempts)
        logger.warning("delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, update["last_error"])
    else:
        if "status" not in update:
            update.update(status=Delivery.Status.SENT, sent_at=timezone.now())
    finally:
        if own:
            connections.close()
    # Record only while we still hold the lease (the attempt count is our token).
    Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts, status=Delivery.Status.PENDING).update(**update)
    return update.get("status", Delivery.Status.PENDING)


@dataclass
class DispatchResult:
    due: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0

    def add(self, status: str | None) -> None:
        if status == Delivery.Status.SENT:
            self.sent += 1
        elif status == Delivery.Status.FAILED:
            self.failed += 1
        elif status == Delivery.Status.SKIPPED:
            self.skipped += 1
        elif status == Delivery.Status.PENDING:
            self.retrying += 1


def deliveries_dispatch(*, batch_size: int = 200, now: datetime | None = None) -> DispatchResult:
    """Send up to ``batch_size`` due deliveries, oldest first, each claimed on its own.

    ``result.due == batch_size`` means there may be more.
    """
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    result = DispatchResult(due=len(ids))
    connections = _Connections()
    try:
        for delivery_id in ids:
            result.add(delivery_send(delivery_id=delivery_id, now=now, connections=connections))
    finally:
        connections.close()
    return result
