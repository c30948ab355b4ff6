"""``{% latest_notices %}``: the resident home page's 社区通知 box (``notices/_latest.html``).

The home page lives on a lower floor (``communities``) and imports nothing from here: its
template loads this tag library, which renders the fragment with :func:`latest_context`.
"""

from django import template

from ..selectors import latest_for

register = template.Library()


def latest_context(user, limit=3):
    """The fragment's context: the latest notices of the user's households and how many await 我已知晓."""
    if not getattr(user, "is_authenticated", False):
        return {"notices": [], "to_confirm": 0}
    return latest_for(user, limit=limit)


@register.inclusion_tag("notices/_latest.html", takes_context=True)
def latest_notices(context, limit=3):
    request = context.get("request")
    user = getattr(request, "user", None)
    return latest_context(user, limit)
