"""The district registry: District → Street → Community → Compound → Building → Household → Resident.

Plain foreign keys with plural ``related_name``s, PROTECT where deleting must be refused,
named constraints, and cross-level checks in ``clean()``. Rows below a community carry
``street`` and ``community`` (``baohe.models.CommunityScopedModel``) kept in sync on save.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baohe.crypto import TAIL_DIGITS, blind_index
from baohe.fields import BlindIndexField, EncryptedCharField
from baohe.masking import mask_id_number, mask_mobile
from baohe.models import BaseModel, CommunityScopedModel
from baohe.scoping import RestrictedQuerySet, ScopePaths
from baohe.validators import mobile_validator, validate_id_number


class District(BaseModel):
    """区: the top of the tree (包河区)."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    code = models.CharField(_("区划代码"), max_length=12, unique=True)

    scope_paths = ScopePaths(street=None, community=None, public=True)

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = _("区")
        ordering = ("code",)

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("communities:district", args=[self.pk])


class Street(BaseModel):
    """街道、镇或大社区: a street-level unit of the district."""

    class Kind(models.TextChoices):
        STREET = "street", _("街道")
        TOWN = "town", _("镇")
        BIG_COMMUNITY = "big_community", _("大社区")

    district = models.ForeignKey(District, verbose_name=_("区"), on_delete=models.PROTECT, related_name="streets")
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.STREET)
    code = models.CharField(_("代码"), max_length=20, unique=True)

    scope_paths = ScopePaths(street="id", community=None, parent_street="id")

    class Meta:
        verbose_name = _("街道")
        verbose_name_plural = _("街道")
        ordering = ("code",)
        constraints = [
            models.UniqueConstraint(fields=("district", "name"), name="%(app_label)s_%(class)s_district_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("communities:street", args=[self.pk])

    def scope_ids(self):
        return self.pk, None


class Community(BaseModel):
    """社区: the unit that community staff work in."""

    street = models.ForeignKey(Street, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="communities")
    name = models.CharField(_("名称"), max_length=50)
    code = models.CharField(_("代码"), max_length=20, unique=True)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    phone = models.CharField(_("办公电话"), max_length=20, blank=True)

    scope_paths = ScopePaths(street="street", community="id")

    class Meta:
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        ordering = ("code",)
        constraints = [
            models.UniqueConstraint(fields=("street", "name"), name="%(app_label)s_%(class)s_street_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("communities:community", args=[self.pk])

    def scope_ids(self):
        return self.street_id, self.pk


class Compound(CommunityScopedModel):
    """小区: a residential compound (a grid, 网格, is a label on it)."""

    class Kind(models.TextChoices):
        COMMERCIAL = "commercial", _("商品房小区")
        RESETTLEMENT = "resettlement", _("回迁安置小区")
        OLD = "old", _("老旧小区")
        OTHER = "other", _("其他")

    # The parent community is the scoped row's own community column.
    community = models.ForeignKey(
        Community, verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="compounds"
    )
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.COMMERCIAL)
    grid = models.CharField(_("网格"), max_length=50, blank=True, help_text=_("网格名称或编号"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    property_company = models.CharField(_("物业公司"), max_length=100, blank=True)
    # Derived: the latest month's rate (``CompoundFeeRate``), kept by ``services.fees.fee_rate_record``.
    fee_collection_rate = models.DecimalField(
        _("物业费缴纳率(%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("最近一个月的缴纳率，由按月登记或导入的缴纳率得出。"),
    )
    fee_rate_month = models.DateField(_("缴纳率所属月份"), null=True, blank=True, editable=False)
    handed_over = models.PositiveSmallIntegerField(_("交付年份"), null=True, blank=True)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community", compound="id")

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        ordering = ("community_id", "name")
        constraints = [
            models.UniqueConstraint(fields=("community", "name"), name="%(app_label)s_%(class)s_community_name"),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_fee_rate_range",
                condition=Q(fee_collection_rate__isnull=True)
                | Q(fee_collection_rate__gte=0, fee_collection_rate__lte=100),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("communities:compound", args=[self.pk])


class CompoundFeeRate(CommunityScopedModel):
    """物业费缴纳率: one compound's property-fee collection rate for one month (entered by staff
    or imported from a spreadsheet). The compound's ``fee_collection_rate`` is the latest of these."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("手工登记")
        IMPORT = "import", _("表格导入")

    compound = models.ForeignKey(Compound, verbose_name=_("小区"), on_delete=models.CASCADE, related_name="fee_rates")
    month = models.DateField(_("月份"), help_text=_("该月第一天，如 2026-09-01"))
    rate = models.DecimalField(
        _("物业费缴纳率(%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.MANUAL, editable=False)
    entered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    scope_parent = "compound"
    scope_paths = ScopePaths(street="street", community="community", compound="compound")
    constraint_error_fields = {"communities_compoundfeerate_compound_month": "month"}

    class Meta:
        verbose_name = _("物业费缴纳率")
        verbose_name_plural = _("物业费缴纳率")
        ordering = ("compound_id", "-month")
        constraints = [
            models.UniqueConstraint(
                fields=("compound", "month"),
                name="%(app_label)s_%(class)s_compound_month",
                violation_error_message=_("这个小区该月的缴纳率已登记。"),
            ),
            models.CheckConstraint(name="%(app_label)s_%(class)s_rate_range", condition=Q(rate__gte=0, rate__lte=100)),
            models.CheckConstraint(name="%(app_label)s_%(class)s_first_of_month", condition=Q(month__day=1)),
        ]
        indexes = [models.Index(fields=("community", "month"), name="communities_feerate_scope")]

    def __str__(self):
        return f"{self.compound} {self.month:%Y-%m} {self.rate}%"

    def clean(self):
        super().clean()
        if self.month and self.month.day != 1:
            self.month = self.month.replace(day=1)


class Building(CommunityScopedModel):
    """楼栋: a building in a compound, by number, optionally named (和谐5栋)."""

    compound = models.ForeignKey(Compound, verbose_name=_("小区"), on_delete=models.PROTECT, related_name="buildings")
    number = models.CharField(_("楼栋号"), max_length=20, help_text=_("如 5 或 5A"))
    name = models.CharField(_("楼栋名称"), max_length=50, blank=True, help_text=_("如 和谐5栋"))
    units = models.PositiveSmallIntegerField(_("单元数"), default=1, validators=[MinValueValidator(1)])
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    head = models.ForeignKey(
        "Resident",
        verbose_name=_("楼栋长"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_buildings",
    )

    scope_parent = "compound"
    scope_paths = ScopePaths(street="street", community="community", compound="compound")
    constraint_error_fields = {"communities_building_compound_number": "number"}

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ("compound_id", Length("number"), "number")
        constraints = [
            models.UniqueConstraint(
                fields=("compound", "number"),
                name="%(app_label)s_%(class)s_compound_number",
                violation_error_message=_("本小区已有这个楼栋号。"),
            ),
        ]
        indexes = [models.Index(fields=("community", "compound"), name="communities_building_scope")]

    def __str__(self):
        return self.label

    @property
    def label(self):
        base = _("%(number)s栋") % {"number": self.number}
        return f"{base}（{self.name}）" if self.name else str(base)

    def get_absolute_url(self):
        return reverse("communities:building", args=[self.pk])

    def clean(self):
        super().clean()
        if self.head_id and self.pk and self.head.household.building_id != self.pk:
            raise ValidationError({"head": _("楼栋长必须是本楼栋的居民。")})
        if self.head_id and not self.pk:
            raise ValidationError({"head": _("请先保存楼栋，再指定本楼栋居民为楼栋长。")})


class Household(CommunityScopedModel):
    """户: one dwelling in a building, with the flags that drive visits.

    Who may edit it: ``Household.objects.restrict(user, "change")`` over ``scope_paths`` below,
    with the scope ``accounts.models.User.get_scope`` builds from roles: the staff and secretary
    of its community, the staff of its street, administrators and superusers. Officials and
    the people who live in it only see it.
    """

    building = models.ForeignKey(Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="households")
    compound = models.ForeignKey(
        Compound, verbose_name=_("小区"), on_delete=models.PROTECT, related_name="households", editable=False
    )
    unit = models.PositiveSmallIntegerField(_("单元"), default=1, validators=[MinValueValidator(1)])
    room = models.CharField(_("房号"), max_length=10)
    lives_alone_elderly = models.BooleanField(_("独居老人"), default=False)
    elderly = models.BooleanField(_("高龄"), default=False)
    disabled = models.BooleanField(_("残疾"), default=False)
    low_income = models.BooleanField(_("低保"), default=False)
    is_rented = models.BooleanField(_("出租户"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    archived_at = models.DateTimeField(
        _("归档时间"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("户内已无在住居民（全部迁出或去世）时归档；归档的住户不出现在默认列表和走访计划中。"),
    )

    scope_parent = "building"
    compound_parent = "building"
    scope_paths = ScopePaths(
        street="street", community="community", household="id", in_compound="compound", in_building="building"
    )
    constraint_error_fields = {"communities_household_building_room": "room"}

    FLAG_FIELDS = ("lives_alone_elderly", "elderly", "disabled", "low_income", "is_rented")

    class Meta:
        verbose_name = _("住户")
        verbose_name_plural = _("住户")
        ordering = ("building_id", "unit", Length("room"), "room")
        constraints = [
            models.UniqueConstraint(
                fields=("building", "unit", "room"),
                name="%(app_label)s_%(class)s_building_room",
                violation_error_message=_("本楼栋这个单元已有这个房号。"),
            ),
        ]
        indexes = [
            models.Index(fields=("community", "compound"), name="communities_household_scope"),
            models.Index(
                fields=("community",),
                condition=Q(lives_alone_elderly=True),
                name="communities_household_alone",
            ),
        ]

    def __str__(self):
        return _("%(building)s %(unit)s单元%(room)s室") % {
            "building": self.building.label,
            "unit": self.unit,
            "room": self.room,
        }

    @property
    def address(self):
        return _("%(unit)s单元%(room)s室") % {"unit": self.unit, "room": self.room}

    def get_absolute_url(self):
        return reverse("communities:household", args=[self.pk])

    def clean(self):
        super().clean()
        if self.building_id and self.unit and self.unit > self.building.units:
            raise ValidationError(
                {
                    "unit": _("%(building)s 只有 %(units)s 个单元。")
                    % {"building": self.building.label, "units": self.building.units}
                }
            )

    def flags(self):
        return [self._meta.get_field(name).verbose_name for name in self.FLAG_FIELDS if getattr(self, name)]


class ResidentQuerySet(RestrictedQuerySet):
    """Residents, with the exact lookups by mobile and ID number (the one place that knows how
    those columns are stored: encrypted, found through their blind index, ``baohe.crypto``).
    An empty number finds nobody."""

    def living(self):
        return self.filter(status=Resident.Status.LIVING)

    def with_mobile(self, mobile):
        index = blind_index("mobile", mobile)
        return self.filter(mobile_index=index) if index else self.none()

    def with_mobile_tail(self, digits):
        """Residents whose mobile number ends in these 4 digits (尾号), through its own blind index."""
        index = blind_index("mobile_tail", digits) if len(digits or "") == TAIL_DIGITS else None
        return self.filter(mobile_tail_index=index) if index else self.none()

    def with_id_number(self, id_number):
        index = blind_index("id_number", id_number)
        return self.filter(id_number_index=index) if index else self.none()


class Resident(CommunityScopedModel):
    """居民: a person living in a household. Mobile and ID number are shown masked.

    Both are stored encrypted (``baohe.fields.EncryptedCharField``) with a blind index beside
    each (``mobile_index``, ``id_number_index``) for exact lookup and the district-wide
    uniqueness of ID numbers; look residents up by number only through ``ResidentQuerySet``.

    ``status`` is 在住 until a service (``communities.services.resident_move_away`` /
    ``resident_record_death``) records that the person moved away or died, on ``left_on``;
    ``RESIDENT_RETENTION_MONTHS`` after that the nightly task anonymises the row
    (``resident_anonymise``), which keeps it (and every count it is in) but not who it was.
    """

    class Status(models.TextChoices):
        LIVING = "living", _("在住")
        MOVED_AWAY = "moved_away", _("迁出")
        DECEASED = "deceased", _("去世")

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        TENANT = "tenant", _("租户")
        OTHER = "other", _("其他")

    household = models.ForeignKey(Household, verbose_name=_("住户"), on_delete=models.PROTECT, related_name="residents")
    name = models.CharField(_("姓名"), max_length=50)
    mobile = EncryptedCharField(
        _("手机号"), max_length=11, blank=True, validators=[mobile_validator], index_kind="mobile"
    )
    mobile_index = BlindIndexField(_("手机号索引"), source="mobile", kind="mobile")
    # The last 4 digits (the part a masked number shows), keyed like the whole number: staff
    # search a resident by 尾号 (``ResidentQuerySet.with_mobile_tail``) without any clear digits stored.
    mobile_tail_index = BlindIndexField(_("手机尾号索引"), source="mobile", kind="mobile_tail")
    id_number = EncryptedCharField(
        _("身份证号"), max_length=18, blank=True, validators=[validate_id_number], index_kind="id_number"
    )
    id_number_index = BlindIndexField(_("身份证号索引"), source="id_number", kind="id_number")
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("出生年份"), null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices, default=Relation.HEAD)
    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("登录账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident_records",
    )
    # db_default: a release from before this column still inserts residents while it is added.
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=Status.choices,
        default=Status.LIVING,
        db_default=Status.LIVING,
        editable=False,
    )
    left_on = models.DateField(_("迁出/去世日期"), null=True, blank=True, editable=False)
    anonymised_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True, editable=False)

    objects = ResidentQuerySet.as_manager()

    scope_parent = "household"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        household="household",
        in_compound="household__compound",
        in_building="household__building",
    )
    # The ID number is unique across the district (the constraint below holds it in the
    # database), but *answering* a duplicate depends on who asks: inside their scope the
    # resident is named, outside it the answer is an audited, rate-limited move-in lookup
    # (``communities.services.resident_id_number_check``). So ``full_clean()`` leaves this
    # constraint to that check and never answers it with the district-wide message.
    ID_NUMBER_CONSTRAINT = "communities_resident_unique_id_number"
    # Shown masked everywhere; revealed one record at a time (baohe.personal).
    PERSONAL_FIELDS = {"mobile": "mobile", "id_number": "id_number"}

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("id_number_index",),
                condition=Q(id_number_index__isnull=False),
                name="%(app_label)s_%(class)s_unique_id_number",
                violation_error_message=_("该身份证号已登记在另一位居民名下。"),
            ),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_left_on_with_status",
                condition=Q(status="living", left_on__isnull=True) | (~Q(status="living") & Q(left_on__isnull=False)),
            ),
        ]
        indexes = [
            models.Index(
                fields=("left_on",),
                condition=~Q(status="living") & Q(anonymised_at__isnull=True),
                name="communities_resident_to_anon",
            ),
            # A plain B-tree (no varchar_pattern_ops twin: an HMAC is never searched by prefix).
            models.Index(fields=("mobile_index",), name="communities_resident_mobile_ix"),
            # 尾号 search: the tail first (district-wide for officials), then the community (staff).
            models.Index(fields=("mobile_tail_index", "community"), name="communities_resident_tail_ix"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("communities:resident", args=[self.pk])

    def save(self, *args, **kwargs):
        self.id_number = (self.id_number or "").upper()
        super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None):
        answered_elsewhere = next(c for c in self._meta.constraints if c.name == self.ID_NUMBER_CONSTRAINT)
        # The constraint is on the blind index; leaving out the number too keeps
        # BaseModel.validate_constraints from putting the index back (baohe.fields.validated_exclude).
        super().validate_constraints(exclude={*(exclude or ()), *answered_elsewhere.fields, "id_number"})

    @property
    def masked_mobile(self):
        return mask_mobile(self.mobile)

    @property
    def masked_id_number(self):
        return mask_id_number(self.id_number)


class ResidentTransfer(CommunityScopedModel):
    """迁入申请: staff of one community ask the community where a person is registered to move
    them (with their history) into a household of their own.

    The row lies in the requesting side's community (``street``/``community`` follow
    ``to_household``) and is seen from both sides: ``source_street``/``source_community`` (where
    the person was registered when asked) grant sight too (``ScopePaths.other_*``). Until it is
    approved the requesting side knows the person only by a masked name. Every change of state
    is a service in ``communities.services`` (``transfer_request``, ``transfer_approve``,
    ``transfer_reject``, ``transfer_cancel``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        APPROVED = "approved", _("已同意")
        REJECTED = "rejected", _("已拒绝")
        CANCELLED = "cancelled", _("已撤回")

    resident = models.ForeignKey(Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="transfers")
    source_street = models.ForeignKey(
        Street, verbose_name=_("迁出街道"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    source_community = models.ForeignKey(
        Community, verbose_name=_("迁出社区"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    to_household = models.ForeignKey(
        Household, verbose_name=_("迁入住户"), on_delete=models.PROTECT, related_name="incoming_transfers"
    )
    requested_by = models.ForeignKey(
        "accounts.User", verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("申请事由"), max_length=200)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    note = models.CharField(_("处理意见"), max_length=200, blank=True)

    scope_parent = "to_household"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        other_street="source_street",
        other_community="source_community",
        in_compound="to_household__compound",
        in_building="to_household__building",
    )

    class Meta:
        verbose_name = _("迁入申请")
        verbose_name_plural = _("迁入申请")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("resident",),
                condition=Q(status="pending"),
                name="%(app_label)s_%(class)s_one_pending",
                violation_error_message=_("该居民已有待处理的迁入申请。"),
            ),
        ]
        indexes = [
            models.Index(fields=("source_community", "status"), name="communities_transfer_source"),
            models.Index(fields=("community", "status"), name="communities_transfer_target"),
        ]

    def __str__(self):
        return _("迁入申请 #%(number)s") % {"number": self.pk}

    def get_absolute_url(self):
        return reverse("communities:transfer", args=[self.pk])
