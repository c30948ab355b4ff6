"""Telling people: write a notification and its deliveries (the outbox), and send them.

Writing. :func:`notify` (one) and :func:`notify_many` (a batch, for the scans) are called
inside the transaction of whatever caused them, so a notification exists exactly when the
change does; the unique ``dedupe_key`` makes repeating them harmless. Each sending channel
the recipient gets (see :func:`preference_for`) adds a pending :class:`Delivery`; when the
transaction commits a dispatch task is enqueued so the message goes out at once, and if the
broker is down the periodic dispatch finds the row anyway.

Sending. :func:`delivery_send` claims one due delivery with a conditional UPDATE that counts
the attempt and leases the row for ``NOTIFICATIONS_SEND_LEASE_SECONDS`` (committed before
anything is sent, so no transaction stays open across SMTP or HTTP), sends it, and records
the outcome only if it still holds that lease. A worker killed after the claim leaves the
row leased: it is sent again when the lease runs out. So a delivery is sent *at least* once,
and more than once only when a worker died between handing the message to the server and
recording it; every email carries the stable ``Message-ID: <delivery-ID@baohe.portal>`` so
the receiving side can drop such a duplicate. Failures back off exponentially
(``NOTIFICATIONS_BACKOFF_SECONDS`` × 2ⁿ) and give up after ``NOTIFICATIONS_MAX_ATTEMPTS``.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from baohe.jobs import enqueue_on_commit
from baohe.sms import SMSMessage
from baohe.sms import get_connection as get_sms_connection

from . import bulk
from .models import Delivery, Notification, Preference

logger = logging.getLogger(__name__)

DIGEST_KIND = "digest"
DIGEST_MAX_ITEMS = 50
LOOKUP_CHUNK = 500  # keys per IN (...) list


def _setting(name, default):
    return getattr(settings, name, default)


# --- who gets what ----------------------------------------------------------------------------
def default_preference(user, *, is_staff=None):
    """The unsaved preference a user has until they save their own: residents are told by SMS,
    staff read the inbox and get the daily digest email."""
    staff = user.is_portal_staff if is_staff is None else is_staff
    return Preference(user=user, email=False, sms=not staff, daily_digest=staff)


def preference_for(user):
    """The user's saved preference, or the default one (unsaved)."""
    return Preference.objects.filter(user=user).first() or default_preference(user)


def _channels(*, email_on, sms_on, email, mobile):
    channels = []
    if email_on and email:
        channels.append(Delivery.Channel.EMAIL)
    if sms_on and mobile:
        channels.append(Delivery.Channel.SMS)
    return channels


def channels_for(user):
    """The sending channels (besides the inbox) a user receives notifications on."""
    preference = preference_for(user)
    return _channels(email_on=preference.email, sms_on=preference.sms, email=user.email, mobile=user.mobile)


def channels_by_user(user_ids):
    """``{user_id: [channel, …]}`` for the *active* users among ``user_ids``, in two queries."""
    user_ids = list(set(user_ids))
    result = {}
    for start in range(0, len(user_ids), LOOKUP_CHUNK):
        chunk = user_ids[start : start + LOOKUP_CHUNK]
        staff = set(
            Role.objects.filter(user_id__in=chunk, kind__in=Role.Kind.staff_kinds()).values_list("user_id", flat=True)
        )
        rows = User.objects.filter(pk__in=chunk, is_active=True).values_list(
            "pk",
            "email",
            "mobile",
            "is_superuser",
            "notification_preference__pk",
            "notification_preference__email",
            "notification_preference__sms",
        )
        for pk, email, mobile, superuser, pref_pk, pref_email, pref_sms in rows:
            if pref_pk is None:  # the defaults of default_preference()
                pref_email, pref_sms = False, not (superuser or pk in staff)
            result[pk] = _channels(email_on=pref_email, sms_on=pref_sms, email=email, mobile=mobile)
    return result


# --- writing (the outbox) ---------------------------------------------------------------------
def _schedule_dispatch():
    """Enqueue a dispatch when the current transaction commits (the beat finds it otherwise)."""
    enqueue_on_commit("notifications.tasks.dispatch_pending")  # by name: tasks.py imports this module


def notify(*, recipient, kind, title, dedupe_key, body="", link=""):
    """Write one notification for ``recipient`` and its deliveries; ``None`` if already written."""
    if recipient is None or not recipient.is_active:
        return None
    with transaction.atomic():  # the notification and its deliveries, or neither
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key
                )
        except IntegrityError:
            return None
        now = timezone.now()
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(notification=notification, channel=channel, next_attempt_at=now)
                for channel in channels_for(recipient)
            ]
        )
        if deliveries:
            _schedule_dispatch()
    return notification


@dataclass(frozen=True)
class Message:
    """One notification to write with :func:`notify_many`."""

    recipient_id: int
    kind: str
    title: str
    dedupe_key: str
    body: str = ""
    link: str = ""


def notify_many(messages):
    """Write many notifications and their deliveries in a few statements (the scans' path).

    Call inside the transaction that causes them. Keys that already exist are skipped, and so
    are their deliveries. Returns how many messages were for active users (written or already there).
    """
    messages = list(messages)
    if not messages:
        return 0
    channels = channels_by_user(m.recipient_id for m in messages)
    messages = [m for m in messages if m.recipient_id in channels]
    now = timezone.now()
    if bulk.supported():
        written = bulk.insert_rows(
            Notification,
            {
                "recipient": [m.recipient_id for m in messages],
                "kind": [m.kind for m in messages],
                "title": [m.title for m in messages],
                "body": [m.body for m in messages],
                "link": [m.link for m in messages],
                "dedupe_key": [m.dedupe_key for m in messages],
            },
            constants={"created_at": now},
            ignore_conflicts_on="dedupe_key",
            returning=("id", "recipient"),
        )
        pending = [(pk, channel) for pk, recipient_id in written for channel in channels[recipient_id]]
    else:
        pending = _notify_many_orm(messages, channels)
    if pending:
        _deliveries_create(pending, now)
        _schedule_dispatch()
    return len(messages)


def _notify_many_orm(messages, channels):
    """The portable path of notify_many: bulk_create, then look the new rows up by key."""
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=m.recipient_id,
                kind=m.kind,
                title=m.title,
                body=m.body,
                link=m.link,
                dedupe_key=m.dedupe_key,
            )
            for m in messages
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    wanted = {m.dedupe_key: channels[m.recipient_id] for m in messages if channels[m.recipient_id]}
    keys = list(wanted)
    pending = []
    for start in range(0, len(keys), LOOKUP_CHUNK):
        found = Notification.objects.filter(dedupe_key__in=keys[start : start + LOOKUP_CHUNK])
        # A notification that existed already has its deliveries already.
        found = found.filter(deliveries=None).values_list("dedupe_key", "pk")
        pending.extend((pk, channel) for key, pk in found for channel in wanted[key])
    return pending


def _deliveries_create(pending, now):
    """Pending deliveries for ``[(notification_id, channel), …]``."""
    if bulk.supported():
        bulk.insert_rows(
            Delivery,
            {"notification": [pk for pk, _channel in pending], "channel": [channel for _pk, channel in pending]},
            constants={"status": Delivery.Status.PENDING, "attempts": 0, "next_attempt_at": now, "last_error": ""},
        )
    else:
        Delivery.objects.bulk_create(
            [Delivery(notification_id=pk, channel=channel, next_attempt_at=now) for pk, channel in pending],
            batch_size=1000,
        )


# --- the inbox --------------------------------------------------------------------------------
def notification_mark_read(*, user, notification_id=None):
    """Mark one of the user's notifications read, or all of them; returns how many changed."""
    unread = Notification.objects.restrict(user).unread()
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def preference_save(*, user, email, sms, daily_digest):
    """Save the user's channels; the form validates (e.g. email needs an address)."""
    preference, _created = Preference.objects.update_or_create(
        user=user, defaults={"email": email, "sms": sms, "daily_digest": daily_digest}
    )
    return preference


# --- sending ----------------------------------------------------------------------------------
class _Connections:
    """One SMTP connection and one SMS backend for a whole batch (opened when first needed)."""

    def __init__(self):
        self._email = None
        self._sms = None

    @property
    def email(self):
        if self._email is None:
            self._email = mail.get_connection(fail_silently=False)
        return self._email

    @property
    def sms(self):
        if self._sms is None:
            self._sms = get_sms_connection(fail_silently=False)
        return self._sms

    def reset_email(self):
        """After an error the SMTP session may be broken: start the next send on a new one."""
        if self._email is not None:
            try:
                self._email.close()
            except OSError:  # closing a broken socket may fail too; it is dropped either way
                pass
            self._email = None

    def close(self):
        self.reset_email()


class Undeliverable(Exception):
    """This delivery cannot be sent (e.g. the user removed their address): skip it, do not retry."""


def message_id(delivery_id):
    """The stable Message-ID of a delivery's email: a resend carries the same one."""
    return f"<delivery-{delivery_id}@baohe.portal>"


def _text(notification):
    text = notification.body or notification.title
    if notification.link:
        text = f"{text}\n\n{settings.SITE_URL.rstrip('/')}{notification.link}"
    return text


def _send(delivery, connections):
    notification = delivery.notification
    user = notification.recipient
    if delivery.channel == Delivery.Channel.EMAIL:
        if not user.email:
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
        if not user.mobile:
            raise Undeliverable("no mobile number")
        connections.sms.send_messages(
            [SMSMessage(to=user.mobile, body=_("【和美社区】%(title)s") % {"title": notification.title})]
        )
    else:
        raise Undeliverable(f"unknown channel {delivery.channel!r}")


def _backoff(attempts):
    return timedelta(seconds=_setting("NOTIFICATIONS_BACKOFF_SECONDS", 60) * 2 ** (attempts - 1))


def delivery_send(*, delivery_id, now=None, connections=None):
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
    update = {"last_error": ""}
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

    def add(self, status):
        if status == Delivery.Status.SENT:
            self.sent += 1
        elif status == Delivery.Status.FAILED:
            self.failed += 1
        elif status == Delivery.Status.SKIPPED:
            self.skipped += 1
        elif status == Delivery.Status.PENDING:
            self.retrying += 1


def deliveries_dispatch(*, batch_size=200, now=None):
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


# --- the daily digest -------------------------------------------------------------------------
def _digest_body(rows, total):
    lines = [
        ngettext("您有 %(count)d 条未读通知：", "您有 %(count)d 条未读通知：", total) % {"count": total},
        "",
    ]
    site = settings.SITE_URL.rstrip("/")
    for title, created_at, link in rows:
        lines.append(f"· {timezone.localtime(created_at):%m-%d %H:%M} {title}")
        if link:
            lines.append(f"  {site}{link}")
    if total > len(rows):
        lines.append(_("…… 另有 %(more)d 条，请登录查看。") % {"more": total - len(rows)})
    return "\n".join(lines)


def digest_send(*, user_id, now, today):
    """Write one user's digest (a read notification with an email delivery) unless already done today.

    The day is claimed with a conditional UPDATE of ``Preference.digest_sent_on`` in the same
    transaction, so two digest runs at once, or one run twice, send it once.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    since = now - timedelta(days=1)
    with transaction.atomic():
        preference, _created = Preference.objects.get_or_create(
            user=user,
            defaults={f: getattr(default_preference(user), f) for f in ("email", "sms", "daily_digest")},
        )
        claimed = (
            Preference.objects.filter(pk=preference.pk, daily_digest=True)
            .filter(Q(digest_sent_on=None) | Q(digest_sent_on__lt=today))
            .update(digest_sent_on=today)
        )
        if not claimed:
            return False
        unread = Notification.objects.restrict(user).unread().filter(created_at__gte=since).exclude(kind=DIGEST_KIND)
        total = unread.count()
        if not total:
            return False  # nothing to read: the day is claimed, no mail
        rows = list(unread.values_list("title", "created_at", "link")[:DIGEST_MAX_ITEMS])
        notification = Notification.objects.create(
            recipient=user,
            kind=DIGEST_KIND,
            title=ngettext("每日汇总：%(count)d 条未读通知", "每日汇总：%(count)d 条未读通知", total)
            % {"count": total},
            body=_digest_body(rows, total),
            link=reverse("notifications:list"),
            dedupe_key=f"digest:{user.pk}:{today.isoformat()}",
            read_at=now,  # the digest itself is not something more to read
        )
        Delivery.objects.create(notification=notification, channel=Delivery.Channel.EMAIL, next_attempt_at=now)
        _schedule_dispatch()
    return True


def digests_send(*, now=None, batch_size=500):
    """The daily digest for everyone who wants one and has unread notifications from the last day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = now - timedelta(days=1)
    sent = 0
    last = 0
    while True:
        # Keyset pages over the recipients with something unread (bounded memory).
        user_ids = list(
            Notification.objects.filter(read_at=None, created_at__gte=since, recipient_id__gt=last)
            .exclude(kind=DIGEST_KIND)
            .order_by("recipient_id")
            .values_list("recipient_id", flat=True)
            .distinct()[:batch_size]
        )
        if not user_ids:
            break
        last = user_ids[-1]
        wanted = _digest_wanted(user_ids)
        for user_id in user_ids:
            if user_id in wanted and digest_send(user_id=user_id, now=now, today=today):
                sent += 1
        if len(user_ids) < batch_size:
            break
    return sent


def _digest_wanted(user_ids):
    """The users among ``user_ids`` who get the digest: by their preference, or staff by default."""
    staff = set(
        Role.objects.filter(user_id__in=user_ids, kind__in=Role.Kind.staff_kinds()).values_list("user_id", flat=True)
    )
    staff |= set(User.objects.filter(pk__in=user_ids, is_superuser=True).values_list("pk", flat=True))
    saved = dict(Preference.objects.filter(user_id__in=user_ids).values_list("user_id", "daily_digest"))
    return {pk for pk in user_ids if saved.get(pk, pk in staff)}
