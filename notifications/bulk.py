"""Many rows in one INSERT, for the scans' hot path (PostgreSQL).

``bulk_create`` spends most of its time in Python preparing each field of each object; a scan
that claims 300,000 overdue requests writes about a million notifications, where that
overhead decides how long the scan takes. On PostgreSQL :func:`insert_rows` sends one array
per column and lets the server ``unnest`` them (one statement, values adapted once per
column), with ``ON CONFLICT DO NOTHING`` and ``RETURNING`` when asked. Other databases use
the ORM paths (see the callers): this is an optimisation, never the only way.
"""

from django.db import connection


def supported():
    return connection.vendor == "postgresql"


def insert_rows(model, columns, *, constants=None, ignore_conflicts_on=None, returning=()):
    """INSERT one row per list position into ``model``'s table; returns the ``returning`` columns
    of the rows written (a row that conflicts is not written and not returned).

    ``columns``: {field name: [value per row]} (plain values: ints, strings, booleans, None);
    ``constants``: {field name: one value for every row} (e.g. ``created_at``).
    """
    constants = constants or {}
    names = list(columns)
    if not names or not columns[names[0]]:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    fixed = [meta.get_field(name) for name in constants]
    aliases = [f"c{i}" for i in range(len(fields))]
    # Only names from the model and placeholders go into the text; every value is a parameter.
    sql = "INSERT INTO {table} ({targets}) SELECT {select} FROM unnest({arrays}) AS u({aliases})".format(  # noqa: S608
        table=quote(meta.db_table),
        targets=", ".join(quote(f.column) for f in [*fields, *fixed]),
        select=", ".join([*(f"u.{a}" for a in aliases), *("%s" for _ in fixed)]),
        arrays=", ".join(f"%s::{f.db_type(connection)}[]" for f in fields),
        aliases=", ".join(aliases),
    )
    if ignore_conflicts_on:
        sql += f" ON CONFLICT ({quote(meta.get_field(ignore_conflicts_on).column)}) DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(meta.get_field(name).column) for name in returning)
    # The constants' placeholders come first in the statement (SELECT list), then the arrays.
    params = [f.get_db_prep_save(value, connection) for f, value in zip(fixed, constants.values(), strict=True)]
    params += [list(columns[name]) for name in names]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []
