"""Demo registry for ``manage.py seed_baohe``: 包河区 and everything under it.

13 streets/towns (街镇, two of them 大社区), 56 communities, 139 compounds (each a grid),
about 700 buildings, 12,000 households and 30,000 synthetic residents. The places the
article names are where it puts them: 滨湖世纪社区 · 清华园小区 with building 5 "和谐5栋"
(363 residents), 滨湖和园小区, 万年埠街道 · 万慈社区 · 揽湖苑C区, 芜湖路街道 · 太湖新村
(a resettlement compound) and 沁心湖社区 · 月桂苑 (building 5 has a building head). Every
compound has its monthly 物业费缴纳率 of 2026 (``seed_fee_rates``): 清华园 climbs to the 91.5 %
the article reports, above 90 % from September.

Everything is planned in memory from ``ctx.rng`` first, so the random stream is the same on
every run; then only the rows missing by natural key (code, community + name, compound +
number, building + unit + room, ID number) are written, with ``bulk_create`` for the large
tables. Running the seed again therefore writes nothing new. People are synthetic: names
come from surname and given-name lists, never the names quoted in the article.
"""

import datetime as dt
from decimal import Decimal

from baohe.validators import id_check_char

from ..models import (
    Building,
    Community,
    Compound,
    CompoundFeeRate,
    District,
    Household,
    Resident,
    ResidentTransfer,
    Street,
)

ORDER = 10

BATCH = 2000
REF_YEAR = 2026  # ages are counted from this year
DISTRICT_NAME = "包河区"
DISTRICT_CODE = "340111"
TOTAL_COMPOUNDS = 139

# (name, kind, communities) in the order of baohe-facts.md; codes follow that order.
STREETS = (
    ("包公街道", Street.Kind.STREET, ("包河苑社区", "桐城路社区", "曙光社区", "凌大塘社区")),
    ("芜湖路街道", Street.Kind.STREET, ("太湖社区", "四牌楼社区", "南门社区", "红星社区", "安庆路社区")),
    ("望湖街道", Street.Kind.STREET, ("望湖社区", "南湖社区", "徽园社区", "蒲城社区")),
    ("同安街道", Street.Kind.STREET, ("同安社区", "徽州社区", "九华社区", "屯溪社区", "宁静社区")),
    ("常青街道", Street.Kind.STREET, ("常青社区", "青年社区", "当涂社区", "南七社区")),
    ("宁国路街道", Street.Kind.STREET, ("宁国社区", "南油社区", "杏林社区", "安居社区")),
    ("骆岗街道", Street.Kind.STREET, ("骆岗社区", "花园社区", "机场社区")),
    ("万年埠街道", Street.Kind.STREET, ("万慈社区", "万年社区", "华府社区", "圩东社区")),
    ("烟墩街道", Street.Kind.STREET, ("烟墩社区", "包河社区", "花冲社区", "淝河社区", "红日社区")),
    ("义城街道", Street.Kind.STREET, ("义城社区", "徐湾社区", "梁园社区")),
    ("大圩镇", Street.Kind.TOWN, ("大圩社区", "新民社区", "磨滩社区", "沈福社区", "金湖社区")),
    (
        "滨湖世纪社区",
        Street.Kind.BIG_COMMUNITY,
        ("清华社区", "和园社区", "沁心湖社区", "云谷社区", "紫庐社区", "世纪社区"),
    ),
    ("方兴社区", Street.Kind.BIG_COMMUNITY, ("锦绣社区", "紫云社区", "塘西社区", "玉兰社区")),
)

# Compounds the article names: community → [(name, kind, buildings, handed over, fee rate)].
NAMED_COMPOUNDS = {
    "清华社区": [("清华园小区", Compound.Kind.COMMERCIAL, 12, 2008, Decimal("91.50"))],
    "和园社区": [("滨湖和园小区", Compound.Kind.COMMERCIAL, 9, 2009, Decimal("86.20"))],
    "沁心湖社区": [("月桂苑", Compound.Kind.COMMERCIAL, 8, 2011, Decimal("88.60"))],
    "万慈社区": [("揽湖苑C区", Compound.Kind.COMMERCIAL, 6, 2012, Decimal("83.40"))],
    "太湖社区": [("太湖新村", Compound.Kind.RESETTLEMENT, 10, 2006, Decimal("78.30"))],
}
QINGHUA = "清华园小区"
HARMONY_NUMBER = "5"
HARMONY_NAME = "和谐5栋"
HARMONY_RESIDENTS = 363
HARMONY_HOUSEHOLDS = 118

# How the compounds of a street tend to look (weights for commercial, resettlement, old).
KIND_WEIGHTS = {
    "包公街道": (2, 0, 8),
    "芜湖路街道": (3, 2, 6),
    "望湖街道": (5, 1, 4),
    "同安街道": (4, 0, 6),
    "常青街道": (4, 1, 5),
    "宁国路街道": (4, 0, 6),
    "骆岗街道": (3, 6, 1),
    "万年埠街道": (6, 3, 1),
    "烟墩街道": (4, 4, 2),
    "义城街道": (2, 7, 1),
    "大圩镇": (2, 8, 0),
    "滨湖世纪社区": (9, 1, 0),
    "方兴社区": (8, 2, 0),
}
HANDED_OVER = {
    Compound.Kind.COMMERCIAL: (2005, 2022),
    Compound.Kind.RESETTLEMENT: (2003, 2020),
    Compound.Kind.OLD: (1985, 2002),
}
FEE_RANGE = {Compound.Kind.COMMERCIAL: (72, 98), Compound.Kind.RESETTLEMENT: (45, 82), Compound.Kind.OLD: (50, 85)}
NAME_HEADS = (
    "翡翠 紫云 锦绣 和平 芙蓉 梧桐 银杏 金桂 南园 香樟 玉兰 湖畔 春晖 阳光 碧水 怡景 东方 "
    "滨河 御景 水岸 书香 康乐 幸福 润园 晨曦 明珠 兰亭 荷塘 新城 华庭 丽景 青荷 欣悦 景湖 "
    "泊林 杏花 安和 静安 长乐 馨园"
).split()
NAME_TAILS = {
    Compound.Kind.COMMERCIAL: ("花园", "家园", "雅苑", "佳园", "公馆", "名邸", "华府", "苑", "府", "城"),
    Compound.Kind.RESETTLEMENT: ("安置小区", "新苑", "新村", "家园", "安居苑"),
    Compound.Kind.OLD: ("小区", "新村", "里", "宿舍区", "公寓"),
}
ROADS = (
    "包河大道 徽州大道 马鞍山路 宁国路 芜湖路 望江路 繁华大道 锦绣大道 紫云路 庐州大道 南京路 "
    "广西路 黄河路 华山路 大连路 延安路 屯溪路 九华山路 太湖路 方兴大道 巢湖南路 上海路 天津路 "
    "洞庭湖路"
).split()
PROPERTY_WORDS = ("安居 恒信 华庭 徽盛 湖畔 锦程 嘉园 瑞康 润和 天宇 新安 祥和 欣达 远景 正和 中恒").split()

# Synthetic people. Common surnames are repeated so that they come up more often.
SURNAMES = (
    "王王王王李李李李张张张张刘刘刘陈陈陈杨杨黄黄赵赵吴吴周周徐徐孙马朱胡郭何高林罗郑梁谢"
    "宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方"
    "白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤葛查桂"
)
MALE_CHARS = "伟强磊军勇杰涛斌超明辉刚健峰建国华平志文德林宇浩俊鹏飞坤凯波亮晨阳鑫海洋东升家宏振立成永春"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲桂兰萍燕琳雪倩婷慧佳颖欣梅莉琴云凤洁晶月蓉玉珍荣菊"
# People quoted in the article: the demo never uses their names.
ARTICLE_NAMES = frozenset({"孙长江", "何国先", "黄红兵", "娄辉", "束红英", "阮怀珍", "王玉珍", "陈先法"})
MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
).split()


def street_code(index):
    return f"{DISTRICT_CODE}{index:03d}000"


def community_code(street_index, index):
    return f"{DISTRICT_CODE}{street_index:03d}{index:03d}"


class PeopleMaker:
    """Synthetic residents: names, unique mobiles and unique valid ID numbers."""

    def __init__(self, rng):
        self.rng = rng
        self.mobiles = set()
        self.ids = set()

    def given(self, gender):
        chars = MALE_CHARS if gender == Resident.Gender.MALE else FEMALE_CHARS
        count = 1 if self.rng.random() < 0.25 else 2
        return "".join(self.rng.choice(chars) for _ in range(count))

    def name(self, surname, gender):
        while True:
            name = surname + self.given(gender)
            if name not in ARTICLE_NAMES:
                return name

    def mobile(self):
        while True:
            number = f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def id_number(self, birth_year, gender):
        # The 17th digit is odd for men and even for women (GB 11643).
        while True:
            month = self.rng.randint(1, 12)
            day = self.rng.randint(1, 28)
            seq = self.rng.randrange(500) * 2 + (1 if gender == Resident.Gender.MALE else 0)
            first17 = f"{DISTRICT_CODE}{birth_year:04d}{month:02d}{day:02d}{seq:03d}"
            if first17 not in self.ids:
                self.ids.add(first17)
                return first17 + id_check_char(first17)

    def person(self, surname, gender, age, relation):
        birth_year = REF_YEAR - max(age, 1)
        return {
            "name": self.name(surname, gender),
            "gender": gender,
            "birth_year": birth_year,
            "relation": relation,
            "mobile": self.mobile(),
            "id_number": self.id_number(birth_year, gender),
        }


def household_flags(rng):
    alone = rng.random() < 0.03
    elderly = rng.random() < 0.08
    rented = not alone and not elderly and rng.random() < 0.11
    return {
        "lives_alone_elderly": alone,
        "elderly": elderly,
        "disabled": rng.random() < 0.02,
        "low_income": rng.random() < 0.02,
        "is_rented": rented,
    }


def household_size(rng, flags):
    if flags["lives_alone_elderly"]:
        return 1
    return rng.choices((1, 2, 3, 4), weights=(18, 35, 30, 17))[0]


def household_people(people, rng, flags, size):
    """The residents of one household: a head, then spouse, children, parents or tenants."""
    male, female = Resident.Gender.MALE, Resident.Gender.FEMALE
    rel = Resident.Relation
    family = rng.choice(SURNAMES)

    def surname_for(gender, relation):
        if relation == rel.CHILD or gender == male or rng.random() < 0.25:
            return family
        return rng.choice(SURNAMES)

    if flags["lives_alone_elderly"]:
        gender = rng.choice((male, female))
        return [people.person(surname_for(gender, rel.HEAD), gender, rng.randint(70, 92), rel.HEAD)]
    if flags["is_rented"]:
        head_age = rng.randint(22, 45)
        gender = rng.choice((male, female))
        members = [people.person(surname_for(gender, rel.TENANT), gender, head_age, rel.TENANT)]
        for _ in range(size - 1):
            gender = rng.choice((male, female))
            if head_age >= 28 and rng.random() < 0.4:
                age = max(1, head_age - rng.randint(22, 32))
                members.append(people.person(family, gender, age, rel.CHILD))
            else:
                members.append(people.person(rng.choice(SURNAMES), gender, rng.randint(20, 45), rel.TENANT))
        return members
    head_age = rng.randint(80, 95) if flags["elderly"] else rng.randint(28, 78)
    head_gender = male if rng.random() < (0.8 if size >= 2 else 0.5) else female
    members = [people.person(surname_for(head_gender, rel.HEAD), head_gender, head_age, rel.HEAD)]
    if size >= 2:
        gender = female if head_gender == male else male
        age = max(20, head_age + rng.randint(-5, 4))
        members.append(people.person(surname_for(gender, rel.SPOUSE), gender, age, rel.SPOUSE))
    for _ in range(size - 2):
        gender = rng.choice((male, female))
        if head_age <= 58 and rng.random() < 0.3:
            age = min(98, head_age + rng.randint(24, 32))
            members.append(people.person(surname_for(gender, rel.PARENT), gender, age, rel.PARENT))
        else:
            age = max(1, head_age - rng.randint(24, 34))
            members.append(people.person(family, gender, age, rel.CHILD))
    return members


def fit_sizes(rng, households, total):
    """Nudge household sizes (1–4) until they add up to ``total`` residents."""
    adjustable = [h for h in households if not h["flags"]["lives_alone_elderly"]]
    current = sum(h["size"] for h in households)
    while current != total:
        household = rng.choice(adjustable)
        if current < total and household["size"] < 4:
            household["size"] += 1
            current += 1
        elif current > total and household["size"] > 1:
            household["size"] -= 1
            current -= 1


def plan_building(rng, people, number, kind, *, name="", households=None, residents=None):
    if kind == Compound.Kind.OLD:
        floors, units, per_floor = rng.choice((5, 6, 7)), rng.randint(2, 4), 2
    elif kind == Compound.Kind.RESETTLEMENT:
        floors, units, per_floor = rng.choice((6, 11, 18)), rng.randint(1, 3), rng.randint(2, 4)
    else:
        floors, units, per_floor = rng.choice((11, 18, 26, 33)), rng.randint(1, 3), rng.randint(2, 4)
    if households is not None:
        floors, units, per_floor = 18, 2, 4
    slots = [
        (u, f"{f}{r:02d}") for u in range(1, units + 1) for f in range(1, floors + 1) for r in range(1, per_floor + 1)
    ]
    count = households if households is not None else rng.randint(10, 25)
    chosen = sorted(rng.sample(slots, min(count, len(slots))), key=lambda s: (s[0], int(s[1])))
    planned = []
    for unit, room in chosen:
        flags = household_flags(rng)
        planned.append({"unit": unit, "room": room, "flags": flags, "size": household_size(rng, flags)})
    if residents is not None:
        fit_sizes(rng, planned, residents)
    for household in planned:
        household["people"] = household_people(people, rng, household["flags"], household["size"])
    adults = [
        p for h in planned if not h["flags"]["is_rented"] for p in h["people"] if 35 <= REF_YEAR - p["birth_year"] <= 75
    ]
    adults = adults or [p for h in planned for p in h["people"] if REF_YEAR - p["birth_year"] >= 18]
    head = rng.choice(adults)["id_number"] if adults else None
    return {"number": number, "name": name, "units": units, "floors": floors, "households": planned, "head": head}


def plan_registry(rng):
    """The whole district as nested dicts, drawn from ``rng`` in a fixed order."""
    people = PeopleMaker(rng)
    communities = []  # (street index, street name, community index, community name)
    for s_index, (street_name, _kind, names) in enumerate(STREETS, start=1):
        for c_index, community_name in enumerate(names, start=1):
            communities.append((s_index, street_name, c_index, community_name))
    slots = {c[3]: 2 for c in communities}
    extra = TOTAL_COMPOUNDS - sum(slots.values())
    for community_name in rng.sample(sorted(slots), extra):
        slots[community_name] += 1

    used_names = {name for entries in NAMED_COMPOUNDS.values() for name, *_rest in entries}
    compounds = []
    for s_index, street_name, c_index, community_name in communities:
        named = list(NAMED_COMPOUNDS.get(community_name, ()))
        for grid in range(1, slots[community_name] + 1):
            if named:
                name, kind, building_count, handed_over, fee = named.pop(0)
            else:
                kind = rng.choices(
                    (Compound.Kind.COMMERCIAL, Compound.Kind.RESETTLEMENT, Compound.Kind.OLD),
                    weights=KIND_WEIGHTS[street_name],
                )[0]
                while True:
                    name = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS[kind])
                    if name not in used_names:
                        used_names.add(name)
                        break
                building_count = rng.randint(3, 7)
                first, last = HANDED_OVER[kind]
                handed_over = rng.randint(first, last)
                low, high = FEE_RANGE[kind]
                fee = (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(Decimal("0.01"))
            if kind == Compound.Kind.OLD and rng.random() < 0.4:
                company = "社区托管物业服务中心"
            else:
                company = f"合肥{rng.choice(PROPERTY_WORDS)}物业服务有限公司"
            address = f"包河区{rng.choice(ROADS)}{rng.randint(1, 999)}号"
            buildings = []
            for number in range(1, building_count + 1):
                if name == QINGHUA and str(number) == HARMONY_NUMBER:
                    buildings.append(
                        plan_building(
                            rng,
                            people,
                            HARMONY_NUMBER,
                            kind,
                            name=HARMONY_NAME,
                            households=HARMONY_HOUSEHOLDS,
                            residents=HARMONY_RESIDENTS,
                        )
                    )
                else:
                    buildings.append(plan_building(rng, people, str(number), kind))
            compounds.append(
                {
                    "community_code": community_code(s_index, c_index),
                    "name": name,
                    "kind": kind,
                    "grid": f"第{grid}网格",
                    "address": address,
                    "property_company": company,
                    "fee_collection_rate": fee,
                    "handed_over": handed_over,
                    "buildings": buildings,
                }
            )
    return compounds


def seed_places():
    """District by code; streets and communities by name under their parent (get-or-create)."""
    district, _ = District.objects.get_or_create(code=DISTRICT_CODE, defaults={"name": DISTRICT_NAME})
    communities = {}
    for s_index, (street_name, kind, names) in enumerate(STREETS, start=1):
        street, _ = Street.objects.get_or_create(
            district=district, name=street_name, defaults={"code": street_code(s_index), "kind": kind}
        )
        for c_index, community_name in enumerate(names, start=1):
            code = community_code(s_index, c_index)
            community, _ = Community.objects.get_or_create(
                street=street,
                name=community_name,
                defaults={
                    "code": code,
                    "address": f"{street_name}{community_name}党群服务中心",
                    "phone": f"0551-6{s_index:02d}{c_index:02d}{(s_index * 37 + c_index * 11) % 1000:03d}",
                },
            )
            communities[code] = community
    return communities


def seed(ctx):
    rng = ctx.rng
    plan = plan_registry(rng)
    communities = seed_places()

    # Compounds: by (community, name).
    compounds = {}
    for entry in plan:
        community = communities[entry["community_code"]]
        fields = {
            k: entry[k] for k in ("kind", "grid", "address", "property_company", "fee_collection_rate", "handed_over")
        }
        compound, _ = Compound.objects.get_or_create(community=community, name=entry["name"], defaults=fields)
        compounds[(entry["community_code"], entry["name"])] = compound

    # Buildings: by (compound, number).
    existing = set(Building.objects.filter(compound__in=compounds.values()).values_list("compound_id", "number"))
    new = []
    for entry in plan:
        compound = compounds[(entry["community_code"], entry["name"])]
        for b in entry["buildings"]:
            if (compound.pk, b["number"]) not in existing:
                new.append(
                    Building(
                        compound_id=compound.pk,
                        street_id=compound.street_id,
                        community_id=compound.community_id,
                        number=b["number"],
                        name=b["name"],
                        units=b["units"],
                        floors=b["floors"],
                    )
                )
    Building.objects.bulk_create(new, batch_size=BATCH)
    buildings = {
        (compound_id, number): (pk, street_id, community_id)
        for pk, compound_id, number, street_id, community_id in Building.objects.filter(
            compound__in=compounds.values()
        ).values_list("id", "compound_id", "number", "street_id", "community_id")
    }

    # Households: by (building, unit, room).
    building_ids = [value[0] for value in buildings.values()]
    existing = set(Household.objects.filter(building_id__in=building_ids).values_list("building_id", "unit", "room"))
    new = []
    for entry in plan:
        compound = compounds[(entry["community_code"], entry["name"])]
        for b in entry["buildings"]:
            building_id, street_id, community_id = buildings[(compound.pk, b["number"])]
            for h in b["households"]:
                if (building_id, h["unit"], h["room"]) not in existing:
                    new.append(
                        Household(
                            building_id=building_id,
                            compound_id=compound.pk,
                            street_id=street_id,
                            community_id=community_id,
                            unit=h["unit"],
                            room=h["room"],
                            **h["flags"],
                        )
                    )
    Household.objects.bulk_create(new, batch_size=BATCH)
    households = {
        (building_id, unit, room): (pk, street_id, community_id)
        for pk, building_id, unit, room, street_id, community_id in Household.objects.filter(
            building_id__in=building_ids
        ).values_list("id", "building_id", "unit", "room", "street_id", "community_id")
    }

    # Residents: by ID number (unique).
    existing = set(Resident.objects.exclude(id_number="").values_list("id_number", flat=True))
    new = []
    for entry in plan:
        compound = compounds[(entry["community_code"], entry["name"])]
        for b in entry["buildings"]:
            building_id = buildings[(compound.pk, b["number"])][0]
            for h in b["households"]:
                household_id, street_id, community_id = households[(building_id, h["unit"], h["room"])]
                for p in h["people"]:
                    if p["id_number"] not in existing:
                        new.append(
                            Resident(household_id=household_id, street_id=street_id, community_id=community_id, **p)
                        )
    Resident.objects.bulk_create(new, batch_size=BATCH)

    # Building heads (楼栋长): a resident of the building, set where none is set yet.
    heads = {}
    for entry in plan:
        compound = compounds[(entry["community_code"], entry["name"])]
        for b in entry["buildings"]:
            if b["head"]:
                heads[buildings[(compound.pk, b["number"])][0]] = b["head"]
    resident_ids = dict(Resident.objects.filter(household__building_id__in=building_ids).values_list("id_number", "id"))
    to_update = []
    for building in Building.objects.filter(pk__in=heads, head__isnull=True).only("id", "head"):
        resident_id = resident_ids.get(heads[building.pk])
        if resident_id:
            building.head_id = resident_id
            to_update.append(building)
    Building.objects.bulk_update(to_update, ["head"], batch_size=500)

    fee_rows = seed_fee_rates(compounds.values())

    ctx.log(
        f"  communities: {fee_rows} monthly fee rates, {len(STREETS)} streets, {len(communities)} communities, {len(compounds)} compounds, "
        f"{len(buildings)} buildings, {len(households)} households, {len(resident_ids)} residents"
    )


#: The months of 2026 with a recorded 物业费缴纳率 (January to November: December is not over).
FEE_MONTHS = tuple(dt.date(REF_YEAR, month, 1) for month in range(1, 12))
#: 清华园小区 climbs from about 72 % to the 91.50 % the article reports ("今年物业费缴纳率达到90%以上"):
#: 90 %+ from September on (the months to November; the last is its registry rate).
QINGHUA_TREND = tuple(Decimal(v) for v in "72.40 74.80 77.50 80.10 82.60 85.30 87.90 89.40 90.60 91.20".split())


def fee_trend_for(compound_name, final):
    """A compound's monthly rates for ``FEE_MONTHS``, ending at its registry rate ``final``:
    清华园 rises steadily (``QINGHUA_TREND``); every other compound wobbles a little around a
    slow rise. Deterministic from the name (no draw from the shared generator)."""
    months = len(FEE_MONTHS)
    if compound_name == QINGHUA:
        return [*QINGHUA_TREND, final]
    wobble = sum(map(ord, compound_name)) % 5
    rates = []
    for i in range(months):
        drift = Decimal(months - 1 - i) * Decimal("0.35") + Decimal((i * 7 + wobble) % 5 - 2) / 4
        rates.append(max(Decimal(0), min(Decimal(100), final - drift)).quantize(Decimal("0.01")))
    rates[-1] = final
    return rates


def seed_fee_rates(compounds):
    """Monthly 物业费缴纳率 of 2026 for every demo compound (whose registry rate is the last
    month's); rows that exist are kept. Returns how many rows were added."""
    compounds = [c for c in compounds if c.fee_collection_rate is not None]
    existing = set(
        CompoundFeeRate.objects.filter(compound__in=compounds, month__in=FEE_MONTHS).values_list("compound_id", "month")
    )
    new = []
    for compound in compounds:
        for month, rate in zip(FEE_MONTHS, fee_trend_for(compound.name, compound.fee_collection_rate), strict=True):
            if (compound.pk, month) not in existing:
                new.append(
                    CompoundFeeRate(
                        compound_id=compound.pk,
                        street_id=compound.street_id,
                        community_id=compound.community_id,
                        month=month,
                        rate=rate,
                    )
                )
    CompoundFeeRate.objects.bulk_create(new, batch_size=BATCH)
    if new:
        Compound.objects.filter(pk__in=[c.pk for c in compounds]).update(fee_rate_month=FEE_MONTHS[-1])
    return len(new)


def seed_pending_transfer(*, requested_by, to_community):
    """One pending 迁入 request for the demo, written directly (a seed is not a lookup, so no
    audit line): ``to_community``'s worker asks for a grown child of a 清华园小区 household (not
    of 和谐5栋, whose people the other demos use); the staff of 清华园's community find it under
    迁入申请 → 待我处理. Run again, it adds nothing."""
    if ResidentTransfer.objects.filter(requested_by=requested_by).exists():
        return 0
    person = (
        Resident.objects.filter(household__compound__name=QINGHUA, relation=Resident.Relation.CHILD, user=None)
        .exclude(household__building__name=HARMONY_NAME)
        .exclude(id_number="")
        .filter(headed_buildings=None)
        .order_by("id")
        .first()
    )
    household = Household.objects.filter(community=to_community).order_by("building_id", "unit", "room").first()
    if person is None or household is None:
        return 0
    transfer = ResidentTransfer(
        resident=person,
        source_street_id=person.street_id,
        source_community_id=person.community_id,
        to_household=household,
        requested_by=requested_by,
        reason="本人已在万慈社区购房居住，申请将户籍登记迁入。",
    )
    transfer.sync_scope()
    transfer.save()
    return 1
