"""Search everywhere: the top bar's box and its results page (``/registry/search/``).

One query string, split into words that must all match (``"5栋 漏水"``: in building 5 *and*
about a leak). :func:`parse` reads what each word can mean — a building (``5栋``, ``5号楼``,
``5幢``), a unit (``2单元``), a room (``301``, ``301室``), the last 4 digits of a mobile (尾号,
``5678``), a request number, or text — and each kind of result applies the meanings it has:

- **residents** (here): name, 尾号 (through the blind index ``mobile_tail_index``: no clear digit
  is stored, ``baohe.crypto``), or their household's building, unit, room and compound;
- **households** (here): building, unit, room and compound;
- higher floors add their own kinds with :func:`register_search` from ``AppConfig.ready()``
  (``service_requests``: number, text, address; registered in ``service_requests/apps.py``), so
  this floor imports none of them.

Everything is read through ``restrict(user, VIEW)``: a search never finds a row outside the
user's scope. Text is matched with ``icontains``; on PostgreSQL the columns it reads carry GIN
trigram indexes on ``UPPER(col)`` (pg_trgm, which indexes Chinese substrings of three characters
or more — a two-character word is checked row by row within the scope: migrations
``communities.0009`` and ``service_requests.0006``), on SQLite it is a plain scan. Names of
places (compounds, buildings) are turned into id lists first (:meth:`Places.compound_ids`, …)
so that the big tables are filtered by indexed columns, never joined up for an ``OR``.
The district-scale figure is in ``bench/README.md`` (``bench/bench_search.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.functional import Promise

from baohe.crypto import TAIL_DIGITS, blind_index
from baohe.scoping import VIEW

from .models import Building, Compound, Household, Resident

if TYPE_CHECKING:
    from accounts.models import User

#: At most this many words are read; the rest of a long query is ignored.
MAX_WORDS = 5
#: Hits per kind on the results page (each kind links to its full list where it has one).
GROUP_LIMIT = 20
#: Place names matched by a word before the word is given up as a place (it still matches text).
PLACE_LIMIT = 500
#: Households a place word narrows a resident search to (a broader word finds the first ones).
HOUSEHOLD_LIMIT = 5000

_BUILDING = re.compile(r"([0-9A-Za-z]{1,10})(?:栋|号楼|幢|号)\Z")
_UNIT = re.compile(r"([0-9]{1,2})单元\Z")
_ROOM = re.compile(r"([0-9]{3,5})室?\Z")
_ROOM_MARKED = re.compile(r"([0-9A-Za-z]{1,10})室\Z")
_TAIL = re.compile(rf"[0-9]{{{TAIL_DIGITS}}}\Z")
_NUMBER = re.compile(r"BH-?[0-9]{8}-?[0-9]{4}\Z", re.IGNORECASE)
# "5-2-301": building, unit, room.
_ADDRESS = re.compile(r"([0-9A-Za-z]{1,10})-([0-9]{1,2})-([0-9A-Za-z]{1,10})\Z")


@dataclass(frozen=True)
class Word:
    """One word of the query and what it can mean."""

    text: str
    building: str = ""  # a building number ("5" from "5栋")
    unit: int | None = None
    room: str = ""
    tail: str = ""  # 4 digits: a mobile's last digits (or a room number)
    number: str = ""  # a request number, normalised BH-YYYYMMDD-NNNN

    @property
    def is_place(self) -> bool:
        return bool(self.building or self.unit or self.room)


def _word(text: str) -> Word:
    if _NUMBER.match(text):
        digits = re.sub(r"[^0-9]", "", text)
        return Word(text=text, number=f"BH-{digits[:8]}-{digits[8:]}")
    if match := _ADDRESS.match(text):
        return Word(text=text, building=match[1].upper(), unit=int(match[2]), room=match[3].upper())
    if match := _BUILDING.match(text):
        return Word(text=text, building=match[1].upper())
    if match := _UNIT.match(text):
        return Word(text=text, unit=int(match[1]))
    tail = text if _TAIL.match(text) else ""
    if match := _ROOM.match(text):
        return Word(text=text, room=match[1], tail=tail)
    if match := _ROOM_MARKED.match(text):
        return Word(text=text, room=match[1].upper())
    return Word(text=text, tail=tail)


def parse(query: str) -> list[Word]:
    """The words of ``query`` (whitespace and the Chinese comma separate them), at most
    :data:`MAX_WORDS`, each read for what it can mean."""
    words = [w for w in re.split(r"[\s,，、;；]+", query or "") if w]
    return [_word(w) for w in words[:MAX_WORDS]]


@dataclass
class Places:
    """The compounds and buildings the user may see whose names match a word, looked up once
    per word (small tables), so the big tables are filtered by id."""

    user: Any
    _cache: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def compound_ids(self, text: str) -> list[int]:
        key = ("compound", text)
        if key not in self._cache:
            rows = Compound.objects.restrict(self.user, VIEW).filter(name__icontains=text)
            self._cache[key] = list(rows.values_list("pk", flat=True)[:PLACE_LIMIT])
        return self._cache[key]

    def building_ids_named(self, text: str) -> list[int]:
        """Buildings whose name (和谐5栋) contains ``text``."""
        key = ("building_name", text)
        if key not in self._cache:
            rows = Building.objects.restrict(self.user, VIEW).filter(name__icontains=text)
            self._cache[key] = list(rows.values_list("pk", flat=True)[:PLACE_LIMIT])
        return self._cache[key]

    def household_ids(self, condition: Q, action: str = VIEW) -> list[int]:
        """The ids of the households the user may see (or change) that meet ``condition``; at most
        :data:`HOUSEHOLD_LIMIT` (a resident search is then narrowed by id, an indexed column)."""
        key = ("households", f"{action}:{condition}")
        if key not in self._cache:
            rows = Household.objects.restrict(self.user, action).filter(condition)
            self._cache[key] = list(rows.order_by().values_list("pk", flat=True)[:HOUSEHOLD_LIMIT])
        return self._cache[key]

    def building_ids_numbered(self, number: str) -> list[int]:
        """Buildings numbered ``number`` (``5`` for 5栋), and those whose name says ``5栋``."""
        key = ("building_number", number)
        if key not in self._cache:
            rows = Building.objects.restrict(self.user, VIEW).filter(
                Q(number__iexact=number) | Q(name__endswith=f"{number}栋")
            )
            self._cache[key] = list(rows.values_list("pk", flat=True)[: PLACE_LIMIT * 4])
        return self._cache[key]


def household_place_q(word: Word, places: Places, prefix: str = "") -> Q | None:
    """What a place word means for a household (``prefix`` = the path to it, e.g. ``household__``);
    ``None`` when the word is no place."""
    if not word.is_place:
        return None
    q = Q()
    if word.building:
        q &= Q(**{f"{prefix}building_id__in": places.building_ids_numbered(word.building)})
    if word.unit:
        q &= Q(**{f"{prefix}unit": word.unit})
    if word.room:
        q &= Q(**{f"{prefix}room__iexact": word.room})
    return q


def household_name_q(word: Word, places: Places, prefix: str = "") -> Q:
    """A text word on a household: its compound's or its building's name."""
    return Q(**{f"{prefix}compound_id__in": places.compound_ids(word.text)}) | Q(
        **{f"{prefix}building_id__in": places.building_ids_named(word.text)}
    )


def search_households(
    user: User, words: list[Word], places: Places | None = None, action: str = VIEW
) -> QuerySet[Household]:
    """Households by address: every word a place (building, unit, room) or a compound or
    building name. A query with no such word finds none (a name is a resident's)."""
    places = places or Places(user)
    rows = Household.objects.restrict(user, action)
    matched = False
    for word in words:
        place = household_place_q(word, places)
        if place is None:
            names = household_name_q(word, places)
            if not places.compound_ids(word.text) and not places.building_ids_named(word.text):
                return Household.objects.none()
            rows = rows.filter(names)
        else:
            rows = rows.filter(place)
            matched = True
    if not matched:
        return Household.objects.none()
    return rows.select_related("building", "compound").order_by("compound_id", "building_id", "unit", "room")


def search_residents(
    user: User, words: list[Word], places: Places | None = None, action: str = VIEW
) -> QuerySet[Resident]:
    """Residents by name, 尾号 (the last 4 digits of the mobile) or their household's address.

    The place words (``5栋 2单元 301``) pick the households first — one indexed query, at most
    :data:`HOUSEHOLD_LIMIT` ids — so the resident table is filtered by ``household_id`` and the
    trigram index on names, never joined for an ``OR``. A 4-digit word is a 尾号 or a room."""
    places = places or Places(user)
    rows = Resident.objects.restrict(user, action).filter(anonymised_at__isnull=True)
    pure_places = [word for word in words if word.is_place and not word.tail]
    if pure_places:
        homes = Household.objects.restrict(user, action)
        for word in pure_places:
            homes = homes.filter(household_place_q(word, places))
        rows = rows.filter(household_id__in=list(homes.values_list("pk", flat=True)[:HOUSEHOLD_LIMIT]))
    for word in words:
        if word in pure_places:
            continue
        q = Q(name__icontains=word.text)
        if word.tail:
            q |= Q(mobile_tail_index=blind_index("mobile_tail", word.tail))
            q |= Q(household_id__in=places.household_ids(Q(room__iexact=word.room), action))
        else:
            q |= Q(household_id__in=places.household_ids(household_name_q(word, places), action))
        rows = rows.filter(q)
    return rows.select_related("household__building", "household__compound").order_by("status", "name", "pk")


def building_household_q(word: Word, building: Building) -> Q:
    """One search word on a building's page: a unit and room (``2单元``, ``301``, ``2-301``), or a
    living resident's name or 尾号."""
    residents = Resident.objects.filter(household__building=building, status=Resident.Status.LIVING)
    if word.tail:
        people = residents.filter(
            Q(name__icontains=word.text) | Q(mobile_tail_index=blind_index("mobile_tail", word.tail))
        )
    else:
        people = residents.filter(name__icontains=word.text)
    q = Q(pk__in=people.values("household_id")) | Q(room__icontains=word.text)
    if word.unit and not word.room:
        q |= Q(unit=word.unit)
    if word.room:
        q |= Q(room__iexact=word.room, **({"unit": word.unit} if word.unit else {}))
    return q


# --- kinds of results ---------------------------------------------------------------------------
@dataclass
class Hit:
    """One row of the results: a link, with a line saying where or what it is."""

    title: str
    url: str
    detail: str = ""
    badge: str = ""


@dataclass
class Group:
    """The hits of one kind; ``more_url`` opens the kind's own list with the same search."""

    key: str
    title: str | Promise
    hits: list[Hit]
    more: bool = False
    more_url: str = ""


# (user, words, places, limit) -> (hits, more) for one kind of row.
SearchProvider = Callable[[Any, list[Word], Places, int], "tuple[list[Hit], bool]"]


@dataclass(frozen=True)
class Kind:
    key: str
    title: str | Promise
    provider: SearchProvider
    order: int
    # The kind's own list with ``?q=``, for "more" (a URL name).
    list_url: str = ""


_KINDS: list[Kind] = []


def register_search(kind: Kind) -> None:
    """Add a kind of result (from ``AppConfig.ready()``); registering a key twice keeps the first."""
    if all(existing.key != kind.key for existing in _KINDS):
        _KINDS.append(kind)
        _KINDS.sort(key=lambda k: k.order)


def _limited(rows: QuerySet, limit: int) -> tuple[list, bool]:
    found = list(rows[: limit + 1])
    return found[:limit], len(found) > limit


def resident_hits(user: User, words: list[Word], places: Places, limit: int) -> tuple[list[Hit], bool]:
    from django.utils.translation import gettext as _

    rows, more = _limited(search_residents(user, words, places), limit)
    hits = []
    for resident in rows:
        household = resident.household
        hits.append(
            Hit(
                title=resident.name,
                url=resident.get_absolute_url(),
                detail=f"{household.compound.name} {household} · {resident.masked_mobile or _('无手机号')}",
                badge="" if resident.status == Resident.Status.LIVING else str(resident.get_status_display()),
            )
        )
    return hits, more


def household_hits(user: User, words: list[Word], places: Places, limit: int) -> tuple[list[Hit], bool]:
    rows, more = _limited(search_households(user, words, places), limit)
    return [
        Hit(
            title=f"{household.compound.name} {household}",
            url=household.get_absolute_url(),
            detail=" ".join(str(flag) for flag in household.flags()),
        )
        for household in rows
    ], more


def _register_registry_kinds() -> None:
    from django.utils.translation import gettext_lazy as _

    register_search(Kind(key="residents", title=_("居民"), provider=resident_hits, order=20))
    register_search(Kind(key="households", title=_("住户"), provider=household_hits, order=30))


_register_registry_kinds()


def search_everything(user: User, query: str, limit: int = GROUP_LIMIT) -> list[Group]:
    """Every registered kind's hits for ``query``, in their order; kinds with no hit left out."""
    from django.urls import reverse
    from django.utils.http import urlencode

    words = parse(query)
    if not words:
        return []
    places = Places(user)
    groups = []
    for kind in _KINDS:
        hits, more = kind.provider(user, words, places, limit)
        if hits:
            more_url = f"{reverse(kind.list_url)}?{urlencode({'q': query})}" if kind.list_url and more else ""
            groups.append(Group(key=kind.key, title=kind.title, hits=hits, more=more, more_url=more_url))
    return groups
