"""A request's deadlines, and the working days (工作日) they count in.

:func:`request_deadlines` is where a request's two deadlines come from: accepting within the
category's ``accept_within_hours`` (clock hours) and resolving within its
``resolve_within_days`` working days (:func:`add_working_days`). Working days are weekdays,
except public holidays, plus 调休 make-up days: the exceptions to the weekly rule are rows of
:class:`~service_requests.models.CalendarDay` (admin-editable, seeded for 2026 and 2027). A limit
of N working days runs to the end (23:59:59, Asia/Shanghai) of the Nth working day after the
day the clock starts. The reminders on the deadlines: ``models/clock.py``.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from .models import CalendarDay, Category

END_OF_DAY = time(23, 59, 59)


def local_date(moment: datetime) -> date:
    """The date of ``moment`` in the portal's time zone (Asia/Shanghai), whatever zone is active."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def overrides_between(start: date, end: date):
    """{date: kind} for the exceptional days in [start, end]."""
    return dict(CalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind"))


def is_working_day(day: date, overrides=None):
    kind = (overrides if overrides is not None else overrides_between(day, day)).get(day)
    if kind == CalendarDay.Kind.HOLIDAY:
        return False
    if kind == CalendarDay.Kind.WORKDAY:
        return True
    return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The end of the ``days``-th working day after the (local) day of ``start``."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = local_date(start)
    # Long holidays (春节) add at most ~9 days; a generous window keeps this to one query.
    overrides = overrides_between(day, day + timedelta(days=days * 2 + 30))
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            counted += 1
    return timezone.make_aware(datetime.combine(day, END_OF_DAY), timezone.get_default_timezone())


def request_deadlines(category: Category, start: datetime) -> tuple[datetime, datetime]:
    """``(accept_due_at, resolve_due_at)`` of a request of ``category`` whose clocks start at
    ``start`` (submission or reroute): hours to accept, working days to resolve."""
    return start + timedelta(hours=category.accept_within_hours), resolve_deadline(category, start)


def resolve_deadline(category: Category, start: datetime) -> datetime:
    """The resolve deadline alone, for a resolve clock that starts again (a reopened request)."""
    return add_working_days(start, category.resolve_within_days)


def working_days_between(start: datetime, end: datetime) -> int:
    """How many working days lie after the local day of ``start`` up to the day of ``end``."""
    first = local_date(start)
    last = local_date(end)
    overrides = overrides_between(first, last)
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            count += 1
    return count


# The State Council's arrangement for 2026 (国办发明电〔2025〕) and a projection for 2027
# (marked 预估; correct it in the admin when the 2027 arrangement is published).
HOLIDAYS = {
    2026: [
        ("元旦", ["2026-01-01", "2026-01-03"], ["2026-01-04"]),
        ("春节", ["2026-02-15", "2026-02-23"], ["2026-02-14", "2026-02-28"]),
        ("清明节", ["2026-04-04", "2026-04-06"], []),
        ("劳动节", ["2026-05-01", "2026-05-05"], ["2026-05-09"]),
        ("端午节", ["2026-06-19", "2026-06-21"], []),
        ("中秋节", ["2026-09-25", "2026-09-27"], []),
        ("国庆节", ["2026-10-01", "2026-10-07"], ["2026-09-20", "2026-10-10"]),
    ],
    2027: [
        ("元旦（预估）", ["2027-01-01", "2027-01-03"], []),
        ("春节（预估）", ["2027-02-06", "2027-02-14"], ["2027-02-20"]),
        ("清明节（预估）", ["2027-04-03", "2027-04-05"], []),
        ("劳动节（预估）", ["2027-05-01", "2027-05-05"], ["2027-04-25", "2027-05-08"]),
        ("端午节（预估）", ["2027-06-09", "2027-06-09"], []),
        ("中秋节（预估）", ["2027-09-15", "2027-09-15"], []),
        ("国庆节（预估）", ["2027-10-01", "2027-10-07"], ["2027-09-26", "2027-10-09"]),
    ],
}


def calendar_days(year):
    """The CalendarDay rows for ``year`` from :data:`HOLIDAYS` (unsaved)."""
    rows = []
    for name, (first, last), workdays in HOLIDAYS.get(year, []):
        day, end = date.fromisoformat(first), date.fromisoformat(last)
        while day <= end:
            rows.append(CalendarDay(date=day, kind=CalendarDay.Kind.HOLIDAY, name=name))
            day += timedelta(days=1)
        rows.extend(CalendarDay(date=date.fromisoformat(w), kind=CalendarDay.Kind.WORKDAY, name=name) for w in workdays)
    return rows
