"""The public face of a request: what anyone may read of it (ARCHITECTURE rule 5).

One representation, :class:`PublicRequest`, built by :func:`public_rows`, serves everything
public: the compound board (小区公示, ``views/board.py``), the similar-requests box on the submit
page (我也遇到) and the Open311 feed (``open311.py``). It carries the category, the status, the
dates, whether the deadline was met, the latest public reply, the rating and the number of
neighbours who joined — and never a name, a unit or room, a phone or ID number: the
description and the reply pass :func:`baohe.masking.anonymise_text` with the names the request
holds (its contact, the residents of its household), the place is the compound alone, and a
photo appears only when staff marked it public (``Attachment.public``). Requests in the
personal-information categories (PIPL correction and deletion) are never public.

Who may read a compound's board: :func:`board_compounds` (the residents of the compound and
the staff whose scope holds it; anyone when ``PUBLIC_COMPOUND_BOARD`` is on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from baohe.masking import anonymise_text
from baohe.scoping import VIEW
from communities.models import Compound, Resident
from communities.services import ANONYMOUS_NAME

from .models import Attachment, Category, RequestEvent, ServiceRequest

Status = ServiceRequest.Status
#: The events whose message is the request's public reply (the latest one is shown).
REPLY_KINDS = (RequestEvent.Kind.REPLIED, RequestEvent.Kind.RESOLVED, RequestEvent.Kind.REJECTED)
#: Open311 and the board say "closed" for these (the work is done, or refused).
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.REJECTED)
COORDINATE_STEP = Decimal("0.001")  # ~100 m: where in the compound, not which door


@dataclass(frozen=True)
class PublicRequest:
    """What anyone may read of one request."""

    pk: int
    number: str
    category: str
    status: str
    status_label: str
    is_open: bool
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    due_at: datetime  # the resolve deadline in force
    deadline_met: bool | None  # None: still open and within it, or never resolved
    description: str
    reply: str
    satisfaction: str
    supporters: int
    photos: tuple[int, ...]  # public photos (Attachment pks)
    compound_id: int
    compound: str
    community: str
    latitude: Decimal | None
    longitude: Decimal | None


def shown_in_public(queryset: QuerySet[ServiceRequest] | None = None) -> QuerySet[ServiceRequest]:
    """The requests that may be shown in public at all (not the personal-information ones)."""
    queryset = ServiceRequest.objects.all() if queryset is None else queryset
    return queryset.exclude(category__parent__code=Category.PERSONAL_INFO_CODE)


def public_queryset(queryset: QuerySet[ServiceRequest] | None = None) -> QuerySet[ServiceRequest]:
    """Requests that may be shown in public, with what :func:`public_rows` reads (three
    queries for a page: the rows, the household names, the public photos)."""
    reply = RequestEvent.objects.filter(request=OuterRef("pk"), public=True, kind__in=REPLY_KINDS).order_by(
        "-created_at", "-id"
    )
    return (
        shown_in_public(queryset)
        .select_related("category", "compound", "community", "household")
        .prefetch_related(
            Prefetch("household__residents", queryset=Resident.objects.only("pk", "name", "household_id")),
            Prefetch(
                "attachments", queryset=Attachment.objects.filter(public=True).order_by("id"), to_attr="public_photos"
            ),
        )
        .annotate(public_reply=Subquery(reply.values("message")[:1]))
    )


def names_of(request: ServiceRequest) -> list[str]:
    """The people a request names: its contact and the residents of its household (not the
    placeholder an anonymised person is called, which is a word, not a name)."""
    names = [request.contact_name]
    if request.household is not None:
        names.extend(resident.name for resident in request.household.residents.all())
    return [name for name in names if name and name != ANONYMOUS_NAME]


def _coordinate(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(COORDINATE_STEP, rounding=ROUND_HALF_UP)


def deadline_met(request: ServiceRequest, now: datetime) -> bool | None:
    if request.resolved_at is not None:
        return request.resolved_at <= request.resolve_due_at
    if request.is_open:
        due = request.accept_due_at if request.status == Status.SUBMITTED else request.resolve_due_at
        return False if now > due else None
    return None


def public_row(request: ServiceRequest, now: datetime | None = None) -> PublicRequest:
    """One request of :func:`public_queryset` as anyone may read it."""
    now = now or timezone.now()
    names = names_of(request)
    photos = getattr(request, "public_photos", None)
    if photos is None:
        photos = list(request.attachments.filter(public=True).order_by("id"))
    return PublicRequest(
        pk=request.pk,
        number=request.number,
        category=request.category.name,
        status=request.status,
        status_label=request.get_status_display(),
        is_open=request.is_open,
        created_at=request.created_at,
        updated_at=request.updated_at,
        accepted_at=request.accepted_at,
        resolved_at=request.resolved_at,
        due_at=request.resolve_due_at,
        deadline_met=deadline_met(request, now),
        description=anonymise_text(request.description, names),
        reply=anonymise_text(getattr(request, "public_reply", "") or "", names),
        satisfaction=request.get_satisfaction_display() if request.satisfaction else "",
        supporters=request.supporter_count,
        photos=tuple(photo.pk for photo in photos),
        compound_id=request.compound_id,
        compound=request.compound.name,
        community=request.community.name,
        latitude=_coordinate(request.latitude),
        longitude=_coordinate(request.longitude),
    )


def public_rows(queryset) -> list[PublicRequest]:
    """Rows of :func:`public_queryset` (or a slice of it) as :class:`PublicRequest`."""
    now = timezone.now()
    return [public_row(request, now) for request in queryset]


# --- who reads a board ---------------------------------------------------------------------------
def board_compounds(user) -> QuerySet[Compound]:
    """The compounds whose board ``user`` may read: the residents' own compound and the staff's
    (``Compound.objects.restrict``), or every compound when ``PUBLIC_COMPOUND_BOARD`` is on."""
    if settings.PUBLIC_COMPOUND_BOARD:
        return Compound.objects.all()
    return Compound.objects.restrict(user, VIEW)


def board_requests(user) -> QuerySet[ServiceRequest]:
    """The requests on the boards ``user`` may read (the rows behind 我也遇到 and public photos)."""
    return public_queryset().filter(compound__in=board_compounds(user).values("pk"))
