"""Working-day deadlines against the State Council's 2026 arrangement (调休 included)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from service_requests import calendar
from service_requests.calendar import (
    add_working_days,
    calendar_days,
    is_working_day,
    request_deadlines,
    working_days_between,
)
from service_requests.models import CalendarDay
from service_requests.services import request_submit
from tests.factories import CategoryFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def at(year, month, day, hour=10, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(year, month, day):
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def year_2026(db):
    CalendarDay.objects.bulk_create(calendar_days(2026))


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Fri 9-18: Sat 9-19 off, Sun 9-20 is a 国庆 调休 workday, then Mon 9-21, Tue 9-22.
        pytest.param(at(2026, 9, 18), 3, end_of(2026, 9, 22), id="weekend-with-makeup-sunday"),
        # Wed 9-30: 10-01..10-07 off; Thu 10-08 and Fri 10-09.
        pytest.param(at(2026, 9, 30), 2, end_of(2026, 10, 9), id="national-day"),
        # ... and the third is Sat 10-10, a 调休 workday.
        pytest.param(at(2026, 9, 30), 3, end_of(2026, 10, 10), id="national-day-makeup-saturday"),
        # Fri 2-13: Sat 2-14 is a 春节 调休 workday.
        pytest.param(at(2026, 2, 13), 1, end_of(2026, 2, 14), id="spring-festival-makeup"),
        # ... then 2-15..2-23 off; Tue 2-24.
        pytest.param(at(2026, 2, 13), 2, end_of(2026, 2, 24), id="spring-festival"),
        # A plain weekend: Fri 11-20 → Mon 11-23.
        pytest.param(at(2026, 11, 20, 17, 30), 1, end_of(2026, 11, 23), id="plain-weekend"),
        pytest.param(at(2026, 11, 19), 5, end_of(2026, 11, 26), id="plain-week"),
        # 中秋 Fri 9-25..Sun 9-27 off: Thu 9-24 +1 → Mon 9-28.
        pytest.param(at(2026, 9, 24), 1, end_of(2026, 9, 28), id="mid-autumn"),
        # 元旦: 1-01..1-03 off, Sun 1-04 is a workday; the clock started in 2025.
        pytest.param(at(2025, 12, 31), 1, end_of(2026, 1, 4), id="new-year-from-last-year"),
        # A late-night submission still counts from its own (local) day.
        pytest.param(at(2026, 9, 18, 23, 59), 1, end_of(2026, 9, 20), id="late-night"),
    ],
)
def test_add_working_days(year_2026, start, days, due):
    result = add_working_days(start, days)
    assert result == due
    assert result.utcoffset() == timedelta(hours=8)
    assert timezone.localtime(result, SHANGHAI).time() == calendar.END_OF_DAY


def test_the_day_is_the_shanghai_day_whatever_zone_the_input_is_in(year_2026):
    # 2026-09-18 17:00 UTC is Saturday 9-19 01:00 in Hefei: the next working day is Sunday 9-20 (调休).
    assert add_working_days(datetime(2026, 9, 18, 17, 0, tzinfo=UTC), 1) == end_of(2026, 9, 20)
    # 2026-09-18 15:00 UTC is still Friday 23:00 in Hefei: the same answer as from Friday.
    assert add_working_days(datetime(2026, 9, 18, 15, 0, tzinfo=UTC), 1) == end_of(2026, 9, 20)


def test_an_activated_time_zone_does_not_move_the_deadline(year_2026):
    with timezone.override("America/New_York"):
        due = add_working_days(at(2026, 9, 18), 3)
    assert due == end_of(2026, 9, 22)
    assert due.utcoffset() == timedelta(hours=8)


def test_without_calendar_rows_only_weekends_are_off(db):
    assert add_working_days(at(2026, 9, 18), 3) == end_of(2026, 9, 23)
    assert add_working_days(at(2026, 9, 30), 2) == end_of(2026, 10, 2)


def test_zero_days_is_refused(db):
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(at(2026, 9, 18), 0)


def test_is_working_day(year_2026):
    assert is_working_day(at(2026, 9, 20).date()) is True  # Sunday, 调休
    assert is_working_day(at(2026, 10, 1).date()) is False  # holiday, Thursday
    assert is_working_day(at(2026, 10, 10).date()) is True  # Saturday, 调休
    assert is_working_day(at(2026, 10, 11).date()) is False  # plain Sunday
    assert is_working_day(at(2026, 10, 12).date()) is True  # plain Monday


def test_working_days_between(year_2026):
    assert working_days_between(at(2026, 9, 18), at(2026, 9, 22)) == 3
    assert working_days_between(at(2026, 9, 30), at(2026, 10, 10)) == 3
    assert working_days_between(at(2026, 9, 30), at(2026, 9, 30, 23)) == 0


def test_calendar_days_2026_follow_the_state_council():
    rows = {row.date.isoformat(): (row.kind, row.name) for row in calendar_days(2026)}
    holidays = sorted(d for d, (kind, _name) in rows.items() if kind == CalendarDay.Kind.HOLIDAY)
    workdays = sorted(d for d, (kind, _name) in rows.items() if kind == CalendarDay.Kind.WORKDAY)
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert workdays == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    assert rows["2026-02-15"] == (CalendarDay.Kind.HOLIDAY, "春节")
    assert rows["2026-09-20"] == (CalendarDay.Kind.WORKDAY, "国庆节")


def test_deadlines_from_a_category(year_2026):
    category = CategoryFactory(accept_within_hours=4, resolve_within_days=3)
    accept_due, resolve_due = request_deadlines(category, at(2026, 9, 18, 21, 30))
    assert accept_due == at(2026, 9, 19, 1, 30)  # hours are clock hours, not working hours
    assert resolve_due == end_of(2026, 9, 22)


def test_a_submitted_request_gets_its_deadlines(year_2026, resident, district):
    category = CategoryFactory(accept_within_hours=6, resolve_within_days=2)
    before = timezone.now()
    request = request_submit(
        by=resident, category=category, description="2栋门口路灯不亮", compound=district.a1.compound
    )
    after = timezone.now()
    request.refresh_from_db()
    assert before + timedelta(hours=6) <= request.accept_due_at <= after + timedelta(hours=6)
    assert request.resolve_due_at in {add_working_days(before, 2), add_working_days(after, 2)}
    assert timezone.localtime(request.resolve_due_at, SHANGHAI).time() == calendar.END_OF_DAY
