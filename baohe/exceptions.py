"""Errors that services raise and that pages and APIs turn into answers.

- ``django.core.exceptions.ValidationError``: bad input, 400 with field errors.
- :class:`Conflict`: the row changed under you (another user acted first), 409.
- :class:`OutOfScope`: not yours, answered exactly like "not there" (404).
- :class:`RateLimited`: too many of something in a while (SMS codes to one number today), 429
  with ``Retry-After``.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _


class Conflict(Exception):
    """A state change that lost a race or no longer applies. Answered with 409."""

    default_message = _("该记录已被他人修改，请刷新后重试。")

    def __init__(self, message=None, code="conflict"):
        self.message = message or self.default_message
        self.code = code
        super().__init__(str(self.message))


class OutOfScope(Http404):
    """Raised when a write lands outside the user's scope; looks exactly like 404."""


class RateLimited(Exception):
    """A cap was reached: try again in ``wait`` seconds. Answered with 429 and ``Retry-After``."""

    def __init__(self, message, *, wait, code="rate_limited"):
        self.message = message
        self.wait = max(1, int(wait))
        self.code = code
        super().__init__(str(message))
