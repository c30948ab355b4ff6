from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("志愿服务")

    def ready(self):
        # The staff household page shows the services the household received (one ledger).
        from communities.selectors import register_household_section

        from .selectors import household_section

        register_household_section(household_section)
