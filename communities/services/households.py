"""Saving a household, and telling the apps above the registry that households changed.

A household's flags (独居老人, 高龄, …) and who serves it (the central household, in
``partybuilding``) decide its visit plans (``visits``, two floors up). The registry imports
none of those apps: they register what must follow a change with
:func:`register_households_changed` (``visits/apps.py``: ``visits.services.visit_plans_sync``),
and the services that change a household call :func:`households_changed` inside their own
transaction, so the plans are right when the change commits — no signal, no ``save()`` magic.
A nightly task (``visits.tasks.reconcile_visit_plans``) reconciles every plan as a safety net
for writes that bypass the services (the admin, bulk loads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpRequest

from baohe.services import scoped_save

from ..models import Household

if TYPE_CHECKING:
    from accounts.models import User

HouseholdsChanged = Callable[[list[int]], object]
_HOOKS: list[HouseholdsChanged] = []

#: The fields whose change is told to the hooks (the rest of a household does not drive plans).
WATCHED_FIELDS = (*Household.FLAG_FIELDS, "building_id")


def register_households_changed(hook: HouseholdsChanged) -> None:
    """Run ``hook(household_ids)`` whenever households' flags or servers change (from ``AppConfig.ready()``)."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def households_changed(household_ids: Iterable[int]) -> None:
    """Tell every registered hook, in the caller's transaction, that these households changed."""
    ids = sorted({pk for pk in household_ids if pk})
    if not ids:
        return
    for hook in _HOOKS:
        hook(ids)


def household_save(*, instance: Household, by: User, request: HttpRequest | None = None) -> Household:
    """Create or edit a household as ``by`` (``scoped_save``: validated, in scope, audited) and,
    when it is new or a flag or its building changed, bring what follows from it in step
    (its visit plans) in the same transaction."""
    with transaction.atomic():
        before = None
        if not instance._state.adding and instance.pk is not None:
            before = Household.objects.filter(pk=instance.pk).values(*WATCHED_FIELDS).first()
        scoped_save(instance=instance, by=by, request=request)
        if before is None or any(before[name] != getattr(instance, name) for name in WATCHED_FIELDS):
            households_changed([instance.pk])
    return instance
