"""Reaching the people who serve one's building (issue 16): the building head (楼栋长), the party
group leader (党小组长) and the party-member central household (党员中心户).

:class:`ContactConsent` records that one of them chose to publish a number to the households
they serve in one role: who, which number, when given and when withdrawn (withdrawable at any
time; a withdrawn consent stays as the record). While a consent is active, residents of the
served households see the full number as a ``tel:`` link, each display an audit line
(``selectors.add_contacts``); everyone else keeps the masked form.

:class:`ContactThread` and :class:`ContactMessage` are the messages a served resident leaves
them through the portal and the answers: a thread is visible to its two parties only (not to
staff, not to administrators), like a notification; each new message tells the other party
through the notifications outbox.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baohe.models import CommunityScopedModel
from baohe.scoping import ScopePaths


class ServerRole(models.TextChoices):
    BUILDING_HEAD = "building_head", _("楼栋长")
    GROUP_LEADER = "group_leader", _("党小组长")
    CENTRAL_HOUSEHOLD = "central_household", _("党员中心户")


class ContactConsent(CommunityScopedModel):
    """A server's consent to show one number in full to the households they serve in one role."""

    class NumberKind(models.TextChoices):
        MOBILE = "mobile", _("手机号")

    resident = models.ForeignKey(
        "communities.Resident", verbose_name=_("服务人"), on_delete=models.PROTECT, related_name="contact_consents"
    )
    role = models.CharField(_("身份"), max_length=24, choices=ServerRole.choices)
    number_kind = models.CharField(_("号码类型"), max_length=16, choices=NumberKind.choices, default=NumberKind.MOBILE)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("同意人"), on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField(_("同意时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    scope_parent = "resident"
    scope_paths = ScopePaths(
        street="street",
        community="community",
        in_compound="resident__household__compound",
        in_building="resident__household__building",
    )

    class Meta:
        verbose_name = _("号码公开同意")
        verbose_name_plural = _("号码公开同意")
        ordering = ("-given_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("resident", "role", "number_kind"),
                condition=Q(withdrawn_at=None),
                name="%(app_label)s_%(class)s_one_active",
                violation_error_message=_("您已同意公开这个号码。"),
            ),
        ]

    def __str__(self):
        return f"{self.resident} · {self.get_role_display()}"

    @property
    def active(self):
        return self.withdrawn_at is None


class ContactThreadQuerySet(models.QuerySet):
    def restrict(self, user, action="view"):
        """A thread belongs to its two parties alone: the resident who wrote and the server."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(Q(author=user) | Q(server__user=user))


class ContactThread(models.Model):
    """Messages between a served resident (``author``) and one of the people serving them."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("留言人"), on_delete=models.CASCADE, related_name="contact_threads"
    )
    household = models.ForeignKey(
        "communities.Household", verbose_name=_("留言人住户"), on_delete=models.CASCADE, related_name="+"
    )
    server = models.ForeignKey(
        "communities.Resident", verbose_name=_("服务人"), on_delete=models.CASCADE, related_name="contact_threads"
    )
    role = models.CharField(_("身份"), max_length=24, choices=ServerRole.choices)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("最近留言"))

    objects = ContactThreadQuerySet.as_manager()

    class Meta:
        verbose_name = _("留言")
        verbose_name_plural = _("留言")
        ordering = ("-last_message_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=("author", "server", "role"), name="%(app_label)s_%(class)s_one_per_pair"),
        ]
        indexes = [models.Index(fields=("server", "-last_message_at"), name="reach_thread_server_recent")]

    def __str__(self):
        return f"{self.author} → {self.server} ({self.get_role_display()})"

    def get_absolute_url(self):
        return reverse("reach:thread", args=[self.pk])


class ContactMessage(models.Model):
    """One message of a thread, by either party."""

    thread = models.ForeignKey(ContactThread, verbose_name=_("留言"), on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发送人"), on_delete=models.CASCADE, related_name="+"
    )
    body = models.TextField(_("内容"), max_length=1000)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("留言内容")
        verbose_name_plural = _("留言内容")
        ordering = ("created_at", "id")

    def __str__(self):
        return self.body[:40]
