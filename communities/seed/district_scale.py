"""District-scale registry for ``manage.py seed_baohe --scale district`` (PostgreSQL only).

包河区 as big as it is: the 13 streets, 200 communities (the demo's 56 and 144 more),
1,000 compounds (the article's five among them), 10,000 buildings, 450,000 households and
about 1.4 million synthetic residents with valid-format, unique mobile and ID numbers.

Sizes are planned in memory down to the building (how many households each holds, so the
totals come out exact); households and residents are then generated building by building
and streamed in with COPY (``baohe/bulk.py``), never held in memory. Each building draws
from its own ``random.Random`` seeded from ``ctx.rng`` and the building's id, so the
households pass and the residents pass see the same households, and every run gives the
same people. Uniqueness is by construction, not by remembering what was drawn: an ID
number's sequence digits count up per birth date, region and sex; a mobile number is a
permutation of the person's running number.
"""

import random
import time

from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from baohe import bulk, crypto
from baohe.bulk import NULL

from ..models import Building, Community, Compound, District, Household, Resident, Street
from .demo import (
    DISTRICT_CODE,
    DISTRICT_NAME,
    FEE_RANGE,
    HANDED_OVER,
    HARMONY_NAME,
    HARMONY_NUMBER,
    KIND_WEIGHTS,
    MOBILE_PREFIXES,
    NAME_HEADS,
    NAME_TAILS,
    NAMED_COMPOUNDS,
    PROPERTY_WORDS,
    QINGHUA,
    REF_YEAR,
    ROADS,
    STREETS,
    community_code,
    street_code,
)

ORDER = 10

COMMUNITIES = 200
COMPOUNDS = 1_000
BUILDINGS = 10_000
HOUSEHOLDS = 450_000
# Household sizes 1–6 (lone elderly households are size 1): about 3.13 people a household.
SIZE_WEIGHTS = (9, 21, 30, 25, 11, 4)
# Where residents' ID numbers were issued: mostly Baohe, some elsewhere in Anhui.
REGIONS = (DISTRICT_CODE,) * 16 + ("340102", "340103", "340104", "340121", "341221", "341222", "340824", "341502")
# (floors choices, units range, rooms per floor range, occupancy range) by compound kind.
SHAPES = {
    Compound.Kind.OLD: ((5, 6, 7), (2, 4), (2, 2), (0.75, 1.0)),
    Compound.Kind.RESETTLEMENT: ((6, 11, 18), (1, 3), (2, 4), (0.65, 0.95)),
    Compound.Kind.COMMERCIAL: ((11, 18, 26, 33), (1, 2), (2, 4), (0.45, 0.85)),
}
BUILDINGS_PER_COMPOUND = {
    Compound.Kind.OLD: (5, 14),
    Compound.Kind.RESETTLEMENT: (7, 16),
    Compound.Kind.COMMERCIAL: (6, 15),
}
EXTRA_COMMUNITY_SUFFIXES = ("", "园", "湾", "苑")

SURNAMES = (
    "王王王王李李李李张张张张刘刘刘陈陈陈杨杨黄黄赵赵吴吴周周徐徐孙马朱胡郭何高林罗郑梁谢"
    "宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方"
    "白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤葛查桂"
)
MALE_CHARS = "伟强磊军勇杰涛斌超明辉刚健峰建国华平志文德林宇浩俊鹏飞坤凯波亮晨阳鑫海洋东升家宏振立成永春"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲桂兰萍燕琳雪倩婷慧佳颖欣梅莉琴云凤洁晶月蓉玉珍荣菊"
ARTICLE_NAMES = frozenset({"孙长江", "何国先", "黄红兵", "娄辉", "束红英", "阮怀珍", "王玉珍", "陈先法"})

# Mobile numbers rise with the person's running number (each prefix holds a block of people,
# each person a slot of STRIDE numbers with a pseudo-random offset in it): unique by
# construction. (Stored encrypted, with blind indexes that are random by design: the seed builds
# those indexes after the COPY, see baohe.bulk.indexes_rebuilt_after.)
MOBILE_CAPACITY = 1_800_000  # most people with a mobile the scheme serves
MOBILE_BLOCK = -(-MOBILE_CAPACITY // len(MOBILE_PREFIXES))
MOBILE_STRIDE = 100_000_000 // MOBILE_BLOCK
SORTED_PREFIXES = tuple(sorted(MOBILE_PREFIXES))
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _digit_sum(digits, first):
    return sum(int(d) * w for d, w in zip(digits, _ID_WEIGHTS[first : first + len(digits)], strict=True))


class IdNumbers:
    """Unique 18-character ID numbers (GB 11643) with correct check characters, quickly.

    The weighted sum is split by field (region, year, month, day, sequence) and looked up;
    the three sequence digits count up per (region, birth date, sex), odd for men."""

    def __init__(self):
        self.regions = {r: i for i, r in enumerate(sorted(set(REGIONS)))}
        self.region_sum = {r: _digit_sum(r, 0) for r in self.regions}
        self.year_sum = {y: _digit_sum(f"{y:04d}", 6) for y in range(1900, REF_YEAR + 1)}
        self.month_sum = {m: _digit_sum(f"{m:02d}", 10) for m in range(1, 13)}
        self.day_sum = {d: _digit_sum(f"{d:02d}", 12) for d in range(1, 29)}
        self.seq_sum = [_digit_sum(f"{s:03d}", 14) for s in range(1000)]
        self.counters = {}

    def make(self, region, year, month, day, male):
        while True:
            key = (((self.regions[region] * 200 + year - 1900) * 13 + month) * 32 + day) * 2 + male
            taken = self.counters.get(key, 0)
            if taken < 500:
                self.counters[key] = taken + 1
                break
            day = day % 28 + 1  # that day is full (500 people): the next one
        seq = (taken * 37 + day) % 500 * 2 + (1 if male else 0)
        total = self.region_sum[region] + self.year_sum[year] + self.month_sum[month] + self.day_sum[day]
        total += self.seq_sum[seq]
        return f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}{_ID_CHECK[total % 11]}"


# --- planning the places (small, in memory) ------------------------------------------------------
def plan_communities(rng):
    """(street index, street name, kind, [(community index, name)]): the demo's 56 and more."""
    demo_names = {name for _s, _k, names in STREETS for name in names}
    pool = [f"{head}{suffix}社区" for suffix in EXTRA_COMMUNITY_SUFFIXES for head in NAME_HEADS]
    pool = [name for name in pool if name not in demo_names]
    rng.shuffle(pool)
    extra = COMMUNITIES - len(demo_names)
    per_street = [extra // len(STREETS) + (1 if i < extra % len(STREETS) else 0) for i in range(len(STREETS))]
    plan = []
    for s_index, (street_name, kind, names) in enumerate(STREETS, start=1):
        entries = list(enumerate(names, start=1))
        for _ in range(per_street[s_index - 1]):
            entries.append((len(entries) + 1, pool.pop()))
        plan.append((s_index, street_name, kind, entries))
    return plan


def plan_compounds(rng, communities):
    """1,000 compounds over the communities (the article's named ones where the demo has them)."""
    slots = {c.pk: 1 for c in communities}
    ids = sorted(slots)
    for _ in range(COMPOUNDS - len(ids)):
        slots[ids[int(rng.random() * len(ids))]] += 1
    plan = []
    for community in communities:
        named = list(NAMED_COMPOUNDS.get(community.name, ()))
        used = set()
        for grid in range(1, slots[community.pk] + 1):
            if named:
                name, kind, _buildings, handed_over, fee = named.pop(0)
            else:
                kind = rng.choices(
                    (Compound.Kind.COMMERCIAL, Compound.Kind.RESETTLEMENT, Compound.Kind.OLD),
                    weights=KIND_WEIGHTS[community.street_name],
                )[0]
                while True:
                    name = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS[kind])
                    if name not in used:
                        break
                first, last = HANDED_OVER[kind]
                handed_over = rng.randint(first, last)
                low, high = FEE_RANGE[kind]
                fee = f"{rng.randint(low * 100, high * 100) / 100:.2f}"
            used.add(name)
            company = (
                "社区托管物业服务中心"
                if kind == Compound.Kind.OLD and rng.random() < 0.4
                else f"合肥{rng.choice(PROPERTY_WORDS)}物业服务有限公司"
            )
            plan.append(
                {
                    "community": community,
                    "name": name,
                    "kind": kind,
                    "grid": f"第{grid}网格",
                    "address": f"包河区{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                    "company": company,
                    "fee": str(fee),
                    "handed_over": handed_over,
                }
            )
    return plan


def nudge(rng, counts, target, low, high):
    """Change random entries by one (within [low(i), high(i)]) until the counts add up to target."""
    total = sum(counts)
    n = len(counts)
    while total != target:
        i = int(rng.random() * n)
        if total < target and counts[i] < high(i):
            counts[i] += 1
            total += 1
        elif total > target and counts[i] > low(i):
            counts[i] -= 1
            total -= 1


def plan_buildings(rng, compounds):
    """10,000 buildings with their shape and how many households each holds (450,000 in all)."""
    per_compound = [rng.randint(*BUILDINGS_PER_COMPOUND[c["kind"]]) for c in compounds]
    nudge(rng, per_compound, BUILDINGS, lambda i: 5, lambda i: 30)
    buildings = []
    for compound, count in zip(compounds, per_compound, strict=True):
        floors_choices, units_range, rooms_range, occupancy = SHAPES[compound["kind"]]
        for number in range(1, count + 1):
            floors = rng.choice(floors_choices)
            units = rng.randint(*units_range)
            rooms = rng.randint(*rooms_range)
            slots = floors * units * rooms
            named = compound["name"] == QINGHUA and str(number) == HARMONY_NUMBER
            buildings.append(
                {
                    "compound": compound,
                    "number": str(number),
                    "name": HARMONY_NAME if named else "",
                    "floors": floors,
                    "units": units,
                    "rooms": rooms,
                    "slots": slots,
                    "households": max(6, round(slots * rng.uniform(*occupancy))),
                }
            )
    counts = [b["households"] for b in buildings]
    nudge(rng, counts, HOUSEHOLDS, lambda i: 6, lambda i: buildings[i]["slots"])
    for building, count in zip(buildings, counts, strict=True):
        building["households"] = count
    return buildings


# --- households and residents (streamed) -------------------------------------------------------
def building_households(seed, building):
    """The households of one building: (rng, [(unit, room, flags, size)]), from its own stream."""
    rng = random.Random(seed * 100_003 + building["id"])  # noqa: S311 - synthetic data
    r = rng.random
    floors, rooms = building["floors"], building["rooms"]
    chosen = sorted(rng.sample(range(building["slots"]), building["households"]))
    households = []
    for slot in chosen:
        unit, rest = divmod(slot, floors * rooms)
        floor, room = divmod(rest, rooms)
        alone = r() < 0.03
        elderly = r() < 0.08
        rented = not alone and not elderly and r() < 0.11
        disabled = r() < 0.02
        low_income = r() < 0.02
        if alone:
            size = 1
        else:
            x, size = r() * 100, 1
            for weight in SIZE_WEIGHTS:
                x -= weight
                if x < 0:
                    break
                size += 1
            size = min(size, 6)
        households.append(
            (unit + 1, f"{floor + 1}{room + 1:02d}", (alone, elderly, disabled, low_income, rented), size)
        )
    return rng, households


def household_lines(seed, buildings, first_id, stamp):
    hid = first_id
    for b in buildings:
        _rng, households = building_households(seed, b)
        prefix = f"{stamp}\t{stamp}\t{b['street_id']}\t{b['community_id']}\t{b['id']}\t{b['compound_id']}"
        for unit, room, flags, _size in households:
            alone, elderly, disabled, low_income, rented = flags
            yield (
                f"{hid}\t{prefix}\t{unit}\t{room}\t{'t' if alone else 'f'}\t{'t' if elderly else 'f'}\t"
                f"{'t' if disabled else 'f'}\t{'t' if low_income else 'f'}\t{'t' if rented else 'f'}\t"
            )
            hid += 1


class People:
    """Synthetic residents: names from weighted lists, unique mobiles and ID numbers."""

    def __init__(self):
        self.ids = IdNumbers()
        self.mobiles = 0  # running number of the people given a mobile

    def mobile(self):
        x = self.mobiles
        if x >= MOBILE_CAPACITY:
            raise CommandError(f"more than {MOBILE_CAPACITY} mobile numbers: raise MOBILE_CAPACITY")
        self.mobiles += 1
        block, slot = divmod(x, MOBILE_BLOCK)
        body = slot * MOBILE_STRIDE + (x * 2_654_435_761) % MOBILE_STRIDE
        return f"{SORTED_PREFIXES[block]}{body:08d}"

    def person(self, r, surname, male, age):
        chars = MALE_CHARS if male else FEMALE_CHARS
        while True:
            given = chars[int(r() * len(chars))]
            if r() >= 0.25:
                given += chars[int(r() * len(chars))]
            name = surname + given
            if name not in ARTICLE_NAMES:
                break
        year = REF_YEAR - max(age, 1)
        region = REGIONS[int(r() * len(REGIONS))]
        id_number = self.ids.make(region, year, 1 + int(r() * 12), 1 + int(r() * 28), male)
        mobile = self.mobile() if age >= 16 else ""
        return name, mobile, id_number, "M" if male else "F", year


def household_people(people, rng, flags, size):
    """(name, mobile, id number, gender, birth year, relation) for each member of a household."""
    r = rng.random
    alone, elderly, _disabled, _low, rented = flags
    n = len(SURNAMES)
    family = SURNAMES[int(r() * n)]

    def other_surname():
        return SURNAMES[int(r() * n)]

    if alone:
        male = r() < 0.4
        return [(*people.person(r, family, male, 70 + int(r() * 23)), "head")]
    if rented:
        head_age = 22 + int(r() * 24)
        members = [(*people.person(r, family, r() < 0.5, head_age), "tenant")]
        for _ in range(size - 1):
            male = r() < 0.5
            if head_age >= 28 and r() < 0.4:
                members.append((*people.person(r, family, male, max(1, head_age - 22 - int(r() * 11))), "child"))
            else:
                members.append((*people.person(r, other_surname(), male, 20 + int(r() * 26)), "tenant"))
        return members
    head_age = 80 + int(r() * 16) if elderly else 28 + int(r() * 51)
    head_male = r() < (0.8 if size >= 2 else 0.5)
    members = [(*people.person(r, family if head_male or r() < 0.25 else other_surname(), head_male, head_age), "head")]
    if size >= 2:
        age = max(20, head_age - 5 + int(r() * 10))
        spouse_surname = family if not head_male else other_surname()
        members.append((*people.person(r, spouse_surname, not head_male, age), "spouse"))
    for _ in range(size - 2):
        male = r() < 0.5
        if head_age <= 58 and r() < 0.3:
            age = min(98, head_age + 24 + int(r() * 9))
            members.append((*people.person(r, other_surname(), male, age), "parent"))
        else:
            members.append((*people.person(r, family, male, max(1, head_age - 24 - int(r() * 11))), "child"))
    return members


def resident_lines(seed, buildings, first_household, first_resident, stamp, heads):
    """Every resident, building by building; ``heads`` gets each building's 楼栋长 (building → resident).

    Mobile and ID numbers go in encrypted, each with its blind index (``baohe.crypto``; COPY
    bypasses the fields, so they are computed here with the same keys)."""
    people = People()
    seal_mobile = crypto.encrypter(f"{Resident._meta.label_lower}.mobile")
    seal_id = crypto.encrypter(f"{Resident._meta.label_lower}.id_number")
    index_mobile, index_id = crypto.indexer("mobile"), crypto.indexer("id_number")
    index_tail = crypto.indexer("mobile_tail")
    hid, rid = first_household, first_resident
    for b in buildings:
        rng, households = building_households(seed, b)
        prefix = f"{stamp}\t{stamp}\t{b['street_id']}\t{b['community_id']}"
        candidates = []
        for _unit, _room, flags, size in households:
            for name, mobile, id_number, gender, year, relation in household_people(people, rng, flags, size):
                numbers = (
                    f"{seal_mobile(mobile)}\t{index_mobile(mobile) or NULL}\t{index_tail(mobile) or NULL}\t"
                    f"{seal_id(id_number)}\t{index_id(id_number)}"
                    if mobile
                    else f"\t{NULL}\t{NULL}\t{seal_id(id_number)}\t{index_id(id_number)}"
                )
                yield f"{rid}\t{prefix}\t{hid}\t{name}\t{numbers}\t{gender}\t{year}\t{relation}\t{NULL}"
                if relation == "head" and not flags[4] and 35 <= REF_YEAR - year <= 75:
                    candidates.append(rid)
                rid += 1
            hid += 1
        if candidates:
            heads[b["id"]] = candidates[int(rng.random() * len(candidates))]


# --- seed --------------------------------------------------------------------------------------
def seed(ctx):
    bulk.require_postgresql()
    if Street.objects.exists():
        if Household.objects.count() >= HOUSEHOLDS:
            ctx.log("  communities: the district-scale registry is already there")
            return
        raise CommandError(
            "--scale district loads into an empty, migrated database; this one already has a registry "
            "(the demo?). Create a new database, run migrate, then seed_baohe --scale district."
        )
    bulk.bulk_session()
    seed_value = ctx.rng.getrandbits(48)
    rng = random.Random(seed_value)  # noqa: S311 - synthetic data
    now = timezone.now()
    stamp = bulk.Timestamps()(now.timestamp())
    started = time.monotonic()

    # District, streets and communities: a few hundred rows, through the ORM.
    district = District.objects.create(code=DISTRICT_CODE, name=DISTRICT_NAME)
    plan = plan_communities(rng)
    streets = Street.objects.bulk_create(
        [Street(district=district, name=name, kind=kind, code=street_code(s)) for s, name, kind, _c in plan]
    )
    communities = []
    for street, (s_index, street_name, _kind, entries) in zip(streets, plan, strict=True):
        for c_index, name in entries:
            communities.append(
                Community(
                    street=street,
                    name=name,
                    code=community_code(s_index, c_index),
                    address=f"{street_name}{name}党群服务中心",
                    phone=f"0551-6{s_index:02d}{c_index:02d}{(s_index * 37 + c_index * 11) % 1000:03d}",
                )
            )
    communities = Community.objects.bulk_create(communities)
    for community in communities:
        community.street_name = community.street.name

    # Compounds and buildings: planned whole (sizes add up exactly), then copied in.
    compounds = plan_compounds(rng, communities)
    cid = bulk.next_id(Compound)
    for compound in compounds:
        compound["id"] = cid
        cid += 1
    bulk.copy_rows(
        Compound._meta.db_table,
        (
            "id created_at updated_at street_id community_id name kind grid address property_company "
            "fee_collection_rate handed_over"
        ).split(),
        (
            f"{c['id']}\t{stamp}\t{stamp}\t{c['community'].street_id}\t{c['community'].pk}\t{c['name']}\t{c['kind']}\t"
            f"{c['grid']}\t{c['address']}\t{c['company']}\t{c['fee']}\t{c['handed_over']}"
            for c in compounds
        ),
    )
    buildings = plan_buildings(rng, compounds)
    bid = bulk.next_id(Building)
    for building in buildings:
        building["id"] = bid
        building["compound_id"] = building["compound"]["id"]
        building["community_id"] = building["compound"]["community"].pk
        building["street_id"] = building["compound"]["community"].street_id
        bid += 1
    bulk.copy_rows(
        Building._meta.db_table,
        "id created_at updated_at street_id community_id compound_id number name units floors head_id".split(),
        (
            f"{b['id']}\t{stamp}\t{stamp}\t{b['street_id']}\t{b['community_id']}\t{b['compound_id']}\t"
            f"{b['number']}\t{b['name']}\t{b['units']}\t{b['floors']}\t\\N"
            for b in buildings
        ),
    )
    places = time.monotonic()

    # Households, then residents: the same per-building streams, generated twice, held never.
    first_household = bulk.next_id(Household)
    households = bulk.copy_rows(
        Household._meta.db_table,
        (
            "id created_at updated_at street_id community_id building_id compound_id unit room "
            "lives_alone_elderly elderly disabled low_income is_rented note"
        ).split(),
        household_lines(seed_value, buildings, first_household, stamp),
    )
    after_households = time.monotonic()
    heads = {}
    # The blind indexes are random (HMAC): built once after the COPY, not row by row into it.
    with bulk.indexes_rebuilt_after(
        Resident._meta.db_table, ("mobile_index", "mobile_tail_index", "id_number_index", "name")
    ):
        residents = bulk.copy_rows(
            Resident._meta.db_table,
            (
                "id created_at updated_at street_id community_id household_id name mobile mobile_index "
                "mobile_tail_index id_number id_number_index gender birth_year relation user_id"
            ).split(),
            resident_lines(seed_value, buildings, first_household, bulk.next_id(Resident), stamp, heads),
        )
    after_residents = time.monotonic()

    # Building heads (楼栋长): one household head of each building, set in one statement.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE communities_building AS b SET head_id = v.head FROM unnest(%s::bigint[], %s::bigint[]) "
            "AS v(building, head) WHERE b.id = v.building",
            [list(heads), list(heads.values())],
        )
    bulk.reset_sequences(District, Street, Community, Compound, Building, Household, Resident)
    bulk.analyze(Street, Community, Compound, Building, Household, Resident)
    ctx.log(
        f"  communities: {len(streets)} streets, {len(communities)} communities, {len(compounds)} compounds, "
        f"{len(buildings)} buildings ({places - started:.1f}s), {households} households "
        f"({after_households - places:.1f}s), {residents} residents ({after_residents - after_households:.1f}s)"
    )
