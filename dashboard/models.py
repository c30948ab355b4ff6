"""The dashboard's own state: monthly report jobs.

Dashboards read the domain and write nothing to it. A monthly report (月度报表) is different:
the worker builds it for minutes at district scale while the page shows its progress, and
the requester downloads it afterwards, so the request, its progress and the finished file
need a row that outlives one HTTP request. That row belongs to this app and to no domain
table; nothing else reads it.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ReportJob(models.Model):
    """月度报表任务: who asked for which month of which street (or the district), and the result."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("生成失败")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE, related_name="report_jobs"
    )
    street = models.ForeignKey(
        "communities.Street",
        verbose_name=_("街道"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("为空表示全区"),
    )
    month = models.DateField(_("月份"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0, validators=[MaxValueValidator(100)])
    step = models.CharField(_("当前步骤"), max_length=50, blank=True)
    file = models.FileField(_("文件"), upload_to="reports/", max_length=200, blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("月度报表任务")
        verbose_name_plural = _("月度报表任务")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("requested_by", "-created_at"), name="dashboard_report_requester")]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="%(app_label)s_%(class)s_progress"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.street or _('全区')}"

    def get_absolute_url(self):
        return reverse("dashboard:report", args=[self.pk])

    @property
    def place_name(self):
        return self.street.name if self.street_id else _("全区")

    @property
    def month_label(self):
        from .places import month_label

        return month_label(self.month)

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def download_name(self):
        return f"月度报表-{self.place_name}-{self.month:%Y-%m}.xlsx"
