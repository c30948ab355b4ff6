"""The list behind every number on a dashboard ("every number links to the list behind it").

A :class:`ListSpec` names a metric (``received``, ``satisfied``, ``households_unserved`` …),
the rows it counts and the columns shown. The rows are computed *directly* from the domain
tables — requests, events, the registry, visits — never from the summary, restricted to the
viewer with ``restrict()`` and narrowed to the place (the model's ``scope_paths``) and the
period. A request list's rows are the declaration of its KPI (``service_requests.kpis``:
``Kpi.rows``), the very condition the summary counts by, so a dashboard number and the length
of its list agree; the tests hold them to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from baohe.scoping import VIEW, may_change_anything, restricted
from communities.models import Building, Compound, Household
from partybuilding.models import Backbone, CentralHousehold, PartyBranch, PartyGroup, PartyMember
from service_requests.filters import overdue_q
from service_requests.kpis import kpi
from service_requests.models import OPEN_STATUSES, RequestEvent, ServiceRequest
from visits.models import Visit, VisitPlan
from volunteers.models import ServiceHours, Volunteer

from .places import add_months

Rows = Callable[[Any], Q]  # (dashboard) -> the filter of the rows counted


@dataclass(frozen=True)
class Column:
    label: object
    value: object  # row -> value
    url: object = None  # row -> URL or None
    # Where a vulnerable household lives (building, unit, room): only for those who visit it
    # (users who may change rows: staff, administrators), never in an official's list or export.
    private: bool = False


@dataclass(frozen=True)
class ListSpec:
    metric: str
    title: object
    model: type[models.Model]
    rows: Rows
    columns: tuple
    related: tuple = ()
    order: tuple = ("-pk",)
    period: bool = True  # the period narrows the rows
    category: str | None = None  # lookup to the request category: ``?category=<group>`` narrows the rows
    distinct: bool = False
    base: Callable[[Any], QuerySet] | None = None  # (dashboard) -> queryset, instead of restricted rows
    extra: dict = field(default_factory=dict)

    def columns_for(self, user: Any) -> tuple:
        """The columns ``user`` sees: read-only officials get no :attr:`Column.private` one."""
        if may_change_anything(user):
            return self.columns
        return tuple(column for column in self.columns if not column.private)

    def queryset(self, dashboard: Any, category: int | None = None) -> QuerySet:
        if self.base is not None:
            queryset = self.base(dashboard)
        else:
            queryset = restricted(self.model, dashboard.user, VIEW)
        queryset = queryset.filter(dashboard.place.filter_for(self.model)).filter(self.rows(dashboard))
        if self.category and category:
            path = self.category
            queryset = queryset.filter(Q(**{f"{path}_id": category}) | Q(**{f"{path}__parent_id": category}))
        if self.distinct:
            queryset = queryset.distinct()
        return queryset.select_related(*self.related).order_by(*self.order)


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def yes_no(value):
    if value is None:
        return ""
    return _("是") if value else _("否")


# --- requests: one list per KPI, its rows the KPI's declaration -------------------------------------
def _between(name: str) -> Rows:
    def condition(dashboard: Any) -> Q:
        start, end = dashboard.period.bounds()
        return Q(**{f"{name}__gte": start, f"{name}__lt": end})

    return condition


def _and(first: Rows, extra: Q) -> Rows:
    return lambda dashboard: first(dashboard) & extra


def kpi_rows(name: str) -> Rows:
    """The rows KPI ``name`` counts in the dashboard's period (read from ``kpis.KPIS`` each time)."""
    return lambda dashboard: kpi(name).rows(*dashboard.period.bounds())


def _not_accepted_on_time(dashboard: Any) -> Q:
    """Received in the period and not accepted on time: ``received`` less ``accepted_on_time``."""
    return kpi("received").rows(*dashboard.period.bounds()) & ~kpi("accepted_on_time").condition


REQUEST_COLUMNS = (
    Column(gettext_lazy("编号"), lambda r: r.number, lambda r: r.get_absolute_url()),
    Column(gettext_lazy("分类"), lambda r: str(r.category)),
    Column(gettext_lazy("小区"), lambda r: r.compound.name),
    Column(gettext_lazy("状态"), lambda r: r.get_status_display()),
    Column(gettext_lazy("提交时间"), lambda r: local(r.created_at)),
)
REQUEST_RELATED = ("category__parent", "compound__community")


def _request_spec(metric, title, rows, *extra_columns, period=True):
    return ListSpec(
        metric=metric,
        title=title,
        model=ServiceRequest,
        rows=rows,
        columns=REQUEST_COLUMNS + extra_columns,
        related=REQUEST_RELATED,
        period=period,
        category="category",
    )


ACCEPTED_COLUMNS = (
    Column(gettext_lazy("签收期限"), lambda r: local(r.accept_due_at)),
    Column(gettext_lazy("签收时间"), lambda r: local(r.accepted_at)),
)
RESOLVED_COLUMNS = (
    Column(gettext_lazy("办结期限"), lambda r: local(r.resolve_due_at)),
    Column(gettext_lazy("办结时间"), lambda r: local(r.resolved_at)),
)
RATED_COLUMNS = (
    Column(gettext_lazy("是否解决"), lambda r: r.get_solved_display()),
    Column(gettext_lazy("是否满意"), lambda r: r.get_satisfaction_display()),
    Column(gettext_lazy("评价时间"), lambda r: local(r.rated_at)),
)

SUPERVISED_COLUMNS = (
    Column(gettext_lazy("督办次数"), lambda r: r.supervise_count),
    Column(gettext_lazy("督办期限"), lambda r: local(r.supervise_due_at)),
    Column(gettext_lazy("办结时间"), lambda r: local(r.resolved_at)),
)


def _handler(request: ServiceRequest) -> str:
    """承办方: who handles it (the assignee), else the community that must accept it."""
    return request.assignee_label or request.compound.community.name


def days_overdue(request: ServiceRequest, now) -> int:
    """Whole days past the deadline in force (accept while submitted, resolve after); 0 if not late."""
    due = request.accept_due_at if request.status == ServiceRequest.Status.SUBMITTED else request.resolve_due_at
    return max(0, (now - due).days)


EVENT_COLUMNS = (
    Column(gettext_lazy("时间"), lambda e: local(e.created_at)),
    Column(gettext_lazy("诉求编号"), lambda e: e.request.number, lambda e: e.request.get_absolute_url()),
    Column(gettext_lazy("分类"), lambda e: str(e.request.category)),
    Column(gettext_lazy("小区"), lambda e: e.request.compound.name),
    Column(gettext_lazy("说明"), lambda e: e.message),
)


def _event_spec(metric, title):
    return ListSpec(
        metric=metric,
        title=title,
        model=RequestEvent,
        rows=kpi_rows(metric),
        columns=EVENT_COLUMNS,
        related=("request__category__parent", "request__compound"),
        order=("-created_at", "-pk"),
        category="request__category",
    )


_SPECS: list[ListSpec] = [
    _request_spec("received", gettext_lazy("受理诉求"), kpi_rows("received")),
    _request_spec("accepted_on_time", gettext_lazy("按时签收的诉求"), kpi_rows("accepted_on_time"), *ACCEPTED_COLUMNS),
    _request_spec("not_accepted_on_time", gettext_lazy("未按时签收的诉求"), _not_accepted_on_time, *ACCEPTED_COLUMNS),
    _request_spec("resolved", gettext_lazy("办结的诉求"), kpi_rows("resolved"), *RESOLVED_COLUMNS),
    _request_spec("resolved_on_time", gettext_lazy("按期办结的诉求"), kpi_rows("resolved_on_time"), *RESOLVED_COLUMNS),
    _request_spec("rated", gettext_lazy("已评价的诉求"), kpi_rows("rated"), *RATED_COLUMNS),
    _request_spec("solved", gettext_lazy("评价为解决的诉求"), kpi_rows("solved"), *RATED_COLUMNS),
    _request_spec("partly", gettext_lazy("评价为部分解决的诉求"), kpi_rows("partly"), *RATED_COLUMNS),
    _request_spec("satisfied", gettext_lazy("评价为满意或基本满意的诉求"), kpi_rows("satisfied"), *RATED_COLUMNS),
    _request_spec(
        "overdue",
        gettext_lazy("当前超时的诉求"),
        lambda d: Q(status__in=OPEN_STATUSES) & overdue_q(d.now),
        Column(gettext_lazy("签收期限"), lambda r: local(r.accept_due_at)),
        Column(gettext_lazy("办结期限"), lambda r: local(r.resolve_due_at)),
        Column(gettext_lazy("承办方"), lambda r: _handler(r)),
        Column(gettext_lazy("超时天数"), lambda r: days_overdue(r, timezone.now())),
        Column(gettext_lazy("督办"), lambda r: local(r.supervise_due_at) if r.supervise_due_at else ""),
        period=False,
    ),
    _request_spec(
        "supervised_resolved",
        gettext_lazy("督办后办结的诉求"),
        kpi_rows("supervised_resolved"),
        *SUPERVISED_COLUMNS,
    ),
    _request_spec(
        "supervised_on_time",
        gettext_lazy("督办期限内办结的诉求"),
        kpi_rows("supervised_on_time"),
        *SUPERVISED_COLUMNS,
    ),
    _event_spec("returned", gettext_lazy("退单记录")),
    _event_spec("reopened", gettext_lazy("重办记录")),
    _event_spec("urged", gettext_lazy("催办记录")),
    _event_spec("supervised", gettext_lazy("督办记录")),
]


# --- party organisation and the registry ----------------------------------------------------------
def _everything(dashboard):
    return Q()


def _uncovered(kind):
    def base(dashboard):
        from partybuilding.selectors import uncovered

        return uncovered(kind, dashboard.user)

    return base


def _name_column(label):
    return Column(label, lambda o: str(o), lambda o: o.get_absolute_url())


COMMUNITY_COLUMN = Column(gettext_lazy("社区"), lambda o: o.community.name)
HOUSEHOLD_COLUMNS = (
    Column(gettext_lazy("小区"), lambda h: h.building.compound.name),
    Column(gettext_lazy("住户"), lambda h: str(h), lambda h: h.get_absolute_url()),
    COMMUNITY_COLUMN,
)


def _registry(metric, title, model, columns, related=(), order=("pk",), base=None, rows=None, **kw):
    return ListSpec(
        metric=metric,
        title=title,
        model=model,
        rows=rows or _everything,
        columns=columns,
        related=related,
        order=order,
        period=False,
        base=base,
        **kw,
    )


_SPECS += [
    _registry(
        "branches",
        gettext_lazy("党支部"),
        PartyBranch,
        (_name_column(gettext_lazy("党支部")), COMMUNITY_COLUMN),
        related=("community",),
        order=("community__code", "name", "pk"),
        distinct=True,
    ),
    _registry(
        "groups",
        gettext_lazy("党小组"),
        PartyGroup,
        (
            _name_column(gettext_lazy("党小组")),
            Column(gettext_lazy("党支部"), lambda g: g.branch.name, lambda g: g.branch.get_absolute_url()),
            COMMUNITY_COLUMN,
        ),
        related=("branch", "community"),
        order=("community__code", "branch__name", "name", "pk"),
        distinct=True,
    ),
    *(
        _registry(
            metric,
            title,
            PartyGroup,
            (
                _name_column(title),
                Column(gettext_lazy("党支部"), lambda g: g.branch.name, lambda g: g.branch.get_absolute_url()),
                COMMUNITY_COLUMN,
            ),
            rows=lambda d, kind=kind: Q(kind=kind),
            related=("branch", "community"),
            order=("community__code", "branch__name", "name", "pk"),
            distinct=True,
        )
        for metric, title, kind in (
            ("building_groups", gettext_lazy("楼栋党小组"), PartyGroup.Kind.BUILDING),
            ("functional_groups", gettext_lazy("功能型党小组"), PartyGroup.Kind.FUNCTIONAL),
        )
    ),
    _registry(
        "central_households",
        gettext_lazy("党员中心户"),
        CentralHousehold,
        (
            Column(gettext_lazy("党员"), lambda c: c.member.resident.name, lambda c: c.get_absolute_url()),
            Column(gettext_lazy("住户"), lambda c: str(c.household), lambda c: c.household.get_absolute_url()),
            COMMUNITY_COLUMN,
        ),
        related=("member__resident", "household__building", "community"),
        order=("community__code", "pk"),
    ),
    _registry(
        "members",
        gettext_lazy("党员"),
        PartyMember,
        (
            Column(
                gettext_lazy("党员"),
                lambda m: m.resident.name,
                lambda m: reverse("partybuilding:member", args=[m.pk]),
            ),
            Column(gettext_lazy("党支部"), lambda m: m.branch.name, lambda m: m.branch.get_absolute_url()),
            COMMUNITY_COLUMN,
        ),
        related=("resident", "branch", "community"),
        order=("community__code", "branch__name", "pk"),
    ),
    _registry(
        "compounds",
        gettext_lazy("小区"),
        Compound,
        (_name_column(gettext_lazy("小区")), COMMUNITY_COLUMN),
        related=("community",),
        order=("community__code", "name", "pk"),
    ),
    _registry(
        "compounds_uncovered",
        gettext_lazy("无党支部覆盖的小区"),
        Compound,
        (_name_column(gettext_lazy("小区")), COMMUNITY_COLUMN),
        related=("community",),
        order=("community__code", "name", "pk"),
        base=_uncovered("compounds"),
    ),
    _registry(
        "buildings",
        gettext_lazy("楼栋"),
        Building,
        (
            Column(gettext_lazy("小区"), lambda b: b.compound.name),
            _name_column(gettext_lazy("楼栋")),
            COMMUNITY_COLUMN,
        ),
        related=("compound", "community"),
        order=("community__code", "compound__name", "pk"),
    ),
    _registry(
        "buildings_uncovered",
        gettext_lazy("无党小组覆盖的楼栋"),
        Building,
        (
            Column(gettext_lazy("小区"), lambda b: b.compound.name),
            _name_column(gettext_lazy("楼栋")),
            COMMUNITY_COLUMN,
        ),
        related=("compound", "community"),
        order=("community__code", "compound__name", "pk"),
        base=_uncovered("buildings"),
    ),
    _registry(
        "households",
        gettext_lazy("住户"),
        Household,
        HOUSEHOLD_COLUMNS,
        related=("building__compound", "community"),
        order=("community__code", "building_id", "unit", "room", "pk"),
    ),
    _registry(
        "households_uncovered",
        gettext_lazy("未由党员中心户联系服务的住户"),
        Household,
        HOUSEHOLD_COLUMNS,
        related=("building__compound", "community"),
        order=("community__code", "building_id", "unit", "room", "pk"),
        base=_uncovered("households"),
    ),
]


# --- visits, volunteers, backbones ------------------------------------------------------------------
def _today_before(field_name):
    return lambda d: Q(active=True, **{f"{field_name}__lt": d.today})


# Visit plans and visits are lists of vulnerable households (独居老人 weekly, served households):
# officials see their compound, not the building, unit and room.
PLAN_COLUMNS = (
    Column(gettext_lazy("小区"), lambda p: p.household.compound.name),
    Column(gettext_lazy("住户"), lambda p: str(p.household), lambda p: p.household.get_absolute_url(), private=True),
    Column(gettext_lazy("走访规则"), lambda p: p.get_rule_display()),
    Column(gettext_lazy("走访人"), lambda p: p.visitor_label),
    Column(gettext_lazy("下次应走访"), lambda p: p.next_due_on),
    COMMUNITY_COLUMN,
)
VISIT_COLUMNS = (
    Column(gettext_lazy("走访时间"), lambda v: local(v.visited_at), lambda v: v.get_absolute_url()),
    Column(gettext_lazy("小区"), lambda v: v.household.compound.name),
    Column(gettext_lazy("住户"), lambda v: str(v.household), private=True),
    Column(gettext_lazy("事由"), lambda v: v.get_purpose_display()),
    Column(gettext_lazy("走访人"), lambda v: v.visitor_label or str(v.visitor)),
    Column(gettext_lazy("按时"), lambda v: yes_no(v.on_time)),
)
HOURS_COLUMNS = (
    Column(gettext_lazy("服务日期"), lambda h: h.served_on),
    Column(gettext_lazy("志愿者"), lambda h: h.volunteer.resident.name, lambda h: h.volunteer.get_absolute_url()),
    Column(gettext_lazy("服务项目"), lambda h: h.project.name),
    Column(gettext_lazy("时长(小时)"), lambda h: h.hours),
    COMMUNITY_COLUMN,
)


def _served_between(dashboard):
    first, after = dashboard.period.day_bounds()
    return Q(status="approved", served_on__gte=first, served_on__lt=after)


def _served_in_last_month(dashboard):
    first = dashboard.period.end
    return Q(status="approved", served_on__gte=first, served_on__lt=add_months(first, 1))


def _backbones(kind, trained=False):
    def rows(dashboard):
        q = Q(year=dashboard.period.end.year, kind=kind)
        return q & Q(attendances__attended=True) if trained else q

    return rows


BACKBONE_COLUMNS = (
    Column(gettext_lazy("姓名"), lambda b: b.resident.name, lambda b: b.resident.get_absolute_url()),
    Column(gettext_lazy("类别"), lambda b: b.get_kind_display()),
    Column(gettext_lazy("年度"), lambda b: b.year),
    Column(gettext_lazy("特长"), lambda b: b.specialty),
    Column(gettext_lazy("街道"), lambda b: b.street.name),
)

_SPECS += [
    _registry(
        "visit_plans",
        gettext_lazy("有效走访计划"),
        VisitPlan,
        PLAN_COLUMNS,
        related=("household__building", "household__compound", "community"),
        order=("next_due_on", "pk"),
        rows=lambda d: Q(active=True),
    ),
    _registry(
        "visit_plans_overdue",
        gettext_lazy("逾期未走访的计划"),
        VisitPlan,
        PLAN_COLUMNS,
        related=("household__building", "household__compound", "community"),
        order=("next_due_on", "pk"),
        rows=_today_before("next_due_on"),
    ),
    ListSpec(
        "visits",
        gettext_lazy("走访记录"),
        Visit,
        _between("visited_at"),
        VISIT_COLUMNS,
        related=("household__building", "household__compound", "visitor"),
        order=("-visited_at", "-pk"),
    ),
    ListSpec(
        "visits_on_time",
        gettext_lazy("按时走访记录"),
        Visit,
        _and(_between("visited_at"), Q(on_time=True)),
        VISIT_COLUMNS,
        related=("household__building", "household__compound", "visitor"),
        order=("-visited_at", "-pk"),
    ),
    _registry(
        "volunteers",
        gettext_lazy("在册志愿者"),
        Volunteer,
        (
            Column(gettext_lazy("志愿者"), lambda v: v.resident.name, lambda v: v.get_absolute_url()),
            Column(gettext_lazy("特长技能"), lambda v: v.skills),
            Column(gettext_lazy("注册日期"), lambda v: v.joined_on),
            COMMUNITY_COLUMN,
        ),
        related=("resident", "community"),
        order=("community__code", "pk"),
        rows=lambda d: Q(is_active=True),
    ),
    ListSpec(
        "volunteer_hours",
        gettext_lazy("志愿服务时长记录"),
        ServiceHours,
        _served_between,
        HOURS_COLUMNS,
        related=("volunteer__resident", "project", "community"),
        order=("-served_on", "-pk"),
    ),
    ListSpec(
        "volunteer_hours_month",
        gettext_lazy("当月志愿服务时长记录"),
        ServiceHours,
        _served_in_last_month,
        HOURS_COLUMNS,
        related=("volunteer__resident", "project", "community"),
        order=("-served_on", "-pk"),
    ),
]
for _kind, _label, _trained_label in (
    ("party", gettext_lazy("党员骨干"), gettext_lazy("已参加培训的党员骨干")),
    ("mass", gettext_lazy("群众骨干"), gettext_lazy("已参加培训的群众骨干")),
):
    for _trained, _suffix in ((False, ""), (True, "_trained")):
        _SPECS.append(
            ListSpec(
                f"backbones_{_kind}{_suffix}",
                _trained_label if _trained else _label,
                Backbone,
                _backbones(_kind, _trained),
                BACKBONE_COLUMNS,
                related=("resident", "street"),
                order=("street__code", "pk"),
                period=False,
                distinct=_trained,
                extra={"trained": _trained},
            )
        )

SPECS: dict[str, ListSpec] = {spec.metric: spec for spec in _SPECS}


def spec_for(metric: str) -> ListSpec | None:
    return SPECS.get(metric)


@lru_cache(maxsize=4096)
def _list_prefix(level, pk):
    """``/dashboard/<level>/<pk>/list/`` (reversed once per place: a page links to hundreds of lists)."""
    if level == "district":
        return reverse("dashboard:list", args=["-"])[:-2]
    return reverse("dashboard:list_at", args=(level, pk, "-"))[:-2]


@lru_cache(maxsize=1024)
def _period_query(start, end):
    return urlencode({"from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}"})


def list_url(place, metric, period, **params):
    """The URL of the list behind a number (``params``: e.g. ``category``)."""
    query = _period_query(period.start, period.end)
    extra = {k: v for k, v in params.items() if v not in (None, "")}
    if extra:
        query = f"{query}&{urlencode(extra)}"
    return f"{_list_prefix(place.level, place.pk)}{metric}/?{query}"
