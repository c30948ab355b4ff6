"""四美一好: the district's merit rating of buildings and their party groups.

The district sets the :class:`Criterion` set with weights (administrators, in the admin); until
it has, the default set :data:`DEFAULT_CRITERIA` is created when the first round opens
(``services.criteria_ensure_defaults``): 环境美, 邻里美, 家风美, 志愿美 and 服务好, from the
practice the article describes. A community opens a :class:`RatingRound` per quarter; its branch and the
residents' representatives score each building (:class:`BuildingRating`, one
:class:`CriterionScore` per criterion, notes and photos through ``baohe.uploads``); the
community secretary approves the round, which fixes who passed. A building that passed an
approved round carries the 四美一好 badge of that year. Every step is a service
(``ratings.services``) that writes a :class:`RatingEvent`.

Scope: rounds, ratings, scores, photos and events belong to one community (``street`` and
``community`` columns); residents reach only the public parts (the badge and the approved
results on the compound board) through ``ratings.selectors``, never these rows.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baohe.models import BaseModel, CommunityScopedModel
from baohe.scoping import ScopePaths
from baohe.validators import validate_text

SCORE_MAX = 100
DEFAULT_PASS_SCORE = 85

#: The district's default 四美一好 set: (code, name, what is scored, weight). From the article's
#: practice in 和谐5栋: a tidy, orderly building (it was "脏乱差" with cars parked anywhere),
#: neighbours who no longer quarrel, family virtue, residents drawn into activities and
#: volunteering, and the building party group serving every household (visits, WeChat group,
#: requests answered). Weights add to 100.
DEFAULT_CRITERIA = (
    ("environment", "环境美", "楼道整洁无堆物、车辆有序停放、绿化卫生维护", 25),
    ("neighbourhood", "邻里美", "邻里和睦、矛盾少、互帮互助、纠纷及时调解", 25),
    ("family", "家风美", "家庭和睦、尊老爱幼、文明家风", 15),
    ("volunteering", "志愿美", "居民参加志愿服务和楼栋文化活动", 15),
    ("service", "服务好", "楼栋党小组和党员中心户入户走访、收集回应诉求、联系服务每一户", 20),
)


class Criterion(BaseModel):
    """One criterion of the district's 四美一好 set, with its weight (the weights need not add to 100:
    a building's score is the weighted mean)."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    description = models.CharField(_("评分要点"), max_length=200, blank=True)
    weight = models.DecimalField(
        _("权重"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0.01), MaxValueValidator(100)]
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    scope_paths = ScopePaths(street=None, community=None, public=True)

    class Meta:
        verbose_name = _("四美一好评分项")
        verbose_name_plural = _("四美一好评分项")
        ordering = ("order", "id")
        constraints = [
            models.CheckConstraint(name="%(app_label)s_%(class)s_weight_positive", condition=Q(weight__gt=0))
        ]

    def __str__(self):
        return self.name


class RatingRound(CommunityScopedModel):
    """One community's evaluation round for one quarter: open for scoring, then approved."""

    class Status(models.TextChoices):
        OPEN = "open", _("评分中")
        APPROVED = "approved", _("已审定")

    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="rating_rounds"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(_("季度"), validators=[MinValueValidator(1), MaxValueValidator(4)])
    pass_score = models.DecimalField(
        _("达标分数"),
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_PASS_SCORE,
        validators=[MinValueValidator(0), MaxValueValidator(SCORE_MAX)],
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, editable=False)
    opened_by = models.ForeignKey(
        "accounts.User", verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    approved_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("审定人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    approved_at = models.DateTimeField(_("审定时间"), null=True, blank=True, editable=False)

    scope_parent = "community"
    scope_paths = ScopePaths(street="street", community="community")
    constraint_error_fields = {"ratings_ratinground_community_period": "quarter"}

    class Meta:
        verbose_name = _("四美一好评定轮次")
        verbose_name_plural = _("四美一好评定轮次")
        ordering = ("-year", "-quarter", "community_id")
        constraints = [
            models.UniqueConstraint(
                fields=("community", "year", "quarter"),
                name="%(app_label)s_%(class)s_community_period",
                violation_error_message=_("本社区这个季度已有评定轮次。"),
            ),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_quarter_range", condition=Q(quarter__gte=1, quarter__lte=4)
            ),
        ]
        indexes = [models.Index(fields=("year", "quarter", "status"), name="ratings_round_period")]

    def __str__(self):
        return f"{self.community} · {self.period_label}"

    @property
    def period_label(self):
        return _("%(year)s年第%(quarter)s季度") % {"year": self.year, "quarter": self.quarter}

    def get_absolute_url(self):
        return reverse("ratings:round", args=[self.pk])


class BuildingRating(CommunityScopedModel):
    """One building's rating in one round; ``score`` is the weighted mean of its criterion scores,
    ``passed`` is fixed when the secretary approves the round."""

    round = models.ForeignKey(RatingRound, verbose_name=_("评定轮次"), on_delete=models.CASCADE, related_name="ratings")
    building = models.ForeignKey(
        "communities.Building", verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="merit_ratings"
    )
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=2, editable=False)
    passed = models.BooleanField(_("达标"), null=True, editable=False)
    representatives = models.PositiveSmallIntegerField(
        _("参评居民代表人数"), default=0, validators=[MaxValueValidator(200)]
    )
    note = models.TextField(_("评语"), max_length=2000, blank=True, validators=[validate_text])
    scored_by = models.ForeignKey(
        "accounts.User", verbose_name=_("评分人"), on_delete=models.PROTECT, related_name="+", editable=False
    )

    scope_parent = "round"
    scope_paths = ScopePaths(
        street="street", community="community", in_compound="building__compound", in_building="building"
    )

    class Meta:
        verbose_name = _("楼栋评定")
        verbose_name_plural = _("楼栋评定")
        ordering = ("round_id", "-score", "building_id")
        constraints = [
            models.UniqueConstraint(fields=("round", "building"), name="%(app_label)s_%(class)s_round_building"),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_score_range", condition=Q(score__gte=0, score__lte=SCORE_MAX)
            ),
        ]
        indexes = [models.Index(fields=("building", "passed"), name="ratings_rating_badge")]

    def __str__(self):
        return f"{self.building} · {self.score}"


class CriterionScore(CommunityScopedModel):
    """One criterion's score (0–100) for one building in one round, with the weight it counted with."""

    rating = models.ForeignKey(
        BuildingRating, verbose_name=_("楼栋评定"), on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(Criterion, verbose_name=_("评分项"), on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(
        _("分数"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(SCORE_MAX)]
    )
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=2, editable=False)

    scope_parent = "rating"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("评分项得分")
        verbose_name_plural = _("评分项得分")
        ordering = ("rating_id", "criterion__order", "criterion_id")
        constraints = [
            models.UniqueConstraint(fields=("rating", "criterion"), name="%(app_label)s_%(class)s_rating_criterion"),
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_score_range", condition=Q(score__gte=0, score__lte=SCORE_MAX)
            ),
        ]

    def __str__(self):
        return f"{self.criterion}: {self.score}"


class RatingPhoto(CommunityScopedModel):
    """A photo of a building's rating (a tidy stairwell, an activity), checked by ``baohe.uploads``."""

    rating = models.ForeignKey(
        BuildingRating, verbose_name=_("楼栋评定"), on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField(_("文件"), upload_to="ratings/%Y/%m/", max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小(字节)"))
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))

    scope_parent = "rating"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("评定照片")
        verbose_name_plural = _("评定照片")
        ordering = ("id",)

    def __str__(self):
        return self.file.name

    def get_absolute_url(self):
        return reverse("ratings:photo", args=[self.pk])


class RatingEvent(CommunityScopedModel):
    """What happened to a round, and who did it: opened, a building scored, approved."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("发起评定")
        SCORED = "scored", _("楼栋评分")
        APPROVED = "approved", _("书记审定")

    round = models.ForeignKey(RatingRound, verbose_name=_("评定轮次"), on_delete=models.CASCADE, related_name="events")
    rating = models.ForeignKey(
        BuildingRating,
        verbose_name=_("楼栋评定"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=10, choices=Kind.choices)
    by = models.ForeignKey("accounts.User", verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+")
    message = models.CharField(_("说明"), max_length=200, blank=True)

    scope_parent = "round"
    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("评定事件")
        verbose_name_plural = _("评定事件")
        ordering = ("round_id", "created_at", "id")

    def __str__(self):
        return f"{self.round} · {self.get_kind_display()}"
