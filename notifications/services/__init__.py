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

The package, by concern: :mod:`.preferences` (who is told how), :mod:`.outbox` (writing,
and marking read), :mod:`.sending` (claiming and sending deliveries), :mod:`.digest` (the
daily digest). Import from the package: ``from notifications.services import notify``.
"""

from .digest import DIGEST_KIND, DIGEST_MAX_ITEMS, digest_send, digests_send
from .outbox import Message, NumberMessage, notification_mark_read, notify, notify_many, notify_numbers
from .preferences import (
    channels_by_user,
    channels_for,
    channels_of_users,
    default_preference,
    preference_for,
    preference_save,
)
from .sending import DispatchResult, Undeliverable, deliveries_dispatch, delivery_send, message_id

__all__ = [
    "DIGEST_KIND",
    "DIGEST_MAX_ITEMS",
    "DispatchResult",
    "Message",
    "NumberMessage",
    "Undeliverable",
    "channels_by_user",
    "channels_for",
    "channels_of_users",
    "default_preference",
    "deliveries_dispatch",
    "delivery_send",
    "digest_send",
    "digests_send",
    "message_id",
    "notification_mark_read",
    "notify",
    "notify_many",
    "notify_numbers",
    "preference_for",
    "preference_save",
]
