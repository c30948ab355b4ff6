"""System checks of the portal's own settings (``manage.py check``; ``--deploy`` for production):
the personal-data keys, and settings whose floor is the law, not taste."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

#: The Cybersecurity Law (网络安全法, Art. 21) keeps network logs at least six months.
AUDIT_RETENTION_MIN_DAYS = 183


@checks.register(checks.Tags.security)
def personal_data_keys(app_configs=None, **kwargs):
    """The key ring and the blind-index key parse (always); they are set, not derived (--deploy)."""
    from .crypto import keys

    errors = []
    try:
        keys()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="baohe.E001"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def personal_data_keys_set(app_configs=None, **kwargs):
    if getattr(settings, "PERSONAL_DATA_KEYS_DERIVED", False):
        return [
            checks.Warning(
                "PERSONAL_DATA_KEYS and BLIND_INDEX_KEY are derived from SECRET_KEY (development only).",
                hint="Set both in the environment (see .env.example); keep them apart from the database backups.",
                id="baohe.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def audit_retention(app_configs, **kwargs):
    days = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if not isinstance(days, int) or days < AUDIT_RETENTION_MIN_DAYS:
        return [
            checks.Error(
                _("AUDIT_RETENTION_DAYS 至少为 %(min)s 天（审计日志须保存不少于六个月）。")
                % {"min": AUDIT_RETENTION_MIN_DAYS},
                id="baohe.E002",
            )
        ]
    return []
