"""Demo 四美一好 ratings for ``manage.py seed_baohe``, through the services the pages call.

The district's default criteria (环境美 25, 邻里美 25, 家风美 15, 志愿美 15, 服务好 20). A 2026
Q3 round in three communities of 滨湖世纪社区 (清华社区, 和园社区, 沁心湖社区), every building
scored, approved by the secretary: in 清华社区 ``staff_qinghua`` scores and
``secretary_qinghua`` approves, and 和谐5栋 earns its badge (93.75). 清华社区 also has its 2026
Q4 round open, with 和谐5栋 and two more buildings scored so far.

Scores are fixed from each building's place in its community (no draw from the shared
generator). Written once: when 清华社区's Q3 round exists, nothing is added.
"""

from decimal import Decimal

from accounts.models import User
from communities.models import Building, Community
from communities.seed.demo import HARMONY_NAME, QINGHUA

from .. import services
from ..models import Criterion, RatingRound

ORDER = 66
YEAR = 2026
COMMUNITIES = ("清华社区", "和园社区", "沁心湖社区")
#: 和谐5栋's Q3 scores by criterion code: (95×25 + 94×25 + 92×15 + 90×15 + 96×20) / 100 = 93.75.
HARMONY_SCORES = {"environment": 95, "neighbourhood": 94, "family": 92, "volunteering": 90, "service": 96}
HARMONY_NOTE = "楼内20多名党员组成党小组，全部住户纳入“楼栋大家庭”；楼道整洁，邻里和睦，物业费缴纳率90%以上。"
NOTES = ("楼道基本整洁，个别单元有堆物，已督促清理。", "邻里关系融洽，志愿活动参与还可提高。", "党小组入户走访到位。")


def building_scores(criteria, index):
    """Fixed scores for the ``index``-th other building of a community: most near 80, some pass."""
    return {c.pk: Decimal(70 + (index * 7 + c.order * 5) % 25) for c in criteria}


def seed(ctx):
    if RatingRound.objects.filter(community__name="清华社区", year=YEAR, quarter=3).exists():
        ctx.log("  ratings: already seeded")
        return
    services.criteria_ensure_defaults()
    criteria = list(Criterion.objects.filter(active=True))
    by_code = {c.code: c for c in criteria}
    staff = User.objects.get(username="staff_qinghua")
    secretary = User.objects.get(username="secretary_qinghua")
    admin = User.objects.get(username="admin")
    harmony = Building.objects.get(compound__name=QINGHUA, name=HARMONY_NAME)
    rated = 0
    for name in COMMUNITIES:
        community = Community.objects.get(name=name)
        qinghua = name == "清华社区"
        opener, approver = (staff, secretary) if qinghua else (admin, admin)
        round = services.round_open(community=community, year=YEAR, quarter=3, by=opener)
        buildings = Building.objects.filter(community=community).order_by("compound__name", "compound_id", "pk")
        for index, building in enumerate(buildings):
            if building.pk == harmony.pk:
                scores = {by_code[code].pk: Decimal(value) for code, value in HARMONY_SCORES.items()}
                note, representatives = HARMONY_NOTE, 12
            else:
                scores, note, representatives = building_scores(criteria, index), NOTES[index % 3], 5 + index % 4
            services.rating_score(
                round=round,
                building=building,
                scores=scores,
                note=note,
                representatives=representatives,
                by=opener,
            )
            rated += 1
        services.round_approve(round=round, by=approver)
    # 清华社区's Q4 round is under way: three buildings scored, not approved.
    community = Community.objects.get(name="清华社区")
    current = services.round_open(community=community, year=YEAR, quarter=4, by=staff)
    others = Building.objects.filter(compound__name=QINGHUA).exclude(pk=harmony.pk).order_by("pk")[:2]
    for index, building in enumerate([harmony, *others]):
        scores = (
            {by_code[code].pk: Decimal(value) + 1 for code, value in HARMONY_SCORES.items() if code != "service"}
            | {by_code["service"].pk: Decimal(97)}
            if building.pk == harmony.pk
            else building_scores(criteria, index + 3)
        )
        services.rating_score(round=current, building=building, scores=scores, by=staff)
    ctx.log(f"  ratings: {len(COMMUNITIES)} approved 2026 Q3 rounds, {rated} buildings rated; 清华社区 Q4 open")
