"""Demo volunteer service for ``manage.py seed_baohe``.

- Every community runs the district's six named projects (红管家, 一米阳光, 四美一好, 配餐上门,
  快乐学堂, 家庭医生) and has a community volunteer team; compounds the article names get
  teams of their own: 太湖新村 four (one of them the 邻里守望志愿服务队), 滨湖和园小区 its
  义务监督队 (the volunteer supervision team watching the renovation), 清华园小区 a 一米阳光
  team. Teams have 6–14 members (adult residents of the community or compound) and a leader.
- Each community has six activities: three in the past four weeks (sign-ups, check-ins, hours
  approved when older than ten days, pending otherwise, and the points they earned) and three
  coming up (one half full, one with a single place left, one full with a waitlist); the
  third is private to the community team.
- Meal delivery (weekly, four weeks) and family doctor visits (once) for up to four elderly
  households per community, recorded as hours that name the household, so a household's
  page shows the services it received.
- The demo resident (``accounts.seed.demo``) volunteers in 清华园小区's team, with approved hours
  and points, and is signed up for nothing upcoming (the resident journey signs up).

Deterministic: a private ``random.Random`` with a fixed seed (``ctx.rng`` is left alone: what
the modules before this one draw from it depends on whether their rows already exist, so its
state here differs between a first and a second run; drawing from it would also shift the
stream of the modules after this one). Teams, projects,
volunteers and memberships are found by natural key; a community's activities, sign-ups and
hours are written only when it has no activities yet, so running the seed again adds nothing.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from accounts.seed.demo import DEMO_RESIDENT_USERNAME
from communities.models import Community, Compound, Household, Resident
from communities.seed.demo import HARMONY_NAME, QINGHUA

from ..models import (
    Activity,
    PointsEntry,
    ServiceHours,
    ServiceProject,
    Signup,
    TeamMembership,
    Volunteer,
    VolunteerTeam,
    points_per_hour,
)

ORDER = 60

BATCH = 2000
REF_YEAR = 2026
Kind = ServiceProject.Kind

PROJECTS = (
    (Kind.RED_STEWARD, "红管家", "党员和志愿者当好小区“红管家”：楼道清洁、环境整治、安全巡查，小事不出楼栋。"),
    (Kind.SUNSHINE, "一米阳光", "结对关爱独居、高龄老人和困难家庭，定期陪伴、代办、谈心。"),
    (Kind.FOUR_BEAUTIES, "四美一好", "楼栋党小组带领创建“四美一好”楼栋：环境美、邻里美、家风美、文化美，服务好。"),
    (Kind.MEAL_DELIVERY, "配餐上门", "为独居、高龄、失能老人送餐上门，每周登记送餐户和时长。"),
    (Kind.HAPPY_CLASSROOM, "快乐学堂", "四点半课堂、暑期托管和兴趣课，志愿者辅导社区孩子。"),
    (Kind.FAMILY_DOCTOR, "家庭医生", "签约家庭医生上门随访，志愿者陪同并登记随访住户。"),
)
PROJECT_NAMES_EN = {
    "红管家": "Red Stewards",
    "一米阳光": "A Metre of Sunshine",
    "四美一好": "Four Beauties, One Good",
    "配餐上门": "Meals at Home",
    "快乐学堂": "Happy Classroom",
    "家庭医生": "Family Doctors",
}
# Compound teams the article names: compound → [(team, description)].
NAMED_TEAMS = {
    "太湖新村": [
        ("邻里守望志愿服务队", "邻里守望、互帮互助：夜间巡逻、独居老人每日问候。"),
        ("太湖新村红管家志愿服务队", "楼道清洁、环境整治和安全巡查。"),
        ("太湖新村助老助餐服务队", "为老人送餐上门、陪同就医。"),
        ("太湖新村文明劝导志愿服务队", "垃圾分类督导、文明养犬和停车劝导。"),
    ],
    "滨湖和园小区": [("滨湖和园义务监督队", "小区环境整治期间，义务监督施工质量和进度。")],
    QINGHUA: [("清华园一米阳光志愿服务队", "和谐5栋“楼栋大家庭”的志愿者：陪伴老人、邻里互助。")],
}
# (project kind, title, place, hours, capacity); each community gets them in this order:
# the first three in the past, the last three coming up.
ACTIVITIES = (
    (Kind.RED_STEWARD, "楼道清洁日", "{compound}各楼栋", 2, 12),
    (Kind.SUNSHINE, "一米阳光·陪伴独居老人", "{compound}党群服务站", 2, 8),
    (Kind.HAPPY_CLASSROOM, "快乐学堂·四点半课堂", "{community}党群服务中心", 2, 10),
    (Kind.FAMILY_DOCTOR, "家庭医生健康义诊", "{community}党群服务中心", 3, 10),
    (Kind.FOUR_BEAUTIES, "四美一好楼栋环境整治", "{compound}", 2, 6),
    (Kind.RED_STEWARD, "志愿服务队队员培训", "{community}党群服务中心", 2, 4),
)
PAST_DAYS = (25, 16, 9)  # days ago
UPCOMING_DAYS = (3, 5, 8)  # days ahead
START_HOURS = (9, 14, 15, 9, 8, 19)
APPROVE_AFTER_DAYS = 10  # staff have not yet approved the last ten days (the demo shows some pending)
SKILLS = "理发 维修 陪聊 文艺 书法 辅导 摄影 医护 法律 烹饪 电脑 驾驶".split()


def _private_rng(ctx):
    """This module's own stream. ``ctx.rng`` is not stable this late in the run: modules before
    this one draw less from it when they find their rows already there (``visits.seed.demo``
    returns early), so a plan drawn from it would differ on a second run and add rows."""
    return random.Random(f"{ctx.rng.__class__.__name__}:volunteers:{REF_YEAR}")  # noqa: S311 - demo data


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _adults(rows, youngest=18, oldest=75):
    return [r for r in rows if r[3] is not None and youngest <= REF_YEAR - r[3] <= oldest]


class Registry:
    """Residents per community and compound in natural-key order (ID number, then id)."""

    def __init__(self):
        self.communities = list(Community.objects.select_related("street").order_by("code"))
        self.compounds = {}
        for compound in Compound.objects.order_by("community__code", "name"):
            self.compounds.setdefault(compound.community_id, []).append(compound)
        self.residents = {}
        rows = Resident.objects.values_list("id", "household_id", "household__compound_id", "birth_year", "id_number")
        for row in sorted(rows, key=lambda r: (r[4], r[0])):
            self.residents.setdefault(row[2], []).append(row)
        self.elderly = {}
        households = Household.objects.filter(Q(lives_alone_elderly=True) | Q(elderly=True)).values_list(
            "id", "community_id", "building__number", "unit", "room"
        )
        for row in sorted(households, key=lambda r: (r[1], len(r[2]), r[2], r[3], len(r[4]), r[4], r[0])):
            self.elderly.setdefault(row[1], []).append(row[0])

    def community_residents(self, community_id):
        return [r for c in self.compounds.get(community_id, ()) for r in self.residents.get(c.pk, ())]


def demo_resident():
    """The demo resident login's record: the resident of 和谐5栋 who signs in with their mobile
    number and a password (``visits.seed.demo`` gives party members accounts without a usable
    password, or named ones such as ``central_harmony``)."""
    return (
        Resident.objects.filter(
            household__building__compound__name=QINGHUA,
            household__building__name=HARMONY_NAME,
            user__roles__kind=Role.Kind.RESIDENT,
            user__username=DEMO_RESIDENT_USERNAME,
        )
        .exclude(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .select_related("user", "household")
        .order_by("id")
        .first()
    )


def ensure_projects_and_teams(rng, registry):
    """Projects by (community, name); teams by (community, name); return their plans."""
    existing_projects = {(p.community_id, p.name): p for p in ServiceProject.objects.all()}
    new = []
    for community in registry.communities:
        for kind, name, description in PROJECTS:
            if (community.pk, name) not in existing_projects:
                new.append(
                    ServiceProject(
                        community=community,
                        street_id=community.street_id,
                        kind=kind,
                        name=name,
                        name_en=PROJECT_NAMES_EN[name],
                        description=description,
                    )
                )
    ServiceProject.objects.bulk_create(new, batch_size=BATCH)
    for name, name_en in PROJECT_NAMES_EN.items():  # English names where none is set
        ServiceProject.objects.filter(name=name, name_en="").update(name_en=name_en)
    projects = {(p.community_id, p.kind): p for p in ServiceProject.objects.filter(name__in=[p[1] for p in PROJECTS])}

    plans = []  # (community, compound or None, name, description)
    for community in registry.communities:
        plans.append((community, None, f"{community.name}志愿服务队", "社区志愿服务总队：助老、环境、宣传、应急。"))
        for compound in registry.compounds.get(community.pk, ()):
            for name, description in NAMED_TEAMS.get(compound.name, ()):
                plans.append((community, compound, name, description))
    # Every random value is drawn whether or not its row exists, so a second run draws the same.
    founded = [date(rng.randint(2016, 2022), rng.randint(1, 12), rng.randint(1, 28)) for _plan in plans]
    existing = {(t.community_id, t.name): t for t in VolunteerTeam.objects.all()}
    new = [
        VolunteerTeam(
            community=community,
            street_id=community.street_id,
            compound=compound,
            name=name,
            description=description,
            founded_on=founded_on,
        )
        for (community, compound, name, description), founded_on in zip(plans, founded, strict=True)
        if (community.pk, name) not in existing
    ]
    VolunteerTeam.objects.bulk_create(new, batch_size=BATCH)
    teams = {(t.community_id, t.name): t for t in VolunteerTeam.objects.all()}
    team_plans = [(teams[(c.pk, name)], compound) for c, compound, name, _d in plans]
    return projects, team_plans


def ensure_members(rng, registry, team_plans, resident):
    """6–14 adult members per team (from its compound, else its community), a leader each."""
    wanted = {}  # team → [resident rows]
    for team, compound in team_plans:
        pool = _adults(
            registry.residents.get(compound.pk, ()) if compound else registry.community_residents(team.community_id)
        )
        chosen = rng.sample(pool, min(len(pool), rng.randint(8, 14)))
        if resident is not None and compound is not None and compound.pk == resident.household.compound_id:
            chosen = [r for r in chosen if r[0] != resident.pk][: len(chosen) - 1]
            chosen.insert(1, next(r for r in registry.residents[compound.pk] if r[0] == resident.pk))
        wanted[team] = chosen
    people = sorted({r[0] for rows in wanted.values() for r in rows})
    profile = {
        pk: (
            "、".join(rng.sample(SKILLS, rng.randint(1, 3))),
            date(rng.randint(2018, 2025), rng.randint(1, 12), rng.randint(1, 28)),
        )
        for pk in people
    }
    existing = set(Volunteer.objects.filter(resident_id__in=people).values_list("resident_id", flat=True))
    residents = Resident.objects.in_bulk([pk for pk in people if pk not in existing])
    Volunteer.objects.bulk_create(
        [
            Volunteer(
                resident_id=pk,
                street_id=residents[pk].street_id,
                community_id=residents[pk].community_id,
                skills=profile[pk][0],
                joined_on=profile[pk][1],
            )
            for pk in people
            if pk not in existing
        ],
        batch_size=BATCH,
    )
    volunteers = dict(Volunteer.objects.filter(resident_id__in=people).values_list("resident_id", "id"))
    existing = set(TeamMembership.objects.values_list("team_id", "volunteer_id"))
    memberships = []
    for team, rows in wanted.items():
        for r in rows:
            if (team.pk, volunteers[r[0]]) not in existing:
                memberships.append(
                    TeamMembership(
                        team=team,
                        volunteer_id=volunteers[r[0]],
                        street_id=team.street_id,
                        community_id=team.community_id,
                        joined_on=team.founded_on or date(2020, 1, 1),
                    )
                )
    TeamMembership.objects.bulk_create(memberships, batch_size=BATCH)
    leaders = []
    for team, rows in wanted.items():
        if team.leader_id is None and rows:
            team.leader_id = volunteers[rows[0][0]]
            leaders.append(team)
    VolunteerTeam.objects.bulk_update(leaders, ["leader"], batch_size=500)
    return {team.pk: [volunteers[r[0]] for r in rows] for team, rows in wanted.items()}


def seed_activities(rng, community, compound, projects, team, members, staff, resident_volunteer, now):
    """A community's six activities with sign-ups, check-ins, hours and points."""
    today = timezone.localdate(now)
    signups, hours_rows = [], []
    for index, (kind, title, place, length, capacity) in enumerate(ACTIVITIES):
        past = index < len(PAST_DAYS)
        day = today - timedelta(days=PAST_DAYS[index]) if past else today + timedelta(days=UPCOMING_DAYS[index - 3])
        starts = _at(day, START_HOURS[index])
        activity = Activity(
            project=projects[(community.pk, kind)],
            team=team,
            compound=compound if "{compound}" in place else None,
            title=title,
            description=projects[(community.pk, kind)].description,
            place=place.format(compound=compound.name, community=community.name),
            starts_at=starts,
            ends_at=starts + timedelta(hours=length),
            capacity=capacity,
            signup_deadline=starts - timedelta(hours=12),
            visibility=Activity.Visibility.TEAM if index == 5 else Activity.Visibility.PUBLIC,
            street_id=community.street_id,
            community_id=community.pk,
        )
        activity.save()
        pool = [pk for pk in members if pk != resident_volunteer]
        if past:
            count = min(len(pool), rng.randint(max(2, capacity // 2), capacity))
        else:
            count = {3: capacity // 2, 4: capacity - 1, 5: capacity + 2}[index]
        chosen = rng.sample(pool, min(count, len(pool)))
        if past and resident_volunteer is not None and index < 2:
            chosen = [resident_volunteer, *chosen[: capacity - 1]]
        queued = starts - timedelta(days=rng.randint(3, 6), hours=rng.randint(0, 20))
        for position, volunteer_id in enumerate(chosen):
            queued += timedelta(minutes=rng.randint(5, 300))
            confirmed = position < capacity
            checked_in = past and confirmed and rng.random() < 0.9
            signup = Signup(
                activity=activity,
                volunteer_id=volunteer_id,
                status=Signup.Status.CONFIRMED if confirmed else Signup.Status.WAITLISTED,
                queued_at=queued,
                confirmed_at=queued if confirmed else None,
                checked_in_at=starts + timedelta(minutes=rng.randint(-10, 15)) if checked_in else None,
                checked_in_by=staff if checked_in else None,
                street_id=community.street_id,
                community_id=community.pk,
            )
            signups.append(signup)
            if checked_in:
                approved = (today - day).days > APPROVE_AFTER_DAYS
                hours_rows.append(
                    (
                        signup,
                        ServiceHours(
                            volunteer_id=volunteer_id,
                            project=activity.project,
                            activity=activity,
                            team=team,
                            served_on=day,
                            hours=activity.duration_hours,
                            note=title,
                            status=ServiceHours.Status.APPROVED if approved else ServiceHours.Status.PENDING,
                            recorded_by=staff,
                            reviewed_by=staff if approved else None,
                            reviewed_at=_at(day + timedelta(days=2), 10) if approved else None,
                            street_id=community.street_id,
                            community_id=community.pk,
                        ),
                    )
                )
    Signup.objects.bulk_create(signups, batch_size=BATCH)
    for signup, row in hours_rows:
        row.signup = signup
    return ServiceHours.objects.bulk_create([row for _s, row in hours_rows], batch_size=BATCH)


def seed_rounds(rng, community, projects, team, members, households, staff, now):
    """Meal delivery weekly for four weeks and one family doctor visit for up to four elderly
    households, by members of the community team: ``[(household id, unsaved hours)]``."""
    today = timezone.localdate(now)
    rows = []
    if not members:
        return rows
    for household_id in households[:4]:
        for week in range(4, 0, -1):
            day = today - timedelta(days=7 * week - rng.randint(0, 2))
            rows.append(
                (
                    household_id,
                    ServiceHours(
                        volunteer_id=rng.choice(members),
                        project=projects[(community.pk, Kind.MEAL_DELIVERY)],
                        team=team,
                        served_on=day,
                        hours=Decimal(rng.choice(("0.50", "0.75", "1.00"))),
                        note="午餐送餐上门",
                        street_id=community.street_id,
                        community_id=community.pk,
                    ),
                )
            )
        day = today - timedelta(days=rng.randint(3, 27))
        rows.append(
            (
                household_id,
                ServiceHours(
                    volunteer_id=rng.choice(members),
                    project=projects[(community.pk, Kind.FAMILY_DOCTOR)],
                    team=team,
                    served_on=day,
                    hours=Decimal("1.50"),
                    note="陪同家庭医生上门随访：量血压、调整用药",
                    street_id=community.street_id,
                    community_id=community.pk,
                ),
            )
        )
    for _household, row in rows:
        approved = (today - row.served_on).days > APPROVE_AFTER_DAYS
        row.status = ServiceHours.Status.APPROVED if approved else ServiceHours.Status.PENDING
        row.recorded_by = staff
        row.reviewed_by = staff if approved else None
        row.reviewed_at = _at(row.served_on + timedelta(days=3), 10) if approved else None
    return rows


def seed(ctx):
    rng = _private_rng(ctx)
    now = timezone.now()
    registry = Registry()
    resident = demo_resident()
    projects, team_plans = ensure_projects_and_teams(rng, registry)
    members = ensure_members(rng, registry, team_plans, resident)
    resident_volunteer = (
        Volunteer.objects.filter(resident=resident).values_list("pk", flat=True).first() if resident else None
    )
    staff = User.objects.filter(username="admin").first()
    teams_by_community = {}
    for team, compound in team_plans:
        teams_by_community.setdefault(team.community_id, []).append((team, compound))

    done = set(Activity.objects.values_list("community_id", flat=True).distinct())
    rate = points_per_hour()
    all_hours, round_rows = [], []
    for community in registry.communities:
        if community.pk in done or not registry.compounds.get(community.pk):
            continue
        teams = teams_by_community[community.pk]
        community_team = next(team for team, compound in teams if compound is None)
        compound_teams = [(team, compound) for team, compound in teams if compound is not None]
        if compound_teams:
            team, compound = compound_teams[0]
        else:
            team, compound = community_team, registry.compounds[community.pk][0]
        volunteer_ids = members[team.pk]
        if compound is not None and resident is not None and compound.pk != resident.household.compound_id:
            mine = None
        else:
            mine = resident_volunteer
        all_hours.extend(seed_activities(rng, community, compound, projects, team, volunteer_ids, staff, mine, now))
        round_rows.extend(
            seed_rounds(
                rng,
                community,
                projects,
                community_team,
                members[community_team.pk],
                registry.elderly.get(community.pk, []),
                staff,
                now,
            )
        )
    created = ServiceHours.objects.bulk_create([row for _h, row in round_rows], batch_size=BATCH)
    ServiceHours.households.through.objects.bulk_create(
        [
            ServiceHours.households.through(servicehours_id=row.pk, household_id=household_id)
            for (household_id, _r), row in zip(round_rows, created, strict=True)
        ],
        batch_size=BATCH,
    )
    approved = [row for row in [*all_hours, *created] if row.status == ServiceHours.Status.APPROVED]
    volunteers = Volunteer.objects.in_bulk({row.volunteer_id for row in approved})
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(
                volunteer_id=row.volunteer_id,
                street_id=volunteers[row.volunteer_id].street_id,
                community_id=volunteers[row.volunteer_id].community_id,
                hours_id=row.pk,
                points=(row.hours * rate).quantize(Decimal("0.01")),
                reason=f"服务时长 {row.hours} 小时 · {row.served_on} {row.note}",
                created_by=staff,
            )
            for row in approved
        ],
        batch_size=BATCH,
    )
    ctx.log(
        f"  volunteers: {ServiceProject.objects.count()} projects, {VolunteerTeam.objects.count()} teams, "
        f"{Volunteer.objects.count()} volunteers, {Activity.objects.count()} activities, "
        f"{ServiceHours.objects.count()} hours records"
    )
