"""Databases made once per test run and copied in a second: the migrated test database and the
Baohe demo (``seed_baohe``).

Migrations (about 20 seconds of CPU) run once per run: the first xdist worker to create its test
database migrates it and copies it to a template database named after the run; the others wait
for it and create theirs as copies (:func:`install_migrate_once`).

On PostgreSQL the first test process that needs the demo seeds it **twice** into its own test
database, counting every model's rows after each run (:class:`DemoRuns`: the second run must
change nothing, tests/test_seed.py), copies that database to a template database named after the
run, and empties its own again. Every test process then restores the template instead of
seeding: a test that takes ``demo`` gets a fresh copy (about a second), a module that takes
``demo_module`` gets one copy for all its tests. A file lock makes the other xdist workers wait
for the first one instead of seeding beside it; the template is dropped when the run ends
(by the xdist controller, or by the only process).

On SQLite there is no template: ``demo`` seeds afresh each time and ``demo_module`` seeds twice
inside a transaction rolled back at the end of the module.
"""

import fcntl
import json
import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from tests.caches import clear_default_cache

RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
TEMPLATE_PREFIX = "test_demo_"


def template_name(run_id=RUN_ID):
    return f"{TEMPLATE_PREFIX}{run_id[:16]}"


def migrated_name(run_id=RUN_ID):
    return f"test_migrated_{run_id[:16]}"


@dataclass
class DemoRuns:
    """Every model's row count (``app_label.ModelName``, many-to-many tables included) after the
    first and after the second ``seed_baohe``."""

    first: dict
    second: dict


def model_counts():
    from django.apps import apps

    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy and model._meta.managed
    }


def seed_twice():
    from django.core.management import call_command

    call_command("seed_baohe", "--quiet-logins")
    first = model_counts()
    call_command("seed_baohe", "--quiet-logins")
    return DemoRuns(first=first, second=model_counts())


def postgres_admin(connection, sql):
    """Run each statement (or ``(statement, params)``) on the maintenance database, not on the
    test database, which it may drop."""
    settings = connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres",
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            for statement in sql:
                cursor.execute(*statement) if isinstance(statement, tuple) else cursor.execute(statement)
    finally:
        admin.close()


@contextmanager
def _run_lock(name=None):
    path = Path(tempfile.gettempdir()) / f"baohe-{name or template_name()}.lock"
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path.with_suffix(".json")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_template(connection):
    """The run's template database (seeding it when no other process has yet) and its
    :class:`DemoRuns`."""
    from django.core.management import call_command
    from django.db import connections

    template = template_name()
    with _run_lock() as done:
        if done.exists():
            return template, DemoRuns(**json.loads(done.read_text()))
        runs = seed_twice()
        name = connection.settings_dict["NAME"]
        connections.close_all()
        postgres_admin(
            connection,
            [
                # A live server's or worker's idle connection would block the copy.
                (
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [name],
                ),
                f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
                f'CREATE DATABASE "{template}" TEMPLATE "{name}" STRATEGY FILE_COPY',
            ],
        )
        call_command("flush", "--no-input")
        done.write_text(json.dumps({"first": runs.first, "second": runs.second}))
        return template, runs


def restore(connection, template):
    """Replace the test database with a copy of ``template`` (committed, so a live server's
    threads see it)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    name = connection.settings_dict["NAME"]
    connections.close_all()
    postgres_admin(connection, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    for attempt in range(10):
        try:
            postgres_admin(connection, [f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'])
            break
        except psycopg2.errors.ObjectInUse:  # another worker is copying the template this instant
            if attempt == 9:
                raise
            time.sleep(0.3)
    ContentType.objects.clear_cache()
    clear_default_cache()


def drop_templates(connection, run_id=RUN_ID):
    postgres_admin(
        connection,
        [
            f'DROP DATABASE IF EXISTS "{template_name(run_id)}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{migrated_name(run_id)}" WITH (FORCE)',
        ],
    )


def install_migrate_once():
    """Under xdist on PostgreSQL, a fresh test database is a copy of the run's migrated template
    (see the module docstring); with ``--reuse-db`` on an existing database, or when its contents
    must be serialized, Django's own ``create_test_db`` runs as always."""
    from django.db.backends.postgresql.creation import DatabaseCreation

    create_test_db = DatabaseCreation.create_test_db
    if getattr(create_test_db, "migrate_once", False):
        return

    def create_once(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        if keepdb or serialize:
            return create_test_db(self, verbosity, autoclobber, serialize, keepdb)
        from django.conf import settings

        template = migrated_name()
        with _run_lock(template) as done:
            if not done.exists():
                name = create_test_db(self, verbosity, autoclobber, serialize, keepdb)
                self.connection.close()
                postgres_admin(self.connection, [f'CREATE DATABASE "{template}" TEMPLATE "{name}" STRATEGY FILE_COPY'])
                done.write_text(name)
                self.connection.ensure_connection()
                return name
            name = self._get_test_db_name()
            postgres_admin(
                self.connection,
                [
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY',
                ],
            )
        self.connection.close()
        settings.DATABASES[self.connection.alias]["NAME"] = name
        self.connection.settings_dict["NAME"] = name
        self.connection.ensure_connection()
        return name

    create_once.migrate_once = True
    DatabaseCreation.create_test_db = create_once
