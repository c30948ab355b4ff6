"""Reads that the meeting pages and the API share.

Lists cost a fixed number of queries whatever their length: counts are correlated subqueries
(two counts on one row never multiply each other) and related rows come with
``select_related``/``prefetch_related``.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, IntegerField, Model, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from baohe.scoping import VIEW
from communities.models import Building, Community, Compound, Resident
from partybuilding.models import PartyBranch, PartyGroup
from service_requests.models import OPEN_STATUSES, ServiceRequest
from service_requests.services import requests_handled_by

from .models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam
from .services import community_workers


def _count(model: type[Model], field: str, **filters: Any) -> Coalesce:
    rows = model._default_manager.filter(**{field: OuterRef("pk")}, **filters).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


def _request_count() -> Coalesce:
    through = Meeting.requests.through
    rows = through.objects.filter(meeting_id=OuterRef("pk")).order_by().values("meeting_id")
    counted = rows.annotate(n=Count("pk")).values("n")  # type: ignore[misc]  # the plugin misses annotations on a through model
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_counts(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Annotate request, invitee, attended, decision, action item and done counts (one query)."""
    return meetings.annotate(
        request_count=_request_count(),
        invitee_count=_count(Invitee, "meeting"),
        attended_count=_count(Invitee, "meeting", attended=True),
        decision_count=_count(Decision, "meeting"),
        item_count=_count(ActionItem, "decision__meeting"),
        items_done=_count(ActionItem, "decision__meeting", done_at__isnull=False),
    )


@dataclass(frozen=True)
class MeetingFilter:
    """The list's filters (the page reads them with ``forms.MeetingListQuery``)."""

    community_id: int | None = None
    compound_id: int | None = None
    status: str = ""
    kind: str = ""
    query: str = ""
    minutes_missing: bool = False

    def apply(self, meetings: QuerySet[Meeting], now: datetime | None = None) -> QuerySet[Meeting]:
        if self.community_id is not None:
            meetings = meetings.filter(community_id=self.community_id)
        if self.compound_id is not None:
            meetings = meetings.filter(compound_id=self.compound_id)
        if self.status:
            meetings = meetings.filter(status=self.status)
        if self.kind:
            meetings = meetings.filter(kind=self.kind)
        if self.query:
            meetings = meetings.filter(Q(topic__icontains=self.query) | Q(place__icontains=self.query))
        if self.minutes_missing:
            meetings = meetings.filter(minutes_missing_q(now))
        return meetings


def minutes_missing_q(now: datetime | None = None) -> Q:
    """Meetings that took place and still have no minutes."""
    now = now or timezone.now()
    return Q(status=Meeting.Status.HELD) | Q(status=Meeting.Status.PLANNED, scheduled_at__lt=now)


def meeting_rows(user: User, filters: MeetingFilter | None = None, now: datetime | None = None) -> QuerySet[Meeting]:
    """The meetings ``user`` may see, newest first, with counts and what the list shows."""
    meetings = with_counts(
        Meeting.objects.restrict(user, VIEW).select_related("community", "compound", "organiser")
    ).order_by("-scheduled_at", "-id")
    return (filters or MeetingFilter()).apply(meetings, now)


def meeting_detail(meeting: Meeting, user: User) -> dict[str, list[Any]]:
    """Everything the meeting page shows, in a fixed number of queries. The linked requests
    are those ``user`` may see (a request returned to the street and rerouted elsewhere stays
    linked, but is not shown to this community's staff)."""
    items = ActionItem.objects.select_related("owner", "done_by").prefetch_related(
        Prefetch("requests", queryset=ServiceRequest.objects.only("pk", "number").order_by("pk"))
    )
    inspections = Inspection.objects.select_related("inspector", "recorded_by", "team").order_by("-inspected_at", "-id")
    decisions = (
        Decision.objects.filter(meeting=meeting)
        .select_related("supervision_team__leader")
        .prefetch_related(
            Prefetch("action_items", queryset=items.order_by("pk")),
            Prefetch("inspections", queryset=inspections),
        )
        .order_by("order", "pk")
    )
    return {
        "invitees": list(meeting.invitees.select_related("resident").order_by("pk")),
        "decisions": list(decisions),
        "requests": list(
            meeting.requests.restrict(user, VIEW)
            .select_related("category__parent", "compound", "building")
            .order_by("pk")
        ),
    }


def open_requests(user: User, community: Community | None = None) -> QuerySet[ServiceRequest]:
    """Open requests ``user`` handles (the ones a meeting may take up), newest first."""
    requests = (
        requests_handled_by(user)
        .filter(status__in=OPEN_STATUSES)
        .select_related("category__parent", "compound", "community", "building")
        .order_by("community_id", "-id")
    )
    if community is not None:
        requests = requests.filter(community=community)
    return requests


def action_item_rows(
    user: User, *, state: str = "open", mine: bool = False, community_id: int | None = None, today: date | None = None
) -> QuerySet[ActionItem]:
    """Action items ``user`` may see, overdue first, with their meeting and requests."""
    today = today or timezone.localdate()
    items = (
        ActionItem.objects.restrict(user, VIEW)
        .select_related("decision__meeting__compound", "decision__meeting__community", "owner")
        .prefetch_related(
            Prefetch("requests", queryset=ServiceRequest.objects.only("pk", "number", "status").order_by("pk"))
        )
    )
    if state == "open":
        items = items.filter(done_at=None)
    elif state == "overdue":
        items = items.filter(done_at=None, due_on__lt=today)
    elif state == "done":
        items = items.filter(done_at__isnull=False)
    if mine:
        items = items.filter(owner=user)
    if community_id is not None:
        items = items.filter(community_id=community_id)
    if state == "done":
        return items.order_by("-done_at", "-id")
    return items.order_by("due_on", "id")


def action_item_counts(
    user: User, *, mine: bool = False, community_id: int | None = None, today: date | None = None
) -> dict[str, int]:
    """The numbers behind the action-item tabs, in one aggregate query."""
    today = today or timezone.localdate()
    items = ActionItem.objects.restrict(user, VIEW)
    if mine:
        items = items.filter(owner=user)
    if community_id is not None:
        items = items.filter(community_id=community_id)
    return items.aggregate(
        open=Count("pk", filter=Q(done_at=None)),
        overdue=Count("pk", filter=Q(done_at=None, due_on__lt=today)),
        done=Count("pk", filter=Q(done_at__isnull=False)),
        all=Count("pk"),
    )


def team_rows(user: User) -> QuerySet[SupervisionTeam]:
    return (
        SupervisionTeam.objects.restrict(user, VIEW)
        .select_related("community", "compound", "leader")
        .annotate(
            member_count=Coalesce(
                Subquery(
                    SupervisionTeam.members.through.objects.filter(supervisionteam_id=OuterRef("pk"))
                    .order_by()
                    .values("supervisionteam_id")
                    .annotate(n=Count("pk"))
                    .values("n"),  # type: ignore[misc]  # the plugin misses annotations on a through model
                    output_field=IntegerField(),
                ),
                0,
            ),
            inspection_count=_count(Inspection, "team"),
            decision_count=_count(Decision, "supervision_team"),
        )
        .order_by("community__code", "name", "pk")
    )


# --- who to invite and who may own an action ------------------------------------------------------
def _compound_filter(community: Community, compound: Compound | None, path: str) -> dict[str, Any]:
    return {f"{path}compound": compound} if compound is not None else {f"{path}compound__community": community}


def suggested_invitees(
    *,
    community: Community,
    compound: Compound | None = None,
    requests: Iterable[ServiceRequest] = (),
    groups: Collection[str] = ("requesters", "heads", "party", "property"),
) -> list[dict[str, Any]]:
    """Invitee dicts for the groups asked for: the residents who raised the requests, the
    building heads, the party branch secretaries and building party group leaders, the property
    company, and the supervision teams' members, of the compound (or the whole community)."""
    rows: list[dict[str, Any]] = []
    if "requesters" in groups:
        requests = list(requests)
        submitters = {r.submitted_by_id for r in requests if r.submitted_by_id}
        by_user = {
            res.user_id: res
            for res in Resident.objects.filter(user_id__in=submitters, community_id=community.pk).order_by("pk")
        }
        households = {r.household_id for r in requests if r.household_id}
        by_household: dict[tuple[int | None, str], Resident] = {}
        for res in Resident.objects.filter(household_id__in=households).order_by("pk"):
            by_household.setdefault((res.household_id, res.name), res)
        for request in requests:
            resident = by_user.get(request.submitted_by_id) or by_household.get(
                (request.household_id, request.contact_name)
            )
            name = resident.name if resident is not None else request.contact_name
            if resident is not None or name:
                rows.append({"role": Invitee.Role.RESIDENT, "resident": resident, "name": name})
    if "heads" in groups:
        heads = (
            Building.objects.filter(head__isnull=False, **_compound_filter(community, compound, ""))
            .select_related("head")
            .order_by("compound_id", "number")
        )
        rows.extend(
            {"role": Invitee.Role.BUILDING_HEAD, "resident": b.head, "name": b.head.name}
            for b in heads
            if b.head is not None  # always (filtered above); tells the type checker
        )
    if "party" in groups:
        branches = PartyBranch.objects.filter(secretary__isnull=False).select_related("secretary__resident")
        group_rows = PartyGroup.objects.filter(leader__isnull=False).select_related("leader__resident")
        if compound is not None:
            branches = branches.filter(compounds=compound)
            group_rows = group_rows.filter(buildings__compound=compound)
        else:
            branches = branches.filter(community=community)
            group_rows = group_rows.filter(branch__community=community)
        for branch in branches.distinct().order_by("pk"):
            if branch.secretary is None:  # excluded by the query; tells the type checker
                continue
            resident = branch.secretary.resident
            rows.append({"role": Invitee.Role.PARTY_MEMBER, "resident": resident, "name": resident.name})
        for group in group_rows.distinct().order_by("pk"):
            if group.leader is None:  # excluded by the query; tells the type checker
                continue
            resident = group.leader.resident
            rows.append({"role": Invitee.Role.PARTY_MEMBER, "resident": resident, "name": resident.name})
    if "volunteers" in groups:
        teams = SupervisionTeam.objects.filter(community=community)
        if compound is not None:
            teams = teams.filter(Q(compound=compound) | Q(compound__isnull=True))
        members = Resident.objects.filter(supervision_teams__in=teams).distinct().order_by("pk")
        rows.extend({"role": Invitee.Role.VOLUNTEER, "resident": m, "name": m.name} for m in members)
    if "property" in groups:
        if compound is not None:
            companies = [compound.property_company] if compound.property_company else []
        else:
            companies = sorted(
                set(community.compounds.exclude(property_company="").values_list("property_company", flat=True))
            )
        rows.extend({"role": Invitee.Role.PROPERTY_COMPANY, "resident": None, "name": name} for name in companies)
    return rows


def owner_choices(meeting: Meeting) -> QuerySet[User]:
    """Who the minutes form offers as owner: the community's workers and the invitees with an account."""
    from accounts.models import User

    invited = Resident.objects.filter(meeting_invitations__meeting=meeting, user__isnull=False).values("user_id")
    workers = community_workers(meeting.community).values("pk")
    return User.objects.filter(Q(pk__in=workers) | Q(pk__in=invited), is_active=True).order_by("name", "username")


def team_candidates(*, community: Community, compound: Compound | None = None) -> QuerySet[Resident]:
    """Residents offered as supervision team members: building heads, party members, backbones
    and meeting invitees of the compound (or community), not everyone who lives there."""
    residents = Resident.objects.filter(community=community)
    if compound is not None:
        residents = residents.filter(household__compound=compound)
    active = (
        Q(headed_buildings__isnull=False)
        | Q(party_membership__isnull=False)
        | Q(backbone_records__isnull=False)
        | Q(meeting_invitations__isnull=False)
        | Q(supervision_teams__isnull=False)
        | Q(led_supervision_teams__isnull=False)
    )
    ids = residents.filter(active).values("pk")
    return Resident.objects.filter(pk__in=ids).select_related("household__building").order_by("name", "pk")
