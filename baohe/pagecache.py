"""Whole pages served from the cache, with what belongs to one user added per request.

A page that costs tens of milliseconds of CPU to build and looks the same for everyone with the
same scope (the dashboard) is rendered once per key and kept in the default cache (Redis in
production, local memory in development) for a short time. What is not the same for everyone
is kept out of the cached text:

* the user's menu, unread count and sidebar: ``base.html`` renders, when ``cached_page`` is
  set, a placeholder that htmx fills from ``accounts:chrome`` (a small fragment);
* the CSRF token and the Content-Security-Policy nonce: rendered as markers and replaced on
  the way out (:func:`respond`), so every answer carries this request's values;
* the idle sign-out timer (``{% session_timer %}``): a marker, rendered per request;
* flashed messages: a page with messages to show is rendered for this request only.

Keys are built by the caller from what the page depends on (place, period, sort, language,
scope …); :func:`page_key` adds the language and the parts of the layout that vary by role.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.template.loader import render_to_string
from django.utils.translation import get_language

from .metrics import cache_lookup

CSRF_MARK = "__baohe_csrf_token__"
NONCE_MARK = "__baohe_csp_nonce__"
SESSION_TIMER_MARK = "<!--baohe:session-timer-->"
_SESSION_TIMER = "{% load accounts_tags %}{% session_timer %}"


class _SharedRequest:
    """The request as a cached page sees it: the nonce is a marker, everything else the request's."""

    csp_nonce = NONCE_MARK

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def has_messages(request: HttpRequest) -> bool:
    """Whether this request has flashed messages to show (then its page is not shared)."""
    storage = getattr(request, "_messages", None)
    return bool(storage is not None and len(storage))


def page_key(request: HttpRequest, name: str, *parts: object) -> str:
    """A cache key for page ``name``: the caller's parts, the language and what in the layout
    depends on the user's kind of role (the sidebar's shape, elder mode)."""
    user = request.user
    layout = (
        getattr(user, "is_portal_staff", False),
        getattr(user, "elder_mode", False),
    )
    raw = "|".join(str(p) for p in (*parts, get_language(), *layout))
    return f"page:{name}:{hashlib.sha256(raw.encode()).hexdigest()[:32]}"


def render_shared(request: HttpRequest, template: str, context: dict[str, Any]) -> str:
    """``template`` rendered with nothing of this user's in it (see the module docstring)."""
    shared = {
        **context,
        "cached_page": True,
        "request": _SharedRequest(request),
        "csrf_token": CSRF_MARK,
    }
    if not has_messages(request):
        shared["messages"] = ()
    return render_to_string(template, shared, request=request)


def cached_html(request: HttpRequest, key: str, build: Callable[[], str], seconds: int | None = None) -> str:
    """The shared text under ``key``, built (and kept ``seconds``) on a miss; never shared when
    this request has messages to show or the cache is off (``seconds`` 0)."""
    seconds = settings.PAGE_CACHE_SECONDS if seconds is None else seconds
    if not seconds or has_messages(request):
        return build()
    html = cache.get(key)
    cache_lookup("page", hit=html is not None)  # baohe_cache_lookups_total{cache="page"}
    if html is None:
        html = build()
        if not has_messages(request):  # building may have flashed a notice (a bad parameter)
            cache.set(key, html, seconds)
    return html


def respond(request: HttpRequest, html: str, status: int = 200) -> HttpResponse:
    """The shared text with this request's CSRF token, nonce and session timer put in."""
    if CSRF_MARK in html:
        html = html.replace(CSRF_MARK, get_token(request))
    if NONCE_MARK in html:
        html = html.replace(NONCE_MARK, str(request.csp_nonce))  # type: ignore[attr-defined]
    if SESSION_TIMER_MARK in html:
        timer = engines["django"].from_string(_SESSION_TIMER).render({}, request)
        html = html.replace(SESSION_TIMER_MARK, timer, 1)
    return HttpResponse(html, status=status)
