"""我的待办: what a signed-in worker must do now, gathered from every app that has work to give.

The landing page after login (``baohe.views.todo``) and ``GET /api/v1/todo/`` read
:func:`todo_items`. The items come from *providers*: each app registers one (or more) in its
``AppConfig.ready()`` with :func:`register_todo`, so this floor names no app above it
(ARCHITECTURE: imports point down). A provider is ``provider(user, now)`` returning the
:class:`TodoItem` objects that apply to ``user`` — each a count, the link to its filtered list
and, where the page should show the rows themselves (the newest requests to accept), a few of
them. A provider answers in a fixed, small number of queries (one aggregate per kind of work),
whatever the user's scope; the page's query count is pinned by the tests.

Registered today: requests (``service_requests/todo.py``: to accept, assigned to me, approvals
for the secretary, overdue and 督办 for officials), visits (``visits/todo.py``: my visits due),
meeting action items (``meetings/todo.py``). An app with approvals of its own (``funds/``)
registers a provider whose items are in the :data:`APPROVALS` section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

WORK = "work"  # my own work: to accept, assigned to me, visits, action items
APPROVALS = "approvals"  # what waits for my decision (secretary): extensions, returns, funds …
OVERSIGHT = "oversight"  # what I oversee (officials): overdue, 督办

#: The sections of the page, in order, with their headings.
SECTIONS: tuple[tuple[str, Any], ...] = (
    (WORK, _("我的工作")),
    (APPROVALS, _("待我审批")),
    (OVERSIGHT, _("督查督办")),
)


@dataclass(frozen=True)
class TodoRow:
    """One row shown under an item (e.g. a request to accept): its text, link and a note."""

    text: str
    url: str
    note: str = ""
    state: str = ""  # "overdue", "soon" or "" (styles the note)


@dataclass(frozen=True)
class TodoItem:
    """One kind of work for the user: how many, and the list behind the number."""

    key: str  # stable, for the API and the tests ("requests.to_accept")
    section: str  # WORK, APPROVALS or OVERSIGHT
    label: Any  # lazy text
    count: int
    url: str  # the filtered list behind the count
    order: int = 100  # within the section, smaller first
    urgent: bool = False  # shown in red (something is overdue)
    rows: tuple[TodoRow, ...] = field(default_factory=tuple)


Provider = Callable[[Any, datetime], Iterable[TodoItem]]
_PROVIDERS: list[Provider] = []


def register_todo(provider: Provider) -> None:
    """Add a provider (once; registering the same one again changes nothing)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def providers() -> tuple[Provider, ...]:
    return tuple(_PROVIDERS)


def todo_items(user: Any, now: datetime) -> list[TodoItem]:
    """Every provider's items for ``user``, by section, then order, then label."""
    if not getattr(user, "is_authenticated", False):
        return []
    items = [item for provider in _PROVIDERS for item in provider(user, now)]
    rank = {key: index for index, (key, _label) in enumerate(SECTIONS)}
    return sorted(items, key=lambda item: (rank.get(item.section, len(rank)), item.order, item.key))


def todo_sections(items: Iterable[TodoItem]) -> list[tuple[str, Any, list[TodoItem]]]:
    """``[(section, heading, items)]`` for the sections that have items, in page order."""
    items = list(items)
    return [
        (key, label, [item for item in items if item.section == key])
        for key, label in SECTIONS
        if any(item.section == key for item in items)
    ]
