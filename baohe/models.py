"""Base models every app builds on.

``BaseModel`` gives timestamps and the restricted manager. ``CommunityScopedModel`` adds
the denormalised ``street`` and ``community`` columns that scoping and dashboards filter on
without joining up the tree; they are derived in ``save()`` from ``scope_parent`` (the
field naming the row's parent, whose ``scope_ids()`` supplies both ids). A model that also
keeps a denormalised ``compound`` (a household, a visit) names the row it copies it from in
``compound_parent``; ``sync_scope()`` is the one place that copies it.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router
from django.utils.translation import gettext_lazy as _

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

    def validate_constraints(self, exclude=None):
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
    """Who read or changed which personal record, when and from where (rule 5)."""

    class Action(models.TextChoices):
        VIEW_PERSONAL = "view_personal", _("查看个人完整信息")
        EXPORT = "export", _("导出")
        LOGIN_UNLOCK = "login_unlock", _("解除登录锁定")
        OTP_RESET = "otp_reset", _("重置双因素验证设备")
        TOKENS_REVOKED = "tokens_revoked", _("注销登录设备")

    user = models.ForeignKey(
        "accounts.User", verbose_name=_("用户"), on_delete=models.PROTECT, related_name="audit_entries"
    )
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=100)
    object_id = models.CharField(_("对象编号"), max_length=64)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("object_type", "object_id"), name="baohe_audit_object")]

    def __str__(self):
        return f"{self.user} {self.action} {self.object_repr}"


def max_length(model: type[models.Model], name: str) -> int:
    """The ``max_length`` of ``model``'s text field ``name``, for services that check input
    before building the row (so the limit is the field's own, written once)."""
    length = getattr(model._meta.get_field(name), "max_length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return length
