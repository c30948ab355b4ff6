"""Visit pages.

* ``mine/`` — 我的走访: the signed-in visitor's plans due this week (overdue first), phone first,
  each with a big 记录走访 button; ``?all=1`` shows every plan of theirs.
* ``record/<household>/`` — the phone form: purpose, notes, optional photo, and optionally a
  found need that opens a request (channel "visit") in the same step.
* ``<id>/`` — one visit (and the request it opened); ``<id>/photo/`` its photo.
* ``coverage/`` — staff: per compound, 独居老人户, plans, visits in the last 30 days (on time),
  overdue now; ``coverage/overdue/`` the overdue plans; ``list/`` the visits; ``rounds/<community>/``
  the community's staff round; ``coverage/generate/`` applies the rules to the plans.

Every row comes through ``restrict()`` or :func:`visits.selectors.visitable_households`: out of
scope answers 404 like missing.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW
from baohe.views import query_without_page, staff_required
from communities.models import Community, Compound
from service_requests.models import ServiceRequest

from . import selectors, services
from .forms import (
    CoverageQuery,
    GenerateForm,
    MineQuery,
    OverdueQuery,
    RecordQuery,
    VisitListQuery,
    VisitRecordForm,
    VisitRoundForm,
)
from .models import Purpose, VisitPlan, VisitRound

PAGE_SIZE = 50


def _due_state(plan, today):
    days = (plan.next_due_on - today).days
    if days < 0:
        return "overdue", _("已逾期 %(days)s 天") % {"days": -days}
    if days == 0:
        return "soon", _("今天")
    if days == 1:
        return "soon", _("明天")
    return "ok", _("%(days)s 天后") % {"days": days}


def _community_choice(request, community_id):
    """The communities in the user's scope, and the one ``?community=`` names (else ``None``)."""
    communities = list(Community.objects.restrict(request.user, VIEW).order_by("code"))
    return communities, next((c for c in communities if c.pk == community_id), None)


def _compound(request, compound_id):
    """``?compound=``: a compound in scope (404 otherwise, like missing), or ``None``."""
    if compound_id is None:
        return None
    return get_object_or_404(Compound.objects.restrict(request.user, VIEW), pk=compound_id)


@login_required
def home(request):
    if request.user.is_portal_staff:
        return redirect("visits:coverage")
    return redirect("visits:mine")


@login_required
def mine(request):
    """我的走访: the plans I visit, due within the week (or all), with the flags of each household."""
    today = timezone.localdate()
    show_all = bool(read_query(request, MineQuery)["all"])
    plans = list(selectors.my_plans(request.user, today, horizon_days=None if show_all else selectors.WEEK))
    for plan in plans:
        plan.due_state, plan.due_text = _due_state(plan, today)
        plan.residents_names = "、".join(r.name for r in plan.household.residents.all())
    context = {
        "plans": plans,
        "show_all": show_all,
        "overdue_count": sum(1 for p in plans if p.due_state == "overdue"),
        "recent": list(
            selectors.visits_in_scope(request.user).filter(visitor=request.user).order_by("-visited_at", "-id")[:5]
        ),
    }
    return render(request, "visits/mine.html", context)


@login_required
def record(request, household_id):
    """记录走访 for one household (404 unless the user may visit it)."""
    household = services.access_household_for_visit(request.user, household_id)
    plans = list(selectors.household_plans(household))
    wanted = read_query(request, RecordQuery)["plan"]  # the link from 我的走访; the form posts it back
    plan = next((p for p in plans if p.pk == wanted), None)
    now = timezone.localtime(timezone.now(), timezone.get_default_timezone()).replace(second=0, microsecond=0)
    form = VisitRecordForm(
        request.POST or None,
        request.FILES or None,
        plans=selectors.household_plans(household),
        initial={"visited_at": now},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        plan = data["plan"]
        try:
            visit = services.visit_record(
                by=request.user,
                household=household,
                purpose=data["purpose"],
                notes=data["notes"],
                visited_at=form.visit_time(),
                photo=data.get("photo"),
                need=form.need(),
                plan=plan,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message = _("已记录对 %(household)s 的走访。") % {"household": household}
            if visit.request_id:
                message += _("发现的需求已提交为诉求 %(number)s，社区将尽快签收办理。") % {
                    "number": visit.request.number
                }
            messages.success(request, message)
            return redirect(visit)
    today = timezone.localdate()
    for item in plans:
        item.due_state, item.due_text = _due_state(item, today)
    context = {
        "household": household,
        "residents": list(household.residents.living().order_by("pk").only("pk", "name", "relation", "household_id")),
        "plans": plans,
        "plan": plan,
        "form": form,
        "purposes": Purpose.choices,
    }
    return render(request, "visits/record.html", context, status=400 if form.errors else 200)


@login_required
def detail(request, pk):
    visit = services.access_visit_by_id(request.user, pk)
    can_open_request = (
        visit.request_id is not None
        and ServiceRequest.objects.restrict(request.user, VIEW).filter(pk=visit.request_id).exists()
    )
    return render(request, "visits/detail.html", {"visit": visit, "can_open_request": can_open_request})


@login_required
def photo(request, pk):
    visit = services.access_visit_by_id(request.user, pk)
    if not visit.photo:
        raise Http404
    response = FileResponse(visit.photo.open("rb"))
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)  # personal photos: never kept by a browser or proxy
    return response


@staff_required
def coverage(request):
    """走访覆盖: one row per compound in scope; four grouped queries whatever the number of rows."""
    today = timezone.localdate()
    communities, selected = _community_choice(request, read_query(request, CoverageQuery)["community"])
    rows, totals = selectors.coverage_rows(request.user, today, community=selected)
    changeable = {c.pk for c in Community.objects.restrict(request.user, CHANGE).only("pk")}
    rounds = {r.community_id: r for r in VisitRound.objects.restrict(request.user, VIEW).select_related("staff")}
    round_rows = [
        {"community": c, "round": rounds.get(c.pk), "can_change": c.pk in changeable}
        for c in ([selected] if selected else communities)
        if c.pk in changeable or c.pk in rounds
    ]
    context = {
        "rows": rows,
        "totals": totals,
        "communities": communities,
        "selected_community": selected,
        "can_generate": bool(changeable),
        "round_rows": round_rows[:20],
        "coverage_days": selectors.COVERAGE_DAYS,
    }
    return render(request, "visits/coverage.html", context)


@staff_required
def overdue(request):
    """逾期未走访: the overdue plans in scope (by community or compound), most overdue first."""
    today = timezone.localdate()
    query = read_query(request, OverdueQuery)
    communities, selected = _community_choice(request, query["community"])
    compound = _compound(request, query["compound"])
    page = Paginator(
        selectors.overdue_plans(request.user, today, community=selected, compound=compound), PAGE_SIZE
    ).get_page(query["page"])
    for plan in page.object_list:
        plan.days_late = plan.days_overdue(today)
    context = {
        "page": page,
        "plans": page.object_list,
        "communities": communities,
        "selected_community": selected,
        "compound": compound,
        "today": today,
        "query": query_without_page(request),
    }
    return render(request, "visits/overdue.html", context)


@staff_required
def visit_list(request):
    """走访记录: the visits in scope, newest first (by community, compound or household)."""
    query = read_query(request, VisitListQuery)
    communities, selected = _community_choice(request, query["community"])
    visits = selectors.visits_in_scope(request.user).order_by("-visited_at", "-id")
    if selected is not None:
        visits = visits.filter(community=selected)
    compound = _compound(request, query["compound"])
    if compound is not None:
        visits = visits.filter(compound=compound)
    if query["household"] is not None:
        visits = visits.filter(household_id=query["household"])
    if query["needs"]:
        visits = visits.filter(request__isnull=False)
    page = Paginator(visits, PAGE_SIZE).get_page(query["page"])
    context = {
        "page": page,
        "visits": page.object_list,
        "communities": communities,
        "selected_community": selected,
        "compound": compound,
        "query": query_without_page(request),
    }
    return render(request, "visits/list.html", context)


@require_POST
@staff_required
def generate(request):
    """Apply the rules to the plans of the communities the user may change (or the selected one)."""
    communities = list(Community.objects.restrict(request.user, CHANGE).order_by("code"))
    form = GenerateForm(request.POST)
    if not form.is_valid():
        raise Http404  # an id that does not parse names no community: not found, nothing changes
    chosen = form.cleaned_data["community"]
    if chosen is not None:
        communities = [c for c in communities if c.pk == chosen]
        if not communities:
            raise Http404
    if not communities:
        raise PermissionDenied
    totals = {"created": 0, "updated": 0, "retired": 0}
    for community in communities:
        for key, value in services.visit_plans_generate(community=community).items():
            totals[key] += value
    messages.success(
        request,
        _("已按规则更新走访计划：新建 %(created)s 个，调整 %(updated)s 个，停用 %(retired)s 个。") % totals,
    )
    target = reverse("visits:coverage")
    return redirect(f"{target}?community={chosen}" if chosen is not None else target)


@staff_required
def round_edit(request, community_id):
    """社区走访安排: the staff member and the interval for the community's flagged households."""
    community = get_object_or_404(Community.objects.restrict(request.user, CHANGE), pk=community_id)
    instance = VisitRound.objects.filter(community=community).first() or VisitRound(community=community)
    form = VisitRoundForm(request.POST or None, instance=instance, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            _saved, result = services.visit_round_save(instance=form.save(commit=False), by=request.user)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(
                request,
                _(
                    "已保存 %(community)s 的走访安排，走访计划新建 %(created)s 个，调整 %(updated)s 个，停用 %(retired)s 个。"
                )
                % {"community": community.name, **result},
            )
            return redirect(f"{reverse('visits:coverage')}?community={community.pk}")
    return render(
        request,
        "visits/round_form.html",
        {"form": form, "community": community, "plan_count": VisitPlan.objects.filter(community=community).count()},
        status=400 if form.errors else 200,
    )
