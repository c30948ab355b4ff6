"""System checks of the portal's own settings (``manage.py check``; ``--deploy`` for production)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


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
