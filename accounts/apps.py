from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("账号与权限")

    def ready(self):
        # Connects the lockout log line to axes' user_locked_out signal.
        from . import lockout  # noqa: F401
