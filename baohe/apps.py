from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BaoheConfig(AppConfig):
    name = "baohe"
    verbose_name = _("平台")

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
        from .validators import install_text_rule

        install_text_rule()

        from .metrics import heartbeat_age, register_gauge

        register_gauge(
            "baohe_worker_heartbeat_age_seconds",
            "Seconds since the worker last wrote its heartbeat (beat sends one every 30 s); +Inf if never.",
            heartbeat_age,
        )
