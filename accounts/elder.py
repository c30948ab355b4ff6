"""长辈版 (elder mode), after MIIT's 互联网网站适老化通用设计规范: large type (body ≥ 18 px,
headings larger), tap targets ≥ 48 px, contrast ≥ 4.5:1, a simplified resident home, no
English button, one question per step on the request form, a large-type timeline.

Remembered in two places: per account (``User.elder_mode``) and per device (the cookie
:data:`COOKIE`, which the login page's switch sets before anyone has signed in). A signed-in
page follows the account; a signed-out page follows the device. Signing in on a device whose
cookie says otherwise takes the device's choice (it is the newer one: made on the login page
just now), see ``accounts.views.LoginView``. Every switch (login page, menu) writes both.

The pages read ``elder_mode`` from :func:`context` (a context processor); the stylesheet is
``static/css/elder.css`` and the one-question-per-step form ``static/js/elder.js``.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE = "baohe_elder"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chromium caps at 400 days)


def device_choice(request: HttpRequest) -> bool | None:
    """The device's remembered choice: ``True``/``False``, or ``None`` when it has none."""
    value = request.COOKIES.get(COOKIE)
    if value == "1":
        return True
    if value == "0":
        return False
    return None


def is_elder(request: HttpRequest) -> bool:
    """Whether ``request``'s page is drawn in elder mode."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.elder_mode)
    return bool(device_choice(request))


def remember_on_device(response: HttpResponse, on: bool) -> None:
    """Remember the choice in this browser; turning elder mode on also returns the page to Chinese
    (elder mode has no language button to come back with)."""
    response.set_cookie(
        COOKIE,
        "1" if on else "0",
        max_age=COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    if on:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            settings.LANGUAGE_CODE,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            samesite="Lax",
        )


def context(request: HttpRequest) -> dict[str, bool]:
    """Context processor: ``elder_mode`` for every template."""
    return {"elder_mode": is_elder(request)}
