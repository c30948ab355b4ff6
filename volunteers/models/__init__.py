"""Volunteer service (志愿服务): teams, volunteers, projects, activities, sign-ups, hours and points.

VolunteerTeam (志愿服务队, of a community or one compound) ← TeamMembership → Volunteer (a
resident). A ServiceProject (红管家, 一米阳光, 四美一好, 配餐上门, 快乐学堂, 家庭医生 …) is run
by a community; its Activities (place, time, capacity, sign-up deadline) are public to the
community (or one compound) or private to a team. A Signup is confirmed or waitlisted; a
cancellation promotes the earliest waitlisted. ServiceHours (hours and the households
served) are approved by staff, and every approved hour earns points: one PointsEntry per
approved ServiceHours row, so a volunteer's balance is a SUM over the ledger.

Scope: every row carries ``street``/``community`` (``CommunityScopedModel``); volunteers see
their own rows through the owner path ``volunteer__resident__user``. Activities and teams
are also visible to residents of the community (and to team members, for private
activities): :class:`ResidentVisibleQuerySet` adds that to ``restrict()``.

The package, by concern: :mod:`.common`, :mod:`.teams` (volunteers, teams, membership),
:mod:`.activities` (projects, activities, sign-ups), :mod:`.hours` (hours and points).
Import from the package: ``from volunteers.models import Activity``.
"""

from .activities import Activity, ServiceProject, Signup, SignupQuerySet
from .common import HOURS_MAX, HOURS_MIN, OWNER, ResidentVisibleQuerySet, points_per_hour, resident_community_ids
from .hours import PointsEntry, ServiceHours
from .teams import TeamMembership, Volunteer, VolunteerTeam

__all__ = [
    "HOURS_MAX",
    "HOURS_MIN",
    "OWNER",
    "Activity",
    "PointsEntry",
    "ResidentVisibleQuerySet",
    "ServiceHours",
    "ServiceProject",
    "Signup",
    "SignupQuerySet",
    "TeamMembership",
    "Volunteer",
    "VolunteerTeam",
    "points_per_hour",
    "resident_community_ids",
]
