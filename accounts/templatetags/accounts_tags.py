"""``{% session_timer %}``: the idle-sign-out warning for staff pages (static/js/session.js reads
its data- attributes; no inline script). ``{% staff_sidebar %}``: the staff navigation
(``accounts.navigation``)."""

from django import template
from django.conf import settings

from accounts import navigation, sessions, two_factor

register = template.Library()


@register.inclusion_tag("accounts/_session_timer.html", takes_context=True)
def session_timer(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return {"limits": None}
    limits = sessions.limits_for(user)
    if limits is None:
        return {"limits": None}
    return {
        "limits": limits,
        "idle_left": sessions.idle_seconds_left(request, user),
        "warn_seconds": settings.SESSION_IDLE_WARNING_SECONDS,
        "touch_every": sessions.TOUCH_EVERY_SECONDS,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def may_reset_second_factor(user):
    """The user has the "lost my phone" reset page (a secretary or an administrator)."""
    return two_factor.may_reset(user)


@register.simple_tag(takes_context=True)
def staff_sidebar(context):
    """The staff sidebar, kept per kind of user and section (``accounts.navigation``)."""
    return navigation.sidebar(context)


@register.simple_tag(takes_context=True)
def user_chrome(context):
    """The user's inbox link and menu, kept per user (``accounts.navigation``)."""
    return navigation.user_chrome(context)
