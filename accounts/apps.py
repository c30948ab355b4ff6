from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = _("账号与权限")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        # Sign-in lines of the audit trail (user_logged_in, user_login_failed).
        # Connects the lockout log line to axes' user_locked_out signal.
        from . import (
            audit,  # noqa: F401
            lockout,  # noqa: F401
        )
        from .sessions import session_signed_in

        # Each sign-in starts the session's clocks (absolute and idle limits for staff).
        user_logged_in.connect(session_signed_in, dispatch_uid="accounts.session_signed_in")

        from baohe.metrics import register_gauge

        register_gauge(
            "baohe_login_lockouts_active",
            "Username + IP pairs locked out of signing in now (django-axes).",
            lockout.active_lock_count,
        )

        # The account and its login devices on the 我的信息 page (communities.personal_data).
        from communities.personal_data import register_personal_data

        from .personal_data import account_sections

        register_personal_data(account_sections)


class PortalAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with a site that admits only users verified by a second factor."""

    default = False  # named explicitly in INSTALLED_APPS; AccountsConfig is this module's default
    default_site = "accounts.admin_site.VerifiedAdminSite"
