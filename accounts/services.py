"""Account writes: one-time codes by SMS and resident self-registration."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.sms import send_sms
from baohe.validators import mobile_validator
from communities.models import Resident

from .models import PhoneCode, Role, User


def _digest(mobile: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_code_send(*, mobile: str, purpose: str = PhoneCode.Purpose.REGISTER) -> None:
    """Send a 6-digit code to ``mobile``; refuses to resend within PHONE_CODE_RESEND_SECONDS."""
    mobile_validator(mobile)
    now = timezone.now()
    if purpose == PhoneCode.Purpose.REGISTER and User.objects.filter(mobile=mobile).exists():
        raise ValidationError({"mobile": _("该手机号已注册，请直接登录。")}, code="registered")
    recent = now - timedelta(seconds=settings.PHONE_CODE_RESEND_SECONDS)
    if PhoneCode.objects.filter(mobile=mobile, purpose=purpose, created_at__gt=recent).exists():
        raise ValidationError({"mobile": _("验证码已发送，请稍后再试。")}, code="too_soon")
    code = f"{secrets.randbelow(1_000_000):06d}"
    PhoneCode.objects.create(
        mobile=mobile,
        purpose=purpose,
        code_hash=_digest(mobile, code),
        expires_at=now + timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
    )
    minutes = settings.PHONE_CODE_TTL_SECONDS // 60
    send_sms(
        mobile, _("【和美社区】您的验证码是 %(code)s，%(minutes)s 分钟内有效。") % {"code": code, "minutes": minutes}
    )


def phone_code_verify(*, mobile: str, code: str | None, purpose: str = PhoneCode.Purpose.REGISTER) -> None:
    """Check and use up the newest code for ``mobile``; bounded attempts, constant-time compare.

    The check runs in its own transaction and the error is raised only after it has
    committed, so a wrong code's attempt is counted (raising inside the block would roll the
    counter back and allow unlimited guesses).
    """
    error = ValidationError({"code": _("验证码错误或已过期，请重新获取。")}, code="bad_code")
    with transaction.atomic():
        now = timezone.now()
        phone_code = (
            PhoneCode.objects.select_for_update()
            .filter(mobile=mobile, purpose=purpose, used_at=None, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if phone_code is None or phone_code.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
            matched = False
        elif hmac.compare_digest(phone_code.code_hash, _digest(mobile, (code or "").strip())):
            PhoneCode.objects.filter(pk=phone_code.pk).update(used_at=now)
            matched = True
        else:
            PhoneCode.objects.filter(pk=phone_code.pk).update(attempts=F("attempts") + 1)
            matched = False
    if not matched:
        raise error


def resident_register(*, mobile: str, code: str | None, password: str, name: str = "") -> User:
    """Create a resident account after checking the SMS code.

    Resident records that staff have registered with this mobile number and no account yet
    are linked to the new user, so the resident sees their household and building at once;
    otherwise the account waits for staff to register the household.
    """
    mobile_validator(mobile)
    user = User(username=mobile, mobile=mobile, name=name)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from error
    # Commits the attempt (or the use) of the code before anything else can fail.
    phone_code_verify(mobile=mobile, code=code)
    with transaction.atomic():
        if User.objects.select_for_update().filter(mobile=mobile).exists():
            raise ValidationError({"mobile": _("该手机号已注册，请直接登录。")}, code="registered")
        records = list(Resident.objects.select_for_update().filter(mobile=mobile, user=None))
        if not name and records:
            user.name = records[0].name
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        for record in records:
            record.user = user
            record.save(update_fields=["user"])
        for community_id in {record.community_id for record in records}:
            Role.objects.create(user=user, kind=Role.Kind.RESIDENT, community_id=community_id)
    return user
