"""Reads shared by the notice pages, the home page's fragment and the API.

- :func:`served_households`: the households a resident serves as a central household (党员中心户:
  those it serves) or as a party group leader (every household of the group's buildings), never
  their own: whom they may mark 已传达到户.
- :func:`notices_for_resident` / :func:`latest_for`: the active notices of the user's households,
  with their own receipt state, pinned first.
- :func:`notices_for_staff`: the notices in scope with their coverage counts (one query).
- :func:`coverage`: per building, read-or-relayed / all households, and the households not reached.
"""

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Length
from django.utils import timezone

from accounts.models import User
from baohe.scoping import VIEW
from communities.models import Household, Resident

from .models import Notice, Receipt

REACHED = Q(read_at__isnull=False) | Q(relayed_at__isnull=False)


def served_households(user: User) -> QuerySet[Household]:
    """Households ``user`` serves: as a central household (the households it serves) or as the
    leader of the party group covering their building; never their own (they read it themselves).
    Empty for anyone else."""
    if not user.is_authenticated:
        return Household.objects.none()
    return (
        Household.objects.filter(
            Q(served_by__member__resident__user=user) | Q(building__party_groups__leader__resident__user=user)
        )
        .exclude(residents__user=user)
        .distinct()
    )


def active(notices: QuerySet[Notice]) -> QuerySet[Notice]:
    return notices.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def _my_receipts(user: User) -> QuerySet[Receipt]:
    return Receipt.objects.filter(notice=OuterRef("pk"), household__residents__user=user)


def notices_for_resident(user: User) -> QuerySet[Notice]:
    """The active notices of the user's households, each with ``my_read`` / ``my_confirmed``
    (their household's receipt), pinned first then newest. One query."""
    mine = _my_receipts(user)
    return (
        active(Notice.objects.restrict(user, VIEW))
        .annotate(
            my_read=Exists(mine.filter(read_at__isnull=False)),
            my_confirmed=Exists(mine.filter(confirmed_at__isnull=False)),
        )
        .select_related("compound", "building__compound")
        .order_by("-pinned", "-published_at", "-id")
        .distinct()
    )


def latest_for(user: User, limit: int = 3) -> dict[str, Any]:
    """The home page's fragment: the latest ``limit`` notices and how many still need a confirmation."""
    notices = notices_for_resident(user)
    latest = list(notices[:limit])
    confirmed = Exists(_my_receipts(user).filter(confirmed_at__isnull=False))
    to_confirm = (
        active(Notice.objects.restrict(user, VIEW))
        .filter(requires_confirmation=True)
        .exclude(confirmed)
        .distinct()
        .count()
    )
    return {"notices": latest, "to_confirm": to_confirm}


def notices_for_staff(user: User) -> QuerySet[Notice]:
    """The notices the user may see as staff, with ``reached`` and ``confirmed`` counts (one query)."""
    reached = Receipt.objects.filter(REACHED, notice=OuterRef("pk")).order_by().values("notice")
    confirmed = Receipt.objects.filter(confirmed_at__isnull=False, notice=OuterRef("pk")).order_by().values("notice")
    return (
        Notice.objects.restrict(user, VIEW)
        .annotate(
            reached=Subquery(reached.annotate(n=Count("pk")).values("n")),
            confirmed=Subquery(confirmed.annotate(n=Count("pk")).values("n")),
        )
        .select_related("community", "compound", "building__compound", "published_by")
        .order_by("-pinned", "-published_at", "-id")
    )


def _head_name() -> Subquery:
    heads = Resident.objects.filter(
        household=OuterRef("household"), relation=Resident.Relation.HEAD, status=Resident.Status.LIVING
    ).order_by("pk")
    return Subquery(heads.values("name")[:1])


def _has_account() -> Exists:
    return Exists(Resident.objects.filter(household=OuterRef("household"), user__isnull=False))


def coverage(notice: Notice) -> dict[str, Any]:
    """Per building of ``notice``: households, read, confirmed, relayed and reached (read or
    relayed), with the households not reached (address and household head's name). Two queries."""
    counts = (
        Receipt.objects.filter(notice=notice)
        .order_by()
        .values("building", "building__number", "building__name", "building__compound__name")
        .annotate(
            total=Count("pk"),
            read=Count("pk", filter=Q(read_at__isnull=False)),
            confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
            relayed=Count("pk", filter=Q(relayed_at__isnull=False)),
            reached=Count("pk", filter=REACHED),
        )
        .order_by("building__compound__name", "building__number")
    )
    rows: list[dict[str, Any]] = [dict(row) for row in counts]
    missing = (
        Receipt.objects.filter(notice=notice)
        .exclude(REACHED)
        .select_related("household__building")
        .annotate(head_name=_head_name(), has_account=_has_account())
        .order_by("building_id", "household__unit", Length("household__room"), "household__room")
    )
    by_building: dict[int, list[Receipt]] = {}
    for receipt in missing:
        by_building.setdefault(receipt.building_id, []).append(receipt)
    for row in rows:
        row["missing"] = by_building.get(row["building"], [])
    totals = {key: sum(row[key] for row in rows) for key in ("total", "read", "confirmed", "relayed", "reached")}
    return {"rows": rows, "totals": totals}


def notices_to_relay(user: User) -> QuerySet[Notice]:
    """Active notices with households that ``user`` serves and that were not reached yet, each
    with ``pending`` (how many). One query."""
    served = served_households(user).values("pk")
    pending = (
        Receipt.objects.filter(notice=OuterRef("pk"), household__in=served)
        .exclude(REACHED)
        .order_by()
        .values("notice")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        active(Notice.objects.all())
        .annotate(pending=Subquery(pending))
        .filter(pending__gt=0)
        .select_related("compound", "building__compound")
        .order_by("-published_at", "-id")
    )


def relay_rows(notice: Notice, user: User) -> list[Receipt]:
    """The receipts of ``notice`` for the households ``user`` serves, with the head's name and
    whether anyone in the household has an account. One query."""
    served = served_households(user).values("pk")
    return list(
        Receipt.objects.filter(notice=notice, household__in=served)
        .select_related("household__building", "relayed_by")
        .annotate(head_name=_head_name(), has_account=_has_account())
        .order_by("household__building_id", "household__unit", Length("household__room"), "household__room")
    )


# --- the household's timeline ---------------------------------------------------------------------
def household_timeline_entries(household: Household, user: User, limit: int) -> list[Any]:
    """The notices the household confirmed (我已知晓) or had relayed to it (已传达到户), for its
    timeline (``communities.timeline``; registered in ``apps.py``): one query, newest first."""
    from django.db.models.functions import Coalesce
    from django.utils.translation import gettext as _

    from communities.timeline import Entry

    rows = (
        Receipt.objects.restrict(user, VIEW)
        .filter(Q(confirmed_at__isnull=False) | Q(relayed_at__isnull=False), household=household)
        .select_related("notice")
        .annotate(done_at=Coalesce("confirmed_at", "relayed_at"))
        .order_by("-done_at", "-id")[:limit]
    )
    return [
        Entry(
            when=row.done_at,
            kind="notice",
            kind_label=_("通知"),
            icon="megaphone",
            title=row.notice.title,
            url=row.notice.get_absolute_url(),
            badge=_("已确认") if row.confirmed_at else _("已传达到户"),
        )
        for row in rows
    ]
