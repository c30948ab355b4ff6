"""The daily digest email: one a day for each user who wants it and has something unread."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User

from ..models import Delivery, Notification, Preference
from .outbox import _schedule_dispatch
from .preferences import default_preference

DIGEST_KIND = "digest"
DIGEST_MAX_ITEMS = 50


def _digest_body(rows: Sequence[tuple[str, datetime, str]], total: int) -> str:
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


def digest_send(*, user_id: int, now: datetime, today: date) -> bool:
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


def digests_send(*, now: datetime | None = None, batch_size: int = 500) -> int:
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


def _digest_wanted(user_ids: list[int]) -> set[int]:
    """The users among ``user_ids`` who get the digest: by their preference, or staff by default."""
    staff = set(
        Role.objects.filter(user_id__in=user_ids, kind__in=Role.Kind.staff_kinds()).values_list("user_id", flat=True)
    )
    staff |= set(User.objects.filter(pk__in=user_ids, is_superuser=True).values_list("pk", flat=True))
    saved = dict(Preference.objects.filter(user_id__in=user_ids).values_list("user_id", "daily_digest"))
    return {pk for pk in user_ids if saved.get(pk, pk in staff)}
