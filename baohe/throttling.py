"""Request throttles: DRF's ``ScopedRateThrottle`` keyed by the one client-IP rule.

:class:`ScopedThrottle` is ``ScopedRateThrottle`` with three changes:

- the client is :func:`baohe.client_ip.client_ip` (``TRUSTED_PROXY_COUNT``), the same address
  the lockout and the audit log see, not DRF's own ``NUM_PROXIES`` reading;
- counters live in the ``throttle`` cache (Redis when ``REDIS_URL`` is set, so every web process
  counts together; local memory otherwise);
- rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` at each request (DRF copies
  them once at import), so settings changes apply.

If Redis cannot be reached the request is let through and a warning logged: a throttle slows
abuse down, it must not take sign-in or registration down with the cache (the lockout is kept
in the database and still holds).

Views outside DRF (the registration page, Open311 POST) call :func:`throttle_wait`. A DRF
view refused by a throttle answers 429 ``{"detail", "code": "throttled"}`` with
``Retry-After`` (``baohe.api.exception_handler``).
"""

import logging
import math
from types import SimpleNamespace

from django.core.cache import caches
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from .client_ip import client_ip

logger = logging.getLogger(__name__)

CACHE_ALIAS = "throttle"


class ScopedThrottle(ScopedRateThrottle):
    @property
    def cache(self):
        return caches[CACHE_ALIAS]

    @property
    def THROTTLE_RATES(self):  # noqa: N802 - DRF's attribute name
        return api_settings.DEFAULT_THROTTLE_RATES

    def get_ident(self, request):
        return client_ip(request) or ""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("throttle cache unreachable; %s let through", getattr(view, "throttle_scope", ""))
            return True


def throttle_wait(request, scope):
    """``None`` if ``request`` may go ahead under ``scope``'s rate, else the seconds to wait (≥ 1)."""
    throttle = ScopedThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


def throttled_message(wait):
    return _("请求过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": wait}
