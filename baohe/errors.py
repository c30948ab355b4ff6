"""Errors on machine paths answer in the machine's format, never with an HTML page (rule 4).

:class:`ApiErrorMiddleware` looks at every error answer (status ≥ 400) under a registered path
prefix. An answer already in that API's format (a DRF ``{"detail": …}`` or field errors, an
Open311 error list) passes untouched; anything else — Django's HTML 404 for an unknown URL, the
500 page, a CSRF 403, a bare 405 from ``require_http_methods``, a 413 for a body too large —
is replaced by the API's own error for that status, keeping ``Allow`` and ``Retry-After``.

``/api/`` answers DRF-style JSON ``{"detail": "…", "code": "…"}``. Higher floors register their
own formats (``service_requests`` registers Open311's error list for ``/open311/``) with
:func:`register_error_format`.
"""

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

DETAILS = {
    400: ("bad_request", _("请求无效。")),
    401: ("not_authenticated", _("请先登录。")),
    403: ("permission_denied", _("您无权执行此操作。")),
    404: ("not_found", _("未找到。")),
    405: ("method_not_allowed", _("不支持此请求方法。")),
    406: ("not_acceptable", _("无法提供所要求的格式。")),
    409: ("conflict", _("该记录已被他人修改，请刷新后重试。")),
    413: ("too_large", _("提交的内容过大。")),
    415: ("unsupported_media_type", _("不支持的内容类型。")),
    429: ("throttled", _("请求过于频繁，请稍后再试。")),
    500: ("server_error", _("服务器出错，请稍后再试；问题已记录。")),
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def error_detail(status):
    """``(code, message)`` for an HTTP status (the nearest class for one not listed)."""
    if status in DETAILS:
        return DETAILS[status]
    return DETAILS[500] if status >= 500 else DETAILS[400]


def api_error(request, status):
    code, message = error_detail(status)
    return JsonResponse(
        {"detail": str(message), "code": code}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def _is_api_answer(response):
    """JSON, or DRF's own answer in whichever representation the client asked for (the browsable
    API's HTML page shows the same field errors a JSON client gets)."""
    if isinstance(response, Response):
        return True
    return response.get("Content-Type", "").split(";")[0].strip() in ("application/json", "application/problem+json")


# prefix → (render(request, status) -> HttpResponse, already_formatted(response) -> bool)
_FORMATS = {"/api/": (api_error, _is_api_answer)}


def register_error_format(prefix, render, already_formatted):
    """Answer errors under ``prefix`` with ``render(request, status)`` unless ``already_formatted(response)``."""
    _FORMATS[prefix] = (render, already_formatted)


def format_for(path):
    for prefix, entry in _FORMATS.items():
        if path.startswith(prefix):
            return entry
    return None


class ApiErrorMiddleware:
    """See the module docstring. Sits just inside ``LocaleMiddleware`` so messages follow the
    reader's language, and outside CSRF/Common so their refusals are caught too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400:
            return response
        entry = format_for(request.path_info)
        if entry is None:
            return response
        render, already_formatted = entry
        if already_formatted(response):
            return response
        answer = render(request, response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                answer[header] = response[header]
        return answer
