"""One timeline per household: its requests, visits, services received and notices confirmed,
newest first, on the staff household page (``/registry/household/<id>/timeline/``, loaded into
the page by htmx; a page of its own without JavaScript).

Every entry comes from an app above the registry, which registers a provider with
:func:`register_household_timeline` from ``AppConfig.ready()`` (``service_requests``,
``visits``, ``volunteers``, ``notices``: each in its ``selectors.py``); this floor imports none
of them. A provider reads its rows with ``restrict(user, VIEW)`` in one query, newest first,
at most ``limit``; the timeline merges them, so the page costs one query per provider whatever
the household's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from .models import Household

#: Entries shown (newest first); older ones are on each app's own list.
TIMELINE_LIMIT = 50


@dataclass(frozen=True)
class Entry:
    """One thing that happened to a household."""

    when: datetime
    kind: str  # "request", "visit", "service", "notice"
    kind_label: str
    icon: str  # a Bootstrap icon name
    title: str
    url: str = ""
    detail: str = ""
    badge: str = ""
    # A date without a time (a service is recorded by day): shown without the time.
    all_day: bool = False


def day_start(day: date) -> datetime:
    """An aware datetime for a day's entry (sorted as the start of that day, local time)."""
    return timezone.make_aware(datetime.combine(day, time.min))


# (household, user, limit) -> entries, newest first.
TimelineProvider = Callable[["Household", Any, int], list[Entry]]
_PROVIDERS: list[TimelineProvider] = []


def register_household_timeline(provider: TimelineProvider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def household_timeline(household: Household, user: Any, limit: int = TIMELINE_LIMIT) -> list[Entry]:
    """Every provider's entries for ``household`` as ``user`` may see them, newest first."""
    entries: list[Entry] = []
    for provider in _PROVIDERS:
        entries.extend(provider(household, user, limit))
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]
