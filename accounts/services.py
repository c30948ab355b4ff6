"""Account writes: one-time codes by SMS and resident self-registration.

Neither step tells whether a mobile number is registered (``phone_code_send``); the caps on
codes are per number per day and per client IP per hour.
"""

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.crypto import blind_index
from baohe.exceptions import RateLimited
from baohe.sms import send_sms
from baohe.validators import mobile_validator
from communities.models import Resident

from .audit import role_changed
from .models import PhoneCode, Role, User, opaque_username


def _digest(mobile: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def _cap_wait(times: list[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until one of ``times`` (newest first, at most ``limit``) leaves the window, or 0."""
    if limit <= 0 or len(times) < limit:
        return 0
    return max(1, math.ceil((times[limit - 1] + window - now).total_seconds()))


def _check_code_caps(*, mobile: str, ip_address: str | None, now: datetime) -> None:
    """Refuse a code over the caps: per number in any 24 hours, per client IP in any hour."""
    day, hour = timedelta(days=1), timedelta(hours=1)
    per_number = settings.PHONE_CODE_PER_NUMBER_DAILY
    sent = list(
        PhoneCode.objects.for_mobile(mobile)
        .filter(created_at__gt=now - day)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:per_number]
    )
    wait = _cap_wait(sent, per_number, day, now)
    if wait:
        raise RateLimited(
            _("该手机号 24 小时内获取验证码的次数已达上限，请 %(hours)s 小时后再试。")
            % {"hours": math.ceil(wait / 3600)},
            wait=wait,
            code="sms_number_cap",
        )
    if not ip_address:
        return
    per_ip = settings.PHONE_CODE_PER_IP_HOURLY
    sent = list(
        PhoneCode.objects.filter(ip_address=ip_address, created_at__gt=now - hour)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:per_ip]
    )
    wait = _cap_wait(sent, per_ip, hour, now)
    if wait:
        raise RateLimited(
            _("当前网络获取验证码过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": math.ceil(wait / 60)},
            wait=wait,
            code="sms_ip_cap",
        )


def phone_code_send(*, mobile: str, ip_address: str | None = None, purpose: str = PhoneCode.Purpose.REGISTER) -> None:
    """Send a 6-digit code to ``mobile`` (from a client at ``ip_address``).

    Refused within PHONE_CODE_RESEND_SECONDS of the last one (ValidationError on ``mobile``) and
    over the caps (:class:`~baohe.exceptions.RateLimited`): PHONE_CODE_PER_NUMBER_DAILY per number
    in any 24 hours, PHONE_CODE_PER_IP_HOURLY per client IP in any hour.

    The answer never tells whether the number is registered: a registered number gets the same
    row (counted by the same rules, with no code that could ever match, so the final step says
    "wrong code") and a notice by SMS instead of a code. A notice rather than silence: the
    gateway call takes the same time either way, and the owner learns that someone tried to
    register their number and that they already have an account.
    """
    mobile_validator(mobile)
    now = timezone.now()
    recent = now - timedelta(seconds=settings.PHONE_CODE_RESEND_SECONDS)
    if PhoneCode.objects.for_mobile(mobile).filter(purpose=purpose, created_at__gt=recent).exists():
        raise ValidationError({"mobile": _("验证码已发送，请稍后再试。")}, code="too_soon")
    _check_code_caps(mobile=mobile, ip_address=ip_address, now=now)
    registered = purpose == PhoneCode.Purpose.REGISTER and User.objects.with_mobile(mobile).exists()
    code = f"{secrets.randbelow(1_000_000):06d}"
    PhoneCode.objects.create(
        mobile_index=blind_index("mobile", mobile) or "",
        purpose=purpose,
        code_hash="" if registered else _digest(mobile, code),
        expires_at=now + timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
        ip_address=ip_address or None,
    )
    if registered:
        body = _(
            "【和美社区】该手机号已注册和美社区账号，请直接登录；忘记密码请联系所在社区。如非本人操作，请忽略本短信。"
        )
    else:
        minutes = settings.PHONE_CODE_TTL_SECONDS // 60
        body = _("【和美社区】您的验证码是 %(code)s，%(minutes)s 分钟内有效。") % {"code": code, "minutes": minutes}
    send_sms(mobile, body)


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
            .for_mobile(mobile)
            .filter(purpose=purpose, used_at=None, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if phone_code is None or phone_code.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
            matched = False
        elif phone_code.code_hash and hmac.compare_digest(phone_code.code_hash, _digest(mobile, (code or "").strip())):
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
    user = User(username=opaque_username(), mobile=mobile, name=name)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from error
    # Commits the attempt (or the use) of the code before anything else can fail.
    phone_code_verify(mobile=mobile, code=code)
    with transaction.atomic():
        if User.objects.select_for_update().with_mobile(mobile).exists():
            raise ValidationError({"mobile": _("该手机号已注册，请直接登录。")}, code="registered")
        records = list(Resident.objects.with_mobile(mobile).select_for_update().filter(user=None))
        if not name and records:
            user.name = records[0].name
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        for record in records:
            record.user = user
            record.save(update_fields=["user"])
        for community_id in {record.community_id for record in records}:
            role = Role.objects.create(user=user, kind=Role.Kind.RESIDENT, community_id=community_id)
            role_changed(by=user, role=role)
    return user


def user_elder_mode_set(*, user: User, on: bool) -> None:
    """Remember ``user``'s choice of 长辈版 (elder mode) on their account (see ``accounts.elder``)."""
    if user.elder_mode == on:
        return
    User.objects.filter(pk=user.pk).update(elder_mode=on)
    user.elder_mode = on
