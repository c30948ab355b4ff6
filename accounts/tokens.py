"""API tokens (django-rest-knox) and signing out everywhere.

A token is issued per device (a name from the request or its User-Agent) by ``POST
/api/v1/auth/token/``; only its SHA-512 digest is stored (:class:`~accounts.models.ApiToken`).
It expires after ``API_TOKEN_STAFF_SECONDS`` for anyone with a second factor and
``API_TOKEN_RESIDENT_SECONDS`` for residents, and can be revoked one by one ("我的设备") or all
at once.

Every token stores the user's credentials hash at issue (``User.get_session_auth_hash()``: the
password hash and ``credentials_version``); :class:`accounts.authentication.TokenAuthentication`
refuses a token whose hash no longer matches. So a password change by any path ends every token
just as Django ends every session, with no signal to forget; :func:`user_sign_out_everywhere`
bumps the version for the cases without a new password (second factor reset, account disabled,
"sign out all other devices").
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from baohe.models import AuditEntry
from baohe.services import audit

from .models import ApiToken, User

TOUCH_EVERY_SECONDS = 60  # how stale "last used" may be (saves a write on every API call)
NAME_MAX = ApiToken._meta.get_field("name").max_length


def token_lifetime(user):
    seconds = settings.API_TOKEN_STAFF_SECONDS if user.needs_second_factor else settings.API_TOKEN_RESIDENT_SECONDS
    return timedelta(seconds=seconds)


def device_name(request, name=""):
    """The name a token is listed under: the one the client gave, else its User-Agent."""
    name = (name or "").strip() or request.headers.get("User-Agent", "").strip() or "API"
    return name[:NAME_MAX]


def active_tokens(user):
    return ApiToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")


def token_issue(*, user, name):
    """A new token for one device: ``(ApiToken, token string)``; the string is shown only now.
    The user's expired tokens are removed on the way."""
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        return ApiToken.objects.create(
            user=user, expiry=token_lifetime(user), name=name[:NAME_MAX], credentials_hash=user.get_session_auth_hash()
        )


def token_matches_credentials(token):
    """The token was issued against the user's current password and credentials version."""
    user = token.user
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(token.credentials_hash, current) for current in hashes)


def token_touch(token):
    """Record that the token was used (at most once a minute per token)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= TOUCH_EVERY_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_revoke(*, user, token_id, request=None):
    """Revoke one of ``user``'s tokens; another user's token or a missing one is a 404."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if token is None:
            raise Http404
        audit(user=user, action=AuditEntry.Action.TOKENS_REVOKED, obj=token, request=request)
        token.delete()


def user_sign_out_everywhere(*, user, by=None, request=None, keep_session=False):
    """End every session and API token of ``user``; with ``keep_session`` the session of
    ``request`` (theirs) stays signed in.

    Bumps ``credentials_version``, which changes the session hash Django checks on each request
    and the hash every token was issued against; the tokens are deleted as well. With ``by``, the
    audit log records who did it (callers that write their own audit row leave it out).
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(credentials_version=F("credentials_version") + 1)
        user.refresh_from_db(fields=["credentials_version"])
        ApiToken.objects.filter(user=user).delete()
        if by is not None:
            audit(user=by, action=AuditEntry.Action.TOKENS_REVOKED, obj=user, request=request)
    if keep_session and request is not None and request.user.pk == user.pk:
        update_session_auth_hash(request, user)
