"""Notifications and their deliveries: the outbox the worker drains (ARCHITECTURE rule 3).

A :class:`Notification` is one message to one user, unique by ``dedupe_key`` (e.g.
``request:812:accept:overdue``) so that a scan run twice, or two scans at once, tell a person
once. It is written in the same transaction as whatever caused it; each channel the person
receives it on gets a :class:`Delivery` row (inbox, email, SMS) that the worker sends with
retries and backoff. The inbox channel needs no sending: the notification row *is* the inbox.

A notification may instead go to a bare ``mobile`` number with no account behind it (a
household with no account told of a confirmation-required notice, ``notices``): it has no
recipient, so no inbox shows it, and its one delivery is an SMS to that number (stored
encrypted, shown masked).

The inbox shows a notification in the reader's language: a notification written by the portal
keeps its title (and a templated body) as source text and parameters (``title_text``,
``body_text``: :mod:`baohe.texts`), rendered when read. ``title`` and ``body`` hold the Chinese
rendering, which the email and SMS channels send and which rows written before the stored
texts (or by hand) show as they are.
"""

from django.db import models
from django.db.models import JSONField, Q, Value
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baohe.fields import EncryptedCharField
from baohe.masking import mask_mobile
from baohe.texts import render


class NotificationQuerySet(models.QuerySet):
    def restrict(self, user, action="view"):
        """A notification belongs to its recipient alone: anyone else gets nothing (404), admins too."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at=None)


class Notification(models.Model):
    """One message to one person."""

    recipient = models.ForeignKey(
        "accounts.User",
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    # Only for a message to a number without an account (then ``recipient`` is empty).
    mobile = EncryptedCharField(_("手机号"), max_length=11, null=True, blank=True)
    kind = models.CharField(_("类型"), max_length=64)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    title_text = models.JSONField(_("标题模板"), default=dict, db_default=Value({}, JSONField()), blank=True)
    body_text = models.JSONField(_("内容模板"), default=dict, db_default=Value({}, JSONField()), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    PERSONAL_FIELDS = {"mobile": "mobile"}

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_recipient_or_mobile",
                condition=Q(recipient__isnull=False) | Q(mobile__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=("recipient", "-created_at"), name="notif_recipient_recent"),
            models.Index(fields=("recipient",), condition=Q(read_at=None), name="notif_recipient_unread"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("notifications:open", args=[self.pk])

    @property
    def display_title(self) -> str:
        """The title in the reader's language (the stored Chinese one for an old row)."""
        return render(self.title_text) or self.title

    @property
    def display_body(self) -> str:
        return render(self.body_text) or self.body

    @property
    def masked_mobile(self):
        return mask_mobile(self.mobile or "")

    @property
    def is_read(self):
        return self.read_at is not None


class Delivery(models.Model):
    """One channel of one notification: its sending state, attempts and last error."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("邮件")
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("无需发送")

    notification = models.ForeignKey(
        Notification, verbose_name=_("通知"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), db_index=False)
    last_error = models.TextField(_("最近错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投递")
        verbose_name_plural = _("投递")
        constraints = [
            models.UniqueConstraint(fields=("notification", "channel"), name="%(app_label)s_%(class)s_one_per_channel"),
        ]
        indexes = [
            models.Index(fields=("next_attempt_at",), condition=Q(status="pending"), name="notif_delivery_pending_due"),
        ]

    def __str__(self):
        return f"{self.notification_id}:{self.channel}:{self.status}"


class Preference(models.Model):
    """How a person wants to be told. Residents default to SMS; staff to the inbox and a daily digest."""

    user = models.OneToOneField(
        "accounts.User", verbose_name=_("用户"), on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(_("邮件通知"), default=False)
    sms = models.BooleanField(_("短信通知"), default=False)
    daily_digest = models.BooleanField(_("每日汇总邮件"), default=False)
    digest_sent_on = models.DateField(_("汇总发送日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")

    def __str__(self):
        return str(self.user)
