"""Demo notices for ``manage.py seed_baohe``: three 通知公告 of 清华社区, published by its staff
(``staff_qinghua``) through the same service the page calls, so receipts and inbox messages are
real: a pinned fire-safety reminder to the whole community, a lift inspection notice to
清华园小区, and a confirmation-required notice to one of 清华园's other buildings (not 和谐5栋,
whose walk the e2e test does itself), of which about a third of the households have been told
(read online, or 已传达到户 by the central household that serves them).

Written once: when 清华社区 already has the first notice, nothing is added. Cheap: three
publications (a few bulk inserts each), no per-household loop beyond one UPDATE.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from communities.models import Building
from communities.seed.demo import HARMONY_NAME, QINGHUA

from .. import services
from ..models import Notice, Receipt

ORDER = 65

NOTICES = (
    (
        "清华社区冬季消防安全提示",
        "冬季天气干燥，请居民朋友注意：不在楼道、消防通道堆放杂物；电动自行车不进楼入户、不私拉电线充电；"
        "外出和睡前关闭燃气、电源。如发现消防隐患，可在“我要反映”中上报。",
    ),
    (
        "清华园小区电梯年度检验公告",
        "受市场监管部门委托，检验机构将于本周六、周日对清华园小区各楼栋电梯进行年度检验，"
        "每部电梯停用约2小时，届时请走楼梯，并照顾好家中老人。",
    ),
    (
        "关于楼道堆物集中清理的通知",
        "为消除消防隐患，社区将联合物业于下周三集中清理楼道堆物。请各户在此之前自行搬走楼道内的个人物品，"
        "确需保留的请联系楼栋长登记。请点“我已知晓”确认。",
    ),
)


def seed(ctx):
    staff = User.objects.get(username="staff_qinghua")
    harmony = Building.objects.select_related("compound__community").get(compound__name=QINGHUA, name=HARMONY_NAME)
    community, compound = harmony.compound.community, harmony.compound
    if Notice.objects.filter(community=community, title=NOTICES[0][0]).exists():
        ctx.log("  notices: already seeded")
        return
    other = Building.objects.filter(compound=compound).exclude(pk=harmony.pk).order_by("pk").first()
    published = [
        services.notice_publish(
            by=staff,
            community=community,
            audience=Notice.Audience.COMMUNITY,
            title=NOTICES[0][0],
            body=NOTICES[0][1],
            pinned=True,
        ),
        services.notice_publish(
            by=staff,
            community=community,
            audience=Notice.Audience.COMPOUND,
            compound=compound,
            title=NOTICES[1][0],
            body=NOTICES[1][1],
            expires_at=timezone.now() + timedelta(days=30),
        ),
    ]
    if other is not None:
        notice = services.notice_publish(
            by=staff,
            community=community,
            audience=Notice.Audience.BUILDING,
            building=other,
            title=NOTICES[2][0],
            body=NOTICES[2][1],
            requires_confirmation=True,
        )
        published.append(notice)
        now = timezone.now()
        receipts = list(Receipt.objects.filter(notice=notice).order_by("pk").values_list("pk", flat=True))
        Receipt.objects.filter(pk__in=receipts[0::6]).update(read_at=now, confirmed_at=now)
        Receipt.objects.filter(pk__in=receipts[3::6]).update(relayed_at=now)
    ctx.log(f"  notices: {len(published)} notices, {sum(n.households_total for n in published)} receipts")
