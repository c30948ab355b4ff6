"""The request models, one module per concern:

- ``requests.py`` — :class:`ServiceRequest` (诉求), its :class:`RequestEvent` timeline, its
  :class:`Attachment` photos, its :class:`RequestSupporter` (附议) and the daily
  :class:`NumberSequence`;
- ``categories.py`` — :class:`Category` (time limits, Open311 service code) and
  :class:`CalendarDay` (holidays and 调休 working days);
- ``clock.py`` — the reminder clock: when each reminder falls due, and the :class:`RequestClock`
  rows the deadline scan reads (kept in step by the services through ``clocks_sync``);
- ``open311.py`` — :class:`Open311Key`;
- ``summary.py`` — the dashboards' monthly request summary tables (kept by ``service_requests/summary.py``).
"""

from .categories import CalendarDay, Category
from .clock import RequestClock
from .open311 import Open311Key
from .requests import OPEN_STATUSES, Attachment, NumberSequence, RequestEvent, RequestSupporter, ServiceRequest
from .summary import (
    RequestCommunitySummary,
    RequestCompoundSummary,
    RequestCounters,
    RequestStreetSummary,
    RequestSummary,
)

__all__ = [
    "OPEN_STATUSES",
    "Attachment",
    "CalendarDay",
    "Category",
    "NumberSequence",
    "Open311Key",
    "RequestClock",
    "RequestCommunitySummary",
    "RequestCompoundSummary",
    "RequestCounters",
    "RequestEvent",
    "RequestStreetSummary",
    "RequestSupporter",
    "RequestSummary",
    "ServiceRequest",
]
