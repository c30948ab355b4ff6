"""Searching and sorting requests: the queue's ``q`` and ``sort``, and the requests in the top
bar's results (registered with ``communities.search.register_search`` in ``apps.py``).

A request matches a word (``communities.search.parse``; every word must match) by its number
(a whole ``BH-YYYYMMDD-NNNN`` exactly, a part of one as a substring), its description, its
address, its category, its compound, or its building (``5栋``: building number 5, or the text
``5栋`` in the description or address). Names of places and categories become id lists first,
so the request table is filtered by indexed columns only: the GIN trigram indexes on
``UPPER(number|description|address)`` (migration ``0009_search_trigram``; PostgreSQL) and the
foreign keys. The queryset passed in is already restricted to the user's scope.

Sort choices (:data:`SORTS`): the most urgent deadline first (the queue's default), newest
first, oldest first. Each is keyset-paginated on ``(sort_key, id)`` with the queue's signed
cursor (``selectors.encode_cursor`` format), so a page never shifts when rows change.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from baohe.query import sign_cursor
from communities.search import Hit, Places, Word, parse

from . import selectors
from .models import Category, ServiceRequest

SORT_DUE, SORT_NEWEST, SORT_OLDEST = "due", "newest", "oldest"
SORTS = [
    (SORT_DUE, _("最紧急")),
    (SORT_NEWEST, _("最新提交")),
    (SORT_OLDEST, _("最早提交")),
]
# sort -> (the annotated key, descending?)
_KEYS = {SORT_DUE: ("current_due", False), SORT_NEWEST: ("created_at", True), SORT_OLDEST: ("created_at", False)}


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


def sorted_rows(queryset: QuerySet[ServiceRequest], sort: str) -> QuerySet[ServiceRequest]:
    """``queryset`` (with ``current_due`` annotated) in the order of ``sort``, as ``sort_key, id``."""
    key, descending = _KEYS.get(sort, _KEYS[SORT_DUE])
    queryset = queryset.annotate(sort_key=F(key))
    return queryset.order_by("-sort_key", "-id") if descending else queryset.order_by("sort_key", "id")


def page(queryset: QuerySet[ServiceRequest], sort: str, position: Any, size: int | None = None):
    """One page of :func:`sorted_rows` after ``position`` (a decoded cursor) and the next cursor:
    ``(rows, next_cursor)``, ``next_cursor`` ``None`` on the last page (keyset, like
    ``selectors.cursor_page``)."""
    size = size or selectors.QUEUE_PAGE_SIZE
    _key, descending = _KEYS.get(sort, _KEYS[SORT_DUE])
    queryset = sorted_rows(queryset, sort)
    if position is not None:
        value, pk = position
        if descending:
            queryset = queryset.filter(Q(sort_key__lt=value) | Q(sort_key=value, id__lt=pk))
        else:
            queryset = queryset.filter(Q(sort_key__gt=value) | Q(sort_key=value, id__gt=pk))
    rows = list(queryset[: size + 1])
    if len(rows) > size:
        last = rows[size - 1]  # a row of values() (the queue page) or a model instance
        if isinstance(last, dict):
            key, pk = last["sort_key"], last["id"]
        else:
            key, pk = getattr(last, "sort_key"), last.pk  # noqa: B009 - an annotation
        return rows[:size], sign_cursor([key.isoformat(), pk], salt=selectors.CURSOR_SALT)
    return rows, None


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
