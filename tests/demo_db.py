"""Databases made once per test run and copied in a second: the migrated test database and the
Baohe demo (``seed_baohe``).

Migrations (about 20 seconds of CPU) run once per run: the first xdist worker to create its test
database migrates it and copies it to a template database named after the run; the others wait
for it and create theirs as copies (:func:`install_migrate_once`).

On PostgreSQL the demo is seeded **twice** into a template database named after the run,
counting every model's rows after each run (:class:`DemoRuns`: the second run must change
nothing, tests/test_seed.py). Under xdist, when the run holds a test that needs the demo, the
worker that migrated starts that seeding right away in a process of its own
(:func:`start_build`, ``python -m tests.demo_db``), so both workers go on with the tests that need
no demo (tests/conftest.py runs those first) instead of one seeding and the other waiting for it.
Without xdist the first test that needs the demo seeds it in its own process (:func:`build_template`).
Every test process then restores the template instead of seeding: a test that takes ``demo`` gets
a fresh copy (under a second), a module that takes ``demo_module`` gets one copy for all its
tests. A file lock makes the other xdist workers wait instead of seeding beside it; the template
is dropped when the run ends (by the xdist controller, or by the only process).

Copies use ``STRATEGY WAL_LOG`` (PostgreSQL 15's default), not ``FILE_COPY``: a file copy forces a
checkpoint first, which on a busy CI machine (both workers writing) took 1.3–6 s per copy of the
72 MB demo against 0.7 s.

On SQLite there is no template: ``demo`` seeds afresh each time and ``demo_module`` seeds twice
inside a transaction rolled back at the end of the module.
"""

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from tests.caches import clear_default_cache

RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
TEMPLATE_PREFIX = "test_demo_"
ROOT = Path(__file__).resolve().parent.parent
BUILD_TIMEOUT = 900  # seconds a worker waits for the background seeding before failing
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"

# Set by tests/conftest.py after collection: the run holds a test that needs the demo.
wanted = False


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


def copy_database(connection, name, template):
    """``DROP`` ``name`` and create it again as a copy of ``template`` (retried while another
    process is copying the same template this instant)."""
    postgres_admin(connection, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    for attempt in range(20):
        try:
            postgres_admin(connection, [f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY WAL_LOG'])
            return
        except psycopg2.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.3)


@contextmanager
def _run_lock(name=None):
    path = Path(tempfile.gettempdir()) / f"baohe-{name or template_name()}.lock"
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path.with_suffix(".json")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _marker(suffix):
    return Path(tempfile.gettempdir()) / f"baohe-{template_name()}.{suffix}"


def start_build(connection, migrated):
    """Seed the run's demo template from the ``migrated`` database in a process of its own
    (``python -m tests.demo_db``); :func:`build_template` waits for it."""
    template = template_name()
    copy_database(connection, template, migrated)
    settings = connection.settings_dict
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    url = f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{template}"
    log = _marker("log").open("w")
    subprocess.Popen(  # noqa: S603 - our own module, run with this interpreter
        [sys.executable, "-m", "tests.demo_db", template],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "baohe.settings"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    _marker("started").write_text(str(time.time()))


def _wait_for_build(done):
    failed, started = _marker("failed"), time.monotonic()
    while not done.exists():
        if failed.exists():
            raise RuntimeError(f"seeding the demo template failed:\n{failed.read_text()}")
        if time.monotonic() - started > BUILD_TIMEOUT:
            log = _marker("log")
            raise RuntimeError(
                f"the demo template was not ready after {BUILD_TIMEOUT} s; its log:\n"
                + (log.read_text()[-3000:] if log.exists() else "(none)")
            )
        time.sleep(0.2)
    return DemoRuns(**json.loads(done.read_text()))


def build_template(connection):
    """The run's template database and its :class:`DemoRuns`: waiting for the background seeding
    when a worker started it (:func:`start_build`), else seeding it here when no other process has
    yet."""
    from django.core.management import call_command
    from django.db import connections

    template = template_name()
    with _run_lock() as done:
        if done.exists():
            return template, DemoRuns(**json.loads(done.read_text()))
        if _marker("started").exists():
            return template, _wait_for_build(done)
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
            ],
        )
        copy_database(connection, template, name)
        call_command("flush", "--no-input")
        done.write_text(json.dumps({"first": runs.first, "second": runs.second}))
        return template, runs


def restore(connection, template):
    """Replace the test database with a copy of ``template`` (committed, so a live server's
    threads see it)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    connections.close_all()
    copy_database(connection, connection.settings_dict["NAME"], template)
    ContentType.objects.clear_cache()
    clear_default_cache()


def drop_templates(connection, run_id=RUN_ID):
    for suffix in ("started", "failed", "log"):
        _marker(suffix).unlink(missing_ok=True)
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
                copy_database(self.connection, template, name)
                if wanted:
                    start_build(self.connection, template)
                done.write_text(name)
                self.connection.ensure_connection()
                return name
            name = self._get_test_db_name()
            copy_database(self.connection, name, template)
        self.connection.close()
        settings.DATABASES[self.connection.alias]["NAME"] = name
        self.connection.settings_dict["NAME"] = name
        self.connection.ensure_connection()
        return name

    create_once.migrate_once = True
    DatabaseCreation.create_test_db = create_once


def _build_main(template):
    """``python -m tests.demo_db TEMPLATE``: seed the demo twice into database ``TEMPLATE``
    (``DATABASE_URL`` names it) with the settings every test process uses, then write the
    :class:`DemoRuns` for the workers (or the error, for them to raise)."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections
    from django.test.utils import setup_test_environment

    setup_test_environment(debug=False)  # mail to memory, DEBUG off: as in a test process
    settings.PASSWORD_HASHERS = [FAST_HASHER]
    settings.DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        settings.CACHES["default"] = {**settings.CACHES["default"], "KEY_PREFIX": "test-demo-build"}
    try:
        started = time.monotonic()
        runs = seed_twice()
        connections.close_all()
        # Not under the run's lock: a worker holds it while it waits for this file.
        done = _marker("json")
        partial = _marker("partial")
        partial.write_text(json.dumps({"first": runs.first, "second": runs.second}))
        partial.rename(done)
        print(f"demo template {template} seeded twice in {time.monotonic() - started:.1f} s", flush=True)
    except BaseException:
        _marker("failed").write_text(traceback.format_exc())
        raise


if __name__ == "__main__":
    _build_main(sys.argv[1])
