"""``python manage.py restore FROM_DIR``: a backup written by ``backup`` into an EMPTY database
and an EMPTY media folder, then checked against its manifest (``baohe/backup.py``,
deploy/BACKUPS.md). Refuses a database or media folder that holds anything. PostgreSQL only."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baohe import backup


class Command(BaseCommand):
    help = "Restore a backup into an empty database and an empty media folder, then verify it."

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="FROM_DIR", help="a directory written by manage.py backup")
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    def handle(self, *args, source, database="default", **options):
        log = (lambda message: self.stdout.write(message)) if options["verbosity"] > 1 else (lambda message: None)
        try:
            outcome = backup.restore(source=Path(source), alias=database, log=log)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.timings.items())
        if outcome.problems:
            raise CommandError("restored, but it does not match the manifest:\n  " + "\n  ".join(outcome.problems[:50]))
        self.stdout.write(
            self.style.SUCCESS(
                f"restored {source}: {outcome.tables} tables, {outcome.rows} rows and {outcome.files} files "
                f"({outcome.bytes} bytes) match the manifest; {timings}"
            )
        )
