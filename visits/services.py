"""Every write to visits (ARCHITECTURE rule 2): generate plans from the rules, record a visit
(moving the plans it fulfils and, when the visitor found a need, opening a request in the
same transaction), and save a community's staff round.

Who may record a visit to a household is :func:`visits.selectors.visitable_households`: staff
for the households they may change, party volunteers for the households they serve. Anyone
else gets the same 404 as for a household that does not exist.
"""

from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.models import max_length
from baohe.scoping import CHANGE, VIEW
from baohe.services import scoped_save
from baohe.uploads import check_image
from communities.models import Community, Household, Resident
from partybuilding.models import CentralHousehold, PartyGroup
from service_requests.models import ServiceRequest
from service_requests.services import request_submit

from .models import Purpose, Visit, VisitPlan, VisitRound
from .selectors import visitable_households

Rule = VisitPlan.Rule

WEEKLY_DAYS = 7
MONTHLY_DAYS = 30
# A visit may be recorded up to this long after it happened, and not in the future.
BACKDATE_LIMIT = timedelta(days=60)
CLOCK_SKEW = timedelta(minutes=10)
# Households a staff round covers: any of these flags.
ROUND_FLAGS = ("lives_alone_elderly", "elderly", "disabled", "low_income")


# --- access -------------------------------------------------------------------------------------
def access_household_for_visit(user: User, pk: int) -> Household:
    """The household if ``user`` may record a visit to it; the same 404 for "not yours" and "not there"."""
    return get_object_or_404(visitable_households(user).select_related("building__compound", "community"), pk=pk)


def access_visit_by_id(user: User, pk: int, action: str = VIEW) -> Visit:
    return get_object_or_404(
        Visit.objects.restrict(user, action).select_related(
            "household__building", "household__compound", "visitor", "plan", "request__category", "community"
        ),
        pk=pk,
    )


# --- plans from the rules -----------------------------------------------------------------------
def _person_label(name: str, role: str) -> str:
    return _("%(name)s（%(role)s）") % {"name": name, "role": role}


def visit_plans_generate(
    *, community: Community | None = None, household_ids: list[int] | None = None, today: date | None = None
) -> dict[str, int]:
    """Create, update and retire plans so that they match the rules; idempotent.

    * every 独居老人 household: weekly, visited by the central household serving it (the
      nearest party member), else by the leader of its building's party group;
    * every other household a central household serves: monthly, by that household's member;
    * every flagged household (独居老人, 高龄, 残疾, 低保) of a community with an active
      :class:`VisitRound`: every ``interval_days`` by the round's staff member.

    A household has at most one plan per rule. A new (or re-activated) plan is first due one
    interval from ``today``; a plan whose household no longer qualifies is made inactive (its
    visits keep pointing at it). With ``household_ids``, only those households' plans (what
    :func:`visit_plans_sync` runs when a household's flags or servers change).
    Returns ``{"created", "updated", "retired"}``.
    """
    today = today or timezone.localdate()
    households = Household.objects.filter(archived_at__isnull=True)  # nobody lives in an archived one
    rounds = VisitRound.objects.filter(active=True).select_related("staff")
    if community is not None:
        households = households.filter(community=community)
        rounds = rounds.filter(community=community)
    if household_ids is not None:
        households = households.filter(pk__in=household_ids)

    # Who serves whom: the first central household (by id) per household, the first building group leader per building.
    served = CentralHousehold.served_households.through.objects.filter(household__in=households.values("pk"))
    central_of: dict[int, tuple[int | None, str]] = {}
    for household_id, user_id, name in served.order_by("centralhousehold_id").values_list(
        "household_id", "centralhousehold__member__resident__user_id", "centralhousehold__member__resident__name"
    ):
        central_of.setdefault(household_id, (user_id, _person_label(name, _("党员中心户"))))
    leader_of: dict[int, tuple[int | None, str]] = {}
    for building_id, user_id, name in (
        PartyGroup.buildings.through.objects.filter(
            building__in=households.values("building_id"),
            partygroup__kind=PartyGroup.Kind.BUILDING,
            partygroup__leader__isnull=False,
        )
        .order_by("partygroup_id")
        .values_list("building_id", "partygroup__leader__resident__user_id", "partygroup__leader__resident__name")
    ):
        leader_of.setdefault(building_id, (user_id, _person_label(name, _("楼栋党小组长"))))

    desired: dict[
        tuple[int, str], tuple[int | None, str, int]
    ] = {}  # (household_id, rule) -> (visitor_user_id, label, interval)
    scope: dict[
        int, tuple[int, ...]
    ] = {}  # household_id -> (street_id, community_id, compound_id), for the plans to create
    rows = households.filter(Q(lives_alone_elderly=True) | Q(pk__in=served.values("household_id"))).values_list(
        "pk", "building_id", "lives_alone_elderly", "street_id", "community_id", "compound_id"
    )
    for household_id, building_id, alone, *ids in rows:
        scope[household_id] = tuple(ids)
        if alone:
            visitor = central_of.get(household_id) or leader_of.get(building_id) or (None, "")
            desired[(household_id, Rule.ALONE_ELDERLY_WEEKLY)] = (*visitor, WEEKLY_DAYS)
        else:
            desired[(household_id, Rule.CENTRAL_HOUSEHOLD_MONTHLY)] = (*central_of[household_id], MONTHLY_DAYS)
    flagged = Q()
    for name in ROUND_FLAGS:
        flagged |= Q(**{name: True})
    for visit_round in rounds:
        staff = visit_round.staff
        label = _person_label(str(staff), _("社区工作者"))
        for household_id, *ids in households.filter(flagged, community_id=visit_round.community_id).values_list(
            "pk", "street_id", "community_id", "compound_id"
        ):
            scope[household_id] = tuple(ids)
            desired[(household_id, Rule.STAFF_ROUND)] = (staff.pk, label, visit_round.interval_days)

    with transaction.atomic():
        existing = {
            (plan.household_id, plan.rule): plan
            for plan in VisitPlan.objects.select_for_update().filter(household__in=households.values("pk"))
        }
        to_create: list[VisitPlan] = []
        to_update: list[VisitPlan] = []
        for (household_id, rule), (visitor_id, label, interval) in desired.items():
            plan = existing.get((household_id, rule))
            if plan is None:
                street_id, community_id, compound_id = scope[household_id]
                to_create.append(
                    VisitPlan(
                        household_id=household_id,
                        street_id=street_id,
                        community_id=community_id,
                        compound_id=compound_id,
                        rule=rule,
                        interval_days=interval,
                        visitor_user_id=visitor_id,
                        visitor_label=label[:100],
                        next_due_on=today + timedelta(days=interval),
                    )
                )
                continue
            changed = (plan.visitor_user_id, plan.visitor_label, plan.interval_days, plan.active) != (
                visitor_id,
                label[:100],
                interval,
                True,
            )
            if not changed:
                continue
            if not plan.active:
                plan.active = True
                plan.next_due_on = today + timedelta(days=interval)
                plan.reminded_for = plan.overdue_for = plan.escalated_for = None
            if plan.visitor_user_id != visitor_id:
                plan.reminded_for = None  # the new visitor has not been reminded yet
            plan.visitor_user_id, plan.visitor_label, plan.interval_days = visitor_id, label[:100], interval
            to_update.append(plan)
        retire = [plan.pk for key, plan in existing.items() if key not in desired and plan.active]
        VisitPlan.objects.bulk_create(to_create, batch_size=1000, ignore_conflicts=True)
        now = timezone.now()
        for plan in to_update:
            plan.updated_at = now
        VisitPlan.objects.bulk_update(
            to_update,
            [
                "active",
                "next_due_on",
                "reminded_for",
                "overdue_for",
                "escalated_for",
                "visitor_user",
                "visitor_label",
                "interval_days",
                "updated_at",
            ],
            batch_size=500,
        )
        VisitPlan.objects.filter(pk__in=retire).update(active=False, updated_at=now)
    return {"created": len(to_create), "updated": len(to_update), "retired": len(retire)}


def visit_plans_sync(household_ids: list[int]) -> dict[str, int]:
    """These households' plans, in step with their flags and servers now: run in the caller's
    transaction by ``communities.services.households_changed`` (registered in ``apps.py``)
    whenever a household's flags or its central household change."""
    return visit_plans_generate(household_ids=list(household_ids))


def visit_round_save(*, instance: VisitRound, by: User) -> tuple[VisitRound, dict[str, int]]:
    """Save a community's staff round (checked against ``by``'s change scope) and apply it to the plans."""
    with transaction.atomic():
        scoped_save(instance=instance, by=by)
        result = visit_plans_generate(community=instance.community)
    return instance, result


# --- recording a visit --------------------------------------------------------------------------
def _check_input(
    *, purpose: str, notes: str | None, visited_at: datetime, need: dict[str, Any] | None, now: datetime
) -> datetime:
    errors: dict[str, list[str]] = {}
    if purpose not in Purpose.values:
        errors["purpose"] = [_("请选择走访事由。")]
    if len(notes or "") > max_length(Visit, "notes"):
        errors["notes"] = [_("走访情况不能超过 2000 个字。")]
    if timezone.is_naive(visited_at):
        visited_at = timezone.make_aware(visited_at, timezone.get_default_timezone())
    if visited_at > now + CLOCK_SKEW:
        errors["visited_at"] = [_("走访时间不能晚于现在。")]
    elif visited_at < now - BACKDATE_LIMIT:
        errors["visited_at"] = [_("只能补录 60 天以内的走访。")]
    if need is not None:
        if need.get("category") is None:
            errors["need_category"] = [_("请选择发现的需求属于哪一类。")]
        description = (need.get("description") or "").strip()
        if not description:
            errors["need_description"] = [_("请描述发现的需求。")]
        elif len(description) > max_length(ServiceRequest, "description"):
            errors["need_description"] = [_("需求描述不能超过 2000 个字。")]
    if errors:
        raise ValidationError(errors)
    return visited_at


def _fulfils(plan: VisitPlan, by: User) -> bool:
    """Any visit to the household counts for the party rules; a staff round needs staff (or its own visitor)."""
    return plan.rule != Rule.STAFF_ROUND or by.is_portal_staff or plan.visitor_user_id == by.pk


def visit_need_open(*, by: User, household: Household, need: dict[str, Any]) -> ServiceRequest:
    """File the need as a request with channel "visit" (see the module notes in the report):

    * staff who may change the household enter it on the resident's behalf (``entered_by`` is
      the staff member, ``submitted_by`` the household's resident with an account, if any);
    * a visitor recording a visit to their own household files it as that resident;
    * a party volunteer (not staff) visiting a neighbour is not the household's resident and
      may not file in its name; the request is filed by the visit itself (``by=None``: no
      submitter, no on-behalf entry), after :func:`visit_record` has checked that this person
      may visit this household. The visit links it, so the visitor sees its number and status.
    """
    residents = list(Resident.objects.living().filter(household=household).select_related("user").order_by("pk"))
    head = next((r for r in residents if r.relation == Resident.Relation.HEAD), residents[0] if residents else None)
    account = next((r.user for r in residents if r.user is not None and r.user.is_active), None)
    options: dict[str, Any] = {
        "category": need["category"],
        "description": need["description"].strip(),
        "compound": household.compound,
        "building": household.building,
        "household": household,
        "address": str(household.address),
        "contact_name": head.name if head else "",
        "contact_mobile": head.mobile if head else "",
        "channel": ServiceRequest.Channel.VISIT,
    }
    if by.is_portal_staff and Household.objects.restrict(by, CHANGE).filter(pk=household.pk).exists():
        submit: dict[str, Any] = {"by": by, "resident_user": account}
    elif household.pk in by.get_scope(VIEW).household_ids:
        submit = {"by": by}
    else:
        submit = {"by": None}
    try:
        return request_submit(**submit, **options)
    except ValidationError as error:
        fields = {"category": "need_category", "description": "need_description"}
        detail = error.message_dict if hasattr(error, "error_dict") else {"need": error.messages}
        raise ValidationError({fields.get(key, "need"): messages for key, messages in detail.items()}) from error


def visit_record(
    *,
    by: User,
    household: Household,
    purpose: str,
    notes: str = "",
    visited_at: datetime | None = None,
    photo: UploadedFile | None = None,
    need: dict[str, Any] | None = None,
    plan: VisitPlan | None = None,
) -> Visit:
    """Record that ``by`` visited ``household``; returns the :class:`Visit`.

    In one transaction: the visit is written; every active plan of the household that it
    fulfils (:func:`_fulfils`) is due again one interval after the visit date, with its
    reminder claims cleared; and when ``need`` (``{"category", "description"}``) is given, a
    request with channel "visit" is opened and linked to the visit. A household the user may
    not visit answers 404; bad input raises ``ValidationError`` and writes nothing.
    """
    now = timezone.now()
    visited_at = _check_input(purpose=purpose, notes=notes, visited_at=visited_at or now, need=need, now=now)
    household = access_household_for_visit(by, household.pk)
    checked = None
    if photo:
        try:
            checked = check_image(photo)
        except ValidationError as error:
            raise ValidationError({"photo": error.messages}) from error
    visited_on = timezone.localtime(visited_at, timezone.get_default_timezone()).date()
    with transaction.atomic():
        plans = list(
            VisitPlan.objects.select_for_update().filter(household=household, active=True).order_by("next_due_on", "id")
        )
        fulfilled = [p for p in plans if _fulfils(p, by)]
        if plan is not None:
            primary = next((p for p in fulfilled if p.pk == plan.pk), None)
            if primary is None:
                raise ValidationError({"plan": _("该走访计划不属于这一户、已失效或不由您走访。")})
        else:
            primary = next((p for p in fulfilled if p.visitor_user_id == by.pk), fulfilled[0] if fulfilled else None)
        visit = Visit(
            household=household,
            plan=primary,
            visitor=by,
            visitor_label=str(by)[:100],
            visited_at=visited_at,
            purpose=purpose,
            notes=(notes or "").strip(),
            due_on=primary.next_due_on if primary else None,
            on_time=(visited_on <= primary.next_due_on) if primary else None,
        )
        if checked is not None:
            visit.photo = checked.content
        visit.full_clean(exclude=["photo", "request"])
        visit.save()
        for item in fulfilled:
            if item.last_visited_on is not None and item.last_visited_on > visited_on:
                continue  # a visit entered late does not move the plan back
            item.last_visited_on = visited_on
            item.next_due_on = visited_on + timedelta(days=item.interval_days)
            item.reminded_for = item.overdue_for = item.escalated_for = None
            item.save(
                update_fields=[
                    "last_visited_on",
                    "next_due_on",
                    "reminded_for",
                    "overdue_for",
                    "escalated_for",
                    "updated_at",
                ]
            )
        if need is not None:
            visit.request = visit_need_open(by=by, household=household, need=need)
            visit.save(update_fields=["request", "updated_at"])
    return visit
