"""Every write to consultation meetings (ARCHITECTURE rule 2).

Each step runs in ``transaction.atomic()``, locks the meeting (or action item) row, checks the
transition, writes what it causes in the same transaction (request events through the request
services, notifications through ``notifications.services.notify``) and raises:

* ``ValidationError`` for bad input (400, field errors), checked before anything is written;
* :class:`~baohe.exceptions.Conflict` when the step no longer applies (409): minutes already
  recorded, a meeting already cancelled, an item already done;
* ``PermissionDenied`` (403) for a row the user may see but not change (an official, an owner
  who is not staff), and :class:`~baohe.exceptions.OutOfScope` (404) for one they may not see.

The requests side: a meeting created from requests takes them up (a submitted one is accepted
by the organiser's colleague who creates the meeting, and the resident is told it goes to
consultation); when the minutes are recorded the residents are told the decisions; and when
every action item linked to a request is done, :func:`action_item_complete` resolves the
request through ``service_requests.services.request_resolve``, which starts the follow-up.
"""

from .common import (
    AHEAD_LIMIT,
    BACKDATE_LIMIT,
    CLOCK_SKEW,
    HANDLING,
    MAX_DECISIONS,
    MAX_INVITEES,
    MAX_ITEMS_PER_DECISION,
    access_action_item_by_id,
    access_decision_by_id,
    access_meeting_by_id,
    community_workers,
    may_change_meeting,
    owner_allowed,
)
from .minutes import decisions_summary, meeting_record_attendance, meeting_record_minutes
from .planning import EDITABLE_FIELDS, meeting_cancel, meeting_create, meeting_update
from .work import action_item_complete, decision_attach_team, inspection_record, supervision_team_save

__all__ = [
    "AHEAD_LIMIT",
    "BACKDATE_LIMIT",
    "CLOCK_SKEW",
    "EDITABLE_FIELDS",
    "HANDLING",
    "MAX_DECISIONS",
    "MAX_INVITEES",
    "MAX_ITEMS_PER_DECISION",
    "access_action_item_by_id",
    "access_decision_by_id",
    "access_meeting_by_id",
    "action_item_complete",
    "community_workers",
    "decision_attach_team",
    "decisions_summary",
    "inspection_record",
    "may_change_meeting",
    "meeting_cancel",
    "meeting_create",
    "meeting_record_attendance",
    "meeting_record_minutes",
    "meeting_update",
    "owner_allowed",
    "supervision_team_save",
]
