"""``python manage.py lint_migrations``: django-migration-linter over the portal's own apps,
with the reviewed exceptions in ``baohe/reviewed_migrations.py`` (rule: deploy/MIGRATIONS.md).

Lints on PostgreSQL (the SQL production runs; on SQLite every change is a table rebuild and
everything would be flagged). Third-party apps' migrations are theirs to review and are not
linted; nor are initial migrations (they create tables no running code reads yet). Warnings
(an index built inside the migration's transaction locks the table meanwhile) are printed and
do not fail; errors fail unless reviewed. A dev dependency (requirements-dev.txt).
"""

import logging
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from baohe import reviewed_migrations


def portal_apps() -> list[str]:
    """The labels of the apps whose code lives in this repository."""
    base = Path(settings.BASE_DIR).resolve()
    return sorted(
        config.label
        for config in apps.get_app_configs()
        if base in Path(config.path).resolve().parents and ".venv" not in Path(config.path).parts
    )


class Command(BaseCommand):
    help = "Lint the portal's migrations for backward-incompatible operations (reviewed ones excepted)."

    def add_arguments(self, parser):
        parser.add_argument("app_label", nargs="*", help="lint only these apps (default: every app of the portal)")

    def handle(self, *args, app_label=(), **options):
        try:
            from django_migration_linter import MigrationLinter
        except ImportError as error:
            raise CommandError(
                "django-migration-linter is not installed: pip install -r requirements-dev.txt"
            ) from error
        if connection.vendor != "postgresql":
            raise CommandError(
                "lint_migrations lints the SQL PostgreSQL runs: set DATABASE_URL to a PostgreSQL database."
            )
        logging.getLogger("django_migration_linter").setLevel(logging.WARNING)

        REVIEWED = reviewed_migrations.REVIEWED  # noqa: N806 - read at run time (tests replace it)
        linted = portal_apps()
        unknown = sorted(set(app_label) - set(linted))
        if unknown:
            raise CommandError(f"not an app of the portal: {', '.join(unknown)}")
        linted = list(app_label) or linted
        on_disk = {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
        stale = sorted(key for key in REVIEWED if key not in on_disk)
        unexplained = sorted(key for key, reason in REVIEWED.items() if not reason.strip())
        reviewed = {tuple(key.split(".", 1)) for key in REVIEWED}

        class ReviewedLinter(MigrationLinter):
            def should_ignore_migration(self, app_label, migration_name, operations=(), is_initial=False):
                return (app_label, migration_name) in reviewed or super().should_ignore_migration(
                    app_label, migration_name, operations, is_initial
                )

        linter = ReviewedLinter(
            str(settings.BASE_DIR),
            include_apps=linted,
            ignore_initial_migrations=True,
            no_cache=True,
            quiet=["ok", "ignore"] if options["verbosity"] < 2 else [],
        )
        linter.lint_all_migrations()
        linter.print_summary()
        for key in sorted(REVIEWED):
            self.stdout.write(f"reviewed: {key}")
        problems = []
        if linter.has_errors:
            problems.append(
                f"{linter.nb_erroneous} migration(s) are backward incompatible: split them (deploy/MIGRATIONS.md) "
                "or, once reviewed, add them with the reason to baohe/reviewed_migrations.py"
            )
        if stale:
            problems.append(f"baohe/reviewed_migrations.py names migrations that do not exist: {', '.join(stale)}")
        if unexplained:
            problems.append(f"baohe/reviewed_migrations.py gives no reason for: {', '.join(unexplained)}")
        if problems:
            raise CommandError("; ".join(problems))
