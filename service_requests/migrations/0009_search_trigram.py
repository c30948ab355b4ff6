"""GIN trigram indexes for the request search (``service_requests/search.py``): number,
description and address, on ``UPPER(col)`` (what ``icontains`` compiles to on PostgreSQL).

PostgreSQL only (pg_trgm comes with ``communities.0009``; SQLite searches with a plain scan).
Built CONCURRENTLY (non-atomic migration, deploy/MIGRATIONS.md)."""

from django.db import migrations

INDEXES = {
    "sr_number_trgm": "number",
    "sr_description_trgm": "description",
    "sr_address_trgm": "address",
}
TABLE = "service_requests_servicerequest"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{TABLE}" USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("communities", "0010_search_trigram"),
        ("service_requests", "0008_lean_queue_and_lockless_numbers"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
