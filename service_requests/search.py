"""Searching requests: the queue's ``q``, and the requests in the top
bar's results (registered with ``communities.search.register_search`` in ``apps.py``).

A request matches a word (``communities.search.parse``; every word must match) by its number
(a whole ``BH-YYYYMMDD-NNNN`` exactly, a part of one as a substring), its description, its
address, its category, its compound, or its building (``5栋``: building number 5, or the text
``5栋`` in the description or address). Names of places and categories become id lists first,
so the request table is filtered by indexed columns only: the GIN trigram indexes on
``UPPER(number|description|address)`` (migration ``0009_search_trigram``; PostgreSQL) and the
foreign keys. The queryset passed in is already restricted to the user's scope.

The queue's sort choices and their keyset pages are in ``selectors`` (``SORTS``, ``cursor_page``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from communities.search import Hit, Places, Word, parse

from .models import Category, ServiceRequest


def word_q(word: Word, places: Places) -> Q:
    """What one word means for a request."""
    if word.number:
        return Q(number=word.number)
    text = Q(description__icontains=word.text) | Q(address__icontains=word.text)
    if word.building:
        return text | Q(building_id__in=places.building_ids_numbered(word.building))
    categories = list(
        Category.objects.filter(name__icontains=word.text).values_list("pk", flat=True)[:50]
    )  # a small table, not scoped
    return (
        text
        | Q(number__icontains=word.text)
        | Q(category_id__in=categories)
        | Q(compound_id__in=places.compound_ids(word.text))
        | Q(building_id__in=places.building_ids_named(word.text))
    )


def search_requests(
    queryset: QuerySet[ServiceRequest], query: str, user: Any, places: Places | None = None
) -> QuerySet[ServiceRequest]:
    """``queryset`` narrowed to the requests matching every word of ``query`` (all of it when empty)."""
    places = places or Places(user)
    for word in parse(query):
        queryset = queryset.filter(word_q(word, places))
    return queryset


# --- the top bar's results ----------------------------------------------------------------------
def request_hits(user: Any, words: list[Word], places: Places, limit: int) -> tuple[list[Hit], bool]:
    """The newest requests matching every word, for the results page."""
    from baohe.scoping import VIEW

    rows = ServiceRequest.objects.restrict(user, VIEW)
    for word in words:
        rows = rows.filter(word_q(word, places))
    # Newest first by id: the planner walks the primary key backwards and stops at the 21st match,
    # which is fast for a common word. (Ordering by created_at instead made it scan every match:
    # pg_trgm extracts no trigram from a 2-character word such as 漏水, so such words cannot use the
    # trigram indexes at all; see bench/README.md, "Search".)
    found = list(rows.select_related("category", "compound", "building").order_by("-id")[: limit + 1])
    hits = [
        Hit(
            title=f"{row.number} {row.category.name}",
            url=row.get_absolute_url(),
            detail=" ".join(
                part
                for part in (row.compound.name, row.building.label if row.building else "", row.description[:60])
                if part
            ),
            badge=str(row.get_status_display()),
        )
        for row in found[:limit]
    ]
    return hits, len(found) > limit
