"""Where a dashboard looks (a :class:`Place`: the district, a street, a community or a
compound) and over which months (a :class:`Period`), and who may look.

Dashboards are for officials: district and street officials, administrators and superusers
(:func:`can_view_dashboards`); community staff and residents get 403. A place is found
through ``restrict()`` on its own model, so a street official reaches their street and
everything below it, and anything else answers 404 exactly like a missing row. The district
page needs a view of the whole district (district officials, administrators).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role
from baohe.query import YEAR_MAX, YEAR_MIN
from baohe.scoping import VIEW, user_scope
from communities.models import Community, Compound, District, Street

LEVELS = ("district", "street", "community", "compound")
CHILD_LEVEL = {"district": "street", "street": "community", "community": "compound", "compound": None}
LEVEL_LABELS = {
    "district": gettext_lazy("区"),
    "street": gettext_lazy("街道"),
    "community": gettext_lazy("社区"),
    "compound": gettext_lazy("小区"),
}
MAX_MONTHS = 60


# --- who ------------------------------------------------------------------------------------------
def can_view_dashboards(user):
    """District and street officials, administrators and superusers."""
    if not user.is_authenticated:
        return False
    return user.is_official or Role.Kind.ADMIN in user.role_kinds()


def require_dashboard_user(user):
    if not can_view_dashboards(user):
        raise PermissionDenied(_("数据看板仅供区、街道领导查看。"))


def sees_whole_district(user):
    scope = user_scope(user, VIEW)
    return scope is None or scope.everything


# --- when -----------------------------------------------------------------------------------------
def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text):
    """``2025-06`` or ``2025-06-15`` → 2025-06-01; ``None`` when it is not a date, or its year is
    outside ``baohe.query``'s window (a year 1 or 9999 would take the trend out of ``date``'s range)."""
    text = (text or "").strip()
    try:
        month = date.fromisoformat(f"{text}-01" if len(text) == 7 else text).replace(day=1)
    except ValueError:
        return None
    return month if YEAR_MIN <= month.year <= YEAR_MAX else None


@dataclass(frozen=True)
class Period:
    """Whole calendar months from ``start`` to ``end`` (both the first day of a month, inclusive)."""

    start: date
    end: date

    @classmethod
    def last_months(cls, count=12, today=None):
        end = (today or timezone.localdate()).replace(day=1)
        return cls(add_months(end, -(count - 1)), end)

    @classmethod
    def month(cls, month):
        first = month.replace(day=1)
        return cls(first, first)

    @classmethod
    def between(cls, start, end, *, invalid=False, today=None):
        """The period from month ``start`` to month ``end`` (either may be ``None``: the last twelve
        months' bound) and an error message, or the last twelve months when they are wrong
        (``invalid``: a month that did not parse, ``dashboard.forms.PeriodQuery``)."""
        default = cls.last_months(today=today)
        if invalid:
            return default, _("日期格式不对，已显示近 12 个月。")
        if start is None and end is None:
            return default, None
        start, end = start or default.start, end or default.end
        if start > end:
            return default, _("开始月份晚于结束月份，已显示近 12 个月。")
        if len(cls(start, end).months) > MAX_MONTHS:
            return default, _("时间范围最多 %(n)s 个月，已显示近 12 个月。") % {"n": MAX_MONTHS}
        return cls(start, end), None

    @property
    def months(self):
        months, month = [], self.start
        while month <= self.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    @property
    def trend_months(self):
        """The twelve months ending with the period's last month (the trend chart)."""
        return [add_months(self.end, -i) for i in range(11, -1, -1)]

    @property
    def first_read(self):
        """The earliest month any section reads (the period or its trend)."""
        return min(self.start, self.trend_months[0])

    def bounds(self):
        """The aware datetimes [start, end) of the period (local time)."""
        from service_requests.summary import month_start

        return month_start(self.start), month_start(add_months(self.end, 1))

    def day_bounds(self):
        """The dates [start, end) of the period."""
        return self.start, add_months(self.end, 1)

    def params(self):
        return {"from": f"{self.start:%Y-%m}", "to": f"{self.end:%Y-%m}"}

    @property
    def label(self):
        if self.start == self.end:
            return _("%(y)s年%(m)s月") % {"y": self.start.year, "m": self.start.month}
        return _("%(y1)s年%(m1)s月 至 %(y2)s年%(m2)s月") % {
            "y1": self.start.year,
            "m1": self.start.month,
            "y2": self.end.year,
            "m2": self.end.month,
        }


def month_label(month):
    return _("%(y)s年%(m)s月") % {"y": month.year, "m": month.month}


# --- where ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    """The part of the district a dashboard shows: ``level`` and its row ``obj``."""

    level: str
    obj: Any  # the District, Street, Community or Compound

    @property
    def pk(self):
        return self.obj.pk

    @property
    def name(self):
        return str(self.obj)

    @property
    def child_level(self):
        return CHILD_LEVEL[self.level]

    @property
    def level_label(self):
        return LEVEL_LABELS[self.level]

    @property
    def key(self):
        return "district" if self.level == "district" else f"{self.level}:{self.pk}"

    def url(self, name="page", *args):
        """The URL of one of this place's views: ``page``, ``chart_data``, ``table``, ``list``."""
        if self.level == "district":
            return reverse(f"dashboard:{name}" if name != "page" else "dashboard:home", args=args)
        return reverse(f"dashboard:{name}_at", args=(self.level, self.pk, *args))

    def filter_for(self, model: type[Model]) -> Q:
        """The filter selecting this place's rows of ``model``, by the path the model declares
        once (``scope_paths``, :meth:`baohe.scoping.ScopePaths.place_filter`): the place, not
        the user's scope (that is ``restrict()``'s job)."""
        if self.level == "district":
            return Q()
        return model.scope_paths.place_filter(self.level, self.pk)  # type: ignore[attr-defined]

    def ancestors(self):
        """The places above this one, from the district down."""
        chain = []
        obj = self.obj
        if self.level == "compound":
            chain.append(Place("community", obj.community))
            obj = obj.community
        if self.level in ("compound", "community"):
            chain.append(Place("street", obj.street))
            obj = obj.street
        if self.level != "district":
            chain.append(Place("district", obj.district))
        return list(reversed(chain))


def child_place(level, obj):
    return Place(level, obj)


def district_place(user):
    """The district page's place: only for users who see the whole district (404 otherwise)."""
    if not sees_whole_district(user):
        raise Http404
    district = District.objects.restrict(user, VIEW).order_by("code").first()
    if district is None:
        raise Http404
    return Place("district", district)


PLACE_QUERYSETS = {
    "street": lambda: Street.objects.select_related("district"),
    "community": lambda: Community.objects.select_related("street__district"),
    "compound": lambda: Compound.objects.select_related("community__street__district"),
}


def place_for(user, level, pk=None):
    """The place ``level``/``pk`` if ``user`` may see it; 404 for "not yours" and "not there"."""
    require_dashboard_user(user)
    if level == "district":
        return district_place(user)
    if level not in PLACE_QUERYSETS:
        raise Http404
    obj = PLACE_QUERYSETS[level]().restrict(user, VIEW).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return Place(level, obj)


def home_street(user):
    """For a street official's /dashboard/: their (first) street, or ``None``."""
    return Street.objects.restrict(user, VIEW).order_by("code").first()
