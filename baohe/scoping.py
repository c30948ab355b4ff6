"""Scope: who may see and change which part of the district (ARCHITECTURE rule 1).

Every model with data under a community uses :class:`RestrictedQuerySet` and declares
``scope_paths``: the lookups from the model to its street, community, compound, household
and owning user. ``Model.objects.restrict(user, action)`` then returns what that user may
see (``action="view"``) or change (``"change"``): superusers pass, anonymous users get
nothing, everyone else gets one filter built from their :class:`Scope`.

The scope itself comes from ``user.get_scope(action)`` (``accounts.User`` builds it from
its roles), so this floor knows nothing about roles. Out of scope and missing look the same:
callers turn an empty result into 404.
"""

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q

VIEW = "view"
CHANGE = "change"
ACTIONS = (VIEW, CHANGE)


@dataclass(frozen=True)
class Scope:
    """What one user reaches for one action. Ids are sets of primary keys."""

    everything: bool = False
    street_ids: frozenset = field(default_factory=frozenset)
    community_ids: frozenset = field(default_factory=frozenset)
    # Streets a user sees only as the parent of their communities (name, not contents).
    parent_street_ids: frozenset = field(default_factory=frozenset)
    # Residents: the public side of their compound, and their own household.
    compound_ids: frozenset = field(default_factory=frozenset)
    household_ids: frozenset = field(default_factory=frozenset)
    user_id: int | None = None
    # Any authenticated non-resident may read rows marked public (e.g. the district itself).
    public: bool = False

    @property
    def is_empty(self):
        return not (
            self.everything
            or self.street_ids
            or self.community_ids
            or self.parent_street_ids
            or self.compound_ids
            or self.household_ids
            or self.public
        )


NO_SCOPE = Scope()


@dataclass(frozen=True)
class ScopePaths:
    """Lookups from a model to the things a scope names; ``None`` where it has no such path."""

    street: str | None = "street"
    community: str | None = "community"
    parent_street: str | None = None
    compound: str | None = None
    household: str | None = None
    # The user(s) a row belongs to whatever their roles (a resident's own request): a lookup or a tuple.
    owner: str | tuple | None = None
    public: bool = False


def scope_filter(paths: ScopePaths, scope: Scope):
    """The Q object selecting the rows that ``scope`` reaches, or ``None`` for none at all."""
    pairs = (
        (paths.street, scope.street_ids),
        (paths.community, scope.community_ids),
        (paths.parent_street, scope.parent_street_ids),
        (paths.compound, scope.compound_ids),
        (paths.household, scope.household_ids),
    )
    q = None
    for path, ids in pairs:
        if path and ids:
            term = Q(**{f"{path}__in": sorted(ids)})
            q = term if q is None else q | term
    if paths.owner and scope.user_id is not None:
        owners = (paths.owner,) if isinstance(paths.owner, str) else paths.owner
        for owner in owners:
            term = Q(**{owner: scope.user_id})
            q = term if q is None else q | term
    return q


def user_scope(user, action=VIEW) -> Scope | None:
    """The user's scope, or ``None`` meaning "everything" (superusers)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    if user.is_superuser:
        return None
    get_scope = getattr(user, "get_scope", None)
    return get_scope(action) if get_scope else NO_SCOPE


def may_change_anything(user) -> bool:
    """Whether ``user`` may change anything at all (a street or a community of their own, or
    everything): pages show their "add" links only then. No query: roles are cached on the user."""
    scope = user_scope(user, CHANGE)
    return scope is None or scope.everything or bool(scope.street_ids or scope.community_ids)


class RestrictedQuerySet(models.QuerySet):
    """A QuerySet that knows how to narrow itself to what a user may see or change."""

    def restrict(self, user, action=VIEW):
        scope = user_scope(user, action)
        if scope is None or scope.everything:
            return self
        paths = getattr(self.model, "scope_paths", None)
        if paths is None:
            raise TypeError(f"{self.model.__name__} declares no scope_paths")
        if paths.public and scope.public and action == VIEW:
            return self
        q = scope_filter(paths, scope)
        return self.none() if q is None else self.filter(q)


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet, class_name="RestrictedManager")


def check_in_scope(instance, user, action=CHANGE):
    """Re-check a saved row against the user's scope (inside the caller's transaction).

    Raises :class:`OutOfScope` when the row the user just wrote lies outside what they may
    change, so the surrounding ``transaction.atomic()`` rolls the write back.
    """
    from .exceptions import OutOfScope

    model = type(instance)
    if not model._default_manager.all().restrict(user, action).filter(pk=instance.pk).exists():
        raise OutOfScope(model._meta.verbose_name)
