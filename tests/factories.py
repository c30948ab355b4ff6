"""factory_boy factories that build the whole chain: district → street → community →
compound → building → household → resident, and the party organisation on top.

Scoped rows never get ``street``/``community`` by hand: their ``save()`` derives them from
the parent. Every factory is unique per sequence number, so any number of them can be made
in one test. Users are created with :data:`PASSWORD`.
"""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Role, User
from accounts.roles import roles_changed
from baohe.validators import id_check_char
from communities.models import Building, Community, Compound, District, Household, Resident, Street
from partybuilding.models import Backbone, CentralHousehold, PartyBranch, PartyGroup, PartyMember
from service_requests.models import Category, ServiceRequest
from service_requests.models.clock import clocks_sync, schedule_accept, schedule_resolve

PASSWORD = "Baohe-test-2024!"  # every factory-made user signs in with this

# 340111 is Baohe District's administrative division code.
DISTRICT_CODE = "340111"
_BIRTH_BASE = datetime.date(1950, 1, 1)


def id_number_for(n):
    """A valid 18-character ID (GB 11643) unique for each n: region + birth date + sequence + check."""
    born = _BIRTH_BASE + datetime.timedelta(days=n // 1000)
    first17 = f"{DISTRICT_CODE}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def mobile_for(n):
    """A valid mainland mobile number unique for each n (139 followed by eight digits)."""
    return f"139{n:08d}"


# --- registry ---------------------------------------------------------------------------------
class DistrictFactory(DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    # One district (包河区) shared by every chain unless a test passes another code.
    code = f"{DISTRICT_CODE}000000"
    name = factory.LazyAttribute(lambda o: "包河区" if o.code == f"{DISTRICT_CODE}000000" else f"测试区{o.code}")


class StreetFactory(DjangoModelFactory):
    class Meta:
        model = Street

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"街道{n}")
    kind = Street.Kind.STREET
    code = factory.Sequence(lambda n: f"S{n:05d}")


class CommunityFactory(DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"社区{n}")
    code = factory.Sequence(lambda n: f"C{n:06d}")
    address = factory.LazyAttribute(lambda o: f"{o.name}党群服务中心")
    phone = factory.Sequence(lambda n: f"0551-6{n:07d}")


class CompoundFactory(DjangoModelFactory):
    class Meta:
        model = Compound

    # The parent FK of a compound is its (scoped) community column; street is derived.
    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"小区{n}")
    kind = Compound.Kind.COMMERCIAL
    grid = factory.Sequence(lambda n: f"网格{n}")
    address = factory.LazyAttribute(lambda o: f"包河区{o.name}")
    property_company = "和美物业"


class BuildingFactory(DjangoModelFactory):
    class Meta:
        model = Building

    compound = factory.SubFactory(CompoundFactory)
    number = factory.Sequence(lambda n: str(n + 1))
    units = 2
    floors = 6


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    building = factory.SubFactory(BuildingFactory)
    unit = 1
    room = factory.Sequence(lambda n: str(101 + n))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@baohe.example")
    password = factory.django.Password(PASSWORD)
    mobile = None


class ResidentFactory(DjangoModelFactory):
    class Meta:
        model = Resident

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"居民{n}")
    mobile = factory.Sequence(mobile_for)
    id_number = factory.Sequence(id_number_for)
    # Digit 17 of the ID is odd for men, even for women; birth year from digits 7-10.
    gender = factory.LazyAttribute(
        lambda o: Resident.Gender.MALE if int(o.id_number[16]) % 2 else Resident.Gender.FEMALE
    )
    birth_year = factory.LazyAttribute(lambda o: int(o.id_number[6:10]))
    relation = Resident.Relation.HEAD
    user = None


class RoleFactory(DjangoModelFactory):
    """A role; the default is community staff. Use the traits for the other kinds."""

    class Meta:
        model = Role

    user = factory.SubFactory(UserFactory)
    kind = Role.Kind.STAFF
    street = None
    community = factory.SubFactory(CommunityFactory)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        """Like the services (``accounts.audit.role_changed``): the user's cached roles are forgotten."""
        if create:
            roles_changed(instance.user_id)

    class Params:
        street_staff = factory.Trait(street=factory.SubFactory(StreetFactory), community=None)
        secretary = factory.Trait(kind=Role.Kind.SECRETARY)
        resident = factory.Trait(kind=Role.Kind.RESIDENT)
        street_official = factory.Trait(
            kind=Role.Kind.STREET_OFFICIAL, street=factory.SubFactory(StreetFactory), community=None
        )
        district_official = factory.Trait(kind=Role.Kind.DISTRICT_OFFICIAL, street=None, community=None)
        admin = factory.Trait(kind=Role.Kind.ADMIN, street=None, community=None)


# --- party organisation -----------------------------------------------------------------------
class PartyBranchFactory(DjangoModelFactory):
    class Meta:
        model = PartyBranch
        skip_postgeneration_save = True

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}党支部")
    kind = PartyBranch.Kind.COMPOUND

    @factory.post_generation
    def compounds(self, create, extracted, **kwargs):
        if create and extracted:
            self.compounds.set(extracted)


class PartyGroupFactory(DjangoModelFactory):
    class Meta:
        model = PartyGroup
        skip_postgeneration_save = True

    branch = factory.SubFactory(PartyBranchFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}党小组")
    kind = PartyGroup.Kind.BUILDING

    @factory.post_generation
    def buildings(self, create, extracted, **kwargs):
        if create and extracted:
            self.buildings.set(extracted)


class PartyMemberFactory(DjangoModelFactory):
    """A party member; the branch defaults to a new one in the resident's community."""

    class Meta:
        model = PartyMember

    resident = factory.SubFactory(ResidentFactory)
    branch = factory.SubFactory(PartyBranchFactory, community=factory.SelfAttribute("..resident.community"))
    group = None
    joined_on = factory.Sequence(lambda n: datetime.date(1990, 7, 1) + datetime.timedelta(days=30 * (n % 300)))


class CentralHouseholdFactory(DjangoModelFactory):
    """A central household: the member's own household."""

    class Meta:
        model = CentralHousehold
        skip_postgeneration_save = True

    member = factory.SubFactory(PartyMemberFactory)
    household = factory.SelfAttribute("member.resident.household")

    @factory.post_generation
    def served_households(self, create, extracted, **kwargs):
        if create and extracted:
            self.served_households.set(extracted)


class BackboneFactory(DjangoModelFactory):
    """A 千万工程 backbone; street and community come from the resident on save."""

    class Meta:
        model = Backbone

    resident = factory.SubFactory(ResidentFactory)
    kind = Backbone.Kind.PARTY
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    specialty = "调解"


# --- requests ---------------------------------------------------------------------------------
class CategoryFactory(DjangoModelFactory):
    """A second-level (leaf) category under a top level of its own; ``parent=None`` makes a top level."""

    class Meta:
        model = Category

    parent = factory.SubFactory("tests.factories.CategoryFactory", parent=None)
    name = factory.Sequence(lambda n: f"分类{n}")
    code = factory.Sequence(lambda n: f"test-{n}")
    accept_within_hours = 24
    resolve_within_days = 5


class ServiceRequestFactory(DjangoModelFactory):
    """A request row as it stands (no events): for reads and lists. Workflow tests use the services."""

    class Meta:
        model = ServiceRequest

    number = factory.Sequence(lambda n: f"BH-TEST-{n:06d}")
    category = factory.SubFactory(CategoryFactory)
    description = factory.Sequence(lambda n: f"楼道灯不亮（{n}）")
    compound = factory.SubFactory(CompoundFactory)
    building = None
    status = ServiceRequest.Status.SUBMITTED
    channel = ServiceRequest.Channel.ONLINE
    accept_due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=24))
    resolve_due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Saved as a loader would save it: its reminder clock scheduled from now (unless given)
        and the clock rows written, as the services do (``service_requests/models/clock.py``)."""
        request = model_class(*args, **kwargs)
        now = timezone.now()
        if request.accept_warn_at is None:
            schedule_accept(request, now)
        if request.resolve_warn_at is None:
            schedule_resolve(request, now)
        request.save()
        clocks_sync(request, new=True)
        return request
