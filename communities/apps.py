from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("辖区")

    def ready(self):
        # The monthly 物业费缴纳率 sheet is a kind of the registry import (residents is the first).
        from . import fee_imports  # noqa: F401
