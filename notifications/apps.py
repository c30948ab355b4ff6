from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self):
        from baohe.metrics import register_gauge

        from .selectors import pending_deliveries_count

        register_gauge(
            "baohe_notification_deliveries_pending",
            "Email and SMS deliveries waiting to be sent (due now or retrying later).",
            pending_deliveries_count,
        )
