"""pg_trgm and GIN trigram indexes on residents' and compounds' names for search
(``communities/search.py``), and a B-tree on ``UPPER(room)`` (a room searched district-wide).

PostgreSQL only (SQLite searches with a plain scan): ``icontains`` compiles to
``UPPER(name::text) LIKE UPPER(%s)``, so the index is on ``UPPER(name)``. Built CONCURRENTLY
(non-atomic migration, deploy/MIGRATIONS.md), so writes go on while it is built."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "communities_resident_name_trgm": ("communities_resident", "name"),
    "communities_compound_name_trgm": ("communities_compound", "name"),
}


ROOM_INDEX = "communities_household_room_upper"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}") gin_trgm_ops)'
        )
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{ROOM_INDEX}" ON "communities_household" (UPPER("room"))'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in (*INDEXES, ROOM_INDEX):
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("communities", "0009_resident_search"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
