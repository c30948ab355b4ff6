"""Users, their roles and the scope each role gives.

Residents sign in with their mobile number, staff with a username (both work in the same
login form). A :class:`Role` gives a user a kind of work and where it applies (a street or a
community); :meth:`User.get_scope` turns the roles into the :class:`~baohe.scoping.Scope`
that every ``restrict()`` call uses.

A session and an API token live only as long as the credentials they were issued against:
:meth:`User.get_session_auth_hash` is an HMAC of the password hash *and*
``credentials_version``, so any ``set_password`` (the password page, the admin, ``manage.py
changepassword``) or a bump of the version (second-factor reset, account disabled, "sign out
everywhere", see :mod:`accounts.tokens`) ends every session (Django checks the hash on each
request) and every :class:`ApiToken` (which stores the hash it was issued with).
"""

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from baohe.crypto import blind_index
from baohe.fields import BlindIndexField, EncryptedCharField, validated_exclude, with_index_fields
from baohe.masking import redact_numbers
from baohe.models import BaseModel
from baohe.scoping import VIEW, Scope, ScopePaths, may_change_anything
from baohe.validators import mobile_validator


class UserQuerySet(models.QuerySet):
    def with_mobile(self, mobile):
        """The account with this mobile number (through its blind index); none for an empty one."""
        index = blind_index("mobile", mobile)
        return self.filter(mobile_index=index) if index else self.none()


class PortalUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


def opaque_username() -> str:
    """A resident's username: random, not their mobile number (they sign in with the mobile)."""
    return f"resident_{secrets.token_hex(6)}"


class User(AbstractUser):
    """A person who signs in: a resident (by mobile number) or staff (by username).

    The mobile number is stored encrypted with a blind index (``mobile_index``, unique) for
    sign-in and the duplicate check; a resident's username is opaque (:func:`opaque_username`).
    """

    name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = EncryptedCharField(
        _("手机号"), max_length=11, null=True, blank=True, validators=[mobile_validator], index_kind="mobile"
    )
    mobile_index = BlindIndexField(_("手机号索引"), source="mobile", kind="mobile")
    credentials_version = models.PositiveIntegerField(
        _("凭据版本"),
        default=0,
        editable=False,
        help_text=_("每次加一都会结束该用户的所有登录会话和 API 令牌。"),
    )
    elder_mode = models.BooleanField(
        _("长辈版"),
        default=False,
        db_default=False,
        help_text=_("大字、大按钮、简化的首页（适老化）；在登录页和菜单里切换。"),
    )

    objects = PortalUserManager()

    # Shown masked everywhere (baohe.personal).
    PERSONAL_FIELDS = {"mobile": "mobile"}

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=("mobile_index",),
                condition=Q(mobile_index__isnull=False),
                name="accounts_user_unique_mobile",
                violation_error_message=_("该手机号已被另一个账号使用。"),
            ),
        ]

    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = with_index_fields(type(self), kwargs["update_fields"])
        super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None):
        """The unique mobile (on its blind index) is reported on the ``mobile`` field."""
        try:
            super().validate_constraints(exclude=validated_exclude(type(self), exclude))
        except ValidationError as error:
            if exclude and "mobile" in exclude:
                raise
            raise ValidationError(
                {
                    ("mobile" if key in (NON_FIELD_ERRORS, "mobile_index") else key): messages
                    for key, messages in error.update_error_dict({}).items()
                }
            ) from None

    def __str__(self):
        # A resident's username is their mobile number: shown masked (ARCHITECTURE rule 5).
        return self.name or redact_numbers(self.username)

    def get_full_name(self):
        return self.name or redact_numbers(self.username)

    # --- sessions and tokens end with the credentials ---------------------------------------
    _SESSION_HASH_SALT = "accounts.User.get_session_auth_hash"

    def _credentials_hash(self, secret=None):
        return salted_hmac(
            self._SESSION_HASH_SALT, f"{self.password}:{self.credentials_version}", secret=secret, algorithm="sha256"
        ).hexdigest()

    def get_session_auth_hash(self):
        """Changes with the password and with ``credentials_version`` (see the module docstring)."""
        return self._credentials_hash()

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._credentials_hash(secret=fallback_secret)

    # --- roles and scope -------------------------------------------------------------------
    def _roles(self):
        cached = self.__dict__.get("_roles_cache")
        if cached is None:
            from .roles import roles_of  # the roles cache (accounts/roles.py) imports this module

            cached = roles_of(self)
            self.__dict__["_roles_cache"] = cached
        return cached

    def role_kinds(self):
        return {role.kind for role in self._roles()}

    @property
    def is_portal_staff(self):
        """Works in the portal (staff, secretary, officials, admin), as opposed to a resident."""
        return self.is_superuser or bool(self.role_kinds() & Role.Kind.staff_kinds())

    @property
    def needs_second_factor(self):
        """Every non-resident account signs in with a second factor (see accounts.two_factor)."""
        return bool(self.is_superuser or self.is_staff or self.is_portal_staff)

    @property
    def is_official(self):
        return self.is_superuser or bool(self.role_kinds() & {Role.Kind.STREET_OFFICIAL, Role.Kind.DISTRICT_OFFICIAL})

    @property
    def is_read_only(self):
        """An official with no working role (staff, secretary, admin): reads everything in their
        scope and writes nothing, so pages offer them no write links (代录诉求, 修改 …)."""
        kinds = self.role_kinds()
        officials = {Role.Kind.STREET_OFFICIAL, Role.Kind.DISTRICT_OFFICIAL}
        workers = {Role.Kind.STAFF, Role.Kind.SECRETARY, Role.Kind.ADMIN}
        return not self.is_superuser and bool(kinds & officials) and not kinds & workers

    @property
    def may_change_anything(self):
        """Changes something somewhere (staff of a street or community, administrators): pages
        offer "add" links such as 代录诉求 only then; read-only officials do not (no query)."""
        return may_change_anything(self)

    @property
    def is_secretary(self):
        """A community secretary (or a superuser): decides extensions (审批). No query."""
        return self.is_superuser or Role.Kind.SECRETARY in self.role_kinds()

    @property
    def can_manage_lockouts(self):
        """Sees and lifts login locks (``accounts.lockout``): secretaries (their community) and admins."""
        return self.is_superuser or bool(self.role_kinds() & {Role.Kind.ADMIN, Role.Kind.SECRETARY})

    @property
    def reads_audit_trail(self):
        """Opens the 审计日志 page: secretaries, street and district officials, administrators
        (which lines: ``accounts.selectors.audit_entries_for``)."""
        kinds = {Role.Kind.ADMIN, Role.Kind.DISTRICT_OFFICIAL, Role.Kind.SECRETARY, Role.Kind.STREET_OFFICIAL}
        return self.is_active and (self.is_superuser or bool(self.role_kinds() & kinds))

    @property
    def is_resident(self):
        return Role.Kind.RESIDENT in self.role_kinds()

    def get_scope(self, action=VIEW):
        cache = self.__dict__.setdefault("_scope_cache", {})
        if action not in cache:
            cache[action] = self._build_scope(action)
        return cache[action]

    def _build_scope(self, action):
        if not self.is_active:
            return Scope()
        streets, communities, parents = set(), set(), set()
        everything = False
        resident = False
        for role in self._roles():
            kind = role.kind
            if kind == Role.Kind.ADMIN:
                everything = True
            elif kind == Role.Kind.DISTRICT_OFFICIAL:
                everything = everything or action == VIEW
            elif kind == Role.Kind.STREET_OFFICIAL:
                if action == VIEW:
                    streets.add(role.street_id)
            elif kind in (Role.Kind.STAFF, Role.Kind.SECRETARY):
                if role.street_id:
                    streets.add(role.street_id)
                if role.community_id:
                    communities.add(role.community_id)
                    if action == VIEW:
                        parents.add(role.community_street_id)
            elif kind == Role.Kind.RESIDENT:
                resident = True
        if everything:
            return Scope(everything=True, user_id=self.pk)
        households, compounds = set(), set()
        if resident and action == VIEW:
            for household_id, compound_id in self.resident_records.values_list(
                "household_id", "household__compound_id"
            ):
                households.add(household_id)
                compounds.add(compound_id)
        staff_like = bool(streets or communities)
        return Scope(
            street_ids=frozenset(streets),
            community_ids=frozenset(communities),
            parent_street_ids=frozenset(parents - streets),
            compound_ids=frozenset(compounds),
            household_ids=frozenset(households),
            user_id=self.pk,
            public=action == VIEW and (staff_like or resident),
        )

    def scope_label(self):
        """A short description of where this user works, for the navigation bar."""
        labels = [str(role) for role in self._roles()]
        return "；".join(labels)


class Role(BaseModel):
    """One kind of work for one user, with where it applies."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("居民")
        STAFF = "staff", _("社区工作者/网格员")
        SECRETARY = "secretary", _("社区书记")
        STREET_OFFICIAL = "street_official", _("街道领导")
        DISTRICT_OFFICIAL = "district_official", _("区领导")
        ADMIN = "admin", _("管理员")

        @classmethod
        def staff_kinds(cls):
            return {cls.STAFF, cls.SECRETARY, cls.STREET_OFFICIAL, cls.DISTRICT_OFFICIAL, cls.ADMIN}

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(_("角色"), max_length=32, choices=Kind.choices)
    street = models.ForeignKey(
        "communities.Street",
        verbose_name=_("街道"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="roles",
    )
    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="roles",
    )

    scope_paths = ScopePaths(street="street", community="community")

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_scope_fits_kind",
                condition=(
                    Q(kind__in=("admin", "district_official"), street__isnull=True, community__isnull=True)
                    | Q(kind="street_official", street__isnull=False, community__isnull=True)
                    | Q(kind__in=("secretary", "resident"), street__isnull=True, community__isnull=False)
                    | Q(kind="staff", street__isnull=False, community__isnull=True)
                    | Q(kind="staff", street__isnull=True, community__isnull=False)
                ),
                violation_error_message=_(
                    "角色的适用范围不对：街道领导填街道；书记和居民填社区；工作者填街道或社区之一；区领导和管理员都不填。"
                ),
            ),
            models.UniqueConstraint(
                fields=("user", "kind"),
                condition=Q(street__isnull=True, community__isnull=True),
                name="%(app_label)s_%(class)s_unique_district",
            ),
            models.UniqueConstraint(
                fields=("user", "kind", "street"),
                condition=Q(street__isnull=False),
                name="%(app_label)s_%(class)s_unique_street",
            ),
            models.UniqueConstraint(
                fields=("user", "kind", "community"),
                condition=Q(community__isnull=False),
                name="%(app_label)s_%(class)s_unique_community",
            ),
        ]

    def __str__(self):
        place = self.community or self.street
        return f"{self.get_kind_display()} · {place}" if place else str(self.get_kind_display())

    @property
    def community_street_id(self):
        return self.community.street_id if self.community_id else None


class PhoneCodeQuerySet(models.QuerySet):
    def for_mobile(self, mobile):
        return self.filter(mobile_index=blind_index("mobile", mobile) or "")


class PhoneCode(models.Model):
    """A one-time code sent by SMS to prove a mobile number (registration, password reset).

    Every send is a row, also to a registered number, which is sent a notice instead of a code
    and gets an empty ``code_hash`` that no code matches; the caps count these rows. The number
    itself is not kept: only its blind index (``baohe.crypto.blind_index``), enough to find the
    codes of a number (:meth:`PhoneCodeQuerySet.for_mobile`).
    """

    class Purpose(models.TextChoices):
        REGISTER = "register", _("注册")

    mobile_index = models.CharField(_("手机号索引"), max_length=64)
    purpose = models.CharField(_("用途"), max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(_("验证码摘要"), max_length=128)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("请求 IP"), null=True, blank=True)

    objects = PhoneCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(fields=("mobile_index", "purpose", "-created_at"), name="accounts_phonecode_lookup"),
            models.Index(fields=("ip_address", "-created_at"), name="accounts_phonecode_ip"),
        ]

    def __str__(self):
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(AbstractAuthToken):
    """An API token for one device (django-rest-knox's model, ``KNOX_TOKEN_MODEL``): only its
    SHA-512 digest is stored; it expires (lifetime by role) and can be revoked one by one."""

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(_("摘要"), max_length=128, unique=True)
    name = models.CharField(_("设备名称"), max_length=100)
    credentials_hash = models.CharField(_("凭据摘要"), max_length=64)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ("-created",)

    def __str__(self):
        return f"{self.name} · {self.user}"
