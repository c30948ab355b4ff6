"""Streamed bulk loading into PostgreSQL: ``COPY … FROM STDIN`` fed by a generator of rows.

Used by the district-scale generator (``manage.py seed_baohe --scale district``): millions of
rows go in without ever being held in memory. A producer thread turns the row generator into
byte chunks (a bounded queue, so at most a few megabytes wait), and the loading thread feeds
them to ``COPY`` in statements of ``batch_rows`` rows. The database checks each statement's
foreign keys at its end (``SET CONSTRAINTS ALL IMMEDIATE``, see :func:`bulk_session`), so
while it does, the producer is already formatting the next batch: on a two-core machine
Python and PostgreSQL work at the same time instead of taking turns.

Rows are lines in COPY's text format: values joined by tabs, ``\\N`` for NULL. Integers,
dates and the generator's own fixed words need no escaping; free text goes through
:func:`text`. This module knows no app: callers name their table and columns.
"""

import queue
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection

NULL = "\\N"
CHUNK_ROWS = 2000  # rows per chunk handed from the producer thread to COPY
BATCH_ROWS = 100_000  # rows per COPY statement (its foreign keys are checked at its end)
QUEUE_CHUNKS = 64  # chunks the producer may run ahead

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_DONE = object()


def require_postgresql(what="district-scale data"):
    """Refuse clearly on anything but PostgreSQL (COPY, setval and the sizes need it)."""
    if connection.vendor != "postgresql":
        raise CommandError(
            f"{what} needs PostgreSQL (set DATABASE_URL=postgres://…); "
            f"this database is {connection.vendor}. On SQLite use the demo scale."
        )


def bulk_session():
    """Settings for the current transaction: commit without waiting for the WAL flush (the
    load is one transaction per module and can simply be run again), and check foreign keys
    at the end of each COPY statement instead of all at commit (bounded memory, overlap)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def text(value):
    """A free-text value for COPY's text format (backslash, tab and line breaks escaped)."""
    return value.translate(_ESCAPES) if value else ""


def opt(value):
    """An optional integer or string: ``\\N`` for None."""
    return NULL if value is None else str(value)


class Timestamps:
    """Fast ``timestamptz`` literals from epoch seconds (UTC, whole seconds), for COPY."""

    def __init__(self):
        self._days = {}

    def __call__(self, seconds):
        if seconds is None:
            return NULL
        seconds = int(seconds)
        day, rest = divmod(seconds, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}+00"


def _produce(lines, chunks, stop, chunk_rows):
    try:
        batch = []
        append = batch.append
        for line in lines:
            append(line)
            if len(batch) >= chunk_rows:
                data = ("\n".join(batch) + "\n").encode()
                while not stop.is_set():
                    try:
                        chunks.put((data, len(batch)), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                batch.clear()
                if stop.is_set():
                    return
        if batch:
            chunks.put(((("\n".join(batch)) + "\n").encode(), len(batch)))
        chunks.put(_DONE)
    except BaseException as error:  # handed to the loading thread, which re-raises it
        chunks.put(error)


class _Batch:
    """A file-like object for ``copy_expert``: chunks from the queue until ``limit`` rows."""

    def __init__(self, chunks, limit):
        self.chunks = chunks
        self.limit = limit
        self.rows = 0
        self.finished = False  # the generator is exhausted

    def read(self, size=-1):
        if self.finished or self.rows >= self.limit:
            return b""
        item = self.chunks.get()
        if item is _DONE:
            self.finished = True
            return b""
        if isinstance(item, BaseException):
            self.finished = True
            raise item
        data, count = item
        self.rows += count
        return data

    def __iter__(self):  # psycopg 3: write chunk by chunk
        while True:
            data = self.read()
            if not data:
                return
            yield data


def copy_rows(table, columns, lines, *, batch_rows=BATCH_ROWS, chunk_rows=CHUNK_ROWS):
    """COPY the ``lines`` (an iterable of tab-separated strings) into ``table`` and return how
    many rows went in. The iterable is consumed in a producer thread: it must not touch the
    database (prepare what it needs first)."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    chunks = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(lines, chunks, stop, chunk_rows), daemon=True)
    producer.start()
    total = 0
    try:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            while True:
                batch = _Batch(chunks, batch_rows)
                if hasattr(raw, "copy_expert"):  # psycopg2
                    raw.copy_expert(sql, batch, size=1 << 16)
                else:  # psycopg 3
                    with raw.copy(sql) as copy:
                        for data in batch:
                            copy.write(data)
                total += batch.rows
                if batch.finished:
                    break
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            try:
                chunks.get(timeout=0.1)
            except queue.Empty:
                pass
        producer.join()
    return total


@contextmanager
def indexes_rebuilt_after(table, columns):
    """Drop ``table``'s indexes that cover any of ``columns`` for the block, then create them
    again (same definitions, unique ones included): an index of random keys (a blind index) is
    built far faster once, sorted, than row by row during a COPY."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s", [table]
        )
        found = [
            (name, definition)
            for name, definition in cursor.fetchall()
            if any(f"({column}" in definition or f" {column}" in definition for column in columns)
        ]
        for name, _definition in found:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in found:
            cursor.execute(definition)


def next_id(model):
    """The first id after the table's largest (ids are assigned by the generator)."""
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - a model's table name
        return cursor.fetchone()[0]


def reset_sequences(*models):
    """Move each model's id sequence past the ids the generator assigned."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def analyze(*models):
    """Fresh planner statistics for the loaded tables (autovacuum would get there later)."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def epoch(moment):
    return moment.timestamp()
