"""Open311 GeoReport v2 client keys (the endpoints are ``open311.py``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Open311Key(models.Model):
    """An API key for an Open311 GeoReport v2 client (``manage.py open311_key create NAME``)."""

    name = models.CharField(_("客户端名称"), max_length=100, unique=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True)
    prefix = models.CharField(_("密钥前缀"), max_length=8)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("代表账号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="open311_keys",
        help_text=_("以此账号的名义提交诉求"),
    )

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
