"""Pages for the work a meeting decided: action items and supervision (teams, inspections)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW
from baohe.views import query_without_page, staff_required
from communities.models import Community

from ... import selectors, services
from ...forms import (
    ActionListQuery,
    AttachTeamForm,
    CompleteForm,
    InspectionForm,
    SupervisionTeamForm,
    TeamCommunityForm,
)
from ...models import Inspection, Meeting, SupervisionTeam
from ..common import (
    PAGE_SIZE,
    _back,
    _teams,
)


# --- action items ---------------------------------------------------------------------------------
@require_POST
@staff_required
def action_complete(request, pk):
    item = services.access_action_item_by_id(request.user, pk)
    meeting = item.decision.meeting
    default = f"{meeting.get_absolute_url()}#action-{item.pk}"
    form = CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect(_back(request, default))
    try:
        _item, resolved = services.action_item_complete(item=item, by=request.user, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    except Conflict as conflict:
        messages.error(request, conflict.message)
    else:
        message = _("已确认完成：%(task)s。") % {"task": item.task}
        if resolved:
            message += _("诉求 %(numbers)s 的决议事项已全部完成，已办结并进入回访。") % {
                "numbers": "、".join(r.number for r in resolved)
            }
        messages.success(request, message)
    return redirect(_back(request, default))


@staff_required
def action_list(request):
    """决议事项督办: action items in scope; tabs open / overdue / done / all, and "mine"."""
    user, today = request.user, timezone.localdate()
    query = read_query(request, ActionListQuery)
    state, mine = query["state"], bool(query["mine"])
    communities = list(Community.objects.restrict(user, VIEW).order_by("code"))
    selected = next((c for c in communities if c.pk == query["community"]), None)
    community_id = selected.pk if selected else None
    items = selectors.action_item_rows(user, state=state, mine=mine, community_id=community_id, today=today)
    page = Paginator(items, PAGE_SIZE * 2).get_page(query["page"])
    for item in page.object_list:
        item.overdue = item.is_overdue(today)
    changeable = set(
        Meeting.objects.restrict(user, CHANGE)
        .filter(pk__in={item.decision.meeting_id for item in page.object_list})
        .values_list("pk", flat=True)
    )
    for item in page.object_list:
        item.can_complete = item.decision.meeting_id in changeable and not item.is_done
    counts = selectors.action_item_counts(user, mine=mine, community_id=community_id, today=today)
    context = {
        "page": page,
        "items": page.object_list,
        "state": state,
        "mine": mine,
        "counts": counts,
        "communities": communities,
        "selected_community": selected,
        "query": query_without_page(request),
        "tabs": (
            ("open", _("未完成")),
            ("overdue", _("已逾期")),
            ("done", _("已完成")),
            ("all", _("全部")),
        ),
    }
    return render(request, "meetings/actions.html", context)


# --- supervision ----------------------------------------------------------------------------------
@require_POST
@staff_required
def decision_team(request, pk):
    decision = services.access_decision_by_id(request.user, pk)
    form = AttachTeamForm(request.POST, teams=_teams(decision.meeting), prefix=f"d{decision.pk}")
    if form.is_valid():
        try:
            services.decision_attach_team(
                decision=decision, by=request.user, team=form.cleaned_data["supervision_team"]
            )
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, _("已更新该决议的义务监督队。"))
    else:
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"{decision.meeting.get_absolute_url()}#decision-{decision.pk}")


@staff_required
def inspection_record(request, pk):
    """记录监督检查 for a decision's supervision team."""
    decision = services.access_decision_by_id(request.user, pk)
    meeting = decision.meeting
    if not services.may_change_meeting(request.user, meeting.pk):
        raise PermissionDenied
    if decision.supervision_team is None:
        messages.error(request, _("该决议尚未指定义务监督队，请先指定监督队。"))
        return redirect(f"{meeting.get_absolute_url()}#decision-{decision.pk}")
    form = InspectionForm(request.POST or None, request.FILES or None, team=decision.supervision_team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.inspection_record(
                decision=decision,
                by=request.user,
                inspected_at=data["inspected_at"],
                inspector=data.get("inspector"),
                ok=data["ok"],
                finding=data["finding"],
                photo=data.get("photo"),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已记录 %(team)s 的监督检查。") % {"team": decision.supervision_team})
            return redirect(f"{meeting.get_absolute_url()}#decision-{decision.pk}")
    context = {"decision": decision, "meeting": meeting, "form": form}
    return render(request, "meetings/inspection_form.html", context, status=400 if form.errors else 200)


@staff_required
def inspection_photo(request, pk):
    inspection = get_object_or_404(Inspection.objects.restrict(request.user, VIEW), pk=pk)
    if not inspection.photo:
        raise Http404
    response = FileResponse(inspection.photo.open("rb"))
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)  # personal photos: never kept by a browser or proxy
    return response


@staff_required
def team_list(request):
    teams = list(selectors.team_rows(request.user))
    communities = list(Community.objects.restrict(request.user, CHANGE).order_by("code"))
    return render(request, "meetings/teams.html", {"teams": teams, "communities": communities})


def _team_form(request, *, community, instance):
    form = SupervisionTeamForm(
        request.POST or None,
        instance=instance,
        user=request.user,
        community=community,
        initial={"members": list(instance.members.all())} if instance.pk else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            team = services.supervision_team_save(
                instance=form.save(commit=False), by=request.user, members=list(form.cleaned_data["members"])
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已保存义务监督队 %(team)s。") % {"team": team})
            return redirect("meetings:teams")
    title = _("编辑义务监督队") if instance.pk else _("新建义务监督队")
    context = {"form": form, "title": title, "community": community, "cancel_url": reverse("meetings:teams")}
    return render(request, "meetings/team_form.html", context, status=400 if form.errors else 200)


@staff_required
def team_create(request):
    communities = list(Community.objects.restrict(request.user, CHANGE).order_by("code"))
    if not communities:
        raise PermissionDenied
    choice = TeamCommunityForm(request.POST if request.method == "POST" else request.GET, communities=communities)
    if not choice.is_valid():
        raise Http404  # an id that does not parse, or a community the user may not change: not found
    community = choice.cleaned_data["community"]
    if community is None and len(communities) == 1:
        community = communities[0]
    if community is None:
        return render(request, "meetings/team_community.html", {"communities": communities})
    return _team_form(request, community=community, instance=SupervisionTeam(community=community))


@staff_required
def team_edit(request, pk):
    team = get_object_or_404(SupervisionTeam.objects.restrict(request.user, CHANGE).select_related("community"), pk=pk)
    return _team_form(request, community=team.community, instance=team)
