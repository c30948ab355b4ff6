"""Resident pages, phone first: activities in my compound and community (sign up, cancel,
my place on the waitlist), my hours and points, and the teams I can join.

A resident reaches only what ``restrict()`` lets them see: public activities of their
compound or community, their teams' private ones, and their own sign-ups, hours and points.
Anything else answers 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.scoping import VIEW

from .. import selectors, services
from ..models import PointsEntry, ServiceHours, Signup, TeamMembership

MY_ACTIVITIES = 30


def _fail(request, error):
    if isinstance(error, Conflict):
        messages.error(request, str(error.message))
    else:
        for message in error.messages:
            messages.error(request, message)


@login_required
def my_home(request):
    """志愿活动: my balance, my sign-ups, and what I can sign up for."""
    user = request.user
    if user.is_portal_staff:
        return redirect("volunteers:activities")
    resident = services.own_resident(user)
    volunteer = services.own_volunteer(user)
    now = timezone.now()
    activities = list(selectors.resident_activities(user, now)[:MY_ACTIVITIES])
    for row in activities:
        row.state = selectors.describe(row, now)
    context = {
        "resident": resident,
        "volunteer": volunteer,
        "totals": selectors.volunteer_totals(volunteer) if volunteer else None,
        "activities": [row for row in activities if not row.my_status],
        "mine": [row for row in activities if row.my_status],
    }
    return render(request, "volunteers/my_home.html", context)


@login_required
def my_activity(request, pk):
    """One activity: details, places left, and my sign-up (or the button to sign up)."""
    row = selectors.resident_activity(request.user, pk)
    if row is None:
        raise Http404
    row.state = selectors.describe(row)
    return render(request, "volunteers/my_activity.html", {"activity": row})


@login_required
@require_POST
def my_signup(request, pk):
    try:
        signup = services.signup_create(activity_id=pk, by=request.user)
    except (Conflict, ValidationError) as error:
        _fail(request, error)
    else:
        if signup.status == Signup.Status.CONFIRMED:
            messages.success(request, _("报名成功！请按时到场签到。"))
        else:
            messages.warning(
                request,
                _("名额已满，您已进入候补第 %(position)s 位。有人取消时会按顺序递补并通知您。")
                % {"position": selectors.waitlist_position(signup)},
            )
    return redirect("volunteers:my_activity", pk=pk)


@login_required
@require_POST
def my_cancel(request, pk):
    try:
        services.signup_cancel_own(activity_id=pk, by=request.user)
    except (Conflict, ValidationError) as error:
        _fail(request, error)
    else:
        messages.success(request, _("已取消报名。"))
    return redirect("volunteers:my_activity", pk=pk)


@login_required
def my_hours(request):
    """我的时长和积分: totals, then my hours and my points ledger, newest first."""
    user = request.user
    volunteer = services.own_volunteer(user)
    context = {"volunteer": volunteer, "totals": None, "hours": [], "points": []}
    if volunteer is not None:
        context.update(
            totals=selectors.volunteer_totals(volunteer),
            hours=list(
                ServiceHours.objects.restrict(user, VIEW)
                .filter(volunteer=volunteer)
                .select_related("project", "activity")
                .order_by("-served_on", "-id")[:50]
            ),
            points=list(
                PointsEntry.objects.restrict(user, VIEW).filter(volunteer=volunteer).order_by("-created_at", "-id")[:50]
            ),
        )
    return render(request, "volunteers/my_hours.html", context)


@login_required
def my_teams(request):
    """The teams of my community: the ones I am in, and the others I can join."""
    user = request.user
    teams = list(selectors.team_rows(user).filter(is_active=True))
    mine = selectors.my_team_ids(user)
    context = {
        "my_teams": [t for t in teams if t.pk in mine],
        "other_teams": [t for t in teams if t.pk not in mine],
        "resident": services.own_resident(user),
    }
    return render(request, "volunteers/my_teams.html", context)


@login_required
@require_POST
def my_team_join(request, pk):
    try:
        membership = services.team_join(team_id=pk, by=request.user)
    except (Conflict, ValidationError) as error:
        _fail(request, error)
    else:
        messages.success(request, _("您已加入 %(team)s。") % {"team": membership.team})
    return redirect("volunteers:my_teams")


@login_required
@require_POST
def my_team_leave(request, pk):
    membership = (
        TeamMembership.objects.restrict(request.user, VIEW)
        .filter(team_id=pk, volunteer__resident__user_id=request.user.pk)
        .select_related("team", "volunteer__resident")
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise Http404
    services.team_remove_member(membership=membership, by=request.user)
    messages.success(request, _("您已退出 %(team)s。") % {"team": membership.team})
    return redirect("volunteers:my_teams")
