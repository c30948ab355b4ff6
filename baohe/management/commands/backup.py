"""``python manage.py backup [--to DIR]``: the database (one snapshot) and MEDIA_ROOT with a
manifest of row counts and checksums (``baohe/backup.py``, deploy/BACKUPS.md). PostgreSQL only."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baohe import backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump, one snapshot) and the media files, with a manifest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            dest="target",
            help="a new or empty directory (default: BACKUP_DIR/<date-time>)",
        )
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    def handle(self, *args, target=None, database="default", **options):
        path = Path(target) if target else backup.default_target()
        try:
            outcome = backup.backup(target=path, alias=database, log=self._log(options))
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.timings.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"backup written to {outcome.path}: {outcome.tables} tables, {outcome.rows} rows, "
                f"{outcome.files} files ({outcome.bytes} bytes); {timings}"
            )
        )

    def _log(self, options):
        return (lambda message: self.stdout.write(message)) if options["verbosity"] > 1 else (lambda message: None)
