"""Reads shared by the volunteer pages, the API and the export.

Lists are annotated with counting subqueries (``count_of``) instead of ``Count()`` over
joins, so two counts on one row do not multiply and each list costs a fixed number of
queries. Totals (hours, points) are single aggregate queries.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, IntegerField, Model, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractMonth
from django.utils import timezone

from accounts.models import User
from baohe.scoping import VIEW
from communities.models import Community, Household

from .models import (
    Activity,
    PointsEntry,
    ServiceHours,
    ServiceProject,
    Signup,
    TeamMembership,
    Volunteer,
    VolunteerTeam,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=12, decimal_places=2)


def count_of(model: type[Model], field: str, **filters: Any) -> Coalesce:
    """A correlated subquery counting ``model`` rows whose ``field`` is the outer row (0 if none)."""
    rows = model._default_manager.filter(**{field: OuterRef("pk")}, **filters).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


def sum_of(model: type[Model], field: str, column: str, **filters: Any) -> Coalesce:
    """A correlated subquery summing ``column`` of ``model`` rows whose ``field`` is the outer row."""
    rows = model._default_manager.filter(**{field: OuterRef("pk")}, **filters).order_by().values(field)
    return Coalesce(
        Subquery(rows.annotate(s=Sum(column)).values("s"), output_field=MONEY), Value(ZERO), output_field=MONEY
    )


# --- activities -------------------------------------------------------------------------------------
def with_signup_counts(queryset: QuerySet[Activity]) -> QuerySet[Activity]:
    return queryset.annotate(
        confirmed_count=count_of(Signup, "activity", status=Signup.Status.CONFIRMED),
        waitlist_count=count_of(Signup, "activity", status=Signup.Status.WAITLISTED),
        checked_in_count=count_of(Signup, "activity", status=Signup.Status.CONFIRMED, checked_in_at__isnull=False),
    )


def activity_rows(
    user: User, *, community: Community | None = None, when: str = "upcoming", now: datetime.datetime | None = None
) -> QuerySet[Activity]:
    """Activities the user may see, with their sign-up counts; ``when`` is upcoming, past or all."""
    now = now or timezone.now()
    queryset = with_signup_counts(
        Activity.objects.restrict(user, VIEW).select_related("project", "team", "compound", "community")
    )
    if community is not None:
        queryset = queryset.filter(community=community)
    if when == "upcoming":
        queryset = queryset.filter(ends_at__gte=now).order_by("starts_at", "id")
    elif when == "past":
        queryset = queryset.filter(ends_at__lt=now).order_by("-starts_at", "-id")
    else:
        queryset = queryset.order_by("-starts_at", "-id")
    return queryset


def _my_signup(user: User, field: str) -> Subquery:
    rows = Signup.objects.active().filter(activity_id=OuterRef("pk"), volunteer__resident__user_id=user.pk)
    return Subquery(rows.order_by("id").values(field)[:1])


def resident_activity_rows(user: User) -> QuerySet[Activity]:
    """Activities a resident may see, with counts and their own active sign-up (status, id)."""
    return (
        with_signup_counts(Activity.objects.restrict(user, VIEW))
        .select_related("project", "team", "compound")
        .annotate(my_status=_my_signup(user, "status"), my_signup_id=_my_signup(user, "pk"))
    )


def resident_activities(user: User, now: datetime.datetime | None = None) -> QuerySet[Activity]:
    """What a resident may sign up for (not yet over), soonest first."""
    now = now or timezone.now()
    return resident_activity_rows(user).filter(ends_at__gte=now).order_by("starts_at", "id")


def resident_activity(user: User, pk: int) -> Any:
    """One activity for the resident's page (``None`` if they may not see it), with their
    waitlist place when they are waiting."""
    row: Any = resident_activity_rows(user).filter(pk=pk).first()  # annotated with my_status, my_signup_id
    if row is not None:
        row.waitlist_position = None
        if row.my_status == Signup.Status.WAITLISTED:
            row.waitlist_position = waitlist_position(Signup.objects.get(pk=row.my_signup_id))
    return row


def waitlist_position(signup: Signup) -> int:
    """1 for the next to be promoted."""
    ahead = Signup.objects.filter(activity_id=signup.activity_id, status=Signup.Status.WAITLISTED).filter(
        Q(queued_at__lt=signup.queued_at) | Q(queued_at=signup.queued_at, id__lt=signup.pk)
    )
    return ahead.count() + 1


def describe(activity: Any, now: datetime.datetime | None = None) -> str:
    """The state a resident sees on an activity card: open, full (waitlist), closed, started."""
    now = now or timezone.now()
    if now >= activity.starts_at:
        return "started"
    if now > activity.signup_deadline:
        return "closed"
    if activity.confirmed_count >= activity.capacity:
        return "full"
    return "open"


def my_signups(user: User) -> QuerySet[Signup]:
    return (
        Signup.objects.restrict(user, VIEW)
        .filter(volunteer__resident__user_id=user.pk)
        .select_related("activity__project")
        .order_by("-activity__starts_at", "-id")
    )


def checkin_sheet(activity: Activity) -> tuple[list[Signup], list[Signup]]:
    """The confirmed sign-ups (the sheet), then the waitlist in order."""
    rows = list(
        Signup.objects.active()
        .filter(activity=activity)
        .select_related("volunteer__resident__household__building__compound", "checked_in_by", "service_hours")
        .order_by("queued_at", "id")
    )
    confirmed = [row for row in rows if row.status == Signup.Status.CONFIRMED]
    waiting = [row for row in rows if row.status == Signup.Status.WAITLISTED]
    return confirmed, waiting


# --- volunteers, points ------------------------------------------------------------------------------
def with_totals(queryset: QuerySet[Volunteer]) -> QuerySet[Volunteer]:
    """Volunteers with their approved hours and points balance (subqueries, no joins)."""
    return queryset.annotate(
        approved_hours=sum_of(ServiceHours, "volunteer", "hours", status=ServiceHours.Status.APPROVED),
        points_balance=sum_of(PointsEntry, "volunteer", "points"),
    )


def volunteer_totals(volunteer: Volunteer) -> dict[str, Decimal]:
    """``{"approved_hours", "pending_hours", "points"}`` of one volunteer (two queries)."""
    hours = ServiceHours.objects.filter(volunteer=volunteer).aggregate(
        approved=Sum("hours", filter=Q(status=ServiceHours.Status.APPROVED)),
        pending=Sum("hours", filter=Q(status=ServiceHours.Status.PENDING)),
    )
    points = PointsEntry.objects.filter(volunteer=volunteer).aggregate(total=Sum("points"))["total"]
    return {
        "approved_hours": Decimal(hours["approved"] or ZERO).quantize(CENT),
        "pending_hours": Decimal(hours["pending"] or ZERO).quantize(CENT),
        "points": Decimal(points or ZERO).quantize(CENT),
    }


def points_balance(volunteer: Volunteer) -> Decimal:
    """The volunteer's points: the sum of their ledger (exact to the hundredth)."""
    total = PointsEntry.objects.filter(volunteer=volunteer).aggregate(total=Sum("points"))["total"]
    return Decimal(total or ZERO).quantize(CENT)


# --- teams ------------------------------------------------------------------------------------------
def team_rows(user: User) -> QuerySet[VolunteerTeam]:
    return (
        VolunteerTeam.objects.restrict(user, VIEW)
        .select_related("community", "compound", "leader__resident")
        .annotate(member_count=count_of(TeamMembership, "team"))
        .order_by("community__code", "name", "pk")
    )


def my_team_ids(user: User) -> set[int]:
    return set(TeamMembership.objects.filter(volunteer__resident__user_id=user.pk).values_list("team_id", flat=True))


# --- hours ------------------------------------------------------------------------------------------
def hours_rows(
    user: User, *, status: str | None = None, community: Community | None = None, team: VolunteerTeam | None = None
) -> QuerySet[ServiceHours]:
    queryset = (
        ServiceHours.objects.restrict(user, VIEW)
        .select_related("volunteer__resident", "project", "activity", "team")
        .annotate(household_count=count_of(ServiceHours.households.through, "servicehours"))
    )
    if status:
        queryset = queryset.filter(status=status)
    if community is not None:
        queryset = queryset.filter(community=community)
    if team is not None:
        queryset = queryset.filter(team=team)
    return queryset.order_by("-served_on", "-id")


def hours_by_team_month(queryset: QuerySet[ServiceHours], year: int) -> list[dict[str, Any]]:
    """Approved hours served in ``year``, per team and month, in one grouped query.

    Returns rows ``{"community", "team", "months": {1..12: Decimal}, "total"}`` ordered by
    community code and team name; hours without a team form a row with ``team=""``. The
    database sums exact decimals (hundredths of an hour).
    """
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    grouped = (
        queryset.filter(status=ServiceHours.Status.APPROVED, served_on__range=(start, end))
        .order_by()
        .annotate(month=ExtractMonth("served_on"))
        .values("community__code", "community__name", "team_id", "team__name", "month")
        .annotate(total=Sum("hours"))
    )
    table: dict[tuple[str, str, int], dict[str, Any]] = {}
    for row in grouped:
        key = (row["community__code"], row["team__name"] or "", row["team_id"] or 0)
        entry = table.setdefault(
            key, {"community": row["community__name"], "team": row["team__name"] or "", "months": {}}
        )
        entry["months"][row["month"]] = Decimal(row["total"]).quantize(CENT)
    rows = [table[key] for key in sorted(table)]
    for entry in rows:
        entry["total"] = sum(entry["months"].values(), ZERO)
    return rows


# --- the household's ledger ----------------------------------------------------------------------------
def household_ledger(household: Household, user: User, limit: int = 50) -> list[ServiceHours]:
    """The services a household received (meal delivery, family doctor, other volunteer
    services) as one list, newest first: approved and pending hours that name the household."""
    rows = (
        ServiceHours.objects.restrict(user, VIEW)
        .filter(households=household)
        .exclude(status=ServiceHours.Status.REJECTED)
        .select_related("volunteer__resident", "project", "team")
        .order_by("-served_on", "-id")[:limit]
    )
    return list(rows)


def household_ledger_totals(household: Household, user: User) -> dict[str, int]:
    """How many services of each project kind the household received (one grouped query)."""
    rows = (
        ServiceHours.objects.restrict(user, VIEW)
        .filter(households=household)
        .exclude(status=ServiceHours.Status.REJECTED)
        .order_by()
        .values("project__kind")
        .annotate(n=Count("pk", distinct=True))
    )
    return {row["project__kind"]: row["n"] for row in rows}


def volunteers_for_staff(user: User) -> QuerySet[Volunteer]:
    return with_totals(
        Volunteer.objects.restrict(user, VIEW)
        .select_related("resident__household__building__compound", "community")
        .annotate(team_count=count_of(TeamMembership, "volunteer"))
    ).order_by("community__code", "resident__name", "pk")


def household_section(household: Household, user: User) -> dict[str, Any]:
    """The household page's link to its "services received" section (registered in
    ``apps.py``; the page loads it with htmx, so this runs no query)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    return {
        "key": "volunteer_services",
        "title": _("接受的服务"),
        "url": reverse("volunteers:household_services", args=[household.pk]),
    }


def household_services(household: Household, user: User) -> dict[str, Any]:
    """The services a household received (meal delivery, family doctor visits, other volunteer
    services) as one ledger, newest first, with a count per kind. Two queries."""
    from django.utils.translation import gettext as _

    totals = household_ledger_totals(household, user)
    kinds = dict(ServiceProject.Kind.choices)
    return {
        "title": _("接受的服务"),
        "rows": household_ledger(household, user),
        "counts": [
            (kind, kinds.get(kind, kind), n) for kind, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "total": sum(totals.values()),
    }


def household_timeline_entries(household: Household, user: User, limit: int) -> list[Any]:
    """The services the household received, for its timeline (``communities.timeline``;
    registered in ``apps.py``): the ledger's one query."""
    from django.utils.translation import gettext as _

    from communities.timeline import Entry, day_start

    return [
        Entry(
            when=day_start(row.served_on),
            kind="service",
            kind_label=_("服务"),
            icon="heart-pulse",
            title=row.project.name,
            detail=" · ".join(part for part in (row.volunteer.resident.name, row.note) if part),
            badge="" if row.status == ServiceHours.Status.APPROVED else str(row.get_status_display()),
            all_day=True,
        )
        for row in household_ledger(household, user, limit)
    ]
