"""The user's roles, kept in the cache between requests (every page needs them: scope, menu).

:func:`roles_of` answers from the default cache (Redis in production) and reads the database
once on a miss (one query: the roles with their community and street). Whatever changes a role
calls :func:`roles_changed` (``accounts.audit.role_changed`` does, which the admin and the
services call for every role they create, change or delete), so the next request reads them
again; ``ROLES_CACHE_SECONDS`` (default 300) bounds how long a change made some other way
(a shell, a raw SQL fix) can go unseen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from .models import Role, User


def _key(user_id: int) -> str:
    return f"accounts:roles:{user_id}"


def roles_of(user: User) -> list[Role]:
    """``user``'s roles (with community and street), from the cache or one query."""
    seconds = getattr(settings, "ROLES_CACHE_SECONDS", 300)
    if not seconds or user.pk is None:
        return list(user.roles.select_related("community", "street"))
    try:
        roles = cache.get(_key(user.pk))
    except (RedisError, OSError):
        roles = None
    if roles is None:
        roles = list(user.roles.select_related("community", "street"))
        try:
            cache.set(_key(user.pk), roles, seconds)
        except (RedisError, OSError):
            pass
    return roles


def roles_changed(user_id: int) -> None:
    """Forget ``user_id``'s cached roles: the next request reads them from the database. Again
    after the transaction commits, so that a request reading the old rows meanwhile cannot keep
    them in the cache."""
    cache.delete(_key(user_id))
    transaction.on_commit(lambda: cache.delete(_key(user_id)))
