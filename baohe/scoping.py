"""Scope: who may see and change which part of the district (ARCHITECTURE rule 1).

Every model with data under a community uses :class:`RestrictedQuerySet` and declares
``scope_paths`` (:class:`ScopePaths`), once: the lookups from the model to its street,
community, compound, household and owning user. ``Model.objects.restrict(user, action)`` then
returns what that user may see (``action="view"``) or change (``"change"``): superusers pass,
anonymous users get nothing, everyone else gets one filter built from their :class:`Scope`.

The same declaration says where a row lies (:meth:`ScopePaths.place`: its street, community,
compound and building), which is all that the registry's level counts
(``communities.selectors``, with the party organisation's counters from ``partybuilding``) and
the dashboards (``dashboard.selectors``, ``dashboard.lists``) need to narrow rows to a place.

The scope itself comes from ``user.get_scope(action)`` (``accounts.User`` builds it from
its roles), so this floor knows nothing about roles. Out of scope and missing look the same:
callers turn an empty result into 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self, TypeVar, cast

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


#: The places a row can lie in, from the top (the district holds every row).
PLACE_LEVELS = ("street", "community", "compound", "building")
_SELF = ("id", "pk")


@dataclass(frozen=True)
class ScopePaths:
    """A model's lookups to the places and people a scope names, declared once per model.

    ``street``, ``community``, ``parent_street``, ``compound``, ``household``, ``owner`` and
    ``public`` *grant* sight (:func:`scope_filter`); ``None`` where the model has no such path.
    ``in_compound`` and ``in_building`` grant nothing: they say where a row lies below its
    community when no grant says it already (a household lies in a compound, but residents of
    that compound do not see it), for counts and dashboards (:meth:`place`).
    """

    street: str | None = "street"
    community: str | None = "community"
    parent_street: str | None = None
    # Residents of these compounds see the row (the public side of their compound).
    compound: str | None = None
    household: str | None = None
    # The user(s) a row belongs to whatever their roles (a resident's own request): a lookup or a tuple.
    owner: str | tuple[str, ...] | None = None
    public: bool = False
    # A row between two places (a move-in request: the community asked and the one asking) is
    # seen from both: these lookups grant sight like ``street``/``community`` do, to a second place.
    other_street: str | None = None
    other_community: str | None = None
    # Where the row lies (no grant): the lookup to its compound and its building.
    in_compound: str | None = None
    in_building: str | None = None

    def place(self, level: str) -> str | None:
        """The lookup from the model to the id of the ``level`` place (street, community,
        compound, building) its row lies in; ``"id"`` for the place itself, ``None`` for none."""
        if level == "street":
            return self.street
        if level == "community":
            return self.community
        if level == "compound":
            return self.in_compound or self.compound
        if level == "building":
            return self.in_building
        raise ValueError(f"unknown place level {level!r}")

    def place_filter(self, level: str, pk: Any) -> Q:
        """The rows lying in the ``level`` place ``pk`` (a place, not a user's scope)."""
        path = self.place(level)
        if path is None:
            raise ValueError(f"rows declare no path to a {level}")
        return Q(**{path: pk})

    def places_above(self) -> dict[str, str]:
        """``{level: lookup}`` for the places a row lies in, above the row itself (a community
        lies in a street; its own ``"id"`` is left out): what a count of these rows groups by."""
        return {level: path for level in PLACE_LEVELS if (path := self.place(level)) is not None and path not in _SELF}


def scope_filter(paths: ScopePaths, scope: Scope) -> Q | None:
    """The Q object selecting the rows that ``scope`` reaches, or ``None`` for none at all."""
    pairs = (
        (paths.street, scope.street_ids),
        (paths.community, scope.community_ids),
        (paths.parent_street, scope.parent_street_ids),
        (paths.compound, scope.compound_ids),
        (paths.household, scope.household_ids),
        (paths.other_street, scope.street_ids),
        (paths.other_community, scope.community_ids),
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


def user_scope(user: Any, action: str = VIEW) -> Scope | None:
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

    def restrict(self, user: Any, action: str = VIEW) -> Self:
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


_M = TypeVar("_M", bound=models.Model)


def restricted(model: type[_M], user: Any, action: str = VIEW) -> models.QuerySet[_M]:
    """``model``'s rows (its default manager's) that ``user`` may see or change."""
    rows = model._default_manager.all()
    if not isinstance(rows, RestrictedQuerySet):
        raise TypeError(f"{model.__name__} has no restrict(): its manager is not a RestrictedManager")
    return cast("models.QuerySet[_M]", rows.restrict(user, action))


def check_in_scope(instance, user, action=CHANGE):
    """Re-check a saved row against the user's scope (inside the caller's transaction).

    Raises :class:`OutOfScope` when the row the user just wrote lies outside what they may
    change, so the surrounding ``transaction.atomic()`` rolls the write back.
    """
    from .exceptions import OutOfScope

    model = type(instance)
    if not model._default_manager.all().restrict(user, action).filter(pk=instance.pk).exists():
        raise OutOfScope(model._meta.verbose_name)
