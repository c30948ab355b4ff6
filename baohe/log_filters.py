"""Personal data never reaches a log line (ARCHITECTURE rule 5).

:class:`MaskPersonalData` is installed on every handler in ``settings.LOGGING`` (and on the
Celery worker's handlers, ``baohe/celery.py``). It renders each record's message, masks every
mainland mobile number (``138****5678``) and ID number (``3401**********1234``) in it and in
the traceback, and writes the masked text back into the record itself, so every handler after
it (pytest's capture included) sees only the masked text. SMS codes are kept out of logs where
they are made (``baohe.sms``); a 6-digit code cannot be told from any other number here.
"""

import logging
import re

from .masking import mask_id_number, mask_mobile

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


def mask_text(text):
    """``text`` with every ID and mobile number masked."""
    if not text:
        return text
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    return MOBILE.sub(lambda m: mask_mobile(m.group()), text)


class MaskPersonalData(logging.Filter):
    """Masks mobile and ID numbers in the message and traceback; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record):
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: the formatter reports it as usual
            return True
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install(logger):
    """Add the filter to each handler of ``logger`` that lacks it (the Celery worker sets up its own)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())
