"""The client's IP address, the one mechanism behind the lockout, the throttles and the audit log.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies (nginx in front of gunicorn: 1), each proxy
appends the address it saw to ``X-Forwarded-For``, so the client is the entry that many places
from the right; anything to the left of it was written by the client and is not trusted. With
no trusted proxy (the default) the header is ignored and the socket's address is the client.
A value that is not an IP address falls back to ``REMOTE_ADDR``.

Django has no helper for this; ``django-ipware`` guesses from a list of headers, which is
what a forged header exploits, so the rule here is the count of proxies the operator declares.
"""

import ipaddress

from django.conf import settings


def _valid(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The client's address as a string (``None`` only when the request has no address at all)."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return remote
    candidate = hops[-count] if len(hops) >= count else hops[0]
    return _valid(candidate) or remote
