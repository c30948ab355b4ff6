"""The lockout answer and the "登录锁定" page (rules in ``accounts.lockout``).

- :func:`lockout_response` (``AXES_LOCKOUT_CALLABLE``): a locked sign-in answers 429 with the
  minutes left: an HTML page on the login page and the admin, ``{"detail", "code":
  "locked_out"}`` with ``Retry-After`` under ``/api/``.
- :func:`lockout_list` / :func:`lockout_unlock`: secretaries and administrators see the current
  locks they may lift and lift one (POST; another community's lock is "not found").
"""

import math

from axes.helpers import get_client_username
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.client_ip import client_ip
from baohe.masking import mask_username

from . import lockout


def lockout_message(minutes):
    return _("登录失败次数过多，该账号在当前网络已被锁定。请 %(minutes)s 分钟后再试，或联系社区书记解除锁定。") % {
        "minutes": minutes
    }


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a sign-in refused because its username + IP pair is locked."""
    username = get_client_username(request, credentials)
    ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
    expires_at = lockout.lock_expires_at(username, ip_address) if username else None
    if expires_at is None:  # not found (e.g. lifted meanwhile): the whole cool-off is the honest upper bound
        expires_at = timezone.now() + lockout.cool_off(request)
    seconds = max(1, math.ceil((expires_at - timezone.now()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    message = lockout_message(minutes)
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"detail": message, "code": "locked_out"}, status=429, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(
            request,
            "accounts/locked_out.html",
            {"message": message, "minutes": minutes, "expires_at": expires_at},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


def _manager(request):
    if not request.user.can_manage_lockouts:
        raise PermissionDenied
    return request.user


@login_required
def lockout_list(request):
    """Current locks of the accounts the signed-in secretary or administrator looks after."""
    user = _manager(request)
    context = {
        "locks": lockout.locks_for(user),
        "limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(lockout.cool_off(request).total_seconds() // 60),
    }
    return render(request, "accounts/lockouts.html", context)


@login_required
@require_POST
def lockout_unlock(request, pk):
    user = _manager(request)
    account = lockout.lock_lift(by=user, attempt_id=pk, request=request)
    name = (account.name or mask_username(account.username)) if account is not None else _("（无此账号）")
    messages.success(request, _("已解除 %(name)s 的登录锁定。") % {"name": name})
    return redirect("accounts:lockouts")
