"""Reference data the busy request paths read by id, kept in each process's memory.

The staff queue shows a category, a compound and a building per row, and a submission must
know whether its category is a leaf. These change a few times a year (the admin, the
registry import) and are read thousands of times a minute, so each process keeps a copy
instead of joining them into every list query:

* **categories**: every category (about sixty): name, parent, whether it has children;
* **compounds** and **communities**: name by id, loaded whole (1,000 and 200 at district scale);
* **buildings**: number and name by id, loaded on demand for the ids a page shows (10,000
  at district scale: only those asked for, one query per page at most);
* **compound options**: the compounds one scope sees, for the queue's compound select (per
  scope, loaded on first use).

Kept current by a version number in the shared cache (``default``: Redis in production): a
save or delete of a ``Category``, ``Community``, ``Compound`` or ``Building`` bumps it (the ``post_save`` /
``post_delete`` receivers wired in ``apps.py``: every write path, the admin included), and
each process compares its copy's version on first use in a request (one cache read). A
bulk ``UPDATE`` or ``COPY`` that bypasses ``save()`` must call :func:`invalidate`; as a net,
a copy is also dropped after :data:`MAX_AGE` seconds.

Labels are language-dependent: the copies hold raw names and :func:`building_label` formats
with the current language's template.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _

from baohe.texts import bilingual, in_english

VERSION_KEY = "service_requests:reference:version"
MAX_AGE = 300.0  # seconds; a copy older than this is reloaded even without a bump
RECHECK = 1.0  # seconds between two reads of the shared version by one process


@dataclass(frozen=True)
class CategoryRef:
    pk: int
    name: str
    parent_id: int | None
    parent_name: str
    is_active: bool
    has_children: bool
    order: int = 0
    name_en: str = ""
    parent_name_en: str = ""

    @property
    def shown_name(self) -> str:
        """As ``Category.label``: the English name in English when there is one."""
        return self.name_en or self.name if in_english() else self.name

    @property
    def shown_parent(self) -> str:
        return self.parent_name_en or self.parent_name if in_english() else self.parent_name

    @property
    def label(self) -> str:
        """As ``Category.__str__``: "parent / child" for a subcategory, in the reader's language."""
        return f"{self.shown_parent} / {self.shown_name}" if self.parent_id else self.shown_name

    @property
    def text(self) -> dict[str, str]:
        """As ``Category.text``: the full name as a stored-text parameter, in both languages."""
        zh, en = self.name, self.name_en or self.name
        if self.parent_id:
            zh, en = f"{self.parent_name} / {zh}", f"{self.parent_name_en or self.parent_name} / {en}"
        return bilingual(zh, en)


class _Copies:
    """This process's copies and the version they were loaded at."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: Any = None
        self.loaded_at = 0.0
        self.checked_at = 0.0
        self.categories: dict[int, CategoryRef] | None = None
        self.compounds: dict[int, str] | None = None
        self.communities: dict[int, str] | None = None
        self.buildings: dict[int, tuple[str, str]] = {}
        self.compound_options: dict[Any, list[tuple[int, str]]] = {}

    def fresh(self) -> _Copies:
        """Drop the copies when the shared version moved (read at most every RECHECK seconds)
        or they are older than MAX_AGE."""
        now = time.monotonic()
        if now - self.checked_at < RECHECK and now - self.loaded_at < MAX_AGE:
            return self
        version = cache.get(VERSION_KEY)
        with self.lock:
            self.checked_at = now
            if version != self.version or now - self.loaded_at >= MAX_AGE:
                self.version = version
                self.loaded_at = now
                self.categories = None
                self.compounds = None
                self.communities = None
                self.buildings = {}
                self.compound_options = {}
        return self


_copies = _Copies()


def invalidate(**_kwargs: Any) -> None:
    """Every process reloads its copies (also the ``post_save``/``post_delete`` receiver)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet
        cache.set(VERSION_KEY, 1, None)
    with _copies.lock:
        _copies.version = None
        _copies.checked_at = 0.0
        _copies.categories = None
        _copies.compounds = None
        _copies.communities = None
        _copies.buildings = {}
        _copies.compound_options = {}


def categories() -> dict[int, CategoryRef]:
    from .models import Category

    copies = _copies.fresh()
    found = copies.categories
    if found is None:
        rows = list(Category.objects.values_list("pk", "name", "parent_id", "is_active", "order", "name_en"))
        names = {row[0]: (row[1], row[5]) for row in rows}
        parents = {row[2] for row in rows if row[2] is not None}
        found = {
            pk: CategoryRef(
                pk,
                name,
                parent,
                names.get(parent, ("", ""))[0] if parent else "",
                active,
                pk in parents,
                order,
                name_en,
                names.get(parent, ("", ""))[1] if parent else "",
            )
            for pk, name, parent, active, order, name_en in rows
        }
        copies.categories = found
    return found


def category_has_children(pk: int) -> bool:
    ref = categories().get(pk)
    if ref is None:  # created a moment ago in another process: ask the database
        from .models import Category

        return Category.objects.filter(parent_id=pk).exists()
    return ref.has_children


def compound_names() -> dict[int, str]:
    from communities.models import Compound

    copies = _copies.fresh()
    found = copies.compounds
    if found is None:
        found = dict(Compound.objects.values_list("pk", "name"))
        copies.compounds = found
    return found


def community_names() -> dict[int, str]:
    from communities.models import Community

    copies = _copies.fresh()
    found = copies.communities
    if found is None:
        found = dict(Community.objects.values_list("pk", "name"))
        copies.communities = found
    return found


def buildings(ids: set[int]) -> dict[int, tuple[str, str]]:
    """``{building id: (number, name)}`` for ``ids`` (one query for those not yet held)."""
    from communities.models import Building

    copies = _copies.fresh()
    held = copies.buildings
    missing = [pk for pk in ids if pk not in held]
    if missing:
        held.update(
            (pk, (number, name))
            for pk, number, name in Building.objects.filter(pk__in=missing).values_list("pk", "number", "name")
        )
    return held


def compound_options(user: Any) -> list[tuple[int, str]]:
    """``[(pk, name)]`` of the compounds ``user`` may see (``Compound.objects.restrict``), by
    community code, then name: the staff queue's compound select. Kept per scope (a role
    change is another scope; a compound or community saved anywhere drops every copy)."""
    from baohe.scoping import VIEW, user_scope
    from communities.models import Compound

    copies = _copies.fresh()
    key = user_scope(user, VIEW)
    found = copies.compound_options.get(key)
    if found is None:
        found = list(
            Compound.objects.restrict(user, VIEW).order_by("community__code", "name").values_list("pk", "name")
        )
        copies.compound_options[key] = found
    return found


class Labels:
    """Labels in the current language, translated once per request (not once per row)."""

    def __init__(self) -> None:
        self.building_template = _("%(number)s栋")

    def building(self, number: str, name: str) -> str:
        base = self.building_template % {"number": number}
        return f"{base}（{name}）" if name else base
