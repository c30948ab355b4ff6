"""SMS backends, shaped like Django's email backends.

``settings.SMS_BACKEND`` names a class with ``send_messages(messages) -> int``.

- :class:`LogBackend` (development, the default with ``DEBUG`` on) sends nothing: it keeps each
  message in ``outbox`` (tests read it) and appends it, with the number masked, to
  ``SMS_OUTBOX_FILE`` (``var/sms-outbox.txt``), where a developer running ``make run`` reads
  the code. The log gets one line with the masked number and where the text went, never the
  text: codes must not reach logs, which are shipped and kept. Settings refuse it with
  ``DEBUG`` off.
- :class:`HttpGatewayBackend` (the default with ``DEBUG`` off) posts to an HTTP gateway
  configured by ``SMS_GATEWAY_URL`` and ``SMS_GATEWAY_KEY``.
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from .masking import mask_mobile

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
    """Development: keeps messages in ``outbox`` and in ``SMS_OUTBOX_FILE`` (number masked)."""

    outbox: list[SMSMessage] = []

    def send_messages(self, messages):
        path = getattr(settings, "SMS_OUTBOX_FILE", "")
        for message in messages:
            LogBackend.outbox.append(message)
            if path:
                one_line = message.body.replace("\n", " ")
                with Path(path).open("a", encoding="utf-8") as outbox:
                    outbox.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {mask_mobile(message.to)} {one_line}\n")
            logger.info("SMS to %s kept in %s (not sent)", mask_mobile(message.to), path or "memory")
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
                logger.warning("SMS to %s not sent", mask_mobile(message.to), exc_info=True)
                continue
            sent += 1
        return sent


def get_connection(backend=None, fail_silently=False, **kwargs):
    return import_string(backend or settings.SMS_BACKEND)(fail_silently=fail_silently, **kwargs)


def send_sms(to, body, fail_silently=False, connection=None):
    connection = connection or get_connection(fail_silently=fail_silently)
    return connection.send_messages([SMSMessage(to=to, body=body)])
