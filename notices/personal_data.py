"""What notices holds about a person: the SMS of a confirmation-required notice sent to their
number when their household had no account (a notification to a bare number, stored encrypted).
When the person is anonymised those messages go (``communities.services.register_anonymiser``,
registered in ``apps.py``). Receipts name households, not people, and stay."""

from communities.services import PersonTraces
from notifications.models import Notification

from .services import KIND


def forget_person(traces: PersonTraces) -> None:
    if not traces.mobile:
        return
    sent = Notification.objects.filter(
        recipient__isnull=True,
        kind=KIND,
        dedupe_key__startswith=f"{KIND}:",
        dedupe_key__endswith=f":household:{traces.household_id}:sms",
    )
    ids = [n.pk for n in sent.only("pk", "mobile") if n.mobile == traces.mobile]
    if ids:
        Notification.objects.filter(pk__in=ids).delete()
