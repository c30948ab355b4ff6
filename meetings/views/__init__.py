"""Meeting pages, all for staff (/meetings/…): ``views/staff/meetings.py`` (the list, planning,
one meeting, its minutes) and ``views/staff/work.py`` (action items, supervision teams and
inspections); ``views/common.py`` holds what they share.

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
