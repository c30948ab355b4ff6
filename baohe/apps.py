from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BaoheConfig(AppConfig):
    name = "baohe"
    verbose_name = _("平台")
