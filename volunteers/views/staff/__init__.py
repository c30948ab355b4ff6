"""Staff pages: activities (with the check-in sheet and the waitlist), teams, projects,
volunteers, the review of service hours in bulk, and the Excel export of hours.

Every queryset comes from ``restrict()`` (``baohe.views`` mixins or ``volunteers.selectors``):
a row outside the user's scope answers 404 exactly like a missing one. Every write goes
through ``volunteers.services``; a conflict (the waitlist moved, a deadline passed) is shown
as a message, bad input on the form.

By concern: :mod:`.activities`, :mod:`.teams` (teams and service projects), :mod:`.people`
(volunteers, a household's services received), :mod:`.hours` (review, record, export).
"""
