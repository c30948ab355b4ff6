"""Sign-ins and role changes in the audit trail (``baohe.services.audit``).

- **Sign-ins**: Django's own signals are the one place every password door passes through: the
  login page, ``/admin/login/`` and registration call ``django.contrib.auth.login`` (which sends
  ``user_logged_in``), and every door, the API token endpoint included, calls ``authenticate``
  (which sends ``user_login_failed`` when no backend accepts the password, or axes refuses a
  locked pair). A view-by-view call would miss the next door someone adds; axes hangs off the
  same signals. The API token endpoint issues a token without a session (no ``login()``), so it
  calls :func:`signed_in` itself. A line is placed under the account's community or street
  (its roles), so the secretary sees the sign-ins of their people; failures name the account
  typed, masked (:func:`baohe.masking.mask_username`), never the password.
- **Lockouts**: ``accounts.lockout.log_lockout`` (axes' ``user_locked_out`` signal).
- **Role changes**: :func:`role_changed`, called by the services and the admin that write roles
  (the role's kind, street and community, old → new).
"""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from baohe.masking import mask_username
from baohe.models import AuditEntry
from baohe.services import audit

from .models import Role, User
from .roles import roles_changed
from .selectors import place_of

Action = AuditEntry.Action


def _channel(request: HttpRequest | None) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api/"):
        return "api"
    return "page"


def signed_in(*, user: User, request: HttpRequest | None, channel: str = "") -> AuditEntry:
    """One LOGIN line: ``user`` proved their password (and, for an API token, their code)."""
    street_id, community_id = place_of(user)
    return audit(
        user=user,
        action=Action.LOGIN,
        obj=user,
        request=request,
        detail={"channel": channel or _channel(request)},
        street_id=street_id,
        community_id=community_id,
    )


@receiver(user_logged_in, dispatch_uid="accounts.audit.login")
def _logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    signed_in(user=user, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.audit.login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    from .lockout import lockout_username

    typed = str((credentials or {}).get("username") or "")[:150]
    account = None
    if typed:
        username = lockout_username(request, {"username": typed})
        account = User.objects.filter(username=username).first() if username else None
    street_id, community_id = place_of(account)
    audit(
        user=None,
        action=Action.LOGIN_FAILED,
        request=request,
        object_type=User._meta.label_lower if account else "",
        object_id=str(account.pk) if account else "",
        object_repr=mask_username(typed),
        username=mask_username(typed),
        detail={"channel": _channel(request)},
        street_id=street_id,
        community_id=community_id,
    )


def role_values(role: Role | None) -> dict[str, Any]:
    """What a role change compares: the role's kind, street and community (ids)."""
    if role is None:
        return {}
    return {"kind": role.kind, "street": role.street_id, "community": role.community_id}


def role_changed(
    *,
    by: User | None,
    role: Role,
    before: dict[str, Any] | None = None,
    deleted: bool = False,
    request: HttpRequest | None = None,
) -> AuditEntry | None:
    """One ROLE_CHANGE line for ``role`` of its user: created (``before`` is ``None``), changed
    (``before`` = :func:`role_values` of the role as it was) or deleted; nothing when unchanged.
    Also forgets the user's cached roles (``accounts.roles``), so the change applies at once."""
    roles_changed(role.user_id)
    after = {} if deleted else role_values(role)
    old = role_values(role) if deleted else (before or {})
    changes = {
        name: [old.get(name), after.get(name)]
        for name in ("kind", "street", "community")
        if old.get(name) != after.get(name)
    }
    if not changes:
        return None
    street_id = role.street_id or (role.community.street_id if role.community_id else None)
    return audit(
        user=by,
        action=Action.ROLE_CHANGE,
        obj=role.user,
        request=request,
        changes=changes,
        detail={"role": role.pk, "kind": role.kind},
        street_id=street_id,
        community_id=role.community_id,
    )
