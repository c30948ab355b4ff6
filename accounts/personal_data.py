"""What accounts holds about a person, for the 我的信息 page (``communities.personal_data``):
the login account and the devices signed in with an API token. Registered in ``apps.py``."""

from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.masking import mask_mobile, mask_username
from communities.personal_data import Section, Subject

from .models import ApiToken


def account_sections(subject: Subject) -> list[Section]:
    user = subject.user
    account = Section(
        "account",
        _("登录账号"),
        (
            ("username", _("登录名")),
            ("name", _("姓名")),
            ("mobile", _("手机号")),
            ("email", _("邮箱")),
            ("date_joined", _("注册时间")),
            ("last_login", _("最近登录")),
        ),
    )
    account.add(
        username=mask_username(user.get_username()),
        name=user.name,
        mobile=mask_mobile(user.mobile),
        email=user.email,
        date_joined=user.date_joined,
        last_login=user.last_login,
    )
    devices = Section(
        "devices",
        _("登录设备"),
        (
            ("name", _("设备名称")),
            ("created", _("登录时间")),
            ("last_used_at", _("最近使用")),
            ("expiry", _("到期时间")),
        ),
    )
    for token in ApiToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created"):
        devices.add(name=token.name, created=token.created, last_used_at=token.last_used_at, expiry=token.expiry)
    return [account, devices]
