"""Staff pages of the meetings: ``meetings`` (list, planning, one meeting, minutes) and ``work``
(what a meeting decided: action items, supervision teams and inspections)."""
