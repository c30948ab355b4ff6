"""Meeting pages: the list, planning, one meeting (attendance, cancelling) and its minutes."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW, may_change_anything
from baohe.views import query_without_page, staff_required
from communities.models import Community

from ... import selectors, services
from ...forms import (
    AttachTeamForm,
    AttendanceForm,
    CancelForm,
    DecisionFormSet,
    MeetingCreateQuery,
    MeetingForm,
    MeetingListQuery,
    MinutesForm,
    parse_people,
)
from ...models import Meeting
from ..common import (
    PAGE_SIZE,
    _meeting,
    _teams,
)


# --- the list -------------------------------------------------------------------------------------
@staff_required
def meeting_list(request):
    """协商议事: meetings in scope, newest first, with counts; one page costs a fixed number of queries."""
    user, now = request.user, timezone.now()
    query = read_query(request, MeetingListQuery)
    filters = selectors.MeetingFilter(
        community_id=query["community"],
        compound_id=query["compound"],
        status=query["status"] or "",
        kind=query["kind"] or "",
        query=(query["q"] or "").strip(),
        minutes_missing=query["minutes"] == "missing",
    )
    communities = list(Community.objects.restrict(user, VIEW).order_by("code"))
    selected = next((c for c in communities if c.pk == filters.community_id), None)
    page = Paginator(selectors.meeting_rows(user, filters, now), PAGE_SIZE).get_page(query["page"])
    for meeting in page.object_list:
        meeting.overdue_days = meeting.minutes_overdue_days(now)
    scoped = Meeting.objects.restrict(user, VIEW)
    if selected is not None:
        scoped = scoped.filter(community=selected)
    counts = scoped.aggregate(
        all=Count("pk"),
        planned=Count("pk", filter=Q(status=Meeting.Status.PLANNED)),
        minutes_missing=Count("pk", filter=selectors.minutes_missing_q(now)),
        minutes_recorded=Count("pk", filter=Q(status=Meeting.Status.MINUTES_RECORDED)),
    )
    context = {
        "page": page,
        "meetings": page.object_list,
        "filters": filters,
        "communities": communities,
        "selected_community": selected,
        "statuses": Meeting.Status.choices,
        "kinds": Meeting.Kind.choices,
        "counts": counts,
        "query": query_without_page(request),
        "can_add": may_change_anything(user),
    }
    return render(request, "meetings/list.html", context)


# --- planning -------------------------------------------------------------------------------------
@staff_required
def meeting_create(request):
    """Plan a meeting, from scratch or from open requests (``?requests=1,2`` preselects them)."""
    user = request.user
    if not may_change_anything(user):
        raise PermissionDenied
    initial = {}
    communities = list(Community.objects.restrict(user, CHANGE).order_by("code")[:2])
    if len(communities) == 1:
        initial["community"] = communities[0]
    ids = read_query(request, MeetingCreateQuery)["requests"]
    if ids:
        chosen = list(selectors.open_requests(user).filter(pk__in=ids))
        initial["requests"] = chosen
        if chosen:
            initial["community"] = chosen[0].community
            compounds = {r.compound_id for r in chosen}
            if len(compounds) == 1:
                initial["compound"] = chosen[0].compound
    form = MeetingForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_create(
                by=user,
                community=data["community"],
                compound=data.get("compound"),
                topic=data["topic"],
                kind=data["kind"],
                scheduled_at=data["scheduled_at"],
                place=data["place"],
                agenda=data["agenda"],
                requests=list(data["requests"]),
                invitees=form.invitees(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            form.add_error(None, str(conflict.message))
        else:
            messages.success(
                request,
                _("已创建会议「%(topic)s」，邀请 %(count)s 人/单位。")
                % {"topic": meeting.topic, "count": meeting.invitees.count()},
            )
            return redirect(meeting)
    context = {"form": form, "title": _("计划协商议事会"), "cancel_url": reverse("meetings:list")}
    return render(request, "meetings/form.html", context, status=400 if form.errors else 200)


@staff_required
def meeting_edit(request, pk):
    meeting = _meeting(request, pk, CHANGE)
    if meeting.status != Meeting.Status.PLANNED:
        messages.error(
            request, _("会议当前状态为「%(status)s」，不能再修改。") % {"status": meeting.get_status_display()}
        )
        return redirect(meeting)
    initial = {
        "community": meeting.community,
        "compound": meeting.compound,
        "topic": meeting.topic,
        "kind": meeting.kind,
        "scheduled_at": timezone.localtime(meeting.scheduled_at),
        "place": meeting.place,
        "agenda": meeting.agenda,
    }
    form = MeetingForm(request.POST or None, user=request.user, editing=True, initial=initial)
    form.fields["compound"].queryset = form.fields["compound"].queryset.filter(community=meeting.community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.meeting_update(
                meeting=meeting,
                by=request.user,
                **{name: data[name] for name in ("topic", "kind", "compound", "scheduled_at", "place", "agenda")},
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            form.add_error(None, str(conflict.message))
        else:
            messages.success(request, _("已保存会议「%(topic)s」。") % {"topic": data["topic"]})
            return redirect(meeting)
    context = {
        "form": form,
        "title": _("修改会议"),
        "meeting": meeting,
        "cancel_url": meeting.get_absolute_url(),
    }
    return render(request, "meetings/form.html", context, status=400 if form.errors else 200)


# --- one meeting ----------------------------------------------------------------------------------
def _render_detail(request, meeting, *, attendance_form=None, cancel_form=None, status=200):
    user = request.user
    can_change = services.may_change_meeting(user, meeting.pk)
    data = selectors.meeting_detail(meeting, user)
    today = timezone.localdate()
    items = [item for decision in data["decisions"] for item in decision.action_items.all()]
    for item in items:
        item.overdue = item.is_overdue(today)
    teams = list(_teams(meeting)) if can_change else []
    for decision in data["decisions"] if can_change else ():
        decision.team_form = AttachTeamForm(
            teams=_teams(meeting), initial={"supervision_team": decision.supervision_team_id}, prefix=f"d{decision.pk}"
        )
    if can_change and attendance_form is None and meeting.status != Meeting.Status.CANCELLED:
        attendance_form = AttendanceForm(meeting=meeting)
    invitees = data["invitees"]
    context = {
        "meeting": meeting,
        "invitees": invitees,
        "attended_count": sum(1 for i in invitees if i.attended),
        "decisions": data["decisions"],
        "requests": data["requests"],
        "items_total": len(items),
        "items_done": sum(1 for i in items if i.is_done),
        "can_change": can_change,
        "attendance_form": attendance_form if can_change else None,
        "cancel_form": (cancel_form or CancelForm())
        if can_change and meeting.status == Meeting.Status.PLANNED
        else None,
        "teams": teams,
        "overdue_days": meeting.minutes_overdue_days(),
        "Status": Meeting.Status,
    }
    return render(request, "meetings/detail.html", context, status=status)


@staff_required
def meeting_detail(request, pk):
    return _render_detail(request, _meeting(request, pk))


@require_POST
@staff_required
def meeting_attendance(request, pk):
    meeting = _meeting(request, pk)
    form = AttendanceForm(request.POST, meeting=meeting)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.meeting_record_attendance(
                meeting=meeting,
                by=request.user,
                attended=[invitee.pk for invitee in data["attended"]],
                held_at=data["held_at"],
                extra=parse_people(data["extra"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect(meeting)
        else:
            messages.success(request, _("已记录到会情况。"))
            return redirect(f"{meeting.get_absolute_url()}#attendance")
    return _render_detail(request, meeting, attendance_form=form, status=400)


@require_POST
@staff_required
def meeting_cancel(request, pk):
    meeting = _meeting(request, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.meeting_cancel(meeting=meeting, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect(meeting)
        else:
            messages.success(request, _("会议已取消。"))
            return redirect(meeting)
    return _render_detail(request, meeting, cancel_form=form, status=400)


@staff_required
def meeting_minutes(request, pk):
    """记录会议纪要: the minutes, the decisions and an action item for each, in one form."""
    meeting = _meeting(request, pk)
    if not services.may_change_meeting(request.user, meeting.pk):
        raise PermissionDenied
    if meeting.status in (Meeting.Status.MINUTES_RECORDED, Meeting.Status.CANCELLED):
        messages.error(
            request,
            _("会议当前状态为「%(status)s」，不能记录纪要。") % {"status": meeting.get_status_display()},
        )
        return redirect(meeting)
    owners = selectors.owner_choices(meeting)
    teams = _teams(meeting)
    form = MinutesForm(request.POST or None, meeting=meeting)
    formset = DecisionFormSet(
        request.POST or None, prefix="decisions", form_kwargs={"meeting": meeting, "owners": owners, "teams": teams}
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        decisions = formset.decisions()
        if not any(f.errors for f in formset.forms):
            try:
                services.meeting_record_minutes(
                    meeting=meeting,
                    by=request.user,
                    minutes=form.cleaned_data["minutes"],
                    held_at=form.cleaned_data["held_at"],
                    decisions=decisions,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except Conflict as conflict:
                messages.error(request, conflict.message)
                return redirect(meeting)
            else:
                items = sum(len(d["action_items"]) for d in decisions)
                messages.success(
                    request,
                    _("已记录会议纪要：%(decisions)s 项决议，%(items)s 个落实事项。")
                    % {"decisions": len(decisions), "items": items},
                )
                return redirect(meeting)
    errors = bool(form.errors or any(f.errors for f in formset.forms) or formset.non_form_errors())
    context = {"meeting": meeting, "form": form, "formset": formset, "has_requests": meeting.requests.exists()}
    return render(request, "meetings/minutes.html", context, status=400 if errors else 200)
