"""Rewrite the encrypted number columns of a table in batches (``baohe.crypto``).

Used by the data migrations that encrypt the plain numbers of an existing database and by
``manage.py rotate_personal_data`` (re-encrypt under the newest key, recompute every blind
index under the current index key). Rows are read and written with plain SQL by primary key,
``batch`` rows at a time (keyset pagination, one short transaction per batch when not already
inside one), so it works on historical models in migrations and on tables of millions of rows.

A stored value is taken as plaintext when it has no key-id separator (``$`` never occurs in a
mobile or ID number), so a run that was interrupted can be started again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import connections, transaction

from . import crypto


@dataclass(frozen=True)
class Column:
    name: str  # the encrypted column
    context: str  # its crypto context: "<app_label>.<model_name>.<field>"
    kind: str  # blind index kind: "mobile" / "id_number"
    index: str  # the blind index column
    # More blind indexes of the same number: (kind, column), e.g. the mobile's last 4 digits.
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def indexes(self) -> tuple[tuple[str, str], ...]:
        return ((self.kind, self.index), *self.extra)


RESIDENT_COLUMNS = (
    Column("mobile", "communities.resident.mobile", "mobile", "mobile_index", (("mobile_tail", "mobile_tail_index"),)),
    Column("id_number", "communities.resident.id_number", "id_number", "id_number_index"),
)
USER_COLUMNS = (Column("mobile", "accounts.user.mobile", "mobile", "mobile_index"),)
TABLES = {"communities_resident": RESIDENT_COLUMNS, "accounts_user": USER_COLUMNS}


def _plain(stored: str | None, column: Column) -> str | None:
    if stored is None or stored == "":
        return stored
    if crypto.SEPARATOR not in stored:
        return stored  # not encrypted yet
    return crypto.decrypt(stored, context=column.context)


def rewrite_table(
    table: str,
    *,
    columns: tuple[Column, ...] | None = None,
    mode: str = "encrypt",
    batch: int = 2000,
    using: str = "default",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Encrypt (``mode="encrypt"``: plaintext → newest key, indexes recomputed) or decrypt
    (``mode="decrypt"``: back to plaintext, indexes NULL, for a migration's reverse) every row
    of ``table``; returns how many rows were rewritten. Rows already in the wanted form are
    left alone, so running it twice rewrites nothing the second time."""
    columns = columns or TABLES[table]
    connection = connections[using]
    quote = connection.ops.quote_name
    # An extra index added by a later migration is left out while an earlier one runs this.
    with connection.cursor() as cursor:
        present = {info.name for info in connection.introspection.get_table_description(cursor, table)}
    columns = tuple(
        replace(column, extra=tuple(pair for pair in column.extra if pair[1] in present)) for column in columns
    )
    selected = ", ".join(", ".join([quote(c.name), *(quote(index) for _, index in c.indexes)]) for c in columns)
    current = crypto.keys().current_id
    last_id, rewritten, seen = 0, 0, 0
    while True:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {selected} FROM {quote(table)} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
                [last_id, batch],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for row in rows:
                values: list = []
                changed = False
                position = 1
                for column in columns:
                    stored = row[position]
                    old_indexes = list(row[position + 1 : position + 1 + len(column.indexes)])
                    position += 1 + len(column.indexes)
                    plain = _plain(stored, column)
                    new_indexes: list[str | None]
                    if mode == "decrypt":
                        new_stored, new_indexes = plain, [None] * len(column.indexes)
                    elif not plain:
                        new_stored, new_indexes = stored, [None] * len(column.indexes)
                    else:
                        reuse = crypto.key_id_of(stored) == current and crypto.SEPARATOR in stored
                        new_stored = stored if reuse else crypto.encrypt(plain, context=column.context)
                        new_indexes = [crypto.blind_index(kind, plain) for kind, _ in column.indexes]
                    changed |= new_stored != stored or new_indexes != old_indexes
                    values += [new_stored, *new_indexes]
                if changed:
                    updates.append([*values, row[0]])
            if updates:
                assignments = ", ".join(
                    ", ".join([f"{quote(c.name)} = %s", *(f"{quote(index)} = %s" for _, index in c.indexes)])
                    for c in columns
                )
                cursor.executemany(f"UPDATE {quote(table)} SET {assignments} WHERE id = %s", updates)  # noqa: S608
            rewritten += len(updates)
            seen += len(rows)
            last_id = rows[-1][0]
        if progress:
            progress(seen, rewritten)
    return rewritten
