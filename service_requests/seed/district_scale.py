"""District-scale requests for ``manage.py seed_baohe --scale district`` (PostgreSQL only).

1,000,000 requests (``--requests``) over the last two years, across every household of the
district-scale registry, numbered ``BH-YYYYMMDD-NNNN`` per day in submission order, with
everything the workflow would have written: deadlines from each category's limits and the
working-day calendar, the reminder schedule, the deadline clocks (:class:`RequestClock`) with
what the scan claimed on them, and the events of each step.

Volume grows over the two years (weekends and the evening are quieter). Each request's
life is simulated from its submission and cut at *now*, so statuses follow age: old ones
are closed (rated, or closed automatically after seven unrated days: about 20% of the
resolved), recent ones are still waiting, in progress or waiting for a rating, and some
open ones are past their deadline. About 10% are accepted late and 6% resolved late (a few
stay open for weeks), about 3% are reopened after an unsatisfied rating, 2% returned to the
street and rerouted, 3% rejected, 2% closed as duplicates, 2% get an extension.

COPY bypasses the services, which keep the clock rows in step (``clocks_sync``), so the
generator writes them itself from the same rules (``models/clock.py``: :func:`schedule` for the
warning and escalation times, :data:`CLOCK_STATUSES` for which clock runs in which status,
:func:`first_pending` for ``next_due_at``), as if the scan had run all along: a reminder that fell due while its
clock ran is claimed (``warned_at``/``overdue_at``/``escalated_at``, 30 seconds after it fell
due; the rating reminder a minute after), so the first deadline scan after seeding has nothing
old to send. Every request waiting to be accepted has its running accept clock, every one
accepted or in progress its resolve clock, every one resolved its rating clock (cycle 1,
``next_due_at`` the earliest step not yet claimed, NULL when all are). A clock that stopped
after an overdue notice or an escalation is kept, stopped (``running`` false), as the record
the request's timeline shows — for the requests of the events window below, like the other
events. (A stopped clock that claimed only a warning, which ``clocks_sync`` would also
keep, is not written: nothing shows it. A request returned and rerouted, or reopened, keeps
only the clocks of its last schedule.) The scan writes no overdue or escalation events, and
neither does the generator.

Every step's :class:`RequestEvent` is written for requests submitted in the last
``--event-days`` days (90 by default; a full two-year trail is over 5 million events, which
the per-row foreign-key checks make slower than the five-minute goal allows); older
requests keep their outcome in their columns, plus their 退单 and 重办 events, which the
monthly summary counts, and their running clocks. Then ``summary.summary_rebuild()`` builds
the dashboards' summary.

Requests are generated day by day, each day from its own ``random.Random`` seeded from
``ctx.rng``, and streamed in with COPY (``baohe/bulk.py``); the requests pass writes the clock
rows to a temporary file as it goes (they can only go in after their requests), which is then
streamed in with COPY too; the events pass generates the days of its window again, and takes
the older days' 退单 and 重办 events (about 5% of those requests) from the requests pass,
which set them aside.
"""

import bisect
import random
import tempfile
import time
from array import array
from datetime import UTC, date, datetime

from django.db import connection
from django.utils import timezone

from accounts.models import Role
from baohe import bulk, crypto
from communities.models import Resident
from partybuilding.models import CentralHousehold, PartyGroup

from .. import summary
from ..models import CalendarDay, NumberSequence, RequestClock, RequestEvent, ServiceRequest
from ..models.clock import CLOCK_STATUSES, RATE_REMINDER_AFTER, first_pending, schedule
from .demo import (
    CATEGORY_WEIGHTS,
    DESCRIPTIONS,
    EXTENSION_REASONS,
    PUBLIC_SPOTS,
    RATING_COMMENTS,
    REJECT_REASONS,
    REPLIES,
    RESOLUTIONS,
    RETURN_REASONS,
    VOLUNTEER_TEAMS,
    seed_calendar,
    seed_categories,
)

ORDER = 40

DAYS = 730
LOCAL = 8 * 3600  # Asia/Shanghai: UTC+8 all year (no daylight saving)
HOUR, DAY = 3600, 86400
CLAIM_DELAY = 30  # seconds between a reminder falling due and the scan claiming it
RATE_AFTER = int(RATE_REMINDER_AFTER.total_seconds())  # the rating reminder, after resolving
# Requests by hour of the day (local time).
HOURS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 12, 9, 11, 13, 13, 12, 11, 10, 11, 11, 8, 5, 2)
WEEKEND = 0.7
GROWTH = 0.5  # the last day gets 1 + GROWTH times the requests of the first

CHANNEL_LABELS = {c.value: str(c.label) for c in ServiceRequest.Channel}
ASSIGNEE_LABELS = {k.value: str(k.label) for k in ServiceRequest.AssigneeKind}
SOLVED_LABELS = {k.value: str(k.label) for k in ServiceRequest.Solved}
SATISFACTION_LABELS = {k.value: str(k.label) for k in ServiceRequest.Satisfaction}
AUTO_CLOSE = "7 天内未评价，自动关闭。"
REOPEN_MESSAGE = "居民不满意或未解决，诉求重办。"
SECOND_REPLY = "已重新安排处理，请耐心等待。"

REQUEST_COLUMNS = (
    "id created_at updated_at street_id community_id number category_id description compound_id building_id "
    "household_id address submitted_by_id entered_by_id contact_name contact_mobile contact_time channel status "
    "accept_due_at resolve_due_at accepted_at resolved_at closed_at assignee_kind assigned_to_id assignee_label "
    "duplicate_of_id reopen_count return_count extension_count extension_reason extension_until solved "
    "satisfaction rating_comment rated_at accept_warn_at accept_escalate_at resolve_warn_at resolve_escalate_at "
    "open311_token latitude longitude"
).split()
CLOCK_COLUMNS = (
    "request_id clock cycle running number street_id community_id recipient_id warn_at due_at escalate_at "
    "warned_at overdue_at escalated_at next_due_at"
).split()
EVENT_COLUMNS = (
    "id created_at updated_at street_id community_id request_id kind actor_id message public from_status to_status"
).split()


class WorkingDays:
    """The end (23:59:59 local) of the n-th working day after a moment's local day, from
    the same rule as ``calendar.add_working_days`` (weekends, holidays, 调休 days), loaded once."""

    def __init__(self, first_day, last_day):
        overrides = dict(
            CalendarDay.objects.filter(
                date__gte=date.fromordinal(first_day), date__lte=date.fromordinal(last_day)
            ).values_list("date", "kind")
        )
        self.working = []
        for ordinal in range(first_day, last_day + 1):
            day = date.fromordinal(ordinal)
            kind = overrides.get(day)
            if kind == CalendarDay.Kind.HOLIDAY:
                continue
            if kind == CalendarDay.Kind.WORKDAY or day.weekday() < 5:
                self.working.append(ordinal)
        self.cache = {}

    def end(self, moment, days):
        local_day = int(moment + LOCAL) // DAY + EPOCH_ORDINAL
        key = local_day * 64 + days
        found = self.cache.get(key)
        if found is None:
            position = bisect.bisect_right(self.working, local_day) + days - 1
            if position < len(self.working):
                target = self.working[position]
            else:  # past the loaded calendar: weekdays only
                target, counted = local_day, 0
                while counted < days:
                    target += 1
                    counted += date.fromordinal(target).weekday() < 5
            found = self.cache[key] = (target - EPOCH_ORDINAL) * DAY - LOCAL + DAY - 1
        return found


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class World:
    """What the generator reads from the registry and accounts, loaded once before streaming."""

    def __init__(self, leaves):
        self.leaves = []
        weights = []
        for code in sorted(leaves):
            leaf = leaves[code]
            self.leaves.append(
                (
                    leaf.pk,
                    code,
                    leaf.top_code,
                    leaf.accept_within_hours,
                    leaf.resolve_within_days,
                    leaf.where,
                    DESCRIPTIONS.get(code, ("{where}{name}。",)),
                    str(leaf.name),
                )
            )
            weights.append(CATEGORY_WEIGHTS.get(code, 2))
        self.leaf_cum = []
        total = 0
        for weight in weights:
            total += weight
            self.leaf_cum.append(total)

        with connection.cursor() as cursor:
            cursor.execute("SELECT id, name, community_id, street_id FROM communities_compound ORDER BY id")
            self.compounds = {pk: (name, community, street) for pk, name, community, street in cursor.fetchall()}
            cursor.execute("SELECT id, number, name FROM communities_building")
            self.building_labels = {pk: name or f"{number}栋" for pk, number, name in cursor.fetchall()}
        self.street_compounds = {}
        for pk, (_name, _community, street) in sorted(self.compounds.items()):
            self.street_compounds.setdefault(street, []).append(pk)

        # Households (ids are contiguous from the registry generator, but do not rely on it).
        self.hh_id, self.hh_building, self.hh_compound = array("q"), array("q"), array("q")
        self.hh_unit, self.hh_room = array("h"), []
        position = {}
        with connection.chunked_cursor() as cursor:
            cursor.execute("SELECT id, building_id, compound_id, unit, room FROM communities_household ORDER BY id")
            for pk, building, compound, unit, room in cursor:
                position[pk] = len(self.hh_id)
                self.hh_id.append(pk)
                self.hh_building.append(building)
                self.hh_compound.append(compound)
                self.hh_unit.append(unit)
                self.hh_room.append(room)
        n = len(self.hh_id)
        # Who speaks for the household: its first member with a mobile (read encrypted, decrypted
        # when a request needs it: contact()), and their account.
        self.contact_name, self.contact_mobile = [""] * n, [""] * n
        self.account = array("q", bytes(8 * n))
        with connection.chunked_cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT ON (household_id) household_id, name, mobile, user_id FROM communities_resident "
                "WHERE mobile <> '' ORDER BY household_id, id"
            )
            for household, name, mobile, user in cursor:
                i = position[household]
                self.contact_name[i], self.contact_mobile[i] = name, mobile
                self.account[i] = user or 0
        del position
        self._mobile_context = f"{Resident._meta.label_lower}.mobile"

        # Who handles: the grid workers and secretary of each community, the staff of each street.
        self.workers, self.secretary, self.street_staff, self.names = {}, {}, {}, {}
        for user_id, name, kind, street_id, community_id in (
            Role.objects.filter(kind__in=(Role.Kind.STAFF, Role.Kind.SECRETARY), user__is_active=True)
            .values_list("user_id", "user__name", "kind", "street_id", "community_id")
            .order_by("user_id")
        ):
            self.names[user_id] = name
            if kind == Role.Kind.SECRETARY:
                self.secretary.setdefault(community_id, user_id)
            elif community_id:
                self.workers.setdefault(community_id, []).append(user_id)
            else:
                self.street_staff.setdefault(street_id, user_id)
        for community, secretary in self.secretary.items():
            self.workers.setdefault(community, [secretary])
        # Party servers: each building's group (leader's name), each served household's central household.
        self.groups = {}
        for building_id, group, leader in (
            PartyGroup.objects.filter(leader__isnull=False)
            .values_list("buildings", "name", "leader__resident__name")
            .order_by("buildings", "name")
        ):
            self.groups.setdefault(building_id, f"{group}组长 {leader}")
        self.centrals = {}
        through = CentralHousehold.served_households.through
        for household_id, name in through.objects.values_list(
            "household_id", "centralhousehold__member__resident__name"
        ).order_by("household_id", "centralhousehold_id"):
            self.centrals.setdefault(household_id, f"党员中心户 {name}")

    def contact(self, i):
        """Household ``i``'s contact mobile in plain text (decrypted once, when first needed)."""
        stored = self.contact_mobile[i]
        if stored and crypto.SEPARATOR in stored:
            stored = self.contact_mobile[i] = crypto.decrypt(stored, context=self._mobile_context)
        return stored


class Plan:
    """How many requests each day gets (exactly ``total``), and the ids and numbers that follow."""

    def __init__(self, rng, now, total, first_id):
        self.now = now
        self.today = int(now + LOCAL) // DAY  # local day number since the epoch
        self.first_day = self.today - DAYS + 1
        elapsed = (now + LOCAL) % DAY / DAY
        weights = []
        for offset in range(DAYS):
            day = self.first_day + offset
            weight = 1 + GROWTH * offset / (DAYS - 1)
            if (day + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
                weight *= WEEKEND
            if day == self.today:
                weight *= max(0.0, elapsed - 0.01)
            weights.append(weight)
        whole = sum(weights)
        shares = [total * w / whole for w in weights]
        self.counts = [int(s) for s in shares]
        for i in sorted(range(DAYS), key=lambda i: self.counts[i] - shares[i])[: total - sum(self.counts)]:
            self.counts[i] += 1
        self.first_ids = []
        running = first_id
        for count in self.counts:
            self.first_ids.append(running)
            running += count
        self.seed = rng.getrandbits(48)

    def days(self, since_day=None):
        for offset, count in enumerate(self.counts):
            day = self.first_day + offset
            if count and (since_day is None or day >= since_day):
                yield day, count, self.first_ids[offset]


class Maker:
    """Simulates one request's life from its submission to *now*; returns its row, events and clocks."""

    def __init__(self, world, calendar, now):
        self.w = world
        self.cal = calendar
        self.now = now

    def day(self, plan, day, count, first_id):
        """The requests of one local day, in submission order: (row values, events, clocks) each."""
        rng = random.Random(plan.seed * 7919 + day)  # noqa: S311 - synthetic data
        r = rng.random
        start = day * DAY - LOCAL
        limit = self.now - 120
        hours_cum, total = [], 0
        for weight in HOURS:
            total += weight
            hours_cum.append(total)
        moments = []
        while len(moments) < count:
            hour = bisect.bisect_right(hours_cum, r() * total)
            moment = start + hour * HOUR + int(r() * HOUR)
            if moment <= limit:
                moments.append(moment)
        moments.sort()
        label = datetime.fromtimestamp(start + LOCAL, UTC).strftime("%Y%m%d")
        latest = {}  # community → (id, number, leaf, building) of its latest request today, for duplicates
        for seq, moment in enumerate(moments, start=1):
            yield self.make(r, first_id + seq - 1, f"BH-{label}-{seq:04d}", moment, latest)

    def make(self, r, rid, number, t0, latest):  # noqa: C901, PLR0912, PLR0915 - one request's life, step by step
        w, cal, now = self.w, self.cal, self.now
        leaf = w.leaves[bisect.bisect_right(w.leaf_cum, r() * w.leaf_cum[-1])]
        i = int(r() * len(w.hh_id))
        compound = w.hh_compound[i]
        compound_name, community, street = w.compounds[compound]
        workers = w.workers[community]
        handler = workers[int(r() * len(workers))]

        u = r()
        path = "rejected" if u < 0.03 else "duplicate" if u < 0.05 else "returned" if u < 0.07 else "normal"
        original = latest.get(community) if path == "duplicate" else None
        if path == "duplicate" and original is None:
            path = "normal"
        if original is not None:  # a neighbour reports what is already being handled
            duplicate_of, original_number, leaf, building, description, address = original
            household = None
            description += "我们家也遇到同样的问题。"
        else:
            duplicate_of = None
            if leaf[5] == "public":
                building = household = None
                where = address = compound_name + PUBLIC_SPOTS[int(r() * len(PUBLIC_SPOTS))]
            else:
                building, household = w.hh_building[i], w.hh_id[i]
                base = f"{w.building_labels[building]}{w.hh_unit[i]}单元"
                where = address = base if leaf[5] == "building" else f"{base}{w.hh_room[i]}室"
            templates = leaf[6]
            description = templates[int(r() * len(templates))].format(where=where)
        if path == "normal":
            latest[community] = (rid, number, leaf, building, description, address)
        leaf_id, _code, top, accept_hours, resolve_days = leaf[:5]

        account = w.account[i] or None
        online = account is not None and r() < 0.6
        if online:
            channel, submitted_by, entered_by = "online", account, None
        else:
            x = r()
            channel = "phone" if x < 0.5 else "walk_in" if x < 0.8 else "visit"
            submitted_by = account if account is not None and r() < 0.5 else None
            entered_by = handler
        contact_name, contact_mobile = w.contact_name[i], w.contact(i)

        events = [
            (t0, "submitted", submitted_by if online else handler, CHANNEL_LABELS[channel], True, "", "submitted")
        ]
        status = "submitted"
        acc_start, acc_due = t0, t0 + accept_hours * HOUR
        res_start, res_due = t0, cal.end(t0, resolve_days)
        accepted_at = resolved_at = closed_at = rated_at = None
        acc_end = res_end = None  # when each clock stopped (None: still running now)
        res_from = None  # when the request entered the resolve clock's statuses (accepted)
        assignee_kind, assigned_to, assignee_label = "", None, ""
        reopen_count = return_count = extension_count = 0
        extension_reason, extension_until = "", None
        solved = satisfaction = rating_comment = ""
        rate_reminded_at = None

        def accept_time(start):
            late = r() < 0.10
            return start + accept_hours * HOUR * ((1.0 + r() * 1.5) if late else (0.05 + r() * 0.9))

        flow_from = t0
        if path != "normal":
            acted = t0 + HOUR * (0.5 + r() * (24 if path == "returned" else 40))
            if r() < (0.3 if path == "returned" else 0.5):
                accept = min(accept_time(t0), acted - 60)
                if accept <= now:
                    status, accepted_at, acc_end, res_from = "accepted", accept, accept, accept
                    assigned_to, assignee_kind, assignee_label = handler, "staff", w.names[handler]
                    events.append((accept, "accepted", handler, "", True, "submitted", "accepted"))
            if acted <= now:
                acc_end = acc_end or acted
                res_end = acted if res_from is not None else None
                if path == "rejected":
                    reason = REJECT_REASONS[int(r() * len(REJECT_REASONS))]
                    events.append((acted, "rejected", handler, reason, True, status, "rejected"))
                    status, closed_at = "rejected", acted
                elif path == "duplicate":
                    events.append((acted, "duplicate", handler, original_number, True, status, "closed"))
                    status, closed_at = "closed", acted
                else:
                    reason = RETURN_REASONS[int(r() * len(RETURN_REASONS))]
                    events.append((acted, "returned", handler, reason, False, status, "returned"))
                    status, return_count = "returned", 1
                    rerouted = acted + HOUR * (2 + r() * 46)
                    targets = [c for c in w.street_compounds[street] if w.compounds[c][1] != community]
                    if rerouted <= now and targets:
                        # The street sends it to the right compound; its clocks start again there.
                        compound = targets[int(r() * len(targets))]
                        compound_name, community, street = w.compounds[compound]
                        building = household = None
                        workers = w.workers[community]
                        handler = workers[int(r() * len(workers))]
                        staff = w.street_staff.get(street)
                        events.append((rerouted, "rerouted", staff, compound_name, False, "returned", "submitted"))
                        status, accepted_at, assigned_to, assignee_kind, assignee_label = (
                            "submitted",
                            None,
                            None,
                            "",
                            "",
                        )
                        acc_start, acc_due = rerouted, rerouted + accept_hours * HOUR
                        res_start, res_due = rerouted, cal.end(rerouted, resolve_days)
                        acc_end = res_end = res_from = None
                        path, flow_from = "normal", rerouted

        while path == "normal":  # one pass; ``break`` where *now* cuts the life short
            accept = accept_time(flow_from)
            if accept > now:
                break
            status, accepted_at, acc_end, res_from = "accepted", accept, accept, accept
            assigned_to, assignee_kind, assignee_label = handler, "staff", w.names[handler]
            events.append((accept, "accepted", handler, "", True, "submitted", "accepted"))
            assign = accept + HOUR * (0.1 + r() * 6)
            if assign > now:
                break
            x = r()
            if x < 0.12 and building in w.groups:
                assignee_kind, assigned_to, assignee_label = "party_group", None, w.groups[building]
            elif x < 0.22 and household in w.centrals:
                assignee_kind, assigned_to, assignee_label = "central_household", None, w.centrals[household]
            elif x < 0.35:
                team = VOLUNTEER_TEAMS[int(r() * len(VOLUNTEER_TEAMS))]
                assignee_kind, assigned_to, assignee_label = "volunteer_team", None, team
            message = f"{ASSIGNEE_LABELS[assignee_kind]}：{assignee_label}"
            events.append((assign, "assigned", handler, message, True, "accepted", "in_progress"))
            status = "in_progress"
            earliest = assign + 600
            # 延期: asked a few hours after assigning, decided by the secretary within a day.
            if r() < 0.02:
                asked = assign + HOUR * (1 + r() * 23)
                until = res_due + 3 * DAY
                reason = EXTENSION_REASONS[int(r() * len(EXTENSION_REASONS))]
                earliest = asked + 600
                if asked <= now:
                    events.append((asked, "extension_requested", handler, reason, False, status, status))
                    decided = asked + HOUR * (2 + r() * 22)
                    secretary = w.secretary.get(community)
                    if decided <= now and secretary:
                        old = datetime.fromtimestamp(res_due + LOCAL, UTC).strftime("%Y-%m-%d %H:%M")
                        new = datetime.fromtimestamp(until + LOCAL, UTC).strftime("%Y-%m-%d %H:%M")
                        message = f"办结期限由 {old} 延至 {new}。同意，请抓紧办理。"
                        events.append((decided, "extension_approved", secretary, message, True, status, status))
                        res_due, extension_count, earliest = until, 1, decided + 600
                        res_from = max(res_from, decided)
                    else:
                        extension_reason, extension_until = reason, until
            # 办结: mostly in time; 6% late, a few stuck open for weeks.
            x = r()
            if x < 0.0015:
                resolve = res_due + DAY * (10 + r() * 60)
            elif x < 0.06:
                resolve = res_due + DAY * (0.1 + r() * 3)
            else:
                resolve = res_start + (res_due - res_start) * (0.15 + r() * 0.8)
            resolve = max(resolve, earliest + r() * 3 * HOUR)
            replies = (0, 1, 1, 2)[int(r() * 4)]
            for k in range(replies):
                at = assign + (resolve - assign) * (k + 1) / (replies + 1)
                if at <= now:
                    texts = REPLIES[top]
                    events.append((at, "replied", handler, texts[int(r() * len(texts))], True, status, status))
            rounds = 0
            while resolve <= now:
                rounds += 1
                res_end = resolve
                texts = RESOLUTIONS[top]
                events.append((resolve, "resolved", handler, texts[int(r() * len(texts))], True, status, "resolved"))
                status, resolved_at = "resolved", resolve
                extension_reason, extension_until = "", None
                rates = r() < (0.8 if rounds == 1 else 0.7)
                rate = resolve + DAY * (0.05 + r() * 6.5)
                if rates and rate > now:
                    rates = False  # would have rated, but not yet
                answered = rate if rates else resolve + 7 * DAY + 60
                remind = resolve + 3 * DAY + 60
                rate_reminded_at = remind if remind < min(answered, now) else None
                if not rates:
                    if answered <= now:
                        events.append((answered, "closed", None, AUTO_CLOSE, True, "resolved", "closed"))
                        status, closed_at = "closed", answered
                    break
                unhappy = rounds == 1 and r() < 0.0375
                if unhappy:
                    solved, satisfaction = "partly", "unsatisfied"
                else:
                    solved, satisfaction = "solved", "satisfied" if r() < 0.78 else "basic"
                comments = RATING_COMMENTS[satisfaction]
                rating_comment = comments[int(r() * len(comments))]
                rated_at = rate
                label = f"{SOLVED_LABELS[solved]} · {SATISFACTION_LABELS[satisfaction]}"
                message = f"{label}。{rating_comment}".rstrip("。") + "。"
                kind, actor = ("rated", submitted_by) if online else ("followed_up", handler)
                if not unhappy:
                    events.append((rate, kind, actor, message, True, "resolved", "closed"))
                    status, closed_at = "closed", rate
                    break
                # 重办: back in progress with a fresh limit, then resolved again.
                events.append((rate, kind, actor, message, True, "resolved", "in_progress"))
                events.append((rate, "reopened", None, REOPEN_MESSAGE, True, "resolved", "in_progress"))
                status, reopen_count, resolved_at, rate_reminded_at = "in_progress", 1, None, None
                res_start, res_due, res_from, res_end = rate, cal.end(rate, resolve_days), rate, None
                if r() < 0.6 and rate + HOUR <= now:
                    events.append((rate + HOUR, "replied", handler, SECOND_REPLY, True, status, status))
                resolve = res_start + (res_due - res_start) * (0.2 + r() * 0.7)
            break

        # Reminders: each clock's schedule, and what the scan claimed on it while it ran.
        acc_warn, acc_esc = schedule(acc_start, acc_due)
        res_warn, res_esc = schedule(res_start, res_due)
        clocks = []
        # The accept clock ran from acc_start until accepted (or returned, rejected, …).
        steps = (acc_warn, acc_due, acc_esc)
        until = acc_end if acc_end is not None else now
        claims = [at if at < until and at <= now else None for at in (due + CLAIM_DELAY for due in steps)]
        # Its recipient is the assignee while waiting to be accepted: nobody, in this history.
        if status in CLOCK_STATUSES["accept"]:
            clocks.append(_clock("accept", True, assigned_to, steps, claims))
        elif claims[1] is not None:  # stopped after its overdue notice: the timeline shows it
            clocks.append(_clock("accept", False, None, steps, claims))
        # The resolve clock: its reminders go out from when the request was accepted (res_from).
        if res_from is not None:
            steps = (res_warn, res_due, res_esc)
            until = res_end if res_end is not None else now
            claims = [
                at if at < until and at <= now else None for at in (max(due, res_from) + CLAIM_DELAY for due in steps)
            ]
            if status in CLOCK_STATUSES["resolve"]:
                clocks.append(_clock("resolve", True, assigned_to, steps, claims))
            elif claims[1] is not None:
                clocks.append(_clock("resolve", False, assigned_to, steps, claims))
        # The rating clock: one reminder, 3 days after resolving, while waiting for the rating.
        if status in CLOCK_STATUSES["rate"]:
            steps = (resolved_at + RATE_AFTER, None, None)
            clocks.append(_clock("rate", True, submitted_by, steps, (rate_reminded_at, None, None)))
        events.sort(key=_first)
        updated = events[-1][0]

        row = (
            rid, t0, updated, street, community, number, leaf_id, description, compound, building, household,
            address, submitted_by, entered_by, contact_name, contact_mobile, channel, status, acc_due, res_due,
            accepted_at, resolved_at, closed_at, assignee_kind, assigned_to, assignee_label, duplicate_of,
            reopen_count, return_count, extension_count, extension_reason, extension_until, solved, satisfaction,
            rating_comment, rated_at, acc_warn, acc_esc, res_warn, res_esc,
        )  # fmt: skip
        return row, events, clocks


def _clock(name, running, recipient, steps, claims):
    """A clock row's values: (clock, running, recipient, warn/due/escalate times, their claims,
    next_due_at): the earliest step not yet claimed while it runs, else NULL (as ``clocks_sync``)."""
    next_due = first_pending(steps, claims) if running else None
    return (name, running, recipient, *steps, *claims, next_due)


def _first(event):
    return event[0]


KEPT_ALWAYS = ("returned", "reopened")  # events the monthly summary counts: written for every request


def request_lines(maker, plan, ts, since_day, kept, clock_file):
    """Every request; ``kept`` gets the 退单 and 重办 events of the days before ``since_day``
    (the events pass then simulates only the days from ``since_day`` on), ``clock_file`` the
    lines of the clock rows (the running ones of every request, the stopped ones of the days
    from ``since_day`` on), to COPY once the requests are in."""
    o = bulk.opt
    for day, count, first_id in plan.days():
        old = day < since_day
        for row, events, clocks in maker.day(plan, day, count, first_id):
            if old:
                kept.extend((row[0], row[3], row[4], *event) for event in events if event[1] in KEPT_ALWAYS)
            for name, running, recipient, warn, due, escalate, warned, overdue, escalated, next_due in clocks:
                if running or not old:
                    clock_file.write(
                        f"{row[0]}\t{name}\t1\t{'t' if running else 'f'}\t{row[5]}\t{row[3]}\t{row[4]}\t"
                        f"{o(recipient)}\t{ts(warn)}\t{ts(due)}\t{ts(escalate)}\t{ts(warned)}\t{ts(overdue)}\t"
                        f"{ts(escalated)}\t{ts(next_due)}\n"
                    )
            (
                rid,
                t0,
                updated,
                street,
                community,
                number,
                leaf_id,
                description,
                compound,
                building,
                household,
                address,
                submitted_by,
                entered_by,
                contact_name,
                contact_mobile,
                channel,
                status,
                acc_due,
                res_due,
                accepted_at,
                resolved_at,
                closed_at,
                assignee_kind,
                assigned_to,
                assignee_label,
                duplicate_of,
                reopen_count,
                return_count,
                extension_count,
                extension_reason,
                extension_until,
                solved,
                satisfaction,
                rating_comment,
                rated_at,
                acc_warn,
                acc_esc,
                res_warn,
                res_esc,
            ) = row
            yield (
                f"{rid}\t{ts(t0)}\t{ts(updated)}\t{street}\t{community}\t{number}\t{leaf_id}\t{description}\t"
                f"{compound}\t{o(building)}\t{o(household)}\t{address}\t{o(submitted_by)}\t{o(entered_by)}\t"
                f"{contact_name}\t{contact_mobile}\t\t{channel}\t{status}\t{ts(acc_due)}\t{ts(res_due)}\t"
                f"{ts(accepted_at)}\t{ts(resolved_at)}\t{ts(closed_at)}\t{assignee_kind}\t{o(assigned_to)}\t"
                f"{assignee_label}\t{o(duplicate_of)}\t{reopen_count}\t{return_count}\t{extension_count}\t"
                f"{extension_reason}\t{ts(extension_until)}\t{solved}\t{satisfaction}\t{rating_comment}\t"
                f"{ts(rated_at)}\t{ts(acc_warn)}\t{ts(acc_esc)}\t{ts(res_warn)}\t{ts(res_esc)}\t\t\\N\t\\N"
            )


def event_lines(maker, plan, ts, first_event, since_day, kept):
    """The ``kept`` events of the older requests, then every event of the requests from ``since_day`` on."""
    o = bulk.opt
    eid = first_event
    for rid, street, community, at, kind, actor, message, public, before, after in kept:
        stamp = ts(at)
        yield (
            f"{eid}\t{stamp}\t{stamp}\t{street}\t{community}\t{rid}\t{kind}\t{o(actor)}\t{message}\t"
            f"{'t' if public else 'f'}\t{before}\t{after}"
        )
        eid += 1
    for day, count, first_id in plan.days(since_day):
        for row, events, _clocks in maker.day(plan, day, count, first_id):
            rid, street, community = row[0], row[3], row[4]
            for at, kind, actor, message, public, before, after in events:
                stamp = ts(at)
                yield (
                    f"{eid}\t{stamp}\t{stamp}\t{street}\t{community}\t{rid}\t{kind}\t{o(actor)}\t{message}\t"
                    f"{'t' if public else 'f'}\t{before}\t{after}"
                )
                eid += 1


def seed(ctx):
    bulk.require_postgresql()
    days = seed_calendar()
    leaves = seed_categories()
    if ServiceRequest.objects.exists():
        ctx.log(f"  service_requests: {days} calendar days, {len(leaves)} categories; requests already exist")
        return
    bulk.bulk_session()
    started = time.monotonic()
    now = timezone.now().timestamp()
    world = World(leaves)
    loaded = time.monotonic()
    plan = Plan(ctx.rng, now, ctx.requests, bulk.next_id(ServiceRequest))
    calendar = WorkingDays(plan.first_day + EPOCH_ORDINAL - 1, plan.today + EPOCH_ORDINAL + 120)
    maker = Maker(world, calendar, now)
    ts = bulk.Timestamps()

    event_days = ctx.event_days
    since_day = plan.today - event_days + 1
    kept = []
    # The clock rows wait on disk (not in memory) until their requests are in.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as clock_file:
        requests = bulk.copy_rows(
            ServiceRequest._meta.db_table, REQUEST_COLUMNS, request_lines(maker, plan, ts, since_day, kept, clock_file)
        )
        after_requests = time.monotonic()
        clock_file.seek(0)
        clocks = bulk.copy_rows(RequestClock._meta.db_table, CLOCK_COLUMNS, (line[:-1] for line in clock_file))
    after_clocks = time.monotonic()
    events = bulk.copy_rows(
        RequestEvent._meta.db_table,
        EVENT_COLUMNS,
        event_lines(maker, plan, ts, bulk.next_id(RequestEvent), since_day, kept),
    )
    del kept
    after_events = time.monotonic()

    # The daily number counters, so that the next request today continues the sequence.
    NumberSequence.objects.bulk_create(
        [NumberSequence(day=date.fromordinal(day + EPOCH_ORDINAL), counted=count) for day, count, _first in plan.days()]
    )
    bulk.reset_sequences(ServiceRequest, RequestEvent)
    bulk.analyze(ServiceRequest, RequestClock, RequestEvent)
    after_analyze = time.monotonic()
    rebuild = getattr(summary, "summary_rebuild", None)
    rows = rebuild() if rebuild is not None else None
    ctx.log(
        f"  service_requests: {days} calendar days, {len(leaves)} categories, {requests} requests "
        f"({after_requests - loaded:.1f}s; registry read in {loaded - started:.1f}s), {clocks} clock rows "
        f"({after_clocks - after_requests:.1f}s), {events} events "
        f"(all steps for the last {event_days} days; {after_events - after_clocks:.1f}s), "
        + (f"summary {rows} rows ({time.monotonic() - after_analyze:.1f}s)" if rows is not None else "no summary")
    )
