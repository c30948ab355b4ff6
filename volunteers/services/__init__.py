"""Every write in volunteer service (ARCHITECTURE rule 2): registering, teams, activities,
sign-ups and the waitlist, check-in, hours and their approval into points.

Each function runs in ``transaction.atomic()``. Sign-ups lock the activity row
(``select_for_update``) before counting its confirmed places, so two people taking the last
place at once get one place and one waitlist entry; a cancellation promotes the earliest
waitlisted in the same transaction and tells them (``notifications.services.notify``, in the
same transaction: the outbox). A step that no longer applies raises
:class:`~baohe.exceptions.Conflict` (409); bad input ``ValidationError`` (400); a row outside
the user's scope is not found (404).

Staff work (managing, checking in, approving) uses the change scope through street and
community only: the owner path that lets a volunteer see their own rows never makes them
staff for them (:func:`staff_rows`).

The package, by concern: :mod:`.common` (access), :mod:`.teams` (volunteers, teams, projects),
:mod:`.activities` (activities, sign-ups, the waitlist, check-in), :mod:`.hours` (hours and
their review into points). Import from the package: ``from volunteers import services``.
"""

from .activities import CheckInResult, activity_save, signup_cancel, signup_cancel_own, signup_check_in, signup_create
from .common import (
    CENT,
    access_activity_by_id,
    access_signup_by_id,
    own_resident,
    own_volunteer,
    require_staff,
    staff_rows,
)
from .hours import ReviewResult, hours_approve, hours_record, hours_reject
from .teams import (
    project_save,
    team_add_member,
    team_join,
    team_remove_member,
    team_save,
    volunteer_for_signup,
    volunteer_register,
)

__all__ = [
    "CENT",
    "CheckInResult",
    "ReviewResult",
    "access_activity_by_id",
    "access_signup_by_id",
    "activity_save",
    "hours_approve",
    "hours_record",
    "hours_reject",
    "own_resident",
    "own_volunteer",
    "project_save",
    "require_staff",
    "signup_cancel",
    "signup_cancel_own",
    "signup_check_in",
    "signup_create",
    "staff_rows",
    "team_add_member",
    "team_join",
    "team_remove_member",
    "team_save",
    "volunteer_for_signup",
    "volunteer_register",
]
