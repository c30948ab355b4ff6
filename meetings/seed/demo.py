"""Demo meetings for ``manage.py seed_baohe``: 滨湖和园小区's 环境综合提升改造 (the article).

Ten years after hand-over many facilities of 滨湖和园小区 are worn out, and the underground
garage is full of residents' old farm tools, bicycles and motorbikes. Two residents raise it
(requests filed by 和园社区's staff at the grid office); the community holds three meetings
(座谈会) of building heads, party members, volunteers and resident representatives:

1. 听取意见 — the problems and what residents want (from both requests);
2. 劝导清运 — persuading the owners of the garage clutter; the 义务监督队 is formed;
3. 形成决议 — two decisions, each with action items, the supervision team attached:
   地下车库杂物清运 (both items done → the garage request is resolved and its follow-up
   begins) and 公共设施改造 (under way; the request's deadline extended for the works),
   with the team's inspections (one problem found and fixed, the rest OK).

Everything is written by the same services the pages call, then dated over the last twelve
days. Written once: when 滨湖和园小区 already has the first meeting, nothing is added.
"""

from datetime import datetime, time, timedelta

from django.db.models import Max
from django.utils import timezone

from accounts.models import Role, User
from communities.models import Compound, Resident
from notifications.models import Delivery, Notification
from service_requests import calendar
from service_requests import services as request_services
from service_requests.models import Category, RequestEvent, ServiceRequest
from service_requests.models.clock import clocks_rebuild, schedule_accept, schedule_resolve
from service_requests.seed.demo import requote

from .. import selectors, services
from ..models import ActionItem, Decision, Inspection, Invitee, Meeting, SupervisionTeam

ORDER = 70

COMPOUND = "滨湖和园小区"
COMMUNITY = "和园社区"
PLACE = "滨湖和园小区网格办会议室"
TEAM = "滨湖和园小区义务监督队"
CATEGORY = "other-suggestion"  # 其他 / 意见建议: 10 working days

REQUESTS = (
    "小区地下车库堆放了大量旧农具、自行车、摩托车等杂物，占用车位，也有消防隐患，希望统一清理。",
    "小区交付十年了，路灯、健身器材老化损坏，主干道路面多处破损，希望整体改造。",
)
TOPICS = (
    "环境综合提升改造第一次座谈会：听取居民意见",
    "环境综合提升改造第二次座谈会：地下车库杂物清运劝导",
    "环境综合提升改造第三次座谈会：改造方案表决和分工",
)
AGENDAS = (
    "一、网格办通报小区设施老化情况；二、楼栋长、党员、居民代表发言；三、梳理改造清单。",
    "一、通报地下车库杂物摸排情况；二、“老邻居、老朋友、老熟人”分片劝导；三、成立义务监督队。",
    "一、通报改造方案和施工安排；二、逐项协商表决；三、明确分工、完成期限和监督。",
)
MINUTES = (
    "到会居民一致认为小区环境需要综合提升。主要问题：地下车库杂物堆积、路灯和健身器材损坏、"
    "主干道路面破损。会议梳理出改造清单，下次座谈会专题商议车库杂物清运。",
    "网格办通报：地下车库共摸排出旧农具、自行车、摩托车等杂物约 40 处。部分居民不情愿清运，"
    "楼栋长和党员按楼栋分片包干，逐户上门劝说。会议决定成立义务监督队，监督改造工程质量。",
    "会议通报了改造方案和施工安排，经到会居民代表逐项表决，形成两项决议：地下车库杂物限期清运；"
    "公共设施按方案改造。两项决议均由义务监督队全程监督。",
)
DECISIONS = (
    (
        "地下车库杂物清运：居民限期自行清理，剩余杂物由物业统一清运，清运后冲洗车库、保持消防通道畅通。",
        (
            (
                "楼栋长、党员分片入户劝导，居民自行清理个人杂物",
                "staff",
                None,
                -2,
                -3,
                "九栋楼车库杂物约八成已由居民自行清理。",
            ),
            (
                "物业统一清运剩余杂物并冲洗地下车库",
                "property",
                None,
                -1,
                -1,
                "清运旧农具、自行车、摩托车等杂物约 12 车，车库已冲洗。",
            ),
        ),
    ),
    (
        "公共设施改造：更换损坏路灯、维修更换健身器材、修补主干道破损路面，施工期间设置围挡。",
        (
            ("更换小区损坏路灯，维修更换健身器材", "property", None, 14, None, ""),
            ("修补小区主干道破损路面", "staff", None, 21, None, ""),
        ),
    ),
)
INSPECTIONS = (
    # (decision index, days ago, hour, ok, finding)
    (0, 2, 15, False, "3 栋车库仍停放两辆废旧摩托车、一堆旧木料，已督促物业本周内清运。"),
    (0, 1, 18, True, "车库杂物已全部清运，地面冲洗干净，消防通道畅通。"),
    (1, 1, 10, False, "健身器材区两台器材底座螺栓松动，存在安全隐患，已要求施工单位当天整改。"),
    (1, 0, None, True, "已更换路灯 18 盏，健身器材底座已加固；施工围挡规范，现场整洁。"),
)


def _at(day_offset, hour, minute=0, today=None):
    today = today or timezone.localdate()
    moment = datetime.combine(today + timedelta(days=day_offset), time(hour, minute))
    return timezone.make_aware(moment, timezone.get_default_timezone())


class Clock:
    """Dates the rows each service call writes (request events, notifications) at a moment in the past."""

    def __init__(self):
        self.last_event = RequestEvent.objects.aggregate(m=Max("id"))["m"] or 0
        self.last_notification = Notification.objects.aggregate(m=Max("id"))["m"] or 0
        self.first_notification = self.last_notification

    def stamp(self, at):
        events = list(RequestEvent.objects.filter(id__gt=self.last_event).values_list("id", flat=True))
        if events:
            RequestEvent.objects.filter(id__in=events).update(created_at=at, updated_at=at)
            self.last_event = max(events)
        notes = list(Notification.objects.filter(id__gt=self.last_notification).values_list("id", flat=True))
        if notes:
            Notification.objects.filter(id__in=notes).update(created_at=at)
            self.last_notification = max(notes)

    def settle(self, now):
        """Demo notifications older than an hour were delivered; staff read those older than two days."""
        demo = Notification.objects.filter(pk__gt=self.first_notification)
        for notification in demo.filter(created_at__lt=now - timedelta(hours=1)).only("pk", "created_at"):
            Delivery.objects.filter(notification=notification, status=Delivery.Status.PENDING).update(
                status=Delivery.Status.SENT, attempts=1, sent_at=notification.created_at
            )
        for notification in demo.filter(created_at__lt=now - timedelta(days=2), read_at=None).only("pk", "created_at"):
            Notification.objects.filter(pk=notification.pk).update(read_at=notification.created_at + timedelta(hours=2))


def community_user(community, kind, username, name):
    """The community's first active user with role ``kind``, or a demo account without a usable password."""
    existing = User.objects.filter(roles__kind=kind, roles__community=community, is_active=True).order_by("id").first()
    if existing is not None:
        return existing
    user, created = User.objects.get_or_create(username=username, defaults={"name": name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Role.objects.get_or_create(user=user, kind=kind, community=community, street=None)
    return user


def _file_requests(compound, staff, clock, submitted):
    category = Category.objects.filter(code=CATEGORY, is_active=True).first()
    if category is None:
        return []
    households = list(compound.households.select_related("building").order_by("building__number", "unit", "room")[:40])
    heads = {
        r.household_id: r
        for r in Resident.objects.filter(household__in=households, relation=Resident.Relation.HEAD).order_by("pk")
    }
    contacts = [h for h in households if h.pk in heads][::7][: len(REQUESTS)]
    made = []
    for description, household in zip(REQUESTS, contacts, strict=False):
        head = heads[household.pk]
        request = request_services.request_submit(
            by=staff,
            category=category,
            description=description,
            compound=compound,
            building=household.building,
            household=household,
            address="地下车库" if "车库" in description else "小区公共区域",
            contact_name=head.name,
            contact_mobile=head.mobile,
            channel=ServiceRequest.Channel.WALK_IN,
        )
        request.accept_due_at = submitted + timedelta(hours=category.accept_within_hours)
        request.resolve_due_at = calendar.add_working_days(submitted, category.resolve_within_days)
        fields = schedule_accept(request, submitted) + schedule_resolve(request, submitted)
        number = request_services.number_next(submitted)
        ServiceRequest.objects.filter(pk=request.pk).update(
            number=number,
            created_at=submitted,
            accept_due_at=request.accept_due_at,
            resolve_due_at=request.resolve_due_at,
            **{name: getattr(request, name) for name in fields},
        )
        clocks_rebuild(ServiceRequest.objects.filter(pk=request.pk))
        requote({request.number: number}, [request.pk])  # its notifications quote the new number
        clock.stamp(submitted)
        made.append(ServiceRequest.objects.get(pk=request.pk))
    return made


def _invitees(compound, requests, groups):
    people = selectors.suggested_invitees(
        community=compound.community, compound=compound, requests=requests, groups=groups
    )
    return people + [{"role": Invitee.Role.OTHER, "resident": None, "name": "施工单位项目经理"}]


def _hold(meeting, staff, clock, rng, held_at, recorded_at, minutes, decisions=()):
    """Attendance (the residents who raised the requests and the property company came, and about nine in ten of the others) and the minutes, dated ``recorded_at``."""
    invitees = list(meeting.invitees.order_by("pk"))
    came = [
        i.pk for i in invitees if i.role in (Invitee.Role.PROPERTY_COMPANY, Invitee.Role.RESIDENT) or rng.random() < 0.9
    ]
    services.meeting_record_attendance(meeting=meeting, by=staff, attended=came, held_at=held_at)
    services.meeting_record_minutes(meeting=meeting, by=staff, minutes=minutes, decisions=decisions)
    Meeting.objects.filter(pk=meeting.pk).update(minutes_recorded_at=recorded_at, updated_at=recorded_at)
    Invitee.objects.filter(meeting=meeting).update(updated_at=recorded_at)
    clock.stamp(recorded_at)


def _plan(compound, staff, clock, created, scheduled, index, requests, groups):
    meeting = services.meeting_create(
        by=staff,
        community=compound.community,
        compound=compound,
        topic=TOPICS[index],
        kind=Meeting.Kind.COUNCIL if index == 2 else Meeting.Kind.FORUM,
        scheduled_at=scheduled,
        place=PLACE,
        agenda=AGENDAS[index],
        requests=requests,
        invitees=_invitees(compound, requests, groups),
    )
    Meeting.objects.filter(pk=meeting.pk).update(created_at=created, updated_at=created)
    Invitee.objects.filter(meeting=meeting).update(created_at=created, updated_at=created)
    ServiceRequest.objects.filter(pk__in=[r.pk for r in requests], accepted_at__isnull=False).filter(
        accepted_at__gt=created
    ).update(accepted_at=created)
    clock.stamp(created)
    return meeting


def _team(compound, staff, requester, created):
    candidates = list(
        selectors.suggested_invitees(community=compound.community, compound=compound, groups=("heads", "party"))
    )
    residents = list(dict.fromkeys(p["resident"] for p in candidates if p["resident"] is not None))[:6]
    if requester is not None and requester not in residents:
        residents.append(requester)
    team = SupervisionTeam(
        community=compound.community,
        compound=compound,
        name=TEAM,
        leader=residents[0] if residents else None,
        note="环境综合提升改造工程质量监督：楼栋长、党员和居民代表组成。",
    )
    services.supervision_team_save(instance=team, by=staff, members=residents)
    SupervisionTeam.objects.filter(pk=team.pk).update(created_at=created, updated_at=created)
    return team


def seed(ctx):
    compound = (
        Compound.objects.select_related("community__street").filter(name=COMPOUND, community__name=COMMUNITY).first()
    )
    if compound is None:
        ctx.log("  meetings: 滨湖和园小区 not found; skipped")
        return
    if Meeting.objects.filter(compound=compound, topic=TOPICS[0]).exists():
        ctx.log("  meetings: 滨湖和园小区's meetings already exist")
        return
    rng = ctx.rng
    community = compound.community
    now = timezone.now()
    staff = community_user(
        community, Role.Kind.STAFF, f"demo_staff_{community.code}", f"李军（{community.name}网格员）"
    )
    secretary = community_user(
        community, Role.Kind.SECRETARY, f"demo_secretary_{community.code}", f"陈红（{community.name}书记）"
    )
    clock = Clock()

    requests = _file_requests(compound, staff, clock, _at(-12, 9, 30))
    if len(requests) < len(REQUESTS):
        ctx.log("  meetings: no category or households for the demo requests; skipped")
        return
    garage, facilities = requests

    first = _plan(
        compound,
        staff,
        clock,
        _at(-12, 10, 30),
        _at(-11, 19),
        0,
        requests,
        ("requesters", "heads", "party", "property"),
    )
    _hold(first, staff, clock, rng, _at(-11, 19), _at(-11, 21), MINUTES[0])

    second = _plan(
        compound, staff, clock, _at(-10, 10), _at(-8, 19), 1, [garage], ("requesters", "heads", "party", "property")
    )
    _hold(second, staff, clock, rng, _at(-8, 19), _at(-8, 21), MINUTES[1])
    requester = Invitee.objects.filter(meeting=second, role=Invitee.Role.RESIDENT, resident__isnull=False).first()
    team = _team(compound, staff, requester.resident if requester else None, _at(-8, 21, 30))

    third = _plan(
        compound,
        staff,
        clock,
        _at(-7, 9),
        _at(-5, 19),
        2,
        requests,
        ("requesters", "heads", "party", "property", "volunteers"),
    )
    today = timezone.localdate()
    property_company = compound.property_company or "物业公司"
    decisions = []
    for (text, items), linked in zip(DECISIONS, ([garage], [facilities]), strict=True):
        decisions.append(
            {
                "text": text,
                "supervision_team": team,
                "action_items": [
                    {
                        "task": task,
                        "owner": staff if who == "staff" else None,
                        "owner_label": "" if who == "staff" else property_company,
                        "due_on": max(today, today + timedelta(days=due)),
                        "requests": linked,
                    }
                    for task, who, _owner, due, _done, _note in items
                ],
            }
        )
    _hold(third, staff, clock, rng, _at(-5, 19), _at(-5, 21, 30), MINUTES[2], decisions)
    rows = list(ActionItem.objects.filter(decision__meeting=third).order_by("decision__order", "pk"))
    plans = [entry for _text, items in DECISIONS for entry in items]
    ActionItem.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=_at(-5, 21, 30))
    Decision.objects.filter(meeting=third).update(created_at=_at(-5, 21, 30))
    for row, (_task, _who, _owner, due, _done, _note) in zip(rows, plans, strict=True):
        ActionItem.objects.filter(pk=row.pk).update(due_on=today + timedelta(days=due))

    # The works take three weeks: the facilities request's deadline is extended (approved by the secretary).
    until = _at(25, 18)
    request_services.request_extension_request(
        request=facilities,
        by=staff,
        until=until,
        reason="公共设施改造经协商议事会决议实施，工期约三周，申请延期至改造完成。",
    )
    clock.stamp(_at(-4, 9))
    request_services.request_extension_decide(
        request=facilities, by=secretary, approve=True, note="同意，请按决议抓紧施工。"
    )
    clock.stamp(_at(-4, 10))

    # Done items, in time order, and the team's inspections between them.
    events = []
    for row, (_task, _who, _owner, _due, done, note) in zip(rows, plans, strict=True):
        if done is not None:
            events.append((_at(done, 16 if done < -1 else 17), "done", row, note))
    decision_rows = list(Decision.objects.filter(meeting=third).order_by("order"))
    for index, days, hour, ok, finding in INSPECTIONS:
        moment = _at(-days, hour) if hour is not None else now - timedelta(hours=2)
        events.append((moment, "inspect", decision_rows[index], (ok, finding)))
    members = list(team.members.order_by("pk"))
    for number, (moment, kind, row, detail) in enumerate(sorted(events, key=lambda e: e[0])):
        if kind == "done":
            services.action_item_complete(item=row, by=staff, note=detail)
            ActionItem.objects.filter(pk=row.pk).update(done_at=moment, updated_at=moment)
            resolved = ServiceRequest.objects.filter(
                pk__in=row.requests.values("pk"), status=ServiceRequest.Status.RESOLVED
            )
            ids = list(resolved.values_list("pk", flat=True))
            resolved.update(resolved_at=moment, updated_at=moment)
            clocks_rebuild(
                ServiceRequest.objects.filter(pk__in=ids)
            )  # the rating reminder counts from the backdated time
        else:
            ok, finding = detail
            inspection = services.inspection_record(
                decision=row,
                by=staff,
                inspected_at=moment,
                finding=finding,
                ok=ok,
                inspector=members[number % len(members)] if members else None,
            )
            Inspection.objects.filter(pk=inspection.pk).update(created_at=moment, updated_at=moment)
        clock.stamp(moment)
    clock.settle(now)

    garage.refresh_from_db()
    ctx.log(
        f"  meetings: 3 meetings in {COMPOUND}, {len(rows)} action items, "
        f"{Inspection.objects.filter(decision__meeting=third).count()} inspections; "
        f"{garage.number} {garage.get_status_display()}"
    )
