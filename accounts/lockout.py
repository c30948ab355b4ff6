"""Login lockout (django-axes): who is locked, for how long, and lifting a lock.

Axes watches every call of ``django.contrib.auth.authenticate`` that carries the request (the
login page, ``/admin/login/``, the API token endpoint). Settings (``baohe/settings.py``) lock a
username + client IP pair after ``AXES_FAILURE_LIMIT`` failures within ``AXES_COOLOFF_TIME``;
the client IP is :func:`baohe.client_ip.client_ip`. This module is the portal's side of it:

- :func:`lockout_username` (``AXES_USERNAME_CALLABLE``): a resident may sign in with the
  username or the mobile number, so both count against the account's one username; what was
  typed is kept as it is (trimmed) when no account matches.
- :func:`lock_expires_at` / :func:`current_locks`: a pair is locked while the failures of its
  rows newer than the cool-off add up to the limit (axes' own rule); it ends when the newest
  rows needed to reach the limit are older than the cool-off.
- :func:`locks_visible_to` / :func:`access_lock_by_id`: secretaries see the locks of accounts
  with a role in their community, administrators every lock; anything else is "not found".
- :func:`lock_lift`: removes the pair's attempts through axes and writes an audit entry.
- Each lockout is logged (``accounts.lockout``, username masked) and written to the audit trail; axes keeps every failure in
  ``AccessFailureLog`` and the counted attempts in ``AccessAttempt``.
"""

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.db import transaction
from django.db.models import F, Q, Sum, Window
from django.dispatch import receiver
from django.http import Http404
from django.utils import timezone

from baohe.crypto import blind_index
from baohe.masking import mask_username
from baohe.metrics import LOCKOUTS
from baohe.models import AuditEntry
from baohe.services import audit

from .models import User
from .selectors import is_administrator, place_of, secretary_communities

logger = logging.getLogger(__name__)


# --- axes hooks --------------------------------------------------------------------------------
def lockout_username(request, credentials=None):
    """The account's username for what was typed (username or mobile number), else the text itself."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get("username")
    if raw is None:
        return None
    typed = str(raw).strip()[:150]
    if not typed:
        return None
    cache = getattr(request, "_lockout_usernames", None)
    if cache is None:
        cache = {}
        if request is not None:
            request._lockout_usernames = cache
    if typed not in cache:
        index = blind_index("mobile", typed)
        match = Q(username=typed) | Q(mobile_index=index) if index else Q(username=typed)
        found = User.objects.filter(match).order_by("id").values_list("username", flat=True)
        cache[typed] = next(iter(found[:1]), typed)
    return cache[typed]


@receiver(user_locked_out)
def log_lockout(sender, request, username, ip_address, **kwargs):
    """Log the lockout and write it to the audit trail (username masked, placed like the account)."""
    account = User.objects.filter(username=username).first() if username else None
    street_id, community_id = place_of(account)
    audit(
        user=None,
        action=AuditEntry.Action.LOCKED_OUT,
        request=request,
        object_type=User._meta.label_lower if account else "",
        object_id=str(account.pk) if account else "",
        object_repr=mask_username(username),
        username=mask_username(username),
        detail={"failures": get_failure_limit(request, None), "minutes": int(cool_off(request).total_seconds() // 60)},
        street_id=street_id,
        community_id=community_id,
    )
    LOCKOUTS.inc()
    logger.warning(
        "login locked: %s from %s after %s failures, for %s minutes",
        mask_username(username),
        ip_address,
        get_failure_limit(request, None),
        int(cool_off(request).total_seconds() // 60),
    )


# --- reading locks -----------------------------------------------------------------------------
def cool_off(request=None):
    return get_cool_off(request) or timedelta(0)


@dataclass
class Lock:
    pk: int  # one of the pair's attempts: the handle the page lifts the lock by
    username: str
    ip_address: str
    failures: int
    expires_at: datetime
    user: User | None = None

    @property
    def minutes_left(self):
        return max(1, math.ceil((self.expires_at - timezone.now()).total_seconds() / 60))

    @property
    def username_shown(self):
        """An account's username as it is (a mobile number masked); typed text with no account masked."""
        if self.user is None or re.fullmatch(r"[0-9]{11}", self.username):
            return mask_username(self.username)
        return self.username


def current_locks(attempts, *, now=None, limit=None):
    """The locked (username, IP) pairs among ``attempts`` (an AccessAttempt queryset), longest first.

    One query: a running sum of failures per pair, newest first; the first row where it reaches
    the limit is the one whose age ends the lock.
    """
    now = now or timezone.now()
    limit = limit or get_failure_limit(None, None)
    length = cool_off()
    rows = (
        attempts.filter(attempt_time__gte=now - length)
        .annotate(
            running=Window(
                Sum("failures_since_start"),
                partition_by=[F("username"), F("ip_address")],
                order_by=[F("attempt_time").desc(), F("id").desc()],
            )
        )
        .filter(running__gte=limit)
        .order_by("username", "ip_address", "-attempt_time", "-id")
        .values_list("id", "username", "ip_address", "attempt_time", "running")
    )
    locks = {}
    for pk, username, ip_address, attempt_time, running in rows:
        key = (username, ip_address)
        if key not in locks:
            locks[key] = Lock(pk, username, ip_address, running, attempt_time + length)
        else:
            locks[key].failures = running
    return sorted(locks.values(), key=lambda lock: (-lock.expires_at.timestamp(), lock.username))


def active_lock_count():
    """How many (username, IP) pairs are locked now: one query (``baohe_login_lockouts_active``)."""
    return len(current_locks(AccessAttempt.objects.all()))


def lock_expires_at(username, ip_address):
    """When the lock on this pair ends (``None`` if it is not locked)."""
    locks = current_locks(AccessAttempt.objects.filter(username=username, ip_address=ip_address))
    return locks[0].expires_at if locks else None


def locks_visible_to(user):
    """The attempts whose locks ``user`` may see and lift: all for administrators; for a
    secretary, those of accounts with a role in the secretary's communities."""
    if not user.is_authenticated or not user.is_active:
        return AccessAttempt.objects.none()
    if is_administrator(user):
        return AccessAttempt.objects.all()
    communities = secretary_communities(user)
    if not communities:
        return AccessAttempt.objects.none()
    members = User.objects.filter(roles__community_id__in=communities).values("username")
    return AccessAttempt.objects.filter(username__in=members)


def locks_for(user):
    """The current locks ``user`` may see, each with its account (if there is one)."""
    locks = current_locks(locks_visible_to(user))
    users = {u.username: u for u in User.objects.filter(username__in=[lock.username for lock in locks])}
    for lock in locks:
        lock.user = users.get(lock.username)
    return locks


def access_lock_by_id(user, pk):
    """The attempt ``pk`` if ``user`` may lift its pair's lock; 404 for "not yours" and "not there"."""
    attempt = locks_visible_to(user).filter(pk=pk).first()
    if attempt is None:
        raise Http404
    return attempt


# --- lifting a lock ----------------------------------------------------------------------------
def lock_lift(*, by, attempt_id, request=None):
    """Lift the lock on the (username, IP) pair of attempt ``attempt_id``; audited.

    Returns the account whose lock was lifted (``None`` when the typed username has no account).
    """
    with transaction.atomic():
        attempt = access_lock_by_id(by, attempt_id)
        account = User.objects.filter(username=attempt.username).first()
        AxesProxyHandler.reset_attempts(username=attempt.username, ip_address=attempt.ip_address)
        audit(user=by, action=AuditEntry.Action.LOGIN_UNLOCK, obj=account or attempt, request=request)
    logger.info("login lock lifted: %s from %s by %s", mask_username(attempt.username), attempt.ip_address, by.username)
    return account
