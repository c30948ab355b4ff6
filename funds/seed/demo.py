"""Demo funds for ``manage.py seed_baohe``: every demo community's two base funds for 2026 (the
district's default budgets, opened by the street's staff) with proposals in every state, written
by the same services the pages call.

和园社区's are the article's: 滨湖和园小区's 环境综合提升改造 was decided in three meetings
(``meetings/seed/demo.py``); the garage clean-up (决议 1) is paid with its receipt, and the
facilities works (决议 2, above the street's threshold) are approved by the secretary and the
street and await payment. Every community also has spending for its elders, volunteers, party
members and culture: paid (with a receipt photo), approved, submitted, awaiting the street,
rejected and withdrawn; amounts vary between communities so that the dashboard shows some ahead
of the year and some behind. Dates are spread over the year (the ledger lines dated with them).

Written once per community: a community that already has its 2026 funds gets nothing more.
"""

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import Role, User
from communities.models import Community
from meetings.models import Decision

from .. import services
from ..models import Fund, LedgerEntry, Proposal, ProposalEvent, ProposalFile

ORDER = 75
YEAR = 2026
HEYUAN_COMMUNITY = "和园社区"
HEYUAN_COMPOUND = "滨湖和园小区"

P = Proposal.Purpose
S = Proposal.Status
SERVICE, PARTY = Fund.Kind.SERVICE, Fund.Kind.PARTY

# (fund, title, purpose, amount, payee, state, month, paid share or reason)
SPENDING = (
    (SERVICE, "重阳节敬老慰问及长者生日会", P.ELDERLY, "18600.00", "合肥市包河区惠民超市", S.PAID, 10, "1"),
    (SERVICE, "小区监控及门禁系统改造", P.FACILITIES, "118000.00", "安徽安居智能科技有限公司", S.PAID, 6, "0.97"),
    (SERVICE, "老旧小区绿化补植", P.ENVIRONMENT, "42500.00", "合肥绿源园林工程有限公司", S.PAID, 4, "1"),
    (SERVICE, "楼道照明维修更换", P.FACILITIES, "9800.00", "合肥明亮电气工程部", S.APPROVED, 11, ""),
    (SERVICE, "志愿服务队服装及意外保险", P.VOLUNTEER, "6400.00", "", S.SUBMITTED, 12, ""),
    (SERVICE, "社区邻里文化节", P.CULTURE, "56000.00", "合肥星光文化传播有限公司", S.STREET_REVIEW, 12, ""),
    (
        SERVICE,
        "购置广场舞音响设备",
        P.CULTURE,
        "12000.00",
        "",
        S.REJECTED,
        9,
        "与社区已有设备重复，建议借用社区活动中心设备。",
    ),
    (SERVICE, "外墙宣传标语更换", P.OTHER, "7500.00", "", S.WITHDRAWN, 8, "与街道统一更换计划合并实施。"),
    (PARTY, "党员政治生日及主题党日活动", P.PARTY, "8600.00", "合肥市包河区红枫印务", S.PAID, 7, "1"),
    (PARTY, "“红色领航”党建阵地布置", P.PARTY, "28000.00", "合肥鼎盛广告装饰有限公司", S.PAID, 5, "1"),
    (PARTY, "党史学习教育读本及学习资料", P.PARTY, "6200.00", "新华书店包河分店", S.APPROVED, 11, ""),
    (PARTY, "党员志愿服务先锋岗物资", P.VOLUNTEER, "4800.00", "", S.SUBMITTED, 12, ""),
)
# 滨湖和园小区's renovation, by the index of its third meeting's decisions.
HEYUAN = (
    (0, "地下车库杂物清运及冲洗", P.ENVIRONMENT, "12800.00", "合肥洁美物业服务有限公司", S.PAID, "12600.00"),
    (
        1,
        "公共设施改造：路灯更换、健身器材维修、主干道路面修补",
        P.FACILITIES,
        "186000.00",
        "合肥市政维修工程有限公司",
        S.APPROVED,
        "",
    ),
)


def receipt_image(title: str) -> SimpleUploadedFile:
    """A small receipt-like photo (lines on paper), as a resident's phone would take one."""
    image = Image.new("RGB", (480, 640), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 460, 620), outline=(180, 40, 40), width=3)
    for y in range(80, 560, 36):
        draw.line((50, y, 430, y), fill=(120, 120, 120), width=2)
    draw.ellipse((330, 480, 440, 590), outline=(200, 30, 30), width=5)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return SimpleUploadedFile("receipt.jpg", out.getvalue(), content_type="image/jpeg")


def _user(username: str, name: str, kind: str, *, community=None, street=None) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"name": name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Role.objects.get_or_create(user=user, kind=kind, community=community, street=street)
    return user


def _staff(community: Community, kind: str) -> User:
    existing = User.objects.filter(roles__kind=kind, roles__community=community, is_active=True).order_by("id").first()
    if existing is not None:
        return existing
    label = "书记" if kind == Role.Kind.SECRETARY else "网格员"
    prefix = "secretary" if kind == Role.Kind.SECRETARY else "staff"
    return _user(f"demo_{prefix}_{community.code}", f"{community.name}{label}", kind, community=community)


def _first_staff(community: Community) -> User | None:
    return (
        User.objects.filter(roles__kind=Role.Kind.STAFF, roles__community=community, is_active=True)
        .order_by("id")
        .first()
    )


def _street_staff(community: Community) -> User:
    existing = (
        User.objects.filter(roles__kind=Role.Kind.STAFF, roles__street_id=community.street_id, is_active=True)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    street = community.street
    return _user(f"demo_street_staff_{street.code}", f"郑洁（{street.name}）", Role.Kind.STAFF, street=street)


def _at(month: int, day: int, now: datetime) -> datetime:
    at = timezone.make_aware(datetime.combine(date(YEAR, month, day), time(10)))
    return min(at, now - timedelta(hours=1))


def _date(proposal: Proposal, when: datetime, now: datetime) -> None:
    """Date a proposal's rows as if written on ``when`` (steps a few days apart, never after now)."""

    def step(days: int) -> datetime:
        return min(when + timedelta(days=days), now - timedelta(minutes=5))

    Proposal.objects.filter(pk=proposal.pk).update(created_at=when, updated_at=when)
    for offset, event in enumerate(ProposalEvent.objects.filter(proposal=proposal).order_by("pk")):
        ProposalEvent.objects.filter(pk=event.pk).update(created_at=step(3 * offset))
    for offset, entry in enumerate(LedgerEntry.objects.filter(proposal=proposal).order_by("pk")):
        # A ledger line is never edited through the model; dating demo history is a bulk UPDATE.
        LedgerEntry.objects.filter(pk=entry.pk).update(created_at=step(3 * (offset + 1)))
    stamps = {}
    if proposal.approved_at:
        stamps["approved_at"] = step(3)
    if proposal.reviewed_at:
        stamps["reviewed_at"] = step(6)
    if proposal.paid_at:
        stamps["paid_at"] = step(9)
    if stamps:
        Proposal.objects.filter(pk=proposal.pk).update(**stamps)
    ProposalFile.objects.filter(proposal=proposal).update(created_at=when)


def _run(
    *, fund, staff, secretary, street, title, purpose, amount, payee, state, extra, when, decision=None, now
) -> Proposal:
    proposal = services.proposal_submit(
        by=staff, fund=fund, title=title, purpose=purpose, amount=amount, payee=payee, decision=decision
    )
    if state == S.WITHDRAWN:
        proposal = services.proposal_withdraw(proposal=proposal, by=staff, reason=extra)
    elif state == S.REJECTED:
        proposal = services.proposal_reject(proposal=proposal, by=secretary, reason=extra)
    elif state != S.SUBMITTED:
        proposal = services.proposal_approve(proposal=proposal, by=secretary, note="同意，按程序办理。")
        if proposal.status == S.STREET_REVIEW and state != S.STREET_REVIEW:
            proposal = services.proposal_street_approve(proposal=proposal, by=street, note="经审核，同意实施。")
        if state == S.PAID:
            paid = Decimal(extra) if "." in extra and Decimal(extra) > 1 else (Decimal(amount) * Decimal(extra or "1"))
            proposal = services.proposal_pay(
                proposal=proposal,
                by=staff,
                amount=paid.quantize(Decimal("0.01")),
                receipts=[receipt_image(title)],
            )
    _date(proposal, _at(when[0], when[1], now), now)
    return proposal


def seed(ctx):
    now = timezone.now()
    communities = list(Community.objects.select_related("street").order_by("code"))
    made = 0
    for index, community in enumerate(communities):
        if Fund.objects.filter(community=community, year=YEAR).exists():
            continue
        street = _street_staff(community)
        secretary = _staff(community, Role.Kind.SECRETARY)
        # The community's first staff account, else its secretary: no staff account is made here,
        # since an earlier seed (visits: a round per community with staff) would see it only on a
        # second run, and seed_baohe must change nothing the second time.
        staff = _first_staff(community) or secretary
        funds = {fund.kind: fund for fund in services.fund_ensure_base(community=community, year=YEAR, by=street)}
        Fund.objects.filter(pk__in=[f.pk for f in funds.values()]).update(created_at=_at(1, 5, now))
        LedgerEntry.objects.filter(fund__in=funds.values(), proposal__isnull=True).update(created_at=_at(1, 5, now))
        if community.name == HEYUAN_COMMUNITY:
            # The renovation decided in 协商议事 is paid for with a budget the street raised.
            services.fund_adjust_budget(
                fund=funds[SERVICE], budget="500000.00", reason="滨湖和园小区环境综合提升改造追加预算", by=street
            )
            LedgerEntry.objects.filter(fund=funds[SERVICE], proposal__isnull=True).update(created_at=_at(3, 16, now))
            funds[SERVICE].refresh_from_db()
        # Some communities spend faster than others (the dashboard's ahead/behind alerts).
        scale = (Decimal("0.55"), Decimal("0.9"), Decimal("1.25"), Decimal("0.75"))[index % 4]
        for kind, title, purpose, amount, payee, state, month, extra in SPENDING:
            value = (Decimal(amount) * (scale if state == S.PAID else 1)).quantize(Decimal("1"))
            _run(
                fund=funds[kind],
                staff=staff,
                secretary=secretary,
                street=street,
                title=title,
                purpose=purpose,
                amount=f"{value}.00",
                payee=payee,
                state=state,
                extra=extra,
                when=(month, 3 + index % 20),
                now=now,
            )
        if community.name == HEYUAN_COMMUNITY:
            decisions = list(
                Decision.objects.filter(meeting__compound__name=HEYUAN_COMPOUND, meeting__community=community).order_by(
                    "-meeting__scheduled_at", "order"
                )[:2]
            )
            decisions.sort(key=lambda d: d.order)
            for position, title, purpose, amount, payee, state, paid in HEYUAN:
                if position >= len(decisions):
                    continue
                decided = timezone.localtime(decisions[position].meeting.scheduled_at)
                _run(
                    fund=funds[SERVICE],
                    staff=staff,
                    secretary=secretary,
                    street=street,
                    title=title,
                    purpose=purpose,
                    amount=amount,
                    payee=payee,
                    state=state,
                    extra=paid,
                    decision=decisions[position],
                    when=(decided.month, decided.day),
                    now=now,
                )
        made += 1
    ctx.log(f"  funds: {made} communities given their {YEAR} funds")
