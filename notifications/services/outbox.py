"""Writing notifications (the outbox) and reading them off (the inbox).

:func:`notify` (one) and :func:`notify_many` (a batch, for the scans) run inside the
transaction of whatever caused them; the unique ``dedupe_key`` makes repeating them harmless.
Each sending channel the recipient gets adds a pending ``Delivery``, and a dispatch task is
enqueued when the transaction commits (the periodic dispatch finds the row if the broker is down).

A title or body is either plain text (shown as written) or a stored text
(:func:`baohe.texts.stored`): then the inbox renders it in the reader's language, and the
Chinese rendering is kept beside it for the email and SMS channels.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from baohe.jobs import enqueue_on_commit
from baohe.texts import StoredText, chinese_and_stored

from .. import bulk
from ..models import Delivery, Notification
from .preferences import LOOKUP_CHUNK, channels_by_user, channels_for


def _schedule_dispatch() -> None:
    """Enqueue a dispatch when the current transaction commits (the beat finds it otherwise)."""
    enqueue_on_commit("notifications.tasks.dispatch_pending")  # by name: tasks.py imports this module


Text = str | StoredText


texts = chinese_and_stored


def notify(
    *, recipient: User | None, kind: str, title: Text, dedupe_key: str, body: Text = "", link: str = ""
) -> Notification | None:
    """Write one notification for ``recipient`` and its deliveries; ``None`` if already written."""
    if recipient is None or not recipient.is_active:
        return None
    title, title_text = texts(title)
    body, body_text = texts(body)
    with transaction.atomic():  # the notification and its deliveries, or neither
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient,
                    kind=kind,
                    title=title,
                    title_text=title_text,
                    body=body,
                    body_text=body_text,
                    link=link,
                    dedupe_key=dedupe_key,
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
    title: Text
    dedupe_key: str
    body: Text = ""
    link: str = ""


def notify_many(messages: Iterable[Message], channels: dict[int, list[str]] | None = None) -> int:
    """Write many notifications and their deliveries in a few statements (the scans' path).

    Call inside the transaction that causes them. Keys that already exist are skipped, and so
    are their deliveries. ``channels``: the channels of recipients the caller has already read
    (``preferences.channels_of_users``; a recipient missing from it is looked up, an inactive one
    left out). Returns how many messages were for active users (written or already there).
    """
    given = list(messages)
    if not given:
        return 0
    channels = dict(channels or {})
    unknown = {m.recipient_id for m in given} - channels.keys()
    if unknown:
        channels.update(channels_by_user(unknown))
    batch = [
        _Row(m.recipient_id, m.kind, m.dedupe_key, m.link, *texts(m.title), *texts(m.body))
        for m in given
        if m.recipient_id in channels
    ]
    now = timezone.now()
    if bulk.supported():
        written = bulk.insert_rows(
            Notification,
            {
                "recipient": [m.recipient_id for m in batch],
                "kind": [m.kind for m in batch],
                "title": [m.title for m in batch],
                "title_text": [json.dumps(m.title_text, ensure_ascii=False) for m in batch],
                "body": [m.body for m in batch],
                "body_text": [json.dumps(m.body_text, ensure_ascii=False) for m in batch],
                "link": [m.link for m in batch],
                "dedupe_key": [m.dedupe_key for m in batch],
            },
            constants={"created_at": now},
            ignore_conflicts_on="dedupe_key",
            returning=("id", "recipient"),
        )
        pending = [(pk, channel) for pk, recipient_id in written for channel in channels[recipient_id]]
    else:
        pending = _notify_many_orm(batch, channels)
    if pending:
        _deliveries_create(pending, now)
        _schedule_dispatch()
    return len(batch)


@dataclass(frozen=True)
class _Row:
    """A message as written: its texts in Chinese and as stored."""

    recipient_id: int
    kind: str
    dedupe_key: str
    link: str
    title: str
    title_text: StoredText
    body: str
    body_text: StoredText


@dataclass(frozen=True)
class NumberMessage:
    """One SMS to a number with no account behind it, for :func:`notify_numbers`."""

    mobile: str
    kind: str
    title: str
    dedupe_key: str


def notify_numbers(messages: Iterable[NumberMessage]) -> int:
    """Write notifications to bare mobile numbers (no recipient, no inbox), each with one SMS
    delivery; keys that already exist are skipped. Call inside the transaction that causes
    them. Returns how many were written."""
    batch = [m for m in messages if m.mobile]
    if not batch:
        return 0
    existing = set(
        Notification.objects.filter(dedupe_key__in=[m.dedupe_key for m in batch]).values_list("dedupe_key", flat=True)
    )
    fresh = [m for m in batch if m.dedupe_key not in existing]
    Notification.objects.bulk_create(
        [Notification(mobile=m.mobile, kind=m.kind, title=m.title, dedupe_key=m.dedupe_key) for m in fresh],
        batch_size=1000,
        ignore_conflicts=True,
    )
    now = timezone.now()
    written = Notification.objects.filter(dedupe_key__in=[m.dedupe_key for m in fresh], deliveries=None)
    pending: list[tuple[int, str]] = [(pk, Delivery.Channel.SMS.value) for pk in written.values_list("pk", flat=True)]
    if pending:
        _deliveries_create(pending, now)
        _schedule_dispatch()
    return len(pending)


def _notify_many_orm(messages: list[_Row], channels: dict[int, list[str]]) -> list[tuple[int, str]]:
    """The portable path of notify_many: bulk_create, then look the new rows up by key."""
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=m.recipient_id,
                kind=m.kind,
                title=m.title,
                title_text=m.title_text,
                body=m.body,
                body_text=m.body_text,
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
    pending: list[tuple[int, str]] = []
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = Notification.objects.filter(dedupe_key__in=keys[start : start + LOOKUP_CHUNK])
        # A notification that existed already has its deliveries already.
        found = chunk.filter(deliveries=None).values_list("dedupe_key", "pk")
        pending.extend((pk, channel) for key, pk in found for channel in wanted[key])
    return pending


def _deliveries_create(pending: list[tuple[int, str]], now: datetime) -> None:
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


def notification_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read, or all of them; returns how many changed."""
    unread = Notification.objects.restrict(user).unread()
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
