"""``manage.py seed_baohe`` builds the article's district, and running it again changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count, F, Q

from accounts.models import Role, User
from baohe.validators import validate_id_number
from communities.models import Building, Community, Compound, District, Household, Resident, Street
from partybuilding.models import Backbone, CentralHousehold, PartyBranch, PartyGroup, PartyMember
from ratings.models import BuildingRating
from ratings.selectors import building_badges
from tests.demo_db import model_counts

# One copy of the demo for the whole module, on one xdist worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group(__name__)]

ARTICLE_NAMES = {"孙长江", "何国先", "黄红兵", "娄辉", "束红英", "阮怀珍", "王玉珍", "陈先法"}
DEMO_USERNAMES = {
    "admin",
    "district",
    "street_binhu",
    "street_staff_binhu",
    "staff_qinghua",
    "secretary_qinghua",
    "staff_other",
}


def counts():
    return {
        "districts": District.objects.count(),
        "streets": Street.objects.count(),
        "communities": Community.objects.count(),
        "compounds": Compound.objects.count(),
        "buildings": Building.objects.count(),
        "heads": Building.objects.filter(head__isnull=False).count(),
        "households": Household.objects.count(),
        "residents": Resident.objects.count(),
        "branches": PartyBranch.objects.count(),
        "groups": PartyGroup.objects.count(),
        "group_buildings": PartyGroup.buildings.through.objects.count(),
        "members": PartyMember.objects.count(),
        "central_households": CentralHousehold.objects.count(),
        "served": CentralHousehold.served_households.through.objects.count(),
        "backbones": Backbone.objects.count(),
        "users": User.objects.count(),
        "roles": Role.objects.count(),
    }


@pytest.fixture(scope="module")
def seeded(demo_module):
    """The demo, seeded twice (tests/demo_db.py), read by every test of this module."""
    return demo_module


def test_seed_twice_gives_the_same_rows(seeded):
    assert seeded.second == seeded.first  # every model, many-to-many tables included
    assert model_counts() == seeded.second  # …and this module reads that database
    seen = counts()
    assert seen["central_households"] >= 1600
    assert 25_000 <= seen["residents"] <= 40_000
    assert 600 <= seen["buildings"] <= 800


def test_seed_matches_the_article(seeded):
    assert Street.objects.count() == 13
    assert set(Street.objects.values_list("name", "kind").filter(kind__in=("town", "big_community"))) == {
        ("大圩镇", "town"),
        ("滨湖世纪社区", "big_community"),
        ("方兴社区", "big_community"),
    }
    assert PartyBranch.objects.filter(kind=PartyBranch.Kind.COMPOUND).count() == 139
    assert PartyGroup.objects.filter(kind=PartyGroup.Kind.BUILDING).count() == 489
    assert CentralHousehold.objects.count() >= 1600

    harmony = Building.objects.get(name="和谐5栋")
    assert harmony.number == "5"
    assert harmony.compound.name == "清华园小区"
    assert harmony.compound.community.street.name == "滨湖世纪社区"
    assert harmony.compound.fee_collection_rate == pytest.approx(91.5)
    # 物业费缴纳率 month by month: 清华园 above 90 % from September 2026 (the article), its latest
    # month the compound's rate; 和谐5栋 carries the 2026 四美一好 badge from the approved Q3 round.
    fees = dict(harmony.compound.fee_rates.values_list("month__month", "rate"))
    assert min(rate for month, rate in fees.items() if month >= 9) >= 90 > fees[8]
    assert harmony.compound.fee_rate_month == dt.date(2026, 11, 1) and fees[11] == Decimal("91.50")
    assert building_badges([harmony.pk]) == {harmony.pk: [2026]}
    assert BuildingRating.objects.get(building=harmony, round__quarter=3).score == Decimal("93.75")
    assert Resident.objects.filter(household__building=harmony).count() == 363
    harmony_group = PartyGroup.objects.get(buildings=harmony)
    assert harmony_group.name == "和谐5栋党小组"
    assert harmony_group.members.count() >= 20

    taihu = Compound.objects.get(name="太湖新村", community__street__name="芜湖路街道")
    assert taihu.kind == Compound.Kind.RESETTLEMENT
    branch = PartyBranch.objects.get(compounds=taihu)
    assert branch.groups.filter(kind=PartyGroup.Kind.BUILDING).count() == 7
    assert branch.groups.filter(kind=PartyGroup.Kind.FUNCTIONAL).count() == 2

    assert Compound.objects.filter(name="揽湖苑C区", community__name="万慈社区", street__name="万年埠街道").exists()
    assert Compound.objects.filter(name="滨湖和园小区", street__name="滨湖世纪社区").exists()
    moon = Building.objects.get(compound__name="月桂苑", compound__community__name="沁心湖社区", number="5")
    assert moon.head.household.building_id == moon.pk


def test_seed_rows_are_consistent(seeded):
    assert not Resident.objects.exclude(street_id=F("household__street_id")).exists()
    assert not Resident.objects.exclude(community_id=F("household__community_id")).exists()
    assert not Household.objects.exclude(compound_id=F("building__compound_id")).exists()
    assert not Household.objects.exclude(community_id=F("building__community_id")).exists()
    assert not Building.objects.exclude(community_id=F("compound__community_id")).exists()
    assert not Building.objects.exclude(head__household__building=F("pk")).filter(head__isnull=False).exists()
    assert not PartyMember.objects.exclude(community_id=F("resident__community_id")).exists()
    assert not PartyMember.objects.exclude(group__branch=F("branch")).filter(group__isnull=False).exists()
    assert not PartyGroup.objects.exclude(leader__group=F("pk")).exists()
    assert not PartyBranch.objects.exclude(secretary__branch=F("pk")).exists()
    assert not CentralHousehold.objects.exclude(member__resident__household=F("household")).exists()
    assert not Backbone.objects.exclude(street_id=F("resident__street_id")).exists()
    # Every central household serves 4–10 households of its own building.
    served = CentralHousehold.objects.annotate(
        n=Count("served_households"),
        elsewhere=Count("served_households", filter=~Q(served_households__building=F("household__building"))),
    )
    assert not served.filter(Q(n__lt=4) | Q(n__gt=10) | Q(elsewhere__gt=0)).exists()
    # Every building is covered by exactly one building party group.
    assert (
        not Building.objects.annotate(n=Count("party_groups", filter=Q(party_groups__kind=PartyGroup.Kind.BUILDING)))
        .exclude(n=1)
        .exists()
    )


def test_seed_request_clocks_match_their_requests(seeded):
    """The demo backdates requests with update(): the deadline scan's copies must follow, or the
    first scan after `make run` would remind with wrong numbers and times."""
    from service_requests.models import RequestClock, ServiceRequest
    from service_requests.models.clock import clocks_wanted

    running = {(c.request_id, c.clock): c for c in RequestClock.objects.filter(running=True)}
    wanted = {}
    for request in ServiceRequest.objects.all():
        for clock, (warn_at, due_at, escalate_at, recipient_id) in clocks_wanted(request).items():
            wanted[(request.pk, clock)] = (request.number, warn_at, due_at, escalate_at, recipient_id)
    assert wanted, "the demo has open requests"
    assert set(running) == set(wanted)
    for key, clock in running.items():
        assert (clock.number, clock.warn_at, clock.due_at, clock.escalate_at, clock.recipient_id) == wanted[key]


def test_seed_people_are_synthetic_and_valid(seeded):
    assert not Resident.objects.filter(name__in=ARTICLE_NAMES).exists()
    rows = list(Resident.objects.values_list("id_number", "mobile"))
    for id_number, _mobile in rows:
        validate_id_number(id_number)
    assert len({id_number for id_number, _m in rows}) == len(rows)
    assert len({mobile for _i, mobile in rows}) == len(rows)
    assert all(len(m) == 11 and m[0] == "1" and m[1] in "3456789" and m.isdigit() for _i, m in rows)


def test_seed_demo_logins(seeded):
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    assert set(users) == DEMO_USERNAMES
    for user in users.values():
        assert user.check_password("baohe-demo-2026")
    assert users["admin"].is_superuser
    assert Role.objects.get(user=users["street_binhu"]).street.name == "滨湖世纪社区"
    street_staff = Role.objects.get(user=users["street_staff_binhu"])  # re-routes returned requests
    assert (street_staff.kind, street_staff.street.name, street_staff.community) == ("staff", "滨湖世纪社区", None)
    qinghua = Role.objects.get(user=users["staff_qinghua"]).community
    assert qinghua.compounds.filter(name="清华园小区").exists()
    assert Role.objects.get(user=users["secretary_qinghua"]).community == qinghua
    assert Role.objects.get(user=users["staff_other"]).community.name == "万慈社区"
    resident = Resident.objects.get(user__isnull=False)
    assert resident.household.building.name == "和谐5栋"
    assert resident.user.username == "resident_demo"  # opaque: residents sign in with their mobile
    assert resident.user.mobile == resident.mobile
    assert Role.objects.get(user=resident.user).kind == Role.Kind.RESIDENT


def test_seed_demo_staff_have_the_published_second_factor(seeded):
    import pyotp
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import two_factor
    from accounts.seed import demo
    from baohe.management.commands.seed_baohe import SeedContext

    ctx = SeedContext()
    demo.seed(ctx)  # a third time: the devices are reset, not duplicated

    for username in DEMO_USERNAMES:
        user = User.objects.get(username=username)
        device = TOTPDevice.objects.get(user=user)
        assert (device.confirmed, two_factor.totp_secret(device)) == (True, demo.DEMO_TOTP_SECRET)
        codes = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
        assert sorted(codes) == list(demo.DEMO_BACKUP_CODES)
        assert two_factor.verify_code(user=user, code=pyotp.TOTP(demo.DEMO_TOTP_SECRET).now()) == device
    resident = Resident.objects.get(user__isnull=False).user
    assert not TOTPDevice.objects.filter(user=resident).exists()
    # What seed_baohe prints: the secret beside each staff login, how to use it after the list.
    notes = {username: note for _label, username, _password, *note in ctx.logins}
    assert {username for username, note in notes.items() if note == [f"+ TOTP {demo.DEMO_TOTP_SECRET}"]} == (
        DEMO_USERNAMES
    )
    assert notes[resident.mobile] == []  # the resident signs in with their mobile number
    assert "demo0001" in "\n".join(ctx.login_notes)
