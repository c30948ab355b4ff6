"""SMS backends, shaped like Django's email backends.

``settings.SMS_BACKEND`` names a class with ``send_messages(messages) -> int``. The default
:class:`LogBackend` writes each message to the log (and keeps it in ``outbox`` for tests
and the demo); a real gateway plugs in by settings.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("baohe.sms")


@dataclass
class SMSMessage:
    to: str
    body: str


class BaseSMSBackend:
    def __init__(self, fail_silently=False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages):
        raise NotImplementedError


class LogBackend(BaseSMSBackend):
    """Writes messages to the ``baohe.sms`` logger; keeps the last ones in ``outbox``."""

    outbox: list[SMSMessage] = []

    def send_messages(self, messages):
        for message in messages:
            logger.info("SMS to %s: %s", message.to, message.body)
            LogBackend.outbox.append(message)
        del LogBackend.outbox[:-1000]
        return len(messages)


def get_connection(backend=None, fail_silently=False, **kwargs):
    return import_string(backend or settings.SMS_BACKEND)(fail_silently=fail_silently, **kwargs)


def send_sms(to, body, fail_silently=False, connection=None):
    connection = connection or get_connection(fail_silently=fail_silently)
    return connection.send_messages([SMSMessage(to=to, body=body)])
