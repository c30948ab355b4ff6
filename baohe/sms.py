"""SMS backends, shaped like Django's email backends.

``settings.SMS_BACKEND`` names a class with ``send_messages(messages) -> int``. The default
:class:`LogBackend` writes each message to the log (and keeps it in ``outbox`` for tests
and the demo); :class:`HttpGatewayBackend` posts to an HTTP gateway configured by
``SMS_GATEWAY_URL`` and ``SMS_GATEWAY_KEY``.
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
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


class SMSGatewayError(Exception):
    """The gateway refused a message or could not be reached (the delivery is retried)."""


class HttpGatewayBackend(BaseSMSBackend):
    """POST ``{"to": …, "body": …}`` as JSON to ``SMS_GATEWAY_URL`` with
    ``Authorization: Bearer SMS_GATEWAY_KEY``, one request per message, 5-second timeout.
    Any answer but 2xx, or no answer, raises :class:`SMSGatewayError` (unless ``fail_silently``)."""

    timeout = 5

    def __init__(self, fail_silently=False, url=None, key=None, timeout=None, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.url = url or settings.SMS_GATEWAY_URL
        self.key = key if key is not None else settings.SMS_GATEWAY_KEY
        self.timeout = timeout or self.timeout
        if urlparse(self.url or "").scheme not in ("http", "https"):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http:// or https:// URL.")

    def _post(self, message):
        data = json.dumps({"to": message.to, "body": message.body}, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.key}",
                "User-Agent": "baohe-portal",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:  # 4xx/5xx
            raise SMSGatewayError(f"gateway answered {error.code}") from error
        except (urllib.error.URLError, OSError) as error:  # refused, timeout, DNS
            raise SMSGatewayError(f"gateway unreachable: {error}") from error
        if not 200 <= status < 300:
            raise SMSGatewayError(f"gateway answered {status}")

    def send_messages(self, messages):
        sent = 0
        for message in messages:
            try:
                self._post(message)
            except SMSGatewayError:
                if not self.fail_silently:
                    raise
                logger.warning("SMS to %s not sent", message.to, exc_info=True)
                continue
            sent += 1
        return sent


def get_connection(backend=None, fail_silently=False, **kwargs):
    return import_string(backend or settings.SMS_BACKEND)(fail_silently=fail_silently, **kwargs)


def send_sms(to, body, fail_silently=False, connection=None):
    connection = connection or get_connection(fail_silently=fail_silently)
    return connection.send_messages([SMSMessage(to=to, body=body)])
