"""How long a browser session lasts.

Staff (everyone who needs a second factor) are signed out ``STAFF_SESSION_MAX_SECONDS`` after
signing in (8 h) and ``STAFF_SESSION_IDLE_SECONDS`` after their last request (30 min); residents
stay signed in ``RESIDENT_SESSION_SECONDS`` (14 days, Django's ``SESSION_COOKIE_AGE``).

The session keeps when it signed in and when it was last seen (epoch seconds);
:class:`accounts.middleware.SessionLimitsMiddleware` checks both on each request and moves "last
seen" on at most once a minute (:data:`TOUCH_EVERY_SECONDS`), so a busy page does not write the
session on every request. The session's own expiry follows the idle limit, so the cookie and the
stored session lapse too. Pages show a warning ``SESSION_IDLE_WARNING_SECONDS`` before the idle
sign-out (``static/js/session.js``, fed by :func:`idle_seconds_left`) whose button pings the
keepalive view (:func:`session_touch` with ``force``).
"""

import time
from dataclasses import dataclass

from django.conf import settings

from .two_factor import needs_second_factor

SIGNED_IN_AT = "_session_signed_in_at"
SEEN_AT = "_session_seen_at"
TOUCH_EVERY_SECONDS = 60


@dataclass(frozen=True)
class Limits:
    max_seconds: int
    idle_seconds: int


def limits_for(user):
    """The absolute and idle limits for ``user``'s sessions, or ``None`` (residents: the cookie age)."""
    if not needs_second_factor(user):
        return None
    return Limits(settings.STAFF_SESSION_MAX_SECONDS, settings.STAFF_SESSION_IDLE_SECONDS)


def _now():
    return int(time.time())


def _set_expiry(session, limits, now):
    signed_in = session.get(SIGNED_IN_AT, now)
    session.set_expiry(max(1, min(limits.idle_seconds, signed_in + limits.max_seconds - now)))


def session_signed_in(sender, request, user, **kwargs):
    """``user_logged_in`` receiver: the session's clocks start now."""
    limits = limits_for(user)
    if request is None or not hasattr(request, "session") or limits is None:
        return
    now = _now()
    request.session[SIGNED_IN_AT] = now
    request.session[SEEN_AT] = now
    _set_expiry(request.session, limits, now)


def session_expired(request, user):
    """``"max"`` or ``"idle"`` when ``user``'s session is past a limit, else ``None``."""
    limits = limits_for(user)
    if limits is None:
        return None
    now = _now()
    session = request.session
    signed_in, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if signed_in is not None and now - signed_in >= limits.max_seconds:
        return "max"
    if seen is not None and now - seen >= limits.idle_seconds:
        return "idle"
    return None


def session_touch(request, user, *, force=False):
    """Move "last seen" to now (at most once a minute unless ``force``); staff sessions only."""
    limits = limits_for(user)
    if limits is None:
        return
    now = _now()
    session = request.session
    if SIGNED_IN_AT not in session:  # a session from before these limits, or a test's force_login
        session[SIGNED_IN_AT] = now
    seen = session.get(SEEN_AT)
    if force or seen is None or now - seen >= TOUCH_EVERY_SECONDS:
        session[SEEN_AT] = now
        _set_expiry(session, limits, now)


def idle_seconds_left(request, user):
    """Seconds until the session ends for lack of activity (or reaches its absolute limit)."""
    limits = limits_for(user)
    if limits is None:
        return None
    now = _now()
    session = request.session
    seen = session.get(SEEN_AT, now)
    signed_in = session.get(SIGNED_IN_AT, now)
    return max(0, min(seen + limits.idle_seconds - now, signed_in + limits.max_seconds - now))
