"""The request summary behind the dashboards: counters per place, category and month.

``service_requests/summary.py`` defines each counter (and the month it is counted in) and keeps
the rows current with every step; these are only the tables.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from baohe.scoping import RestrictedManager, ScopePaths

from .categories import Category


class RequestCounters(models.Model):
    """What a summary row counts for its place and month; ``summary.py`` defines each counter
    (and the month it is counted in) and keeps the rows current."""

    received = models.IntegerField(_("受理"), default=0)
    accepted = models.IntegerField(_("已签收"), default=0)
    accepted_on_time = models.IntegerField(_("按时签收"), default=0)
    resolved = models.IntegerField(_("办结"), default=0)
    resolved_on_time = models.IntegerField(_("按期办结"), default=0)
    rated = models.IntegerField(_("评价"), default=0)
    solved = models.IntegerField(_("解决"), default=0)
    partly = models.IntegerField(_("部分解决"), default=0)
    satisfied = models.IntegerField(_("满意(含基本满意)"), default=0)
    closed = models.IntegerField(_("关闭"), default=0)
    returned = models.IntegerField(_("退单"), default=0)
    reopened = models.IntegerField(_("重办"), default=0)
    urged = models.IntegerField(_("催办"), default=0, db_default=0)
    supervised = models.IntegerField(_("督办"), default=0, db_default=0)
    supervised_resolved = models.IntegerField(_("督办后办结"), default=0, db_default=0)
    supervised_on_time = models.IntegerField(_("督办后按期办结"), default=0, db_default=0)

    objects = RestrictedManager()

    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        abstract = True


class RequestSummary(RequestCounters):
    """诉求统计（小区 · 一级分类 · 月）: the finest summary row, read by a compound's dashboard."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.CASCADE, related_name="+"
    )
    compound = models.ForeignKey(
        "communities.Compound", verbose_name=_("小区"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(Category, verbose_name=_("一级分类"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    scope_paths = ScopePaths(street="street", community="community", in_compound="compound")

    class Meta:
        verbose_name = _("诉求统计（小区）")
        verbose_name_plural = _("诉求统计（小区）")
        constraints = [
            models.UniqueConstraint(fields=("compound", "category", "month"), name="sr_summary_key"),
        ]

    def __str__(self):
        return f"{self.compound_id} {self.category_id} {self.month:%Y-%m}"


class RequestStreetSummary(RequestCounters):
    """诉求统计（街道 · 一级分类 · 月）: the district's and a street's totals, trends, rankings of
    streets and category breakdowns."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, verbose_name=_("一级分类"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    # A street's totals are its officials' (and the district's), not its communities' staff's.
    scope_paths = ScopePaths(street="street", community=None)

    class Meta:
        verbose_name = _("诉求统计（街道）")
        verbose_name_plural = _("诉求统计（街道）")
        constraints = [
            models.UniqueConstraint(fields=("street", "category", "month"), name="sr_street_summary_key"),
        ]

    def __str__(self):
        return f"{self.street_id} {self.category_id} {self.month:%Y-%m}"


class RequestCommunitySummary(RequestCounters):
    """诉求统计（社区 · 一级分类 · 月）: a street's ranking of communities, a community's categories."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(Category, verbose_name=_("一级分类"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("诉求统计（社区）")
        verbose_name_plural = _("诉求统计（社区）")
        constraints = [
            models.UniqueConstraint(fields=("community", "category", "month"), name="sr_community_summary_key"),
        ]
        indexes = [models.Index(fields=("street", "month"), name="sr_community_summary_street")]

    def __str__(self):
        return f"{self.community_id} {self.category_id} {self.month:%Y-%m}"


class RequestCompoundSummary(RequestCounters):
    """诉求统计（小区 · 月）: the compound rankings ("ten compounds with most requests")."""

    street = models.ForeignKey("communities.Street", verbose_name=_("街道"), on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", verbose_name=_("社区"), on_delete=models.CASCADE, related_name="+"
    )
    compound = models.ForeignKey(
        "communities.Compound", verbose_name=_("小区"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("月份"))

    scope_paths = ScopePaths(street="street", community="community", in_compound="compound")

    class Meta:
        verbose_name = _("诉求统计（小区月度）")
        verbose_name_plural = _("诉求统计（小区月度）")
        constraints = [
            models.UniqueConstraint(fields=("compound", "month"), name="sr_compound_summary_key"),
        ]
        indexes = [
            models.Index(fields=("community", "month"), name="sr_compound_summary_comm"),
            models.Index(fields=("street", "month"), name="sr_compound_summary_street"),
        ]

    def __str__(self):
        return f"{self.compound_id} {self.month:%Y-%m}"
