from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BaoheConfig(AppConfig):
    name = "baohe"
    verbose_name = _("平台")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .validators import install_text_rule

        install_text_rule()
