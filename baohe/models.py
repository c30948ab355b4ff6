"""Base models every app builds on.

``BaseModel`` gives timestamps and the restricted manager. ``CommunityScopedModel`` adds
the denormalised ``street`` and ``community`` columns that scoping and dashboards filter on
without joining up the tree; they are derived in ``save()`` from ``scope_parent`` (the
field naming the row's parent, whose ``scope_ids()`` supplies both ids). A model that also
keeps a denormalised ``compound`` (a household, a visit) names the row it copies it from in
``compound_parent``; ``sync_scope()`` is the one place that copies it.
"""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .fields import validated_exclude, with_index_fields
from .scoping import RestrictedManager, ScopePaths


class BaseModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RestrictedManager()

    scope_paths = ScopePaths()
    # Constraint name -> the field its violation is shown on (instead of the whole form), e.g.
    # a duplicate building number belongs under "number", not at the top of the form.
    constraint_error_fields: dict = {}

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # An encrypted number saved with update_fields takes its blind index along (baohe.fields).
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = with_index_fields(type(self), kwargs["update_fields"])
        super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None):
        exclude = validated_exclude(type(self), exclude)
        if not self.constraint_error_fields:
            return super().validate_constraints(exclude=exclude)
        errors = {}
        using = router.db_for_write(type(self), instance=self)
        for constraint in self._meta.constraints:
            try:
                constraint.validate(type(self), self, exclude=exclude, using=using)
            except ValidationError as error:
                field = self.constraint_error_fields.get(constraint.name)
                if field and (not exclude or field not in exclude):
                    errors.setdefault(field, []).extend(error.messages)
                else:
                    for key, messages in error.update_error_dict({}).items():
                        errors.setdefault(key or NON_FIELD_ERRORS, []).extend(messages)
        if errors:
            raise ValidationError(errors)


class CommunityScopedModel(BaseModel):
    """A row that lives under one community. ``street``/``community`` follow ``scope_parent``."""

    street = models.ForeignKey(
        "communities.Street",
        verbose_name=_("街道"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    # Name of the FK whose target provides scope_ids(); subclasses set it.
    scope_parent: str | None = None
    # Name of the FK whose target's ``compound_id`` this row copies into its own (non-editable)
    # ``compound``: a household's building, a visit's household. ``None``: no such column.
    compound_parent: str | None = None

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.sync_scope()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            derived = ("street", "community", "compound") if self.compound_parent else ("street", "community")
            kwargs["update_fields"] = {*update_fields, *derived}
        super().save(*args, **kwargs)

    def scope_ids(self):
        return self.street_id, self.community_id

    def sync_scope(self):
        """Copy the compound (see ``compound_parent``), street and community from the parents;
        returns True when street or community changed."""
        if self.compound_parent and getattr(self, f"{self.compound_parent}_id"):
            self.compound_id = getattr(self, self.compound_parent).compound_id
        if not self.scope_parent:
            return False
        parent = getattr(self, self.scope_parent)
        if parent is None:
            return False
        ids = parent.scope_ids()
        changed = (self.street_id, self.community_id) != ids
        self.street_id, self.community_id = ids
        return changed


class AuditEntry(models.Model):
    """One line of the audit trail (ARCHITECTURE rule 5): who revealed, changed or exported which
    personal record, who signed in or failed to, from which client address, when and why.

    Rows are only ever added (``baohe.services.audit``); nothing edits them. ``changes`` holds
    ``{field: [old, new]}`` with personal values already masked; ``detail`` holds what an action
    needs besides (an export's table, row count and filters). ``street``/``community`` place the
    entry for the scoped 审计日志 page; both are empty for district-wide or account-level entries.
    """

    class Action(models.TextChoices):
        VIEW_PERSONAL = "view_personal", _("查看完整个人信息")
        EXPORT = "export", _("导出")
        CREATE = "create", _("新建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKED_OUT = "locked_out", _("登录被锁定")
        LOGIN_UNLOCK = "login_unlock", _("解除登录锁定")
        OTP_RESET = "otp_reset", _("重置双因素验证设备")
        TOKENS_REVOKED = "tokens_revoked", _("注销登录设备")
        ROLE_CHANGE = "role_change", _("角色变更")
        TRANSFER_LOOKUP = "transfer_lookup", _("跨社区查询（迁入）")
        DATA_DOWNLOAD = "data_download", _("下载本人信息")
        ANONYMISE = "anonymise", _("匿名化")
        IMPORT = "import", _("导入")

    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("用户"),
        on_delete=models.PROTECT,
        related_name="audit_entries",
        null=True,
        blank=True,
    )
    username = models.CharField(_("登录名"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    street = models.ForeignKey(
        "communities.Street",
        verbose_name=_("街道"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("object_type", "object_id"), name="baohe_audit_object"),
            models.Index(fields=("community", "-created_at"), name="baohe_audit_community"),
            models.Index(fields=("street", "-created_at"), name="baohe_audit_street"),
            models.Index(fields=("user", "-created_at"), name="baohe_audit_user"),
        ]

    def __str__(self):
        return f"{self.username or self.user_id} {self.action} {self.object_repr}"

    @property
    def reason_label(self):
        """The reason as people read it: a reveal's or a privileged export's reason is stored as
        its code (``baohe.personal.RevealReason``), any other reason as written."""
        from .personal import RevealReason

        try:
            return RevealReason(self.reason).label
        except ValueError:
            return self.reason


class ImportJob(CommunityScopedModel):
    """导入任务: one uploaded spreadsheet, its validation report, its dry run and its apply.

    The file itself is kept in the row (``content``, at most ``IMPORT_MAX_BYTES``), so the web
    server and any worker read the same bytes without a shared disk, and a re-run reads exactly
    what was checked (``sha256``). ``errors`` holds the report as ``[[row, column, message], …]``
    (row numbers as the spreadsheet shows them), ``plan`` the dry run's counts, ``result`` what
    the apply did. ``applied_rows`` is the apply's resume point: each batch of rows and the move
    of this counter commit together, so a failure part-way leaves every batch whole or absent
    and the next run starts after the last whole one. The job lies in the community it imports
    into (``scope_paths``): staff of another community get 404 for it.
    """

    class Kind(models.TextChoices):
        RESIDENTS = "residents", _("住户与居民")
        PARTY = "party", _("党员与中心户")
        FEES = "fees", _("物业费缴纳率")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("排队校验")
        VALIDATING = "validating", _("校验中")
        VALIDATED = "validated", _("已校验")
        APPLYING = "applying", _("导入中")
        APPLIED = "applied", _("已导入")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.RESIDENTS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    filename = models.CharField(_("文件名"), max_length=200)
    file_format = models.CharField(_("格式"), max_length=8)
    encoding = models.CharField(_("编码"), max_length=16, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("大小(字节)"))
    content = models.BinaryField(_("文件内容"), editable=False)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    checked_rows = models.PositiveIntegerField(_("已校验行数"), default=0)
    error_rows = models.PositiveIntegerField(_("有误行数"), default=0)
    errors = models.JSONField(_("校验报告"), default=list, blank=True)
    plan = models.JSONField(_("试运行结果"), default=dict, blank=True)
    applied_rows = models.PositiveIntegerField(_("已导入行数"), default=0)
    result = models.JSONField(_("导入结果"), default=dict, blank=True)
    failure = models.CharField(_("失败原因"), max_length=300, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("community", "-created_at"), name="baohe_importjob_community")]

    def __str__(self):
        return _("导入 #%(number)s %(file)s") % {"number": self.pk, "file": self.filename}

    def get_absolute_url(self):
        return reverse("communities:import_job", args=[self.pk])

    @property
    def busy(self):
        return self.status in (self.Status.UPLOADED, self.Status.VALIDATING, self.Status.APPLYING)

    @property
    def progress(self):
        """Whole percent of the current step (validation, then apply)."""
        if not self.total_rows:
            return 100 if self.status in (self.Status.VALIDATED, self.Status.APPLIED) else 0
        done = self.applied_rows if self.status in (self.Status.APPLYING, self.Status.APPLIED) else self.checked_rows
        return min(100, done * 100 // self.total_rows)

    @property
    def may_apply(self):
        return self.status == self.Status.VALIDATED and not self.error_rows and self.total_rows > 0

    @property
    def may_resume(self):
        return self.status == self.Status.FAILED and bool(self.plan) and not self.error_rows


def max_length(model: type[models.Model], name: str) -> int:
    """The ``max_length`` of ``model``'s text field ``name``, for services that check input
    before building the row (so the limit is the field's own, written once)."""
    length = getattr(model._meta.get_field(name), "max_length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return length


class StagedUpload(models.Model):
    """A checked photo held for a form that came back with an error (``baohe.staging``): it is
    shown again as a thumbnail and used on resubmit, referenced only by a signed token naming its
    owner. Deleted when the form succeeds, or by the nightly purge after a day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    file = models.FileField(_("文件"), upload_to="staged/%Y/%m/", max_length=200)
    name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=50)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("暂存的照片")
        verbose_name_plural = _("暂存的照片")

    def __str__(self):
        return self.name or self.file.name
