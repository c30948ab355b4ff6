"""Dashboard pages (/dashboard/…): thin views over ``selectors``, ``tables`` and ``lists``.

Every view signs the user in, refuses anyone but officials (403) and finds its place through
``restrict()`` (404 outside the user's scope, like a missing place). A street official who
opens /dashboard/ lands on their street. Numbers come from one :class:`Dashboard` per
request, so each page and endpoint costs a fixed number of queries whatever the data.
"""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from baohe import pagecache
from baohe.exports import export_audit, export_response
from baohe.metrics import cache_lookup
from baohe.query import read_query

from . import exports, tables
from .forms import ListQuery, PageQuery, PeriodQuery, ReportCardQuery, ReportForm, TableQuery
from .lists import spec_for
from .models import ReportJob
from .places import (
    LEVEL_LABELS,
    Period,
    add_months,
    home_street,
    month_label,
    place_for,
    require_dashboard_user,
    sees_whole_district,
)
from .reports import SECTIONS, report_request
from .selectors import Dashboard, scope_key

LIST_PAGE_SIZE = 50
LIST_EXPORT_MAX = 10_000
PAGE_TABLES = (
    "requests",
    "trend",
    "categories",
    "top_compounds",
    "children",
    "organisation",
    "visits",
    "volunteers",
    "funds",
    "fund_purposes",
)


def _dashboard(request, level, pk):
    place = place_for(request.user, level, pk)
    period, error = PeriodQuery(request.GET).period()
    return Dashboard(user=request.user, place=place, period=period), error


def _export(request, dashboard, book, *, filename, table, rows, **filters):
    """Answer an export of this dashboard (stamped, one audit line: ``baohe.exports``)."""
    place = dashboard.place
    return export_response(
        request=request,
        book=book,
        filename=filename,
        table=table,
        rows=rows,
        filters={"level": place.level, "place": place.pk, **dashboard.period.params(), **filters},
        place=place.obj if place.level != "district" else None,
    )


# --- the dashboard page -----------------------------------------------------------------------------
# Served from the cache (baohe.pagecache), per place, period, sort, language and scope, for
# PAGE_CACHE_SECONDS (at most 60): an official may see numbers up to that much behind the
# summary. The user's menu, unread count and report form load as fragments.
@login_required
def page(request, level="district", pk=None):
    require_dashboard_user(request.user)
    if level == "district" and not sees_whole_district(request.user):
        street = home_street(request.user)
        if street is None:
            raise Http404
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(reverse("dashboard:page_at", args=("street", street.pk)) + query)
    dashboard, error = _dashboard(request, level, pk)
    sort = read_query(request, PageQuery)["sort"] or ""
    key = pagecache.page_key(
        request,
        "dashboard",
        dashboard.place.key,
        urlencode(dashboard.period.params()),
        bool(error),
        sort,
        scope_key(request.user),
    )
    html = pagecache.cached_html(
        request,
        key,
        lambda: pagecache.render_shared(request, "dashboard/page.html", _page_context(request, dashboard, error, sort)),
    )
    return pagecache.respond(request, html)


def _page_context(request, dashboard, error, sort):
    """What the page shows: the same for everyone with this scope (nothing of the user's own)."""
    built = {name: tables.build(name, dashboard, sort) for name in PAGE_TABLES}
    built["backbones"] = tables.build("backbones", dashboard)
    place = dashboard.place
    for name, built_table in built.items():
        params = {**dashboard.period.params(), "format": "xlsx"}
        if name == "children":
            params["sort"] = built_table.sort
        built_table.export_url = f"{place.url('table', name)}?{urlencode(params)}"
    requests_table = built["requests"]
    kpis = [
        {"key": key, "label": row[0].value, "cell": row[1], "num": row[2], "den": row[3]}
        for key, row in zip(requests_table.keys, requests_table.rows, strict=True)
    ]
    context = {
        "place": place,
        "dashboard": dashboard,
        "period": dashboard.period,
        "period_error": error,
        "tables": built,
        "kpis": kpis,
        "ancestors": [(a, _ancestor_url(request.user, a)) for a in place.ancestors()],
        "chart_url": f"{place.url('chart_data')}?{urlencode(dashboard.period.params())}",
        "period_query": urlencode(dashboard.period.params()),
        "sort": built["children"].sort,
        "level_label": LEVEL_LABELS[place.level],
        "trend_end": month_label(dashboard.period.end),
    }
    if place.level in ("district", "street"):
        last_month = add_months(dashboard.period.end, -1) if dashboard.period.end == _this_month() else None
        month = f"{(last_month or dashboard.period.end):%Y-%m}"
        context["report_card_url"] = (
            f"{reverse('dashboard:report_card')}?{urlencode({'month': month, 'place': place.key})}"
        )
    return context


@login_required
def report_card(request):
    """The page's 月度报表 card (a form with the user's CSRF token and their last five report
    jobs): an htmx fragment, since the page around it is shared (served from the cache)."""
    require_dashboard_user(request.user)
    query = read_query(request, ReportCardQuery, notify=False)
    month = query["month"]
    form = ReportForm(user=request.user, initial={"month": f"{month:%Y-%m}" if month else "", "place": query["place"]})
    jobs = ReportJob.objects.filter(requested_by=request.user).select_related("street")[:5]
    return render(request, "dashboard/_report_card.html", {"report_form": form, "report_jobs": jobs})


def _this_month():
    return Period.last_months(1).end


def _ancestor_url(user, ancestor):
    if ancestor.level == "district" and not sees_whole_district(user):
        return None
    return ancestor.url()


@login_required
def chart_data(request, level="district", pk=None):
    """The charts' data as JSON (trend, categories, the level below): a fixed number of queries,
    kept in the cache like the page (per place, period, language and scope)."""
    dashboard, _error = _dashboard(request, level, pk)
    key = pagecache.page_key(
        request, "chart-data", dashboard.place.key, urlencode(dashboard.period.params()), scope_key(request.user)
    )
    seconds = settings.PAGE_CACHE_SECONDS
    body = cache.get(key) if seconds else None
    if seconds:
        cache_lookup("page", hit=body is not None)
    if body is None:
        body = json.dumps(_chart_data(dashboard), cls=DjangoJSONEncoder)
        if seconds:
            cache.set(key, body, seconds)
    return HttpResponse(body, content_type="application/json")


def _chart_data(dashboard):
    place, period = dashboard.place, dashboard.period
    from .lists import list_url

    def pct(value):
        return None if value is None else round(value * 100, 1)

    trend = {
        "labels": [f"{month:%Y-%m}" for month, _c in dashboard.trend],
        "received": [c["received"] for _m, c in dashboard.trend],
        "resolved": [c["resolved"] for _m, c in dashboard.trend],
        "response_rate": [pct(c["response_rate"]) for _m, c in dashboard.trend],
        "satisfaction_rate": [pct(c["satisfaction_rate"]) for _m, c in dashboard.trend],
        "urls": [list_url(place, "received", Period.month(month)) for month, _c in dashboard.trend],
    }
    categories = {
        "names": [row["name"] for row in dashboard.categories],
        "received": [row["counts"]["received"] for row in dashboard.categories],
        "urls": [list_url(place, "received", period, category=row["id"]) for row in dashboard.categories],
    }
    child_level = place.child_level
    children = {
        "label": str(LEVEL_LABELS[child_level]) if child_level else "",
        "names": [c["obj"].name for c in dashboard.children],
        "received": [c["counts"]["received"] for c in dashboard.children],
        "response_rate": [pct(c["counts"]["response_rate"]) for c in dashboard.children],
        "satisfaction_rate": [pct(c["counts"]["satisfaction_rate"]) for c in dashboard.children],
        "urls": [
            f"{reverse('dashboard:page_at', args=(child_level, c['obj'].pk))}?{urlencode(period.params())}"
            for c in dashboard.children
        ],
    }
    series = {
        "received": _("受理"),
        "resolved": _("办结"),
        "response_rate": _("响应率(%)"),
        "satisfaction_rate": _("满意率(%)"),
        "count": _("件"),
        "rate": "%",
    }
    return {
        "place": {"level": place.level, "name": place.name},
        "period": period.params(),
        "series": series,
        "trend": trend,
        "categories": categories,
        "children": children,
    }


@login_required
def table(request, name, level="district", pk=None):
    """One table of the page: ``?format=xlsx`` downloads it as Excel, otherwise JSON. A bad
    parameter is ignored (no page here to say so: the page's own links are always right)."""
    if name not in tables.BUILDERS:
        raise Http404
    dashboard, _error = _dashboard(request, level, pk)
    query = read_query(request, TableQuery, notify=False)
    built = tables.build(name, dashboard, query["sort"] or "")
    if query["format"] == "xlsx":
        filename = (
            f"{dashboard.place.name}-{built.title}-{dashboard.period.start:%Y%m}-{dashboard.period.end:%Y%m}.xlsx"
        )
        book = exports.table_book(built, dashboard)
        return _export(
            request,
            dashboard,
            book,
            filename=filename,
            table=f"dashboard.{name}",
            rows=len(built.rows),
            sort=built.sort,
        )
    return JsonResponse(
        {
            "name": built.name,
            "title": str(built.title),
            "columns": [str(c.label) for c in built.columns],
            "rows": [
                [{"value": _json_value(cell), "kind": cell.kind, "url": cell.url} for cell in row] for row in built.rows
            ],
            "available": built.available,
        }
    )


def _json_value(cell):
    if cell.kind in ("hours", "money") and cell.value is not None:
        return str(cell.value)
    return cell.value


# --- the list behind a number ------------------------------------------------------------------------
@login_required
def list_view(request, metric, level="district", pk=None):
    spec = spec_for(metric)
    if spec is None:
        raise Http404
    dashboard, error = _dashboard(request, level, pk)
    query = read_query(request, ListQuery)
    category = query["category"]
    queryset = spec.queryset(dashboard, category=category)
    if query["format"] == "xlsx":
        book, rows = exports.list_book(spec, dashboard, queryset, limit=LIST_EXPORT_MAX)
        filename = f"{dashboard.place.name}-{spec.title}.xlsx"
        return _export(
            request, dashboard, book, filename=filename, table=f"dashboard.list.{metric}", rows=rows, category=category
        )
    paginator = Paginator(queryset, LIST_PAGE_SIZE)
    page_obj = paginator.get_page(query["page"])
    columns = spec.columns_for(request.user)
    rows = [[(column.value(obj), column.url(obj) if column.url else None) for column in columns] for obj in page_obj]
    base_query = {k: v for k, v in request.GET.items() if k not in ("page", "format")}
    place = dashboard.place
    return render(
        request,
        "dashboard/list.html",
        {
            "spec": spec,
            "place": place,
            "period": dashboard.period,
            "period_error": error,
            "page_obj": page_obj,
            "rows": rows,
            "count": paginator.count,
            "columns": [str(c.label) for c in columns],
            "query": urlencode(base_query),
            "back_url": f"{place.url()}?{urlencode(dashboard.period.params())}",
            "export_url": f"?{urlencode({**base_query, 'format': 'xlsx'})}",
            "ancestors": [(a, _ancestor_url(request.user, a)) for a in place.ancestors()],
            "category": category,
            "export_max": LIST_EXPORT_MAX,
        },
    )


# --- monthly reports -----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def reports(request):
    """GET: the user's report jobs. POST: request a new one (then its progress page)."""
    require_dashboard_user(request.user)
    form = ReportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = report_request(by=request.user, month=form.cleaned_data["month"], street=form.cleaned_data["street"])
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            return redirect(job.get_absolute_url())
    jobs = ReportJob.objects.filter(requested_by=request.user).select_related("street")[:50]
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/reports.html", {"form": form, "jobs": jobs}, status=status)


@login_required
def report(request, pk):
    """A report job's progress (polled by htmx every second until it is finished)."""
    require_dashboard_user(request.user)
    job = get_object_or_404(ReportJob.objects.select_related("street"), pk=pk, requested_by=request.user)
    template = "dashboard/_report_progress.html" if request.headers.get("HX-Request") else "dashboard/report.html"
    return render(request, template, {"job": job, "month_label": month_label(job.month)})


@login_required
def report_download(request, pk):
    """The finished report, for the user who asked for it only (404 for anyone else)."""
    require_dashboard_user(request.user)
    job = get_object_or_404(ReportJob, pk=pk, requested_by=request.user, status=ReportJob.Status.DONE)
    if not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    export_audit(
        request=request,
        table="dashboard.report",
        rows=len(SECTIONS),
        filters={"month": job.month, "street": job.street_id},
        filename=job.download_name,
        object_id=str(job.pk),
        street_id=job.street_id,
    )
    return FileResponse(handle, as_attachment=True, filename=job.download_name, content_type=exports.XLSX)
