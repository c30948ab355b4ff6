"""Every table a dashboard shows, built once from :class:`~dashboard.selectors.Dashboard` and
rendered three ways: as HTML on the page, as an Excel sheet (``?format=xlsx`` on a table's
endpoint, ``exports.py``) and as a section of the monthly report. One builder per table, so
the page, its export and the report cannot disagree.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .lists import list_url
from .places import LEVEL_LABELS, Period, month_label


@dataclass
class Cell:
    value: object
    url: str | None = None
    kind: str = "int"  # int, percent, hours, money (yuan to the fen), text

    @property
    def display(self):
        if self.value is None or self.value == "":
            return "—"
        if self.kind == "percent":
            return f"{self.value * 100:.1f}%"
        if self.kind == "int":
            return f"{self.value:,}"
        if self.kind in ("hours", "money"):
            return f"{Decimal(self.value):,.2f}"
        return str(self.value)

    @property
    def numeric(self):
        return self.kind != "text"

    def html(self):
        """The cell as HTML: its display, linked to its list when it has one."""
        if self.url and self.value is not None:
            inner = format_html('<a href="{}">{}</a>', self.url, self.display)
        else:
            inner = conditional_escape(self.display)
        return format_html('<td class="num">{}</td>', inner) if self.numeric else format_html("<td>{}</td>", inner)


@dataclass
class Column:
    label: object
    sort: str | None = None  # the ?sort= key that orders the table by this column
    numeric: bool = True


@dataclass
class Table:
    name: str
    title: object
    columns: list
    rows: list = field(default_factory=list)
    available: bool = True  # False: the data behind it does not exist yet ("暂无数据")
    note: object = ""
    sort: str = ""
    keys: list = field(default_factory=list)  # a key per row, where rows are named metrics
    export_url: str = ""

    @property
    def rows_html(self):
        """The table body, built here rather than cell by cell in the template (a district page
        has several hundred cells)."""
        return mark_safe(  # noqa: S308 - every part is escaped by format_html/conditional_escape
            "".join("<tr>" + "".join(cell.html() for cell in row) + "</tr>" for row in self.rows)
        )


def text(value, url=None):
    return Cell(None if value is None else str(value), url, "text")


def percent(value, url=None):
    return Cell(value, url, "percent")


# --- builders --------------------------------------------------------------------------------------
def _page_url(dashboard, place):
    """Another place's dashboard over the same months (drilling down keeps the period)."""
    return f"{place.url()}?{urlencode(dashboard.period.params())}"


def _url(dashboard, metric, period=None, **params):
    return list_url(dashboard.place, metric, period or dashboard.period, **params)


def organisation_table(d):
    o = d.organisation
    rows = [
        [text(_("党支部")), Cell(o["branches"], _url(d, "branches")), Cell(None), percent(None)],
        [text(_("楼栋党小组")), Cell(o["building_groups"], _url(d, "building_groups")), Cell(None), percent(None)],
        [
            text(_("功能型党小组")),
            Cell(o["functional_groups"], _url(d, "functional_groups")),
            Cell(None),
            percent(None),
        ],
        [
            text(_("党员中心户")),
            Cell(o["central_households"], _url(d, "central_households")),
            Cell(None),
            percent(None),
        ],
        [text(_("党员")), Cell(o["members"], _url(d, "members")), Cell(None), percent(None)],
    ]
    for kind, label in (
        ("compounds", _("无党支部覆盖的小区")),
        ("buildings", _("无党小组覆盖的楼栋")),
        ("households", _("未由党员中心户联系服务的住户")),
    ):
        total, uncovered = o[f"{kind}_total"], o[f"{kind}_uncovered"]
        covered = (total - uncovered) / total if total else None
        rows.append(
            [
                text(label),
                Cell(uncovered, _url(d, f"{kind}_uncovered")),
                Cell(total, _url(d, kind)),
                percent(covered, _url(d, f"{kind}_uncovered")),
            ]
        )
    return Table(
        "organisation",
        _("组织覆盖"),
        [Column(_("指标"), numeric=False), Column(_("数量")), Column(_("总数")), Column(_("覆盖率"))],
        rows,
    )


RATE_ROWS = (
    # (label, rate, numerator, denominator)
    (gettext_lazy("响应率"), "response_rate", "accepted_on_time", "received"),
    (gettext_lazy("解决率"), "resolution_rate", "solved", "rated"),
    (gettext_lazy("按期办结率"), "on_time_rate", "resolved_on_time", "resolved"),
    (gettext_lazy("满意率"), "satisfaction_rate", "satisfied", "rated"),
    (gettext_lazy("督办后按期办结率"), "supervised_on_time_rate", "supervised_on_time", "supervised_resolved"),
)


def requests_table(d):
    t = d.request_totals
    rows = [[text(_("受理诉求")), Cell(t["received"], _url(d, "received")), Cell(None), Cell(None)]]
    for label, rate, num, den in RATE_ROWS:
        rows.append(
            [
                text(label),
                percent(t[rate], _url(d, num)),
                Cell(t[num], _url(d, num)),
                Cell(t[den], _url(d, den)),
            ]
        )
    for label, key in (
        (_("部分解决"), "partly"),
        (_("当前超时"), "overdue"),
        (_("退单"), "returned"),
        (_("重办"), "reopened"),
        (_("催办"), "urged"),
        (_("督办件数"), "supervised"),
    ):
        rows.append([text(label), Cell(t[key], _url(d, key)), Cell(None), Cell(None)])
    return Table(
        "requests",
        _("诉求办理"),
        [Column(_("指标"), numeric=False), Column(_("数值")), Column(_("分子")), Column(_("分母"))],
        rows,
        keys=[
            "received",
            *(rate for _l, rate, _n, _d in RATE_ROWS),
            "partly",
            "overdue",
            "returned",
            "reopened",
            "urged",
            "supervised",
        ],
        note=_(
            "响应率＝按时签收÷受理；解决率＝评价为解决÷评价；按期办结率＝按期办结÷办结；满意率＝满意和基本满意÷评价；督办后按期办结率＝督办期限内办结÷督办后办结。"
        ),
    )


def trend_table(d):
    rows = []
    for month, c in d.trend:
        period = Period.month(month)
        rows.append(
            [
                text(month_label(month)),
                Cell(c["received"], _url(d, "received", period)),
                Cell(c["resolved"], _url(d, "resolved", period)),
                percent(c["response_rate"], _url(d, "accepted_on_time", period)),
                percent(c["on_time_rate"], _url(d, "resolved_on_time", period)),
                percent(c["satisfaction_rate"], _url(d, "satisfied", period)),
            ]
        )
    return Table(
        "trend",
        _("近12个月趋势"),
        [
            Column(_("月份"), numeric=False),
            Column(_("受理")),
            Column(_("办结")),
            Column(_("响应率")),
            Column(_("按期办结率")),
            Column(_("满意率")),
        ],
        rows,
    )


RATE_COLUMNS = (
    ("received", gettext_lazy("受理"), "received", "int"),
    ("response_rate", gettext_lazy("响应率"), "accepted_on_time", "percent"),
    ("resolution_rate", gettext_lazy("解决率"), "solved", "percent"),
    ("on_time_rate", gettext_lazy("按期办结率"), "resolved_on_time", "percent"),
    ("satisfaction_rate", gettext_lazy("满意率"), "satisfied", "percent"),
)


def _rate_cells(d, counts, place=None, **params):
    place = place or d.place
    cells = []
    for key, _label, metric, kind in RATE_COLUMNS:
        cells.append(Cell(counts[key], list_url(place, metric, d.period, **params), kind))
    return cells


def categories_table(d):
    rows = []
    for row in d.categories:
        c = row["counts"]
        rows.append(
            [
                text(row["name"]),
                *_rate_cells(d, c, category=row["id"]),
                Cell(c["returned"], _url(d, "returned", category=row["id"])),
                Cell(c["reopened"], _url(d, "reopened", category=row["id"])),
            ]
        )
    return Table(
        "categories",
        _("分类统计"),
        [
            Column(_("分类"), numeric=False),
            *(Column(label) for _k, label, _m, _f in RATE_COLUMNS),
            Column(_("退单")),
            Column(_("重办")),
        ],
        rows,
    )


def top_compounds_table(d):
    from .places import Place

    rows = []
    for rank, row in enumerate(d.top_compounds, start=1):
        place = Place("compound", _Ref(row["id"]))
        rows.append(
            [
                Cell(rank),
                text(row["name"], _page_url(d, place)),
                text(row["community"]),
                *_rate_cells(d, row["counts"], place=place),
            ]
        )
    return Table(
        "top_compounds",
        _("诉求最多的十个小区"),
        [
            Column(_("排名")),
            Column(_("小区"), numeric=False),
            Column(_("所属社区"), numeric=False),
            *(Column(label) for _k, label, _m, _f in RATE_COLUMNS),
        ],
        rows,
        available=d.place.level != "compound",
    )


class _Ref:
    """A stand-in row with just a primary key (for building URLs)."""

    def __init__(self, pk):
        self.pk = pk


SORT_KEYS = ("received", "response_rate", "resolution_rate", "on_time_rate", "satisfaction_rate", "overdue")


def children_table(d, sort=""):
    from .places import Place

    level = d.place.child_level
    sort = sort if sort in SORT_KEYS else "response_rate"
    children = sorted(d.children, key=lambda c: c["obj"].code if level != "compound" else c["obj"].name)
    children.sort(key=lambda c: (c["counts"][sort] is None, -(c["counts"][sort] or 0)))
    rows = []
    for rank, child in enumerate(children, start=1):
        place = Place(level, child["obj"])
        c = child["counts"]
        rows.append(
            [
                Cell(rank),
                text(child["obj"].name, _page_url(d, place)),
                *_rate_cells(d, c, place=place),
                Cell(c["overdue"], list_url(place, "overdue", d.period)),
                Cell(c["returned"], list_url(place, "returned", d.period)),
                Cell(c["reopened"], list_url(place, "reopened", d.period)),
            ]
        )
    label = LEVEL_LABELS.get(level, "")
    title = _("%(level)s排名") % {"level": label} if d.place.level != "community" else _("下辖小区")
    return Table(
        "children",
        title,
        [
            Column(_("排名")),
            Column(label, numeric=False),
            *(Column(lbl, sort=key) for key, lbl, _m, _f in RATE_COLUMNS),
            Column(_("当前超时"), sort="overdue"),
            Column(_("退单")),
            Column(_("重办")),
        ],
        rows,
        available=level is not None,
        sort=sort,
    )


def visits_table(d):
    v = d.visits
    rate = v["on_time"] / v["done"] if v["done"] else None
    rows = [
        [text(_("有效走访计划")), Cell(v["planned"], _url(d, "visit_plans"))],
        [text(_("走访次数")), Cell(v["done"], _url(d, "visits"))],
        [text(_("按时走访")), Cell(v["on_time"], _url(d, "visits_on_time"))],
        [text(_("按时走访率")), percent(rate, _url(d, "visits_on_time"))],
        [text(_("当前逾期未走访")), Cell(v["overdue"], _url(d, "visit_plans_overdue"))],
    ]
    return Table("visits", _("走访"), [Column(_("指标"), numeric=False), Column(_("数值"))], rows)


def volunteers_table(d):
    v = d.volunteers
    columns = [Column(_("指标"), numeric=False), Column(_("数值"))]
    month = month_label(d.period.end)
    rows = [
        [text(_("在册志愿者")), Cell(v["active"], _url(d, "volunteers"))],
        [text(_("服务志愿者（人）")), Cell(v["people"], _url(d, "volunteer_hours"))],
        [text(_("服务时长（小时）")), Cell(v["period_hours"], _url(d, "volunteer_hours"), "hours")],
        [
            text(_("%(month)s服务志愿者（人）") % {"month": month}),
            Cell(v["month_people"], _url(d, "volunteer_hours_month")),
        ],
        [
            text(_("%(month)s服务时长（小时）") % {"month": month}),
            Cell(v["month_hours"], _url(d, "volunteer_hours_month"), "hours"),
        ],
    ]
    return Table("volunteers", _("志愿服务"), columns, rows, note=_("时长为已审核的服务时长。"))


def backbones_table(d):
    b = d.backbones
    # The targets behind the quota: 千万工程's progress page (the district's, or the street's).
    targets = None
    if d.place.level == "district":
        targets = reverse("partybuilding:backbones") + f"?year={b['year']}"
    elif d.place.level == "street":
        targets = reverse("partybuilding:backbone_street", args=[d.place.pk]) + f"?year={b['year']}"
    rows = []
    for kind, label in (("party", _("党员骨干")), ("mass", _("群众骨干"))):
        quota = b[f"{kind}_quota"]
        selected = b[kind]
        rows.append(
            [
                text(label),
                Cell(quota, targets),
                Cell(selected, _url(d, f"backbones_{kind}")),
                percent(selected / quota if quota else None, _url(d, f"backbones_{kind}")),
                Cell(b[f"{kind}_trained"], _url(d, f"backbones_{kind}_trained")),
            ]
        )
    note = "" if d.place.level in ("district", "street") else _("年度目标按街道下达，社区和小区不设目标。")
    return Table(
        "backbones",
        _("骨干培养（%(year)s年）") % {"year": b["year"]},
        [
            Column(_("类别"), numeric=False),
            Column(_("年度目标")),
            Column(_("已选育")),
            Column(_("完成率")),
            Column(_("已培训")),
        ],
        rows,
        note=note,
    )


def _money(value):
    return Cell(value, kind="money")


def funds_table(d):
    """Fund execution (社区经费): budget, committed, paid, execution and the share of the year
    elapsed, per street (district), community (street) or fund (community, compound), and a
    total; a row whose execution lags or leads the year is flagged (``funds.selectors``)."""
    f = d.funds
    child = {"street": _("街道"), "community": _("社区"), "fund": _("经费")}[f["by"]]
    columns = [
        Column(child, numeric=False),
        Column(_("预算（元）")),
        Column(_("已批准（元）")),
        Column(_("已支付（元）")),
        Column(_("可用（元）")),
        Column(_("执行率")),
        Column(_("时间进度")),
        Column(_("提示"), numeric=False),
    ]

    def row(execution, name):
        return [
            text(name),
            _money(execution.budget),
            _money(execution.committed),
            _money(execution.paid),
            _money(execution.available),
            percent(None if execution.rate is None else float(execution.rate)),
            percent(float(execution.elapsed)),
            text(execution.alert_label if execution.alert else ""),
        ]

    rows = [row(execution, execution.name) for execution in f["rows"]]
    keys = [execution.key for execution in f["rows"]]
    if rows:
        rows.append(row(f["total"], _("合计")))
        keys.append("total")
    as_of = timezone.localtime(f["as_of"]).strftime("%Y-%m-%d %H:%M")
    return Table(
        "funds",
        _("社区经费执行（%(year)s年）") % {"year": f["year"]},
        columns,
        rows,
        keys=keys,
        note=_("执行率 = 已支付 ÷ 预算；截至 %(as_of)s。执行率落后或超前时间进度 %(points)s 个百分点以上时提示。")
        % {"as_of": as_of, "points": settings.FUNDS_ALERT_POINTS},
    )


def fund_purposes_table(d):
    """Spending by purpose: committed (approved, net of releases) and paid, from the ledger."""
    f = d.funds
    rows = [[text(execution.name), _money(execution.committed), _money(execution.paid)] for execution in f["purposes"]]
    return Table(
        "fund_purposes",
        _("经费用途（%(year)s年）") % {"year": f["year"]},
        [Column(_("用途"), numeric=False), Column(_("已批准（元）")), Column(_("已支付（元）"))],
        rows,
        keys=[execution.key for execution in f["purposes"]],
    )


BUILDERS = {
    "organisation": organisation_table,
    "requests": requests_table,
    "trend": trend_table,
    "categories": categories_table,
    "top_compounds": top_compounds_table,
    "children": children_table,
    "visits": visits_table,
    "volunteers": volunteers_table,
    "backbones": backbones_table,
    "funds": funds_table,
    "fund_purposes": fund_purposes_table,
}


def build(name, dashboard, sort=""):
    if name == "children":
        return children_table(dashboard, sort)
    return BUILDERS[name](dashboard)
