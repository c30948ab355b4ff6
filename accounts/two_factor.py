"""The second factor for every non-resident account (django-otp: TOTP + static backup codes).

Staff, secretaries, officials and administrators sign in with their password, then a 6-digit
code from an authenticator app (TOTP, RFC 6238) or one of ten one-time backup codes. On the
first sign-in they enrol: the page draws a QR code server side (segno, inline SVG) and shows the
secret as text; the first correct code confirms the device and issues the backup codes. django-otp
keeps the verified device in the session (``django_otp.login``), throttles wrong codes on each
device (exponential back-off) and refuses a TOTP code already used.

"Lost my phone": the community secretary (for staff of their community) or an administrator
(anyone) resets the user's second factor (:func:`second_factor_reset`): the devices are removed,
every session and token of the user ends, and the reset is written to the audit log. The user
enrols again at their next sign-in.
"""

import re
from base64 import b32encode

import segno
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from baohe.models import AuditEntry
from baohe.services import audit

from .models import Role, User
from .selectors import is_administrator, secretary_communities
from .tokens import user_sign_out_everywhere

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup"
_TOTP_CODE = re.compile(r"\d{6}")


def needs_second_factor(user):
    """Every non-resident account: portal staff of any kind, Django staff and superusers."""
    return bool(getattr(user, "is_authenticated", False) and user.needs_second_factor)


def has_second_factor(user):
    """The user has a confirmed authenticator (they enrolled)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def is_verified(user):
    """This request's user passed the second step (django-otp's ``OTPMiddleware`` sets it)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


# --- enrolment ----------------------------------------------------------------------------------
def totp_enrolment_device(user):
    """The user's unconfirmed authenticator, created with a fresh random secret if there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret(device):
    """The secret as base32 (what authenticator apps ask for when typed in)."""
    return b32encode(device.bin_key).decode()


def totp_qr_svg(device):
    """The ``otpauth://`` URI as a QR code: inline SVG markup, drawn here (no image service)."""
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, border=2, svgclass="totp-qr", omitsize=True, title=_("验证器二维码"))
    return mark_safe(svg)  # noqa: S308 - markup segno generated from our own URI, no user input


def totp_enrol_confirm(*, device, code):
    """Confirm an authenticator with its first code; returns the new backup codes.

    Raises ``ValidationError`` (on ``code``) for a wrong code; nothing is confirmed then.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not device.verify_token(_normalise(code)):
            raise ValidationError({"code": _("验证码不正确，请用验证器上当前显示的 6 位数字重试。")}, code="bad_otp")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
        return _backup_codes_replace(device.user)


def backup_codes_regenerate(*, user):
    """Ten new backup codes; the old ones stop working."""
    with transaction.atomic():
        return _backup_codes_replace(user)


def backup_codes_reset(*, user, codes):
    """Replace ``user``'s backup codes with the given ones (the demo's published codes)."""
    with transaction.atomic():
        return _backup_codes_replace(user, codes)


def backup_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _backup_codes_replace(user, codes=None):
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    device.token_set.all().delete()
    codes = list(codes) if codes is not None else [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


# --- the second step ----------------------------------------------------------------------------
def _normalise(code):
    return re.sub(r"[\s-]", "", code or "").lower()


def verify_code(*, user, code):
    """The confirmed device that accepts ``code`` (a 6-digit TOTP code or a backup code, which is
    used up), or ``None``. Only the kind of device the code looks like is tried, so a backup code
    does not count as a wrong TOTP code (django-otp throttles each device after failures)."""
    code = _normalise(code)
    if not code:
        return None
    kind = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, kind) and device.verify_token(code):
                return device
    return None


def session_verified(request, device):
    """Mark the session as verified by ``device``, under a new session key."""
    request.session.cycle_key()
    otp_login(request, device)


def is_backup_device(device):
    return isinstance(device, StaticDevice)


# --- "lost my phone" ----------------------------------------------------------------------------
def may_reset(user):
    """An administrator or a community secretary: has the reset page."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return is_administrator(user) or bool(secretary_communities(user))


def resettable_users(by):
    """Whose second factor ``by`` may reset: an administrator anyone's (listed: the accounts that
    need one), a community secretary that of the staff of their community, nobody else."""
    if not getattr(by, "is_authenticated", False) or not by.is_active:
        return User.objects.none()
    if is_administrator(by):
        return User.objects.filter(
            Q(is_superuser=True) | Q(is_staff=True) | Q(roles__kind__in=Role.Kind.staff_kinds())
        ).distinct()
    communities = secretary_communities(by)
    if not communities:
        return User.objects.none()
    return (
        User.objects.filter(roles__kind=Role.Kind.STAFF, roles__community_id__in=communities)
        .exclude(is_superuser=True)
        .exclude(pk=by.pk)
        .distinct()
    )


def with_enrolment(queryset):
    """Annotate ``enrolled``: the user has a confirmed authenticator."""
    return queryset.annotate(
        enrolled=Exists(TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)),
    )


def access_user_for_reset(by, pk):
    """The user ``pk`` if ``by`` may reset their second factor; else the same 404 as a missing one."""
    user = resettable_users(by).filter(pk=pk).first()
    if user is None:
        raise Http404
    return user


def second_factor_reset(*, user, by, request=None):
    """Remove ``user``'s authenticator and backup codes, end every session and API token of theirs,
    and record the reset in the audit log. 404 when ``by`` may not reset ``user``."""
    with transaction.atomic():
        target = access_user_for_reset(by, user.pk)
        target = User.objects.select_for_update().get(pk=target.pk)
        for device in list(devices_for_user(target, confirmed=None)):
            device.delete()
        user_sign_out_everywhere(user=target)
        audit(user=by, action=AuditEntry.Action.OTP_RESET, obj=target, request=request)
    return target
