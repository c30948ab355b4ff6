"""``{% funds_board compound %}``: the compound board's 经费公示 (``funds/_board.html``), and the
``yuan`` / ``pct`` filters the funds pages share.

The board lives in ``service_requests`` and imports nothing from here: its template loads this
tag library, which renders the fragment with ``selectors.board_funds`` (no personal data).
"""

from decimal import Decimal

from django import template
from django.utils import timezone

from ..selectors import board_funds

register = template.Library()


@register.filter
def yuan(value):
    """An amount in yuan with thousands separators and the fen: ``300,000.00``."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def pct(value):
    """A fraction as a percentage with one decimal: ``0.4567`` → ``45.7%``."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value) * 100:.1f}%"


@register.inclusion_tag("funds/_board.html")
def funds_board(compound):
    return board_funds(compound.community_id, timezone.localdate())
