"""The navigation bar's parts, rendered once and kept in this process (issue 14: the layout
was most of a staff page's template time): the staff sidebar (``includes/sidebar.html``) per
kind of user and page, and the user's menu (``includes/user_chrome.html``) per user.

The sidebar is the same text for every user with the same menu rights on the same section of
the portal, in the same language; only the unread count differs from user to user. So
:func:`sidebar` keeps the rendered text under ``(language, the user's menu rights, the page's
URL namespace and name)`` and puts the unread badge in per request. :data:`USER_FLAGS` lists
every user attribute the template reads: a new condition on the user in ``sidebar.html`` must
be added there (``tests/accounts/test_navigation.py`` compares the kept text with a fresh
rendering for every persona). Nothing is kept with ``DEBUG`` on, so an edited template shows
at once in development.

The user's menu (:func:`user_chrome`) is kept under everything it shows of the user (name,
roles, elder mode, the unread count up to "99+", the reset page) and the language; the CSRF
token and the address the menu's forms return to are put in per request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

TEMPLATE = "includes/sidebar.html"
# Every attribute of ``user`` that sidebar.html reads (the key of the kept text).
USER_FLAGS = (
    "is_official",
    "may_change_anything",
    "is_secretary",
    "can_manage_lockouts",
    "reads_audit_trail",
    "is_superuser",
)
UNREAD_MARK = "<!--baohe:sidebar-unread-->"
_UNREAD_SLOT = mark_safe(UNREAD_MARK)  # noqa: S308 - our own constant
CHROME_TEMPLATE = "includes/user_chrome.html"
CSRF_MARK = "__baohe_chrome_csrf__"
NEXT_MARK = "__baohe_chrome_next__"
MAX_KEPT = 2000  # texts kept per process (kinds of users × sections × languages stay far below)

_kept: dict[tuple[Any, ...], str] = {}


def _as_int(value: Any) -> int:
    """A count, also from the inbox's lazy count (``notifications.context_processors``)."""
    return int(str(value)) if value else 0


def unread_badge(count: Any) -> str:
    """The unread count beside 消息, or nothing."""
    count = _as_int(count)
    return format_html(' <span class="badge rounded-pill text-bg-danger ms-1">{}</span>', count) if count else ""


def sidebar(context: Any) -> str:
    """The sidebar for this template context's user and page (``{% staff_sidebar %}``)."""
    request = context.get("request")
    user = context.get("user")
    match = context.get("nav_match") or getattr(request, "resolver_match", None)
    namespace = getattr(match, "namespace", "") or ""
    url_name = getattr(match, "url_name", "") or ""
    key = (get_language(), namespace, url_name, *(bool(getattr(user, flag, False)) for flag in USER_FLAGS))
    text = None if settings.DEBUG else _kept.get(key)
    if text is None:
        text = render_to_string(
            TEMPLATE, {"user": user, "request": request, "nav_match": match, "unread_badge": _UNREAD_SLOT}
        )
        _keep(key, text)
    return mark_safe(text.replace(UNREAD_MARK, unread_badge(context.get("unread_notifications"))))  # noqa: S308 - rendered by the template engine


def _keep(key: tuple[Any, ...], text: str) -> None:
    if not settings.DEBUG:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        _kept[key] = text


def user_chrome(context: Any) -> str:
    """The user's part of the navigation bar: inbox link and menu (``{% user_chrome %}``)."""
    from .two_factor import may_reset

    request = context.get("request")
    user = context.get("user")
    signed_in = bool(getattr(user, "is_authenticated", False))
    unread = min(_as_int(context.get("unread_notifications")), 100) if signed_in else 0
    key = (
        "chrome",
        get_language(),
        signed_in,
        bool(context.get("second_step")),
        bool(context.get("elder_mode")),
        unread,
        str(user) if signed_in else "",
        user.scope_label() if signed_in else "",
        signed_in and user.is_portal_staff,
        signed_in and may_reset(user),
    )
    text = None if settings.DEBUG else _kept.get(key)
    if text is None:
        text = render_to_string(
            CHROME_TEMPLATE,
            {
                "user": user,
                "request": request,
                "second_step": context.get("second_step"),
                "elder_mode": context.get("elder_mode"),
                "unread_notifications": unread,
                "LANGUAGE_CODE": get_language(),
                "csrf_token": CSRF_MARK,
                "next_path": NEXT_MARK,
            },
        )
        _keep(key, text)
    next_path = context.get("next_path") or (request.get_full_path() if request is not None else "")
    csrf_token = str(context.get("csrf_token") or "")
    return mark_safe(text.replace(CSRF_MARK, escape(csrf_token)).replace(NEXT_MARK, escape(next_path)))  # noqa: S308 - rendered by the template engine, the values escaped
