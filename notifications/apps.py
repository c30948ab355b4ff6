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

        # Preferences on the 我的信息 page; an anonymised person's inbox goes (communities.services).
        from communities.personal_data import register_personal_data
        from communities.services import register_anonymiser

        from .personal_data import forget_person, preference_sections

        register_personal_data(preference_sections)
        register_anonymiser(forget_person)
