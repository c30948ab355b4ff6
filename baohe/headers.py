"""Response headers that keep personal data out of caches.

The other security headers come from well-kept middleware configured in settings:
Content-Security-Policy from django-csp (``CONTENT_SECURITY_POLICY``), Permissions-Policy from
django-permissions-policy (``PERMISSIONS_POLICY``), HSTS, Referrer-Policy and nosniff from
Django's ``SecurityMiddleware``, X-Frame-Options from ``XFrameOptionsMiddleware``.

- :class:`PrivateNoStoreMiddleware`: every answer to a signed-in user (a session or an API
  token) is ``Cache-Control: no-store`` (Django's ``add_never_cache_headers``), so a shared
  computer's browser cache or a proxy never keeps a page of residents' names and numbers.

The views that serve uploaded photos (``service_requests`` attachments, visit and inspection
photos) call ``add_never_cache_headers`` themselves, so a photo is never cached whoever asks.
"""

from django.utils.cache import add_never_cache_headers


def signed_in(request):
    """True when the request was answered for a signed-in user.

    Read on the way out: by then ``request.user`` is the session's user, or the token's user
    that DRF's authentication set on the underlying request. A request answered before
    ``AuthenticationMiddleware`` ran (a redirect adding a slash) has no user and is anonymous.
    """
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class PrivateNoStoreMiddleware:
    """``Cache-Control: no-store`` (with ``private, no-cache, must-revalidate, max-age=0``) on
    every response to a signed-in user, whatever the view set before."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if signed_in(request):
            add_never_cache_headers(response)
        return response
