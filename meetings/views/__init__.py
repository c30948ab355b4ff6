"""Meeting pages for staff (/meetings/…).

* ``/`` — the meetings in scope with filters (community, status, form, minutes missing, search);
  ``new/`` plans one, from scratch or from open requests; ``<id>/`` shows invitees and
  attendance, agenda, minutes, decisions with their action items (done buttons), the linked
  requests with their status, and the supervision inspections; ``<id>/minutes/`` records the
  minutes with the decisions and action items in one form.
* ``actions/`` — 决议事项督办: the action items in scope, overdue first.
* ``teams/`` — the supervision teams (义务监督队).

Every row comes through ``restrict()``: out of scope answers 404 like missing. Writes are the
services; a ``Conflict`` becomes an error message, a ``ValidationError`` errors on the form.
"""

from .meetings import (
    meeting_attendance,
    meeting_cancel,
    meeting_create,
    meeting_detail,
    meeting_edit,
    meeting_list,
    meeting_minutes,
)
from .work import (
    action_complete,
    action_list,
    decision_team,
    inspection_photo,
    inspection_record,
    team_create,
    team_edit,
    team_list,
)

__all__ = [
    "action_complete",
    "action_list",
    "decision_team",
    "inspection_photo",
    "inspection_record",
    "meeting_attendance",
    "meeting_cancel",
    "meeting_create",
    "meeting_detail",
    "meeting_edit",
    "meeting_list",
    "meeting_minutes",
    "team_create",
    "team_edit",
    "team_list",
]
