"""Demo party organisation for ``manage.py seed_baohe``: who serves whom in 包河区.

The article's numbers hold exactly: 139 compound (grid) branches, one per compound;
489 building party groups covering every building (太湖新村's branch has 7 of them plus
2 functional groups; 清华园's "和谐5栋" has a group of its own with 20+ party members);
1,650 party-member central households, each serving 4–10 households of its building; and
the 千万工程's party and mass backbones for 2026 in every street.

The plan is drawn from ``ctx.rng`` over the registry in natural-key order (community code,
compound name, building number, unit and room, ID number), so it is the same on every run;
only rows missing by natural key are written.
"""

import datetime
import math
import random
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from baohe.query import number_sort_key
from communities.models import Building, Compound, Household, Resident, Street
from communities.seed.demo import DISTRICT_CODE, HARMONY_NAME, QINGHUA

from ..models import (
    Attendance,
    Backbone,
    BackboneTarget,
    CentralHousehold,
    Course,
    PartyBranch,
    PartyGroup,
    PartyMember,
    TrainingSession,
)

ORDER = 20

BATCH = 2000
YEAR = 2026
BUILDING_GROUPS = 489
CENTRAL_HOUSEHOLDS = 1650
TAIHU = "太湖新村"
TAIHU_GROUPS = 7
TAIHU_FUNCTIONAL = ("邻里守望功能型党小组", "老党员议事功能型党小组")
HARMONY_MIN_MEMBERS = 22
SPECIALTIES = (
    "法律咨询 矛盾调解 文艺宣传 政策宣讲 医疗护理 心理疏导 水电维修 书法绘画 养老服务 青少年辅导 垃圾分类 信息技术"
).split()


def random_date(rng, first_year, last_year):
    year = rng.randint(first_year, last_year)
    last_month = 10 if year >= YEAR else 12
    return datetime.date(year, rng.randint(1, last_month), rng.randint(1, 28))


def number_key(number):
    return number_sort_key(number)


class Registry:
    """The demo district's compounds, buildings, households and residents, in natural-key order."""

    def __init__(self):
        # Sorted here, not by the database, so that collation cannot change the plan.
        rows = Compound.objects.filter(street__district__code=DISTRICT_CODE).values_list(
            "community__code", "name", "id", "street_id", "community_id"
        )
        self.compounds = [
            (pk, name, street_id, community_id) for _code, name, pk, street_id, community_id in sorted(rows)
        ]
        compound_ids = [c[0] for c in self.compounds]
        self.buildings = {c: [] for c in compound_ids}
        for row in Building.objects.filter(compound_id__in=compound_ids).values_list(
            "id", "compound_id", "number", "name"
        ):
            self.buildings[row[1]].append(row)
        for rows in self.buildings.values():
            rows.sort(key=lambda row: number_key(row[2]))
        self.households = {b[0]: [] for rows in self.buildings.values() for b in rows}
        for row in Household.objects.filter(compound_id__in=compound_ids).values_list(
            "id", "building_id", "unit", "room", "is_rented"
        ):
            self.households[row[1]].append(row)
        for rows in self.households.values():
            rows.sort(key=lambda row: (row[2], number_key(row[3])))
        self.residents = {}
        for row in Resident.objects.filter(household__compound_id__in=compound_ids).values_list(
            "id", "household_id", "birth_year", "id_number", "street_id", "community_id"
        ):
            self.residents.setdefault(row[1], []).append(row)
        for rows in self.residents.values():
            rows.sort(key=lambda row: (row[3], row[0]))

    def adults(self, household_id, youngest=22, oldest=85):
        return [
            r for r in self.residents.get(household_id, ()) if r[2] is not None and youngest <= YEAR - r[2] <= oldest
        ]


def group_counts(rng, registry):
    """How many building groups each compound gets: about proportional to its buildings, 489 in all."""
    sizes = {c[0]: len(registry.buildings[c[0]]) for c in registry.compounds}
    total = sum(sizes.values())
    if total < BUILDING_GROUPS:
        raise ImproperlyConfigured(f"{total} buildings cannot hold {BUILDING_GROUPS} building party groups")
    fixed = {c[0]: TAIHU_GROUPS for c in registry.compounds if c[1] == TAIHU}
    counts = {c: fixed.get(c, min(n, max(1, round(n * BUILDING_GROUPS / total)))) for c, n in sizes.items()}
    free = [c for c in sizes if c not in fixed]
    diff = BUILDING_GROUPS - sum(counts.values())
    while diff:
        compound_id = rng.choice(free)
        if diff > 0 and counts[compound_id] < sizes[compound_id]:
            counts[compound_id] += 1
            diff -= 1
        elif diff < 0 and counts[compound_id] > 1:
            counts[compound_id] -= 1
            diff += 1
    return counts


def partition(rng, buildings, count):
    """Split a compound's buildings into ``count`` runs; a named building (和谐5栋) stands alone."""
    singles = [b for b in buildings if b[3]][: max(0, count - 1)]
    rest = [b for b in buildings if b not in singles]
    runs = count - len(singles)
    sizes = [1] * runs
    for _ in range(len(rest) - runs):
        sizes[rng.randrange(runs)] += 1
    chunks, start = [], 0
    for size in sizes:
        chunks.append(rest[start : start + size])
        start += size
    return [[b] for b in singles] + chunks


def group_name(buildings):
    if len(buildings) == 1:
        number, name = buildings[0][2], buildings[0][3]
        return f"{name}党小组" if name else f"{number}栋党小组"
    return "、".join(b[2] for b in buildings) + "栋党小组"


def central_quota(registry):
    """Central households per building: proportional to its households, 1,650 in all (largest remainder)."""
    eligible, households = {}, {}
    for rows in registry.buildings.values():
        for b in rows:
            homes = registry.households[b[0]]
            households[b[0]] = len(homes)
            eligible[b[0]] = [h for h in homes if not h[4] and registry.adults(h[0], 25, 80)]
    total = sum(households.values())
    cap = {b: min(len(eligible[b]), households[b] // 5) for b in households}
    quota = {b: CENTRAL_HOUSEHOLDS * n / total for b, n in households.items()}
    alloc = {b: min(cap[b], math.floor(q)) for b, q in quota.items()}
    remaining = CENTRAL_HOUSEHOLDS - sum(alloc.values())
    order = sorted(quota, key=lambda b: math.floor(quota[b]) - quota[b])
    while remaining > 0:
        progressed = False
        for b in order:
            if remaining and alloc[b] < cap[b]:
                alloc[b] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            raise ImproperlyConfigured(f"the demo buildings cannot hold {CENTRAL_HOUSEHOLDS} central households")
    return alloc, eligible


def plan(rng, registry):
    branches, groups, members, centrals = [], [], [], []
    counts = group_counts(rng, registry)
    alloc, eligible = central_quota(registry)
    for compound_id, compound_name, street_id, community_id in registry.compounds:
        branch = {
            "compound_id": compound_id,
            "street_id": street_id,
            "community_id": community_id,
            "name": f"{compound_name}党支部",
            "founded_on": random_date(rng, 2015, 2019),
        }
        branch_members, branch_groups = [], []
        taken = set()  # households that already have a member
        for chunk in partition(rng, registry.buildings[compound_id], counts[compound_id]):
            group = {"branch": branch, "name": group_name(chunk), "kind": PartyGroup.Kind.BUILDING}
            group["buildings"] = [b[0] for b in chunk]
            group_members = []
            for b in chunk:
                homes = registry.households[b[0]]
                position = {h[0]: i for i, h in enumerate(homes)}
                chosen = sorted(rng.sample(eligible[b[0]], alloc[b[0]]), key=lambda h, p=position: p[h[0]])
                central_ids = {h[0] for h in chosen}
                others = [h for h in homes if h[0] not in central_ids]
                served_count = {h[0]: 0 for h in others}
                for home in chosen:
                    person = rng.choice(registry.adults(home[0], 25, 80))
                    group_members.append(person)
                    taken.add(home[0])
                    here = position[home[0]]
                    nearest = sorted(
                        others,
                        key=lambda h, here=here, p=position, n=served_count: (n[h[0]], abs(p[h[0]] - here)),
                    )
                    # About an even share of the building's other households, 4 to 10 of them.
                    share = math.ceil(len(others) / len(chosen)) + rng.randint(-1, 1)
                    served = [h[0] for h in nearest[: min(10, max(4, share))]]
                    for household_id in served:
                        served_count[household_id] += 1
                    centrals.append(
                        {
                            "household_id": home[0],
                            "resident_id": person[0],
                            "rated_on": random_date(rng, 2018, YEAR),
                            "served": served,
                            "street_id": street_id,
                            "community_id": community_id,
                        }
                    )
            target = max(len(group_members) + rng.randint(1, 3), rng.randint(3, 6))
            if any(b[3] == HARMONY_NAME for b in chunk) and compound_name == QINGHUA:
                target = max(target, rng.randint(HARMONY_MIN_MEMBERS, HARMONY_MIN_MEMBERS + 4))
            candidates = [h[0] for b in chunk for h in registry.households[b[0]] if h[0] not in taken]
            rng.shuffle(candidates)
            for household_id in candidates:
                if len(group_members) >= target:
                    break
                adults = registry.adults(household_id)
                if adults:
                    group_members.append(rng.choice(adults))
                    taken.add(household_id)
            group["members"] = group_members
            group["leader"] = rng.choice(group_members)[0] if group_members else None
            branch_groups.append(group)
            branch_members.extend(group_members)
        if compound_name == TAIHU:
            candidates = [
                h[0] for b in registry.buildings[compound_id] for h in registry.households[b[0]] if h[0] not in taken
            ]
            rng.shuffle(candidates)
            for name in TAIHU_FUNCTIONAL:
                group_members = []
                while candidates and len(group_members) < 4:
                    adults = registry.adults(candidates.pop(), 45, 85)
                    if adults:
                        group_members.append(rng.choice(adults))
                group = {"branch": branch, "name": name, "kind": PartyGroup.Kind.FUNCTIONAL, "buildings": []}
                group["members"] = group_members
                group["leader"] = rng.choice(group_members)[0] if group_members else None
                branch_groups.append(group)
                branch_members.extend(group_members)
        seasoned = [m for m in branch_members if 35 <= YEAR - m[2] <= 70] or branch_members
        branch["secretary"] = rng.choice(seasoned)[0] if seasoned else None
        branches.append(branch)
        groups.extend(branch_groups)
        for group in branch_groups:
            for person in group["members"]:
                members.append((person, branch, group, random_date(rng, min(person[2] + 20, YEAR - 1), YEAR - 1)))
    return branches, groups, members, centrals


def plan_backbones(rng, registry, member_resident_ids):
    by_street = {}  # in registry order: streets by code, people by compound, building, room, ID
    for compound_id, _name, street_id, _community_id in registry.compounds:
        people = by_street.setdefault(street_id, [])
        for b in registry.buildings[compound_id]:
            for h in registry.households[b[0]]:
                people.extend(registry.residents.get(h[0], ()))
    backbones = []
    for people in by_street.values():
        party = [r for r in people if r[0] in member_resident_ids]
        mass = [r for r in people if r[0] not in member_resident_ids and r[2] and 22 <= YEAR - r[2] <= 75]
        for kind, pool, count in (
            (Backbone.Kind.PARTY, party, rng.randint(10, 16)),
            (Backbone.Kind.MASS, mass, rng.randint(20, 32)),
        ):
            for r in rng.sample(pool, min(count, len(pool))):
                backbones.append((r, kind, rng.choice(SPECIALTIES)))
    return backbones


def missing_through(through, left, right, wanted):
    """Create the (left, right) rows of an M2M through table that do not exist yet."""
    existing = set(through.objects.filter(**{f"{left}__in": {pair[0] for pair in wanted}}).values_list(left, right))
    rows = [through(**{left: a, right: b}) for a, b in wanted if (a, b) not in existing]
    through.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def seed(ctx):
    rng = ctx.rng
    registry = Registry()
    branches, groups, members, centrals = plan(rng, registry)

    # Branches by (community, name), each covering its compound.
    existing = set(PartyBranch.objects.values_list("community_id", "name"))
    PartyBranch.objects.bulk_create(
        [
            PartyBranch(
                community_id=b["community_id"],
                street_id=b["street_id"],
                name=b["name"],
                kind=PartyBranch.Kind.COMPOUND,
                founded_on=b["founded_on"],
            )
            for b in branches
            if (b["community_id"], b["name"]) not in existing
        ],
        batch_size=BATCH,
    )
    branch_ids = {(c, n): i for c, n, i in PartyBranch.objects.values_list("community_id", "name", "id")}
    for b in branches:
        b["id"] = branch_ids[(b["community_id"], b["name"])]
    missing_through(
        PartyBranch.compounds.through, "partybranch_id", "compound_id", [(b["id"], b["compound_id"]) for b in branches]
    )

    # Groups by (branch, name), building groups covering their buildings.
    group_ids = {(br, n): i for br, n, i in PartyGroup.objects.values_list("branch_id", "name", "id")}
    PartyGroup.objects.bulk_create(
        [
            PartyGroup(
                branch_id=g["branch"]["id"],
                street_id=g["branch"]["street_id"],
                community_id=g["branch"]["community_id"],
                name=g["name"],
                kind=g["kind"],
            )
            for g in groups
            if (g["branch"]["id"], g["name"]) not in group_ids
        ],
        batch_size=BATCH,
    )
    group_ids = {(br, n): i for br, n, i in PartyGroup.objects.values_list("branch_id", "name", "id")}
    for g in groups:
        g["id"] = group_ids[(g["branch"]["id"], g["name"])]
    missing_through(
        PartyGroup.buildings.through,
        "partygroup_id",
        "building_id",
        [(g["id"], b) for g in groups for b in g["buildings"]],
    )

    # Members: one row per resident.
    member_ids = dict(PartyMember.objects.values_list("resident_id", "id"))
    PartyMember.objects.bulk_create(
        [
            PartyMember(
                resident_id=person[0],
                branch_id=branch["id"],
                group_id=group["id"],
                street_id=branch["street_id"],
                community_id=branch["community_id"],
                joined_on=joined_on,
            )
            for person, branch, group, joined_on in members
            if person[0] not in member_ids
        ],
        batch_size=BATCH,
    )
    member_ids = dict(PartyMember.objects.values_list("resident_id", "id"))

    # Leaders and secretaries, where none is set yet.
    leaders = {g["id"]: member_ids.get(g["leader"]) for g in groups if g["leader"]}
    to_update = []
    for group in PartyGroup.objects.filter(pk__in=leaders, leader__isnull=True).only("id", "leader"):
        group.leader_id = leaders[group.pk]
        to_update.append(group)
    PartyGroup.objects.bulk_update(to_update, ["leader"], batch_size=500)
    secretaries = {b["id"]: member_ids.get(b["secretary"]) for b in branches if b["secretary"]}
    to_update = []
    for branch in PartyBranch.objects.filter(pk__in=secretaries, secretary__isnull=True).only("id", "secretary"):
        branch.secretary_id = secretaries[branch.pk]
        to_update.append(branch)
    PartyBranch.objects.bulk_update(to_update, ["secretary"], batch_size=500)

    # Central households by household, each serving its neighbours.
    existing = set(CentralHousehold.objects.values_list("household_id", flat=True))
    CentralHousehold.objects.bulk_create(
        [
            CentralHousehold(
                household_id=c["household_id"],
                member_id=member_ids[c["resident_id"]],
                street_id=c["street_id"],
                community_id=c["community_id"],
                rated_on=c["rated_on"],
            )
            for c in centrals
            if c["household_id"] not in existing and c["resident_id"] in member_ids
        ],
        batch_size=BATCH,
    )
    central_ids = dict(CentralHousehold.objects.values_list("household_id", "id"))
    missing_through(
        CentralHousehold.served_households.through,
        "centralhousehold_id",
        "household_id",
        [
            (central_ids[c["household_id"]], h)
            for c in centrals
            if c["household_id"] in central_ids
            for h in c["served"]
        ],
    )

    # 千万工程 backbones for this year, by (resident, year, kind).
    backbones = plan_backbones(rng, registry, set(member_ids))
    existing = set(Backbone.objects.filter(year=YEAR).values_list("resident_id", "kind"))
    Backbone.objects.bulk_create(
        [
            Backbone(resident_id=r[0], street_id=r[4], community_id=r[5], kind=kind, year=YEAR, specialty=specialty)
            for r, kind, specialty in backbones
            if (r[0], kind) not in existing
        ],
        batch_size=BATCH,
    )

    seed_academy(ctx, registry)

    ctx.log(
        f"  partybuilding: {len(branches)} branches, {len(groups)} groups, {len(members)} members, "
        f"{len(centrals)} central households, {len(backbones)} backbones ({YEAR})"
    )


# --- 千万工程: annual targets and the community governance academy ------------------------------------
PARTY_TARGET = 1000  # resident party backbones a year, district-wide (the article)
MASS_TARGET = 10000  # mass backbones a year
COURSES = (
    ("红色领航与基层党建", "小区党支部、楼栋党小组和党员中心户的职责与工作方法。", "3.0"),
    ("接诉即办与群众工作", "诉求的签收、办理、回访和满意度；与居民沟通的方法。", "2.0"),
    ("矛盾纠纷调解实务", "邻里纠纷、家庭纠纷的调解步骤和常见案例。", "3.0"),
    ("协商议事规则", "座谈会、议事会的组织和决议落实、监督。", "2.0"),
    ("志愿服务组织与管理", "志愿服务队的组建、活动组织、时长记录和激励。", "2.0"),
)
SESSION_DATES = ((4, 18), (9, 12))  # (month, day) of each street's two sessions in YEAR


def largest_remainder(total, weights):
    """Split ``total`` in proportion to ``weights`` (a dict) so that the parts add up exactly."""
    whole = sum(weights.values()) or 1
    shares = {key: total * weight / whole for key, weight in weights.items()}
    parts = {key: math.floor(share) for key, share in shares.items()}
    for key in sorted(shares, key=lambda k: (parts[k] - shares[k], str(k)))[: total - sum(parts.values())]:
        parts[key] += 1
    return parts


def seed_academy(ctx, registry):
    """Each street's target for YEAR (1,000 party and 10,000 mass backbones split by
    residents), the academy's courses, two street sessions per street and who attended.

    Draws from a private ``random.Random`` started from ``ctx.rng``'s state (without advancing
    it), so the modules after this one see the same stream; rows by natural key.
    """
    rng = random.Random()  # noqa: S311 - demo data
    rng.setstate(ctx.rng.getstate())
    people = {}
    for _pk, _name, street_id, _community_id in registry.compounds:
        people.setdefault(street_id, 0)
    for rows in registry.residents.values():
        for row in rows:
            people[row[4]] = people.get(row[4], 0) + 1
    party = largest_remainder(PARTY_TARGET, people)
    mass = largest_remainder(MASS_TARGET, people)
    existing = set(BackboneTarget.objects.filter(year=YEAR).values_list("street_id", flat=True))
    BackboneTarget.objects.bulk_create(
        [
            BackboneTarget(street_id=street_id, year=YEAR, party_quota=party[street_id], mass_quota=mass[street_id])
            for street_id in sorted(people)
            if street_id not in existing
        ]
    )
    courses = {}
    for name, description, hours in COURSES:
        courses[name], _created = Course.objects.get_or_create(
            name=name, defaults={"description": description, "hours": Decimal(hours)}
        )
    if TrainingSession.objects.filter(starts_at__year=YEAR).exists():
        return
    course_list = [courses[c[0]] for c in COURSES]
    backbones = {}
    for pk, street_id, kind in Backbone.objects.filter(year=YEAR).order_by("pk").values_list("pk", "street_id", "kind"):
        backbones.setdefault(street_id, []).append((pk, kind))
    attendances = []
    street_names = dict(Street.objects.filter(pk__in=list(people)).values_list("pk", "name"))
    for street_id in sorted(people):
        street = street_names.get(street_id, "")
        for month, day in SESSION_DATES:
            starts = datetime.datetime(YEAR, month, day, 14, 30, tzinfo=timezone.get_current_timezone())
            session = TrainingSession.objects.create(
                course=rng.choice(course_list),
                street_id=street_id,
                starts_at=starts,
                place=f"{street.removesuffix('社区')}社区治理学院",
                teacher=rng.choice(("区委党校教师", "街道党工委委员", "社区书记", "律师志愿者")),
            )
            for pk, kind in backbones.get(street_id, ()):
                if rng.random() < (0.6 if kind == Backbone.Kind.PARTY else 0.35):
                    attendances.append((session, pk))
    rows = Backbone.objects.in_bulk([pk for _s, pk in attendances])
    Attendance.objects.bulk_create(
        [
            Attendance(
                session=session,
                backbone_id=pk,
                attended=True,
                street_id=rows[pk].street_id,
                community_id=rows[pk].community_id,
            )
            for session, pk in attendances
        ],
        batch_size=BATCH,
    )
