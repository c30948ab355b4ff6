"""Demo requests for ``manage.py seed_baohe``: the calendar, the categories, and ~300 诉求.

- :class:`CalendarDay` rows for 2026 and 2027 from :data:`calendar.HOLIDAYS` (by date).
- Two-level categories with time limits (by code; a limit edited in the admin is kept).
- About 300 requests across the article's compounds (清华园小区, 滨湖和园小区, 揽湖苑C区,
  太湖新村, 月桂苑) and a dozen others, in every state of the workflow: waiting, accepted, in
  progress, resolved and waiting for a rating, closed (satisfied, basic, or automatically),
  reopened after an unsatisfied rating, rejected, returned to the street, rerouted, and
  closed as duplicates; some past their deadlines. The demo resident of 和谐5栋 has a few of
  their own, one of them resolved and waiting for their rating.

Every request is made by the services (``services.py``), so events and notifications are
the real ones; afterwards the timestamps are moved into the past (submission, steps,
deadlines, notifications) and the numbers re-issued for the day each request was submitted.
Requests are written only when there are none yet, so running the seed again adds nothing.
Community staff who handle requests in communities without a demo login are created here
(``demo_staff_<community code>``, no usable password).
"""

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import CharField, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.models import Role, User
from baohe.query import number_sort_key
from communities.models import Compound, Household, Resident
from communities.seed.demo import HARMONY_NAME, QINGHUA
from notifications.models import Delivery, Notification
from partybuilding.models import CentralHousehold, PartyGroup

from .. import calendar, personal_data, services
from ..category_names import NAMES_EN
from ..models import CalendarDay, Category, NumberSequence, RequestEvent, ServiceRequest
from ..models.clock import clocks_copy_request_columns, clocks_rebuild, schedule_accept, schedule_resolve

ORDER = 40

YEARS = (2026, 2027)
S = ServiceRequest.Status
Kind = ServiceRequest.AssigneeKind
Solved = ServiceRequest.Solved
Satisfaction = ServiceRequest.Satisfaction

# (code, name, [(code, name, accept within hours, resolve within working days, where)]).
# "home": a household's own problem; "building": a shared part of a building; "public": the compound.
CATEGORIES = (
    (
        "property",
        "物业服务",
        (
            ("property-elevator", "电梯故障", 2, 2, "building"),
            ("property-utilities", "水电报修", 4, 3, "home"),
            ("property-security", "门禁安保", 8, 3, "public"),
            ("property-fees", "物业收费", 24, 7, "home"),
        ),
    ),
    (
        "sanitation",
        "环境卫生",
        (
            ("sanitation-garbage", "垃圾清运", 4, 1, "public"),
            ("sanitation-sorting", "垃圾分类", 12, 3, "public"),
            ("sanitation-greening", "绿化养护", 24, 5, "public"),
            ("sanitation-pests", "蚊虫鼠害", 12, 3, "building"),
        ),
    ),
    (
        "parking",
        "停车管理",
        (
            ("parking-illegal", "乱停车", 2, 1, "public"),
            ("parking-charging", "电动车充电", 12, 5, "public"),
            ("parking-spaces", "车位管理", 24, 7, "public"),
        ),
    ),
    (
        "repair",
        "设施维修",
        (
            ("repair-streetlight", "路灯损坏", 8, 3, "public"),
            ("repair-road", "道路破损", 24, 7, "public"),
            ("repair-drain", "管道堵塞", 4, 2, "building"),
            ("repair-fitness", "健身器材", 24, 5, "public"),
        ),
    ),
    (
        "dispute",
        "邻里纠纷",
        (
            ("dispute-noise", "噪音扰民", 4, 3, "home"),
            ("dispute-leak", "楼上漏水", 8, 5, "home"),
            ("dispute-pets", "宠物扰民", 12, 5, "building"),
        ),
    ),
    (
        "elderly-care",
        "养老助残",
        (
            ("elderly-meals", "助餐服务", 8, 3, "home"),
            ("elderly-visits", "探访关爱", 12, 5, "home"),
            ("elderly-accessibility", "无障碍设施", 24, 10, "building"),
        ),
    ),
    (
        "policy",
        "政策咨询",
        (
            ("policy-insurance", "社保医保", 24, 3, "home"),
            ("policy-certificates", "证明开具", 8, 2, "home"),
            ("policy-assistance", "救助帮扶", 24, 5, "home"),
        ),
    ),
    (
        "other",
        "其他",
        (
            ("other-suggestion", "意见建议", 24, 10, "public"),
            ("other-misc", "其他诉求", 24, 5, "home"),
        ),
    ),
)
# How often each kind of request comes in (the rest weigh 2).
CATEGORY_WEIGHTS = {
    "property-elevator": 9,
    "property-utilities": 7,
    "sanitation-garbage": 9,
    "parking-illegal": 9,
    "repair-streetlight": 7,
    "dispute-noise": 7,
    "dispute-leak": 5,
    "parking-charging": 5,
    "elderly-meals": 4,
    "policy-insurance": 4,
}

DESCRIPTIONS = {
    "property-elevator": (
        "{where}电梯经常停在半层不动，家里有老人，上下楼很不方便，请尽快维修。",
        "{where}电梯按钮失灵，按了没反应，已经两天了。",
        "{where}电梯运行时有异响，晃得厉害，担心安全。",
    ),
    "property-utilities": (
        "{where}家里厨房水管漏水，物业电话打不通，请帮忙联系维修。",
        "{where}楼道灯坏了一个多星期，晚上上下楼看不见。",
        "{where}家里总闸频繁跳闸，想请物业电工上门看看。",
    ),
    "property-security": (
        "{where}单元门禁坏了，门一直关不上，外来人员随意进出。",
        "{where}夜间巡逻少，最近有电动车电瓶被偷。",
    ),
    "property-fees": (
        "{where}对今年物业费上调有疑问，想了解收费依据。",
        "{where}物业费已交但系统显示欠费，请帮忙核实。",
    ),
    "sanitation-garbage": (
        "{where}垃圾桶满了两天没人清运，气味很大。",
        "{where}装修垃圾堆在楼下很久了，占了通道。",
        "{where}大件垃圾（旧沙发）堆放点没人清理。",
    ),
    "sanitation-sorting": (
        "{where}厨余垃圾和其他垃圾混投严重，希望加强督导。",
        "{where}垃圾分类投放点的洗手池坏了。",
    ),
    "sanitation-greening": (
        "{where}绿化带的树长得太高，挡住低层住户采光。",
        "{where}草坪被人开垦种菜，希望恢复绿化。",
    ),
    "sanitation-pests": (
        "{where}地下室积水，蚊子特别多，希望消杀。",
        "{where}楼道里发现老鼠，请安排灭鼠。",
    ),
    "parking-illegal": (
        "{where}消防通道上长期停着私家车，救护车进不来。",
        "{where}有车辆堵在单元门口，出行不便。",
        "{where}共享单车乱停乱放，把人行道堵住了。",
    ),
    "parking-charging": (
        "{where}有人从楼上拉电线给电动车充电，很危险。",
        "{where}电动车充电桩数量太少，晚上排不上。",
    ),
    "parking-spaces": (
        "{where}地面车位划线不清，经常为车位发生争执。",
        "{where}希望增加临时停车位，方便来访车辆。",
    ),
    "repair-streetlight": (
        "{where}路灯不亮好几天了，晚上老人散步不安全。",
        "{where}路灯白天一直亮着，浪费电。",
    ),
    "repair-road": (
        "{where}路面有个大坑，下雨积水，电动车容易摔倒。",
        "{where}人行道地砖松动翘起，走路容易绊倒。",
    ),
    "repair-drain": (
        "{where}下水道堵塞，污水漫到路面上。",
        "{where}楼下化粪池冒水，味道很大。",
    ),
    "repair-fitness": (
        "{where}健身器材的扶手断了，孩子玩的时候很危险。",
        "{where}儿童滑梯开裂，希望尽快修复。",
    ),
    "dispute-noise": (
        "{where}楼上邻居晚上十一点后还在拖动家具，影响休息。",
        "{where}楼下广场舞音响声音太大，晚上九点以后还在跳。",
        "{where}隔壁装修周末早上七点就开始电钻。",
    ),
    "dispute-leak": (
        "{where}楼上卫生间漏水，我家天花板发霉，协商未果，请社区调解。",
        "{where}楼上空调冷凝水滴到我家窗台，沟通了几次没有改。",
    ),
    "dispute-pets": (
        "{where}有住户遛狗不牵绳，吓到了孩子。",
        "{where}楼道里有人养鸽子，气味和噪音很大。",
    ),
    "elderly-meals": (
        "{where}家里老人行动不便，想申请社区长者食堂送餐。",
        "{where}咨询助餐补贴怎么申请。",
    ),
    "elderly-visits": (
        "{where}独居老人最近身体不好，子女在外地，希望社区定期探望。",
        "{where}老人需要陪同去医院复查，想请志愿者帮忙。",
    ),
    "elderly-accessibility": (
        "{where}单元门口台阶太高，轮椅上不去，希望加装坡道。",
        "{where}希望楼道加装扶手，方便老人上下楼。",
    ),
    "policy-insurance": (
        "{where}咨询灵活就业人员医保怎么缴费。",
        "{where}退休后医保关系转移到合肥需要什么材料。",
    ),
    "policy-certificates": (
        "{where}需要开具居住证明办理孩子入学，请问要带什么材料。",
        "{where}想办理独生子女证明，需要社区盖章。",
    ),
    "policy-assistance": (
        "{where}家里有人生了大病，想咨询临时救助的申请条件。",
        "{where}咨询低保申请流程。",
    ),
    "other-suggestion": (
        "{where}建议在小区里增设几把休息座椅。",
        "{where}希望社区多组织一些亲子活动。",
    ),
    "other-misc": (
        "{where}快递柜长期被占满，取件困难。",
        "{where}家里网络信号很差，咨询能否协调运营商。",
    ),
}
PUBLIC_SPOTS = ("东门", "北门", "中心广场", "地下车库入口", "南门消防通道", "儿童游乐区", "垃圾分类投放点")
REPLIES = {
    "property": ("已联系物业，维修人员今天下午到场。", "物业已派人查看，需要更换配件，正在采购。"),
    "sanitation": ("已通知保洁公司加派人手清运。", "已联系环卫所，明天上午处理。"),
    "parking": ("网格员已到现场，联系车主挪车。", "已与物业协商，增加夜间巡查。"),
    "repair": ("已报市政维修，预计三个工作日内处理。", "维修单位已到现场查看。"),
    "dispute": ("网格员已上门了解情况，约双方明晚到社区调解。", "楼栋党小组长已上门沟通。"),
    "elderly-care": ("已登记需求，志愿者明天上门。", "已联系长者食堂，安排送餐。"),
    "policy": ("已电话告知所需材料和办理流程。", "已预约社保窗口，请带身份证办理。"),
    "other": ("已收到，正在协调相关单位。", "已转交物业和业委会研究。"),
}
RESOLUTIONS = {
    "property": ("已维修完毕，经试运行正常。", "物业已处理，并承诺加强日常巡检。"),
    "sanitation": ("已清运完毕，并安排每日巡查。", "已完成消杀和清理。"),
    "parking": ("车辆已挪走，已在通道处加装禁停标识。", "已协调增设车位并划线。"),
    "repair": ("已修复，现场照片已存档。", "维修完成，已恢复正常使用。"),
    "dispute": ("经社区调解，双方达成一致，已签调解协议。", "已协调邻居整改，问题已解决。"),
    "elderly-care": ("已纳入助餐送餐名单，每天中午送餐上门。", "已安排志愿者结对，每周探访一次。"),
    "policy": ("已一次性告知办理流程，居民已办结。", "已协助提交申请材料。"),
    "other": ("已反馈相关单位并落实。", "已记录并纳入社区议事会议题。"),
}
NOTES = ("已电话联系居民，确认了具体位置。", "已与物业经理电话沟通。", "需与业委会协调。")
REJECT_REASONS = (
    "该事项属于民事诉讼范围，已告知居民依法通过法院途径解决。",
    "诉求内容不属于社区职责范围，已引导拨打12345热线。",
    "经现场核实，反映情况与实际不符。",
)
RETURN_REASONS = ("经核实，该地址不在本社区辖区，请街道改派。", "该事项涉及相邻社区，请街道协调。")
EXTENSION_REASONS = ("需厂家更换主板，配件在途。", "涉及公共维修资金使用，需业主表决。", "需等待天气转好后施工。")
RATING_COMMENTS = {
    Satisfaction.SATISFIED: ("处理很及时，谢谢社区！", "网格员很负责，点赞。", ""),
    Satisfaction.BASIC: ("解决了，但是等的时间有点长。", "基本满意，希望以后更快一些。", ""),
    Satisfaction.UNSATISFIED: ("问题还在，没有彻底解决。", "只是临时处理，过两天又坏了。"),
}
VOLUNTEER_TEAMS = ("红管家志愿服务队", "一米阳光志愿服务队", "邻里守望志愿服务队", "银发互助志愿服务队")
# Staff for communities that have no demo login (synthetic names).
HANDLER_NAMES = ("王静", "李军", "陈丽", "刘洋", "杨敏", "黄涛", "吴霞", "周斌", "徐婷", "孙鹏", "马琳", "朱峰", "胡颖")

# The compounds the article names: (compound, community, how many requests).
NAMED = (
    (QINGHUA, "清华社区", 80),
    ("滨湖和园小区", "和园社区", 35),
    ("揽湖苑C区", "万慈社区", 35),
    ("太湖新村", "太湖社区", 40),
    ("月桂苑", "沁心湖社区", 35),
)
OTHER_COMPOUNDS = 12
OTHER_REQUESTS = 66
REROUTES = 3  # 清华园小区 → 滨湖和园小区, by the street's staff

# Outcome: (weight, how long ago it was submitted, in hours (low, high)).
OUTCOMES = {
    "submitted": (10, (0.3, 20)),
    "accepted": (8, (2, 72)),
    "in_progress": (15, (6, 160)),
    "resolved": (9, (30, 190)),
    "closed": (33, (240, 3600)),
    "closed_auto": (3, (400, 2400)),
    "reopened": (5, (200, 720)),
    "rejected": (4, (24, 2000)),
    "returned": (3, (2, 96)),
    "duplicate": (4, (4, 720)),
}


@dataclass
class Plan:
    """One request to make: where, what, who, and how far it gets."""

    age_hours: float
    compound: object
    leaf: object
    description: str
    outcome: str
    household: object = None
    building: object = None
    address: str = ""
    contact: tuple = ("", "")
    channel: str = ServiceRequest.Channel.PHONE
    rng_values: dict = field(default_factory=dict)


# --- calendar and categories --------------------------------------------------------------------
def seed_calendar():
    rows = [row for year in YEARS for row in calendar.calendar_days(year)]
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _name_in_english(category):
    """The English name where none is set (an administrator's own is kept)."""
    if not category.name_en and category.code in NAMES_EN:
        category.name_en = NAMES_EN[category.code]
        category.save(update_fields=["name_en"])


def seed_categories():
    """Two levels by code; existing rows (and their admin-edited limits) are kept."""
    leaves = {}
    for top_order, (code, name, children) in enumerate(CATEGORIES, start=1):
        hours = min(c[2] for c in children)
        days = max(c[3] for c in children)
        top, _ = Category.objects.get_or_create(
            code=code,
            defaults={"name": name, "order": top_order * 10, "accept_within_hours": hours, "resolve_within_days": days},
        )
        _name_in_english(top)
        for order, (child_code, child_name, child_hours, child_days, where) in enumerate(children, start=1):
            leaf, _ = Category.objects.get_or_create(
                code=child_code,
                defaults={
                    "parent": top,
                    "name": child_name,
                    "order": top_order * 10 + order,
                    "accept_within_hours": child_hours,
                    "resolve_within_days": child_days,
                },
            )
            _name_in_english(leaf)
            leaf.parent = top  # the instance with its English name (the requests' notifications quote both)
            leaf.where = where
            leaf.top_code = code
            leaves[child_code] = leaf
    # Requests go only to leaves that still take them (an administrator may have changed some).
    split = set(Category.objects.filter(parent__code__in=leaves).values_list("parent__code", flat=True))
    return {code: leaf for code, leaf in leaves.items() if leaf.is_active and code not in split}


# --- people -------------------------------------------------------------------------------------
def handler_for(community, names):
    """The demo login for 清华社区 / 万慈社区, else a staff account made for the demo."""
    existing = (
        User.objects.filter(roles__kind=Role.Kind.STAFF, roles__community=community, is_active=True)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    user, created = User.objects.get_or_create(
        username=f"demo_staff_{community.code}", defaults={"name": f"{names.pop(0)}（{community.name}网格员）"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Role.objects.get_or_create(user=user, kind=Role.Kind.STAFF, community=community, street=None)
    return user


def street_staff_for(street):
    """The street's staff member who re-routes returned requests: the printed demo login
    (``street_staff_binhu``, accounts/seed/demo.py) where there is one, else a login-less one."""
    printed = (
        Role.objects.filter(
            kind=Role.Kind.STAFF, street=street, community=None, user__username__startswith="street_staff_"
        )
        .select_related("user")
        .first()
    )
    if printed is not None:
        return printed.user
    user, created = User.objects.get_or_create(
        username=f"demo_street_staff_{street.code}", defaults={"name": f"郑洁（{street.name}）"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Role.objects.get_or_create(user=user, kind=Role.Kind.STAFF, street=street, community=None)
    return user


class Places:
    """Households (with their head) and party servers of the compounds that get requests."""

    def __init__(self, compounds):
        ids = [c.pk for c in compounds]
        self.households = {c.pk: [] for c in compounds}
        rows = Household.objects.filter(compound_id__in=ids).select_related("building")
        for household in sorted(rows, key=lambda h: (number_key(h.building.number), h.unit, number_key(h.room))):
            self.households[household.compound_id].append(household)
        self.heads = {}
        for household_id, name, mobile, relation, id_number in Resident.objects.filter(
            household__compound_id__in=ids
        ).values_list("household_id", "name", "mobile", "relation", "id_number"):
            key = (relation != Resident.Relation.HEAD, id_number)
            if household_id not in self.heads or key < self.heads[household_id][0]:
                self.heads[household_id] = (key, name, mobile)
        self.group_leaders = {}
        for building_id, group, leader in (
            PartyGroup.objects.filter(buildings__compound_id__in=ids, leader__isnull=False)
            .values_list("buildings", "name", "leader__resident__name")
            .order_by("buildings", "name")
        ):
            self.group_leaders.setdefault(building_id, (group, leader))
        self.centrals = {}
        through = CentralHousehold.served_households.through
        for household_id, name in (
            through.objects.filter(household__compound_id__in=ids)
            .values_list("household_id", "centralhousehold__member__resident__name")
            .order_by("household_id", "centralhousehold_id")
        ):
            self.centrals.setdefault(household_id, name)

    def contact(self, household):
        head = self.heads.get(household.pk)
        return (head[1], head[2]) if head else ("", "")


def number_key(text):
    return number_sort_key(text)


# --- planning -----------------------------------------------------------------------------------
def pick_leaf(rng, leaves):
    codes = sorted(leaves)
    return leaves[rng.choices(codes, weights=[CATEGORY_WEIGHTS.get(c, 2) for c in codes])[0]]


def where_text(leaf, household, compound, rng):
    if leaf.where == "public" or household is None:
        spot = rng.choice(PUBLIC_SPOTS)
        return f"{compound.name}{spot}", f"{compound.name}{spot}"
    building = household.building
    label = building.name or f"{building.number}栋"
    if leaf.where == "building":
        return f"{label}{household.unit}单元", f"{label}{household.unit}单元"
    return f"{label}{household.unit}单元{household.room}室", f"{label}{household.unit}单元{household.room}室"


def plan_request(rng, leaves, places, compound, outcome=None, household=None, leaf=None):
    leaf = leaf or pick_leaf(rng, leaves)
    homes = places.households[compound.pk]
    if household is None and homes:
        harmony = [h for h in homes if h.building.name == HARMONY_NAME]
        pool = harmony if harmony and rng.random() < 0.3 else homes
        household = rng.choice(pool)
    where, address = where_text(leaf, household, compound, rng)
    description = rng.choice(DESCRIPTIONS[leaf.code]).format(where=where)
    if outcome is None:
        names = list(OUTCOMES)
        outcome = rng.choices(names, weights=[OUTCOMES[n][0] for n in names])[0]
    low, high = OUTCOMES[outcome][1]
    home = household if leaf.where != "public" else None
    return Plan(
        age_hours=rng.uniform(low, high),
        compound=compound,
        leaf=leaf,
        description=description,
        outcome=outcome,
        household=home,
        building=household.building if household is not None and leaf.where != "public" else None,
        address=address,
        contact=places.contact(household) if household is not None else ("", ""),
        channel=rng.choices(
            (ServiceRequest.Channel.PHONE, ServiceRequest.Channel.WALK_IN, ServiceRequest.Channel.VISIT),
            weights=(5, 3, 2),
        )[0],
        rng_values={
            "accept": rng.uniform(0.1, 1.4),
            "assign": rng.uniform(0.3, 10),
            "resolve": rng.uniform(0.25, 1.35),
            "rate": rng.uniform(2, 60),
            "assignee": rng.choice(("staff", "party_group", "central_household", "volunteer_team")),
            "team": rng.choice(VOLUNTEER_TEAMS),
            "replies": rng.choice((0, 1, 1, 2)),
            "note": rng.random() < 0.3,
            "reply_texts": [rng.choice(REPLIES[leaf.top_code]) for _ in range(2)],
            "note_text": rng.choice(NOTES),
            "resolution": rng.choice(RESOLUTIONS[leaf.top_code]),
            "satisfaction": rng.choices((Satisfaction.SATISFIED, Satisfaction.BASIC), weights=(3, 1))[0],
            "comment_index": rng.randrange(3),
            "unsatisfied": rng.choice(RATING_COMMENTS[Satisfaction.UNSATISFIED]),
            "reject_reason": rng.choice(REJECT_REASONS),
            "reject_after_accept": rng.random() < 0.5,
            "return_reason": rng.choice(RETURN_REASONS),
            "return_after_accept": rng.random() < 0.3,
            "extension": rng.random() < 0.4,
            "extension_reason": rng.choice(EXTENSION_REASONS),
            "extension_decision": rng.choice(("approve", "approve", "deny", "pending")),
            "reopen_reply": rng.random() < 0.6,
        },
    )


# The demo resident's own requests: (category code, outcome, submitted how many hours ago).
RESIDENT_PLAN = (
    ("sanitation-pests", "closed", 960),
    ("property-elevator", "resolved", 70),
    ("dispute-leak", "reopened", 300),
    ("property-utilities", "in_progress", 50),
    ("repair-drain", "accepted", 20),
    ("dispute-noise", "submitted", 3),
)


# --- making -------------------------------------------------------------------------------------
class Maker:
    """Runs the services for each plan and moves every timestamp to the planned moment."""

    def __init__(self, now, handlers, secretaries, street_staff, places):
        self.now = now
        self.ceiling = now - timedelta(minutes=5)
        self.handlers = handlers
        self.secretaries = secretaries
        self.street_staff = street_staff
        self.places = places
        self.last_event = RequestEvent.objects.aggregate(m=Max("id"))["m"] or 0
        self.made = []  # (request id, submitted at, plan)
        self.partly_rated = set()  # compounds that have a 基本满意 · 部分解决 rating

    def step(self, at, fn, **kwargs):
        """Call a service, then date the events and notifications it wrote at ``at``."""
        request = fn(**kwargs)
        ids = list(RequestEvent.objects.filter(id__gt=self.last_event).values_list("id", flat=True))
        if ids:
            RequestEvent.objects.filter(id__in=ids).update(created_at=at, updated_at=at)
            keys = Q()
            for event_id in ids:
                keys |= Q(dedupe_key__startswith=f"request:{request.pk}:event:{event_id}:")
            Notification.objects.filter(keys).update(created_at=at)
            self.last_event = max(ids)
        return request

    def make(self, plan, resident_user=None, reroute_to=None, originals=None):
        rng = plan.rng_values
        leaf = plan.leaf
        handler = self.handlers[plan.compound.community_id]
        clock = [self.now - timedelta(hours=plan.age_hours)]

        def later(hours):
            moment = min(clock[0] + timedelta(hours=hours), self.ceiling)
            clock[0] = max(moment, clock[0] + timedelta(seconds=30))
            return clock[0]

        submitted = clock[0]
        what = {
            "category": leaf,
            "description": plan.description,
            "building": plan.building,
            "household": plan.household,
            "address": plan.address,
        }
        original = (originals or {}).get(plan.compound.pk) if plan.outcome == "duplicate" else None
        if original is not None:
            # A neighbour reports what is already being handled.
            leaf = original.category
            what = {
                "category": leaf,
                "description": f"{original.description}我们家也遇到同样的问题。",
                "building": original.building,
                "household": None,
                "address": original.address,
            }
        request = self.step(
            submitted,
            services.request_submit,
            by=resident_user or handler,
            compound=plan.compound,
            contact_name=plan.contact[0],
            contact_mobile=plan.contact[1],
            channel=ServiceRequest.Channel.ONLINE if resident_user else plan.channel,
            **what,
        )
        stamps = {
            "created_at": submitted,
            "accept_due_at": submitted + timedelta(hours=leaf.accept_within_hours),
            "resolve_due_at": calendar.add_working_days(submitted, leaf.resolve_within_days),
            "accepted_at": None,
            "resolved_at": None,
            "closed_at": None,
            "rated_at": None,
        }
        clocks = {"accept": submitted, "resolve": submitted}  # when each deadline's clock started
        # Deadlines in the past now, so that an extension is measured against the right one.
        ServiceRequest.objects.filter(pk=request.pk).update(
            created_at=submitted, accept_due_at=stamps["accept_due_at"], resolve_due_at=stamps["resolve_due_at"]
        )
        outcome = plan.outcome

        def accept(hours=None):
            nonlocal request
            at = later(hours if hours is not None else rng["accept"] * leaf.accept_within_hours)
            request = self.step(at, services.request_accept, request=request, by=handler)
            stamps["accepted_at"] = at

        if outcome == "returned" or reroute_to is not None:
            if rng["return_after_accept"]:
                accept()
            self.step(
                later(rng["assign"]),
                services.request_return,
                request=request,
                by=handler,
                reason=rng["return_reason"],
            )
            if reroute_to is not None:
                at = later(rng["assign"])
                request = self.step(
                    at,
                    services.request_reroute,
                    request=request,
                    by=self.street_staff,
                    compound=reroute_to,
                )
                handler = self.handlers[reroute_to.community_id]
                stamps.update(
                    accepted_at=None,
                    accept_due_at=at + timedelta(hours=leaf.accept_within_hours),
                    resolve_due_at=calendar.add_working_days(at, leaf.resolve_within_days),
                )
                clocks.update(accept=at, resolve=at)
                accept()
            return self.finish(request, plan, stamps, clocks, clock[0])
        if outcome == "duplicate":
            if original is not None:
                if rng["reject_after_accept"]:
                    accept()
                at = later(rng["assign"])
                request = self.step(at, services.request_mark_duplicate, request=request, by=handler, original=original)
                stamps["closed_at"] = at
            return self.finish(request, plan, stamps, clocks, clock[0])
        if outcome == "submitted":
            return self.finish(request, plan, stamps, clocks, clock[0])
        if outcome == "rejected":
            if rng["reject_after_accept"]:
                accept()
            at = later(rng["assign"])
            self.step(at, services.request_reject, request=request, by=handler, reason=rng["reject_reason"])
            stamps["closed_at"] = at
            return self.finish(request, plan, stamps, clocks, clock[0])

        accept()
        if outcome == "accepted":
            return self.finish(request, plan, stamps, clocks, clock[0])

        request = self.step(
            later(rng["assign"]), services.request_assign, request=request, by=handler, **self.assignee(plan, handler)
        )
        for text in rng["reply_texts"][: rng["replies"]]:
            self.step(later(rng["assign"] * 2), services.request_reply, request=request, by=handler, message=text)
        if rng["note"]:
            self.step(
                later(1), services.request_reply, request=request, by=handler, message=rng["note_text"], public=False
            )
        if outcome == "in_progress":
            if rng["extension"] and plan.compound.community_id in self.secretaries:
                self.extension(request, plan, stamps, handler, later)
            return self.finish(request, plan, stamps, clocks, clock[0])

        resolve_hours = rng["resolve"] * leaf.resolve_within_days * 24
        if outcome == "resolved":
            # Resolved within the last six days, so that the resident can still rate it.
            remaining = (self.ceiling - clock[0]).total_seconds() / 3600
            earliest = (self.now - timedelta(days=6) - clock[0]).total_seconds() / 3600
            resolve_hours = max(min(resolve_hours, remaining * 0.8), earliest)
        at = later(resolve_hours)
        request = self.step(at, services.request_resolve, request=request, by=handler, message=rng["resolution"])
        stamps["resolved_at"] = at
        if outcome == "resolved":
            return self.finish(request, plan, stamps, clocks, clock[0])
        if outcome == "closed_auto":
            at = later(7 * 24 + 1)
            self.step(at, services.request_close, request=request, automatic=True)
            stamps["closed_at"] = at
            return self.finish(request, plan, stamps, clocks, clock[0])

        unsatisfied = outcome == "reopened"
        satisfaction = Satisfaction.UNSATISFIED if unsatisfied else rng["satisfaction"]
        # Resolution and satisfaction are rated apart, and the demo's residents do not always pair
        # them (issue 15: otherwise 解决率 equals 满意率 everywhere): a 基本满意 often comes with
        # 部分解决, and a reopened request is sometimes 未解决 rather than 部分解决.
        if unsatisfied:
            comment = rng["unsatisfied"]
            solved = Solved.UNSOLVED if rng["comment_index"] == 1 else Solved.PARTLY
        else:
            # The first rating in each compound is one of those, so that no dashboard, down to a
            # compound's, shows the two rates equal.
            first = plan.compound.pk not in self.partly_rated
            if first:
                self.partly_rated.add(plan.compound.pk)
                satisfaction = Satisfaction.BASIC
            comment = RATING_COMMENTS[satisfaction][1 if first else rng["comment_index"]]
            partly = satisfaction == Satisfaction.BASIC and (first or rng["comment_index"] != 0)
            solved = Solved.PARTLY if partly else Solved.SOLVED
        at = later(rng["rate"])
        if resident_user is not None:
            self.step(
                at,
                services.request_rate,
                request=request,
                by=resident_user,
                solved=solved,
                satisfaction=satisfaction,
                comment=comment,
            )
        else:
            self.step(
                at,
                services.request_follow_up,
                request=request,
                by=handler,
                solved=solved,
                satisfaction=satisfaction,
                comment=comment,
            )
        stamps["rated_at"] = at
        if unsatisfied:
            stamps["resolved_at"] = None
            stamps["resolve_due_at"] = calendar.add_working_days(at, leaf.resolve_within_days)
            clocks["resolve"] = at
            if rng["reopen_reply"]:
                self.step(
                    later(rng["assign"]),
                    services.request_reply,
                    request=request,
                    by=handler,
                    message="已重新安排处理，请耐心等待。",
                )
        else:
            stamps["closed_at"] = at
        return self.finish(request, plan, stamps, clocks, clock[0])

    def assignee(self, plan, handler):
        kind = plan.rng_values["assignee"]
        building_id = plan.building.pk if plan.building is not None else None
        if kind == "party_group" and building_id in self.places.group_leaders:
            group, leader = self.places.group_leaders[building_id]
            return {"kind": Kind.PARTY_GROUP, "label": f"{group}组长 {leader}"}
        if kind == "central_household" and plan.household is not None and plan.household.pk in self.places.centrals:
            return {"kind": Kind.CENTRAL_HOUSEHOLD, "label": f"党员中心户 {self.places.centrals[plan.household.pk]}"}
        if kind == "volunteer_team":
            return {"kind": Kind.VOLUNTEER_TEAM, "label": plan.rng_values["team"]}
        return {"kind": Kind.STAFF, "user": handler}

    def extension(self, request, plan, stamps, handler, later):
        rng = plan.rng_values
        until = stamps["resolve_due_at"] + timedelta(days=3)
        self.step(
            later(2),
            services.request_extension_request,
            request=request,
            by=handler,
            until=until,
            reason=rng["extension_reason"],
        )
        decision = rng["extension_decision"]
        if decision == "pending":
            return
        secretary = self.secretaries[plan.compound.community_id]
        self.step(
            later(3),
            services.request_extension_decide,
            request=request,
            by=secretary,
            approve=decision == "approve",
            note="同意，请抓紧办理。" if decision == "approve" else "请按原期限办结。",
        )
        if decision == "approve":
            stamps["resolve_due_at"] = until

    def finish(self, request, plan, stamps, clocks, last):
        # The reminder schedule follows the backdated deadlines, as the services would have set it.
        schedule = ServiceRequest(accept_due_at=stamps["accept_due_at"], resolve_due_at=stamps["resolve_due_at"])
        fields = schedule_accept(schedule, clocks["accept"]) + schedule_resolve(schedule, clocks["resolve"])
        stamps.update({name: getattr(schedule, name) for name in fields})
        ServiceRequest.objects.filter(pk=request.pk).update(updated_at=last, **stamps)
        clocks_rebuild(ServiceRequest.objects.filter(pk=request.pk))  # the scan's clocks follow the backdated schedule
        self.made.append((request.pk, stamps["created_at"], plan))
        return request


def renumber(made, today_before):
    """Give each demo request the number of the day it was submitted (in submission order), and
    the notifications and timeline entries that quote a number the new one (issue 15: a
    notification's number must open the request its link opens)."""
    ids = [pk for pk, _at, _plan in made]
    before = dict(ServiceRequest.objects.filter(pk__in=ids).values_list("pk", "number"))
    ServiceRequest.objects.filter(pk__in=ids).update(number=Concat(Value("DEMO-"), Cast("id", CharField())))
    today = calendar.local_date(timezone.now())
    if today_before is None:
        NumberSequence.objects.filter(day=today).delete()
    else:
        NumberSequence.objects.filter(day=today).update(counted=today_before, seq_start=None)
    for pk, submitted, _plan in sorted(made, key=lambda row: (row[1], row[0])):
        ServiceRequest.objects.filter(pk=pk).update(number=services.number_next(submitted))
    clocks_copy_request_columns(ids)  # the deadline clocks carry the number into the reminders
    after = dict(ServiceRequest.objects.filter(pk__in=ids).values_list("pk", "number"))
    requote({before[pk]: after[pk] for pk in ids if before[pk] != after[pk]}, ids)


def requote(numbers, request_ids):
    """Replace old request numbers ``{old: new}`` in what the requests ``request_ids`` caused:
    their notifications (keyed ``request:<id>:…``) and timeline entries. For a seed that gives a
    request made today the number of the day it is backdated to."""
    if not numbers:
        return
    pattern = re.compile("|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True)))

    def swap(value):
        if isinstance(value, str):
            return pattern.sub(lambda m: numbers[m.group(0)], value)
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    keys = Q()
    for pk in request_ids:
        keys |= Q(dedupe_key__startswith=f"request:{pk}:")
    notes = list(Notification.objects.filter(keys))
    for note in notes:
        note.title, note.body = swap(note.title), swap(note.body)
        note.title_text, note.body_text = swap(note.title_text), swap(note.body_text)
    Notification.objects.bulk_update(notes, ["title", "body", "title_text", "body_text"], batch_size=500)
    events = list(RequestEvent.objects.filter(request_id__in=request_ids).exclude(message=""))
    for event in events:
        event.message, event.message_text = swap(event.message), swap(event.message_text)
    RequestEvent.objects.bulk_update(events, ["message", "message_text"], batch_size=500)


def settle_notifications(first_id, now):
    """Old demo notifications were delivered and (for staff, after two days) read."""
    demo = Notification.objects.filter(pk__gt=first_id)
    Delivery.objects.filter(
        notification__in=demo.filter(created_at__lt=now - timedelta(hours=1)), status=Delivery.Status.PENDING
    ).update(
        status=Delivery.Status.SENT,
        attempts=1,
        sent_at=Subquery(Notification.objects.filter(pk=OuterRef("notification_id")).values("created_at")[:1]),
    )
    demo.filter(created_at__lt=now - timedelta(days=2), read_at=None).update(
        read_at=F("created_at") + timedelta(hours=2)
    )


# --- seed ---------------------------------------------------------------------------------------
def seed(ctx):
    rng = ctx.rng
    days = seed_calendar()
    leaves = seed_categories()
    # The residents' own 个人信息更正 / 删除 categories (used from 我的信息, not by the demo's requests).
    for kind in personal_data.CATEGORIES:
        personal_data.personal_data_category(kind)
    if ServiceRequest.objects.exists():
        ctx.log(f"  service_requests: {days} calendar days, {len(leaves)} categories; requests already exist")
        return

    named = [
        Compound.objects.select_related("community__street").get(name=name, community__name=community)
        for name, community, _count in NAMED
    ]
    named_ids = {c.pk for c in named}
    others = sorted(
        Compound.objects.exclude(pk__in=named_ids).select_related("community__street"),
        key=lambda c: (c.community.code, c.name),
    )
    others = sorted(rng.sample(others, min(OTHER_COMPOUNDS, len(others))), key=lambda c: (c.community.code, c.name))
    compounds = named + others
    places = Places(compounds)

    names = list(HANDLER_NAMES)
    handlers = {}
    for compound in compounds:
        if compound.community_id not in handlers:
            handlers[compound.community_id] = handler_for(compound.community, names)
    secretaries = {
        role.community_id: role.user
        for role in Role.objects.filter(
            kind=Role.Kind.SECRETARY, community_id__in=handlers, user__is_active=True
        ).select_related("user")
    }
    qinghua, heyuan = named[0], named[1]
    street_staff = street_staff_for(qinghua.community.street)

    resident_record = (
        Resident.objects.filter(household__building__name=HARMONY_NAME, household__compound=qinghua, user__isnull=False)
        .select_related("user", "household__building")
        .order_by("id")
        .first()
    )

    # Plan everything first, from the random stream, then make the requests oldest first.
    plans = []
    for compound, (_name, _community, count) in zip(named, NAMED, strict=True):
        plans.extend(("random", plan_request(rng, leaves, places, compound)) for _ in range(count))
    per_other = math.ceil(OTHER_REQUESTS / max(1, len(others)))
    for compound in others:
        plans.extend(("random", plan_request(rng, leaves, places, compound)) for _ in range(per_other))
    for _ in range(REROUTES):
        plan = plan_request(rng, leaves, places, qinghua, outcome="accepted")
        plans.append(("reroute", plan))
    if resident_record is not None:
        for code, outcome, hours in RESIDENT_PLAN:
            if code not in leaves:
                continue
            plan = plan_request(
                rng, leaves, places, qinghua, outcome=outcome, household=resident_record.household, leaf=leaves[code]
            )
            plan.age_hours = hours
            plans.append(("resident", plan))
    plans.sort(key=lambda item: -item[1].age_hours)

    today_row = NumberSequence.objects.filter(day=calendar.local_date(timezone.now())).first()
    today_before = today_row.last if today_row is not None else None
    first_notification = Notification.objects.aggregate(m=Max("id"))["m"] or 0
    now = timezone.now()
    maker = Maker(now, handlers, secretaries, street_staff, places)
    originals = {}  # compound → its latest request (not rejected, returned or a duplicate), for duplicates
    for kind, plan in plans:
        if kind == "resident":
            request = maker.make(plan, resident_user=resident_record.user)
        elif kind == "reroute":
            request = maker.make(plan, reroute_to=heyuan)
        else:
            request = maker.make(plan, originals=originals)
        if kind == "random" and plan.outcome not in ("rejected", "returned", "duplicate"):
            originals[request.compound_id] = request
    renumber(maker.made, today_before)
    settle_notifications(first_notification, now)

    statuses = set(ServiceRequest.objects.order_by().values_list("status", flat=True).distinct())
    ctx.log(
        f"  service_requests: {days} calendar days, {len(leaves)} categories, {len(maker.made)} requests "
        f"({len(statuses)} statuses) in {len(compounds)} compounds"
    )
