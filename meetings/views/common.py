"""What the meeting pages share: the way back after a POST, scoped lookups."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from baohe.scoping import VIEW

from ..models import Meeting, SupervisionTeam

PAGE_SIZE = 25


def _back(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _meeting(request, pk, action=VIEW):
    meetings = Meeting.objects.restrict(request.user, action).select_related(
        "community__street", "compound", "organiser"
    )
    return get_object_or_404(meetings, pk=pk)


def _teams(meeting):
    teams = SupervisionTeam.objects.filter(community_id=meeting.community_id)
    if meeting.compound_id:
        teams = teams.filter(Q(compound_id=meeting.compound_id) | Q(compound__isnull=True))
    return teams.order_by("name", "pk")
