"""System checks for settings whose floor is the law, not taste."""

from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _

#: The Cybersecurity Law (网络安全法, Art. 21) keeps network logs at least six months.
AUDIT_RETENTION_MIN_DAYS = 183


@checks.register(checks.Tags.security)
def audit_retention(app_configs, **kwargs):
    days = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if not isinstance(days, int) or days < AUDIT_RETENTION_MIN_DAYS:
        return [
            checks.Error(
                _("AUDIT_RETENTION_DAYS 至少为 %(min)s 天（审计日志须保存不少于六个月）。")
                % {"min": AUDIT_RETENTION_MIN_DAYS},
                id="baohe.E001",
            )
        ]
    return []
