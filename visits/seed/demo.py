"""Demo visits for ``manage.py seed_baohe``: plans for the whole district and a month of visits.

- A staff round (:class:`VisitRound`, every 30 days over the flagged households: 独居老人, 高龄,
  残疾, 低保) in every community that has a community staff account (the demo logins
  ``staff_qinghua`` and ``staff_other``, and the ``demo_staff_*`` accounts of the request demo).
- Plans from the rules (``services.visit_plans_generate``) for all of 包河区: about 360 weekly
  plans for 独居老人 and 9,500 monthly plans for the households central households serve, and
  the staff rounds' plans.
- A month of staff-round visits (a few hundred): each plan's last visit lies within its interval,
  except about one in ten that is missed and overdue now; a visit also moves the household's
  party plans, as a real one does. A few recent visits found a need and opened a request
  (channel "visit") through ``services.visit_need_open``, the same code the pages use.
- The party plans (central households, group leaders) have no accounts to remind in the demo —
  the demo keeps the registry's one resident login — so their due dates are spread over their
  interval (some overdue) with no visits; the coverage page shows them under 走访人无账号.
  ``staff_qinghua`` sees their own rounds on 我的走访 (``/visits/mine/``).

The schedule and the visits are written only when there are no visits yet, so running the seed
again adds nothing (rounds and plans are found by natural key).
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import Role
from communities.models import Community
from service_requests.selectors import leaf_categories

from .. import services
from ..models import Purpose, Visit, VisitPlan, VisitRound

ORDER = 50

ROUND_DAYS = 30
HISTORY_DAYS = 30
OVERDUE_SHARE = 0.1
NEEDS = 8
Rule = VisitPlan.Rule

PURPOSE_WEIGHTS = {
    Purpose.HEALTH: 30,
    Purpose.SAFETY: 18,
    Purpose.PARTY_VOICE: 12,
    Purpose.POLICY: 12,
    Purpose.HARDSHIP: 8,
    Purpose.CULTURE: 8,
    Purpose.MEDIATION: 4,
    Purpose.CELEBRATION: 4,
    Purpose.OTHER: 4,
}
NOTES = {
    Purpose.HEALTH: ("老人精神不错，血压正常，提醒按时吃药。", "询问近期身体情况，已联系家庭医生上门随访。"),
    Purpose.SAFETY: ("检查了燃气阀门和电线插座，提醒出门关火。", "提醒防范电信诈骗，不要给陌生人转账。"),
    Purpose.PARTY_VOICE: ("送去社区党建简报，讲了近期的惠民政策。",),
    Purpose.POLICY: ("讲解了高龄津贴和医保报销的办理方法。", "介绍了老旧小区加装电梯的政策。"),
    Purpose.HARDSHIP: ("送去米面油，了解生活上的困难。",),
    Purpose.CULTURE: ("邀请参加周末的快乐学堂和书法活动。",),
    Purpose.MEDIATION: ("与邻居就楼道堆物的矛盾做了调解，双方表示理解。",),
    Purpose.CELEBRATION: ("家里有喜事，代表社区送上祝贺。",),
    Purpose.OTHER: ("例行看望，聊了家常。",),
}
NEED_TEXTS = (
    "老人反映家中燃气灶打火困难，希望物业上门检修。",
    "楼道声控灯坏了好几天，老人晚上上下楼不方便。",
    "卫生间下水慢，老人自己处理不了。",
    "单元门禁坏了，门一直关不上，老人担心安全。",
    "老人想申请助餐服务（配餐上门），请社区帮忙办理。",
)


def ensure_rounds():
    """A 30-day round in each community with a community staff account (its first, by id)."""
    staff = {}
    for role in (
        Role.objects.filter(kind=Role.Kind.STAFF, community__isnull=False, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ):
        staff.setdefault(role.community_id, role.user)
    have = set(VisitRound.objects.values_list("community_id", flat=True))
    communities = Community.objects.filter(pk__in=[c for c in staff if c not in have]).order_by("code")
    VisitRound.objects.bulk_create(
        [
            VisitRound(community=c, street_id=c.street_id, staff=staff[c.pk], interval_days=ROUND_DAYS)
            for c in communities
        ]
    )
    return len(staff)


def at(day, rng):
    moment = datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 10, 20, 30, 40, 50))))
    return timezone.make_aware(moment, timezone.get_default_timezone())


def last_visit(rng, interval, today):
    """The plan's last visit: within its interval, or (one in ten) missed and overdue now."""
    if rng.random() < OVERDUE_SHARE:
        return today - timedelta(days=interval + rng.randint(1, min(10, interval + 3)))
    return today - timedelta(days=rng.randint(0, interval - 1))


def visit_days(rng, last, interval, today):
    """The visits up to ``last`` within the history window, as (day, due on that day) pairs."""
    days = [last]
    while True:
        earlier = days[-1] - timedelta(days=interval + rng.choice((-1, 0, 0, 0, 1)))
        if earlier < today - timedelta(days=HISTORY_DAYS):
            break
        days.append(earlier)
    days.reverse()
    # The first visit in the window was due a little before or after it: some were late.
    pairs, due = [], days[0] + timedelta(days=rng.choice((2, 1, 0, 0, -1, -3)))
    for day in days:
        pairs.append((day, due))
        due = day + timedelta(days=interval)
    return pairs


def seed(ctx):
    rng = ctx.rng
    today = timezone.localdate()
    rounds = ensure_rounds()
    result = services.visit_plans_generate(today=today)
    if Visit.objects.exists():
        ctx.log(f"  visits: {rounds} staff rounds, plans {result}; visits already exist")
        return

    plans = list(VisitPlan.objects.filter(active=True).select_related("visitor_user").order_by("household_id", "rule"))
    visits, last_by_household = [], {}
    for plan in plans:
        last = last_visit(rng, plan.interval_days, today)
        if plan.rule != Rule.STAFF_ROUND or plan.visitor_user is None:
            plan.next_due_on = last + timedelta(days=plan.interval_days)
            continue
        plan.last_visited_on = last
        plan.next_due_on = last + timedelta(days=plan.interval_days)
        last_by_household[plan.household_id] = last
        for day, due in visit_days(rng, last, plan.interval_days, today):
            purpose = rng.choices(list(PURPOSE_WEIGHTS), weights=list(PURPOSE_WEIGHTS.values()))[0]
            visits.append(
                Visit(
                    household_id=plan.household_id,
                    street_id=plan.street_id,
                    community_id=plan.community_id,
                    compound_id=plan.compound_id,
                    plan=plan,
                    visitor=plan.visitor_user,
                    visitor_label=str(plan.visitor_user)[:100],
                    visited_at=at(day, rng),
                    purpose=purpose,
                    notes=rng.choice(NOTES[purpose]),
                    due_on=due,
                    on_time=day <= due,
                )
            )
    # A staff visit counts for the household's party plans too (services._fulfils).
    for plan in plans:
        last = last_by_household.get(plan.household_id)
        if (
            plan.rule != Rule.STAFF_ROUND
            and last is not None
            and last + timedelta(days=plan.interval_days) > (plan.next_due_on)
        ):
            plan.last_visited_on = last
            plan.next_due_on = last + timedelta(days=plan.interval_days)
    VisitPlan.objects.bulk_update(plans, ["next_due_on", "last_visited_on"], batch_size=500)
    Visit.objects.bulk_create(visits, batch_size=1000)

    # A few recent visits found a need: the request is opened exactly as the record page does it.
    leaves = list(leaf_categories().order_by("order", "id"))
    recent = list(
        Visit.objects.filter(visited_at__gte=timezone.now() - timedelta(days=3))
        .select_related("household__building", "household__compound", "visitor")
        .order_by("visited_at", "id")
    )
    needs = 0
    if leaves:
        for visit in rng.sample(recent, min(NEEDS, len(recent))):
            need = {"category": rng.choice(leaves), "description": rng.choice(NEED_TEXTS)}
            visit.request = services.visit_need_open(by=visit.visitor, household=visit.household, need=need)
            visit.save(update_fields=["request", "updated_at"])
            needs += 1
    overdue = VisitPlan.objects.filter(active=True, next_due_on__lt=today).count()
    ctx.log(
        f"  visits: {rounds} staff rounds, plans {result}, {len(visits)} visits, "
        f"{needs} needs opened as requests, {overdue} plans overdue"
    )
