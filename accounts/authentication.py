"""DRF authentication: hashed expiring tokens (django-rest-knox) and verified sessions.

:class:`TokenAuthentication` is knox's (digest lookup, expired tokens deleted, inactive users
refused) plus two rules of ours: the token must have been issued against the user's current
credentials (:func:`accounts.tokens.token_matches_credentials`), and its "last used" time is
kept. Knox also loads every other token of the user on every request to delete the expired
ones; here only the presented token's expiry is checked (an expired token is refused and
deleted all the same), and a user's expired tokens are removed when they get a new one
(:func:`accounts.tokens.token_issue`): one query per API request instead of two and a row per
device (issue 14). A missing, revoked, expired or outdated token answers 401 (the first authentication class
sends ``WWW-Authenticate: Token``).

:class:`VerifiedSessionAuthentication` accepts a browser session only once its second factor
is verified, for the accounts that need one.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import tokens
from .two_factor import is_verified, needs_second_factor

INVALID_TOKEN = _("令牌无效、已过期或已注销，请重新获取。")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except AuthenticationFailed as error:
            raise AuthenticationFailed(INVALID_TOKEN, code="token_invalid") from error

    def validate_user(self, auth_token):
        user, auth_token = super().validate_user(auth_token)
        if not tokens.token_matches_credentials(auth_token):
            auth_token.delete()
            raise AuthenticationFailed(INVALID_TOKEN, code="token_invalid")
        tokens.token_touch(auth_token)
        return user, auth_token

    def _cleanup_token(self, auth_token) -> bool:
        """Whether the presented token has expired (then it is deleted): knox's check without its
        sweep of the user's other tokens (see the module docstring)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class VerifiedSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and needs_second_factor(result[0]) and not is_verified(result[0]):
            return None
        return result


# The schema names them as it names knox's and DRF's own classes.
class TokenScheme(KnoxTokenScheme):
    target_class = TokenAuthentication
    name = "tokenAuth"


class VerifiedSessionScheme(SessionScheme):
    target_class = VerifiedSessionAuthentication
