"""``python manage.py run_scans``: run every periodic scan once, in the foreground.

What beat does periodically, done now and in this process (no broker or worker needed): every
scan of ``CELERY_BEAT_SCHEDULE`` (deadlines, visits, meetings, …), then the dispatch of due
deliveries.
Every scan is idempotent (each reminder is claimed once), so this is safe to run at any
time, next to a running worker, or from cron on a machine without beat.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from baohe.celery import app

DISPATCH = "notifications.tasks.dispatch_pending"


def scans():
    """The scans in the beat schedule (tasks named ``*.scan_*``), in its order, then the
    dispatch of what they wrote: a scan added to the schedule is run here too."""
    names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if ".scan_" in entry["task"]]
    return [*dict.fromkeys(names), DISPATCH]


class Command(BaseCommand):
    help = "Run every periodic scan once in the foreground (deadlines, visits, deliveries)."

    def add_arguments(self, parser):
        parser.add_argument("--only", action="append", metavar="TASK", help="run only this task (repeatable)")

    def handle(self, *args, **options):
        app.loader.import_default_modules()  # autodiscover every app's tasks.py
        names = options["only"] or scans()
        unknown = [name for name in options["only"] or () if name not in app.tasks]
        if unknown:
            raise CommandError(f"unknown task(s): {', '.join(unknown)}")
        for name in names:
            task = app.tasks.get(name)
            if task is None:
                self.stdout.write(f"{name}: not installed, skipped")
                continue
            started = time.monotonic()
            result = task.run()
            self.stdout.write(f"{name}: {result} ({time.monotonic() - started:.2f}s)")
