"""The visit scan (ARCHITECTURE rule 3): run by beat every 15 minutes, idempotent.

Three sweeps over active plans, each reading an indexed deadline column
(``visits_plan_scan_remind`` and ``visits_plan_scan_overdue`` are partial indexes on
``next_due_on``) in bounded batches:

1. **remind** — due tomorrow (or today, if yesterday's scan never ran): tell the visitor.
2. **overdue** — the due date has passed with no visit: mark it and tell the party group
   leader(s) of the household's building (and the visitor); for a staff round, the staff member.
3. **escalate** — still not visited ``ESCALATE_AFTER_DAYS`` after the due date: tell the
   secretary of the party branch (for a staff round, the community secretary); where nobody
   with an account holds that post, the community's staff.

Each step is claimed with a conditional UPDATE on the plan (``reminded_for``/``overdue_for``/
``escalated_for`` = the due date, only where still empty and the due date unchanged) and the
notifications are written in the same transaction with dedupe keys
``visit:<plan>:<due>:remind`` and ``visit:<plan>:<due>:<overdue|escalate>:<user>``: running the
scan twice, or two scans at once, tells each person once. A visit moves the due date and clears
the claims, so the next due date gets its own reminders. Nothing is sent at night (before
``DAY_STARTS_HOUR`` or from ``DAY_ENDS_HOUR`` local time); the first scan of the morning catches up.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import community_staff_roles, secretary_roles
from notifications.services import notify
from partybuilding.models import PartyBranch, PartyGroup

from .models import VisitPlan

Rule = VisitPlan.Rule

ESCALATE_AFTER_DAYS = 3
DAY_STARTS_HOUR = 8
DAY_ENDS_HOUR = 21
BATCH_SIZE = 500
MAX_BATCHES = 20


def _remind_candidates(today):
    return VisitPlan.objects.filter(
        active=True, reminded_for=None, next_due_on__gte=today, next_due_on__lte=today + timedelta(days=1)
    )


def _overdue_candidates(today):
    return VisitPlan.objects.filter(active=True, escalated_for=None, overdue_for=None, next_due_on__lt=today)


def _escalate_candidates(today):
    return VisitPlan.objects.filter(
        active=True,
        escalated_for=None,
        overdue_for__isnull=False,
        next_due_on__lte=today - timedelta(days=ESCALATE_AFTER_DAYS),
    )


def _load(ids):
    """A batch of plans with everything the notices need, in a fixed number of queries."""
    groups = PartyGroup.objects.filter(kind=PartyGroup.Kind.BUILDING).select_related(
        "leader__resident__user", "branch__secretary__resident__user"
    )
    branches = PartyBranch.objects.select_related("secretary__resident__user")
    return list(
        VisitPlan.objects.filter(pk__in=ids)
        .select_related("household__building", "household__compound", "visitor_user")
        .prefetch_related(
            Prefetch("household__building__party_groups", queryset=groups.order_by("pk")),
            Prefetch("household__compound__party_branches", queryset=branches.order_by("pk")),
        )
        .order_by("next_due_on", "pk")
    )


def _member_user(member):
    return member.resident.user if member is not None and member.resident.user_id else None


def _leaders(plan):
    users = [_member_user(g.leader) for g in plan.household.building.party_groups.all()]
    return [u for u in users if u is not None]


def _secretaries(plan):
    branches = [g.branch for g in plan.household.building.party_groups.all()]
    branches += list(plan.household.compound.party_branches.all())
    users = [_member_user(b.secretary) for b in branches]
    return [u for u in users if u is not None]


def _community_users(roles):
    """``{community id: [user]}`` of role rows from ``accounts.selectors``."""
    users = {}
    for role in roles.select_related("user").order_by("user_id"):
        users.setdefault(role.community_id, []).append(role.user)
    return users


def _unique(users):
    seen, result = set(), []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            result.append(user)
    return result


def _describe(plan):
    household = plan.household
    return _("%(compound)s %(household)s（%(rule)s）") % {
        "compound": household.compound.name,
        "household": household,
        "rule": plan.get_rule_display(),
    }


def _record_link(plan):
    return f"{reverse('visits:record', args=[plan.household_id])}?plan={plan.pk}"


def _overdue_link(plan):
    return f"{reverse('visits:overdue')}?compound={plan.household.compound_id}"


def _claim(plan, field):
    """Claim ``field`` for the plan's current due date; True for exactly one caller."""
    return (
        VisitPlan.objects.filter(pk=plan.pk, active=True, next_due_on=plan.next_due_on, **{field: None}).update(
            **{field: plan.next_due_on}
        )
        == 1
    )


def _remind(plan, today, context):
    with transaction.atomic():
        if not _claim(plan, "reminded_for"):
            return 0
        if plan.visitor_user is None:
            return 0
        when = _("明天") if plan.next_due_on > today else _("今天")
        notify(
            recipient=plan.visitor_user,
            kind="visit.remind",
            title=_("%(when)s请走访 %(what)s") % {"when": when, "what": _describe(plan)},
            body=_("应走访日期 %(due)s。走访后请在“我的走访”中记录。") % {"due": plan.next_due_on.isoformat()},
            link=_record_link(plan),
            dedupe_key=f"visit:{plan.pk}:{plan.next_due_on.isoformat()}:remind",
        )
        return 1


def _tell_all(plan, users, stage, title, body, link):
    sent = 0
    for user in _unique(users):
        if notify(
            recipient=user,
            kind=f"visit.{stage}",
            title=title,
            body=body,
            link=link,
            dedupe_key=f"visit:{plan.pk}:{plan.next_due_on.isoformat()}:{stage}:{user.pk}",
        ):
            sent += 1
    return sent


def _overdue(plan, today, context):
    with transaction.atomic():
        if not _claim(plan, "overdue_for"):
            return 0
        if plan.rule == Rule.STAFF_ROUND:
            users = [plan.visitor_user]
        else:
            users = [*_leaders(plan), plan.visitor_user]
        title = _("走访逾期：%(what)s") % {"what": _describe(plan)}
        body = _("应于 %(due)s 走访，尚无走访记录。走访人：%(visitor)s。") % {
            "due": plan.next_due_on.isoformat(),
            "visitor": plan.visitor_label or _("未落实"),
        }
        _tell_all(plan, users, "overdue", title, body, _overdue_link(plan))
        return 1


def _escalate(plan, today, context):
    with transaction.atomic():
        if not _claim(plan, "escalated_for"):
            return 0
        if plan.rule == Rule.STAFF_ROUND:
            users = context["secretaries"].get(plan.community_id, [])
        else:
            users = _secretaries(plan)
        if not [u for u in users if u.is_active]:
            users = context["staff"].get(plan.community_id, [])
        days = (today - plan.next_due_on).days
        title = _("走访逾期 %(days)s 天，请督促：%(what)s") % {"days": days, "what": _describe(plan)}
        body = _("应于 %(due)s 走访，已逾期 %(days)s 天仍无走访记录。走访人：%(visitor)s。") % {
            "due": plan.next_due_on.isoformat(),
            "days": days,
            "visitor": plan.visitor_label or _("未落实"),
        }
        _tell_all(plan, users, "escalate", title, body, _overdue_link(plan))
        return 1


def _sweep(candidates, step, today, batch_size, max_batches, with_context=False):
    done = 0
    for _batch in range(max_batches):
        ids = list(candidates(today).order_by("next_due_on", "pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        plans = _load(ids)
        context = {}
        if with_context:
            community_ids = {plan.community_id for plan in plans}
            context["secretaries"] = _community_users(secretary_roles(community_ids))
            context["staff"] = _community_users(community_staff_roles(community_ids))
        for plan in plans:
            done += step(plan, today, context)
        if len(ids) < batch_size:
            break
    return done


def scan_due_visits(*, now=None, batch_size=BATCH_SIZE, max_batches=MAX_BATCHES):
    """Run the three sweeps; returns how many plans each claimed (or ``{"skipped": True}`` at night)."""
    local = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    if not DAY_STARTS_HOUR <= local.hour < DAY_ENDS_HOUR:
        return {"skipped": True}
    today = local.date()
    return {
        "reminded": _sweep(_remind_candidates, _remind, today, batch_size, max_batches),
        "overdue": _sweep(_overdue_candidates, _overdue, today, batch_size, max_batches),
        "escalated": _sweep(_escalate_candidates, _escalate, today, batch_size, max_batches, with_context=True),
    }
