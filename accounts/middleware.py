"""Request gates for signed-in users: session limits and the second factor.

:class:`SessionLimitsMiddleware` signs a staff session out once it is past its absolute or idle
limit (:mod:`accounts.sessions`) and otherwise notes the activity (except the idle warning's own
question, a GET of the keepalive view, which must not count as activity).

:class:`SecondFactorMiddleware` sends a signed-in user who needs a second factor and has not
passed it in this session to the second step: enrolment when they have no authenticator yet,
else the code page. Exempt: signing out, the second-factor pages themselves, the language and 长辈版
switches, the token endpoint (it asks for the code itself) and the health check. Under ``/api/``
an unverified session answers 403 JSON instead (a request carrying a token is left to DRF,
which ignores the unverified session). Both sit after django-otp's ``OTPMiddleware``.
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from . import sessions
from .two_factor import has_second_factor, is_verified, needs_second_factor

EXEMPT_VIEWS = frozenset(
    {
        "accounts:logout",
        "accounts:two_factor_verify",
        "accounts:two_factor_setup",
        "set_language",
        "accounts:elder_mode",
        "api-token",
        "healthz",
    }
)


def _is_api(request):
    return request.path.startswith("/api/")


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            expired = sessions.session_expired(request, user)
            if expired is not None:
                logout(request)
                if not _is_api(request):
                    if expired == "idle":
                        message = _("您已较长时间没有操作，为保护居民信息已自动退出，请重新登录。")
                    else:
                        message = _("登录已超过规定时长，为保护居民信息已自动退出，请重新登录。")
                    messages.info(request, message)
            elif not (request.method == "GET" and request.path == reverse("accounts:session_keepalive")):
                sessions.session_touch(request, user)
        return self.get_response(request)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_VIEWS:
            return None
        user = request.user
        if not needs_second_factor(user) or is_verified(user):
            return None
        if _is_api(request):
            if request.headers.get("Authorization"):
                return None
            return JsonResponse(
                {"detail": _("请先在网页上完成双因素验证。"), "code": "otp_required"},
                status=403,
                json_dumps_params={"ensure_ascii": False},
            )
        step = "accounts:two_factor_verify" if has_second_factor(user) else "accounts:two_factor_setup"
        return redirect_to_login(request.get_full_path(), reverse(step))
