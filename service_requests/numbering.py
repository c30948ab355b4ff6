"""Request numbers, ``BH-YYYYMMDD-NNNN``, without a lock that submissions share.

PostgreSQL: one database sequence, ``sr_request_number`` (migration 0006), gives every
submission of every day a value with ``nextval`` — which never waits and is never rolled
back — and each day's :class:`~service_requests.models.NumberSequence` row says where the
sequence stood when the day began (``seq_start``) and how many numbers the day had before
(``counted``: the district generator's, or SQLite's counter's). A number is ``counted +
nextval − seq_start``. In the steady state that is one statement, ``SELECT counted,
seq_start, nextval(…) FROM … WHERE day = %s``, and nothing is locked: ten posters take
numbers at once. Only the day's first submission writes the row (an ``INSERT … ON CONFLICT``;
a second first-of-the-day submission waits for it to commit, once a day; a row the district generator
wrote, without ``seq_start``, is started with one conditional ``UPDATE``).

Gap-free? Numbers are unique per day and increase with time. A number is lost only when a
submission fails *after* taking it (a photo that cannot be stored, the database going away
mid-transaction: validation runs before), and around midnight when a submission begun on
the old day takes its number after the new day's first one (the old day's numbers then jump
by the new day's count so far). Nothing reuses a number, so a number printed on a
confirmation always means one request.

SQLite (development) keeps the per-day counter row, incremented under the write lock
(SQLite serialises writes anyway).
"""

from datetime import date, datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import NumberSequence

SEQUENCE = "sr_request_number"
_TABLE = NumberSequence._meta.db_table
# The sequence's position: the last value given (or one before the first, when none was).
_POSITION = f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {SEQUENCE})"  # noqa: S608


def local_day(moment: datetime | None = None) -> date:
    return timezone.localtime(moment or timezone.now(), timezone.get_default_timezone()).date()


def number_format(day: date, value: int) -> str:
    return f"BH-{day:%Y%m%d}-{value:04d}"


def number_next(now: datetime | None = None) -> str:
    """The next number of the local day of ``now`` (call inside the submission's transaction)."""
    day = local_day(now)
    if connection.vendor != "postgresql":
        NumberSequence.objects.get_or_create(day=day)
        NumberSequence.objects.filter(day=day).update(counted=F("counted") + 1)
        return number_format(day, NumberSequence.objects.values_list("counted", flat=True).get(day=day))
    with connection.cursor() as cursor:
        take = f"SELECT last, seq_start, nextval('{SEQUENCE}') FROM {_TABLE} WHERE day = %s AND seq_start IS NOT NULL"  # noqa: S608
        cursor.execute(take, [day])
        row = cursor.fetchone()
        if row is None:
            # The day's first number: the row starts at the sequence's position (a row the
            # generator wrote keeps its count). A second first-of-the-day waits here for the
            # first to commit, then finds the row set.
            cursor.execute(
                f"INSERT INTO {_TABLE} (day, last, seq_start) VALUES (%s, 0, {_POSITION}) ON CONFLICT (day) DO NOTHING",  # noqa: S608
                [day],
            )
            cursor.execute(f"UPDATE {_TABLE} SET seq_start = {_POSITION} WHERE day = %s AND seq_start IS NULL", [day])  # noqa: S608
            cursor.execute(take, [day])
            row = cursor.fetchone()
    counted, start, value = row
    return number_format(day, counted + value - start)


def day_last(row: NumberSequence) -> int:
    """The highest number ``row``'s day has given: on PostgreSQL, up to where the sequence is
    now, or (for an earlier day) where it stood when the next day began."""
    if row.seq_start is None or connection.vendor != "postgresql":
        return row.counted
    later = (
        NumberSequence.objects.filter(day__gt=row.day, seq_start__isnull=False)
        .order_by("day")
        .values_list("seq_start", flat=True)
        .first()
    )
    if later is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {_POSITION}")  # noqa: S608
            later = cursor.fetchone()[0]
    return row.counted + later - row.seq_start
