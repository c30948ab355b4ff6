"""Build the Baohe demo district: ``python manage.py seed_baohe``.

Each app contributes a ``seed/demo.py`` module with ``ORDER`` (an int; lower runs first) and
``seed(ctx)``; this command discovers them like ``admin.py`` (so this floor imports no app
above it), runs them in order, each in its own transaction, and prints the demo logins the
modules put in ``ctx.logins``. Every ``seed`` must be idempotent: running the command twice
gives the same rows.

``--scale district`` builds the whole district instead (about 1.4 million residents and
1,000,000 requests over two years; ``--requests`` changes the number): it runs the apps'
``seed/district_scale.py`` modules (same ``ORDER``/``seed(ctx)`` shape), which stream their rows
in with PostgreSQL's COPY (``baohe/bulk.py``). PostgreSQL only, into a freshly migrated
database; apps without such a module (visits, volunteers, meetings) add nothing at that
scale. Run again on a district-scale database it adds nothing.
"""

import importlib
import random
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# The module each scale runs in every app that has one (``<app>.seed.<module>``).
SEED_PACKAGE = "seed"
SCALE_MODULES = {"demo": "demo", "district": "district_scale"}
DISTRICT_REQUESTS = 1_000_000
DISTRICT_EVENT_DAYS = 90


@dataclass
class SeedContext:
    scale: str = "demo"
    requests: int = DISTRICT_REQUESTS  # how many requests the district scale makes
    event_days: int = DISTRICT_EVENT_DAYS  # …and for how many recent days every step's event
    rng: random.Random = field(default_factory=lambda: random.Random(20191126))  # noqa: S311 - demo data
    logins: list = field(default_factory=list)  # (role label, username, password[, how to sign in])
    login_notes: list = field(default_factory=list)  # lines printed after the logins
    stdout: object = None

    def log(self, message):
        if self.stdout is not None:
            self.stdout.write(message)


def demo_modules(scale="demo"):
    name = SCALE_MODULES[scale]
    modules = []
    for config in apps.get_app_configs():
        package = f"{config.name}.{SEED_PACKAGE}"
        try:
            module = importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as error:
            if error.name not in (package, f"{package}.{name}"):
                raise
            continue
        modules.append(module)
    return sorted(modules, key=lambda m: m.ORDER)


class Command(BaseCommand):
    help = "Create the Baohe demo district (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=tuple(SCALE_MODULES),
            default="demo",
            help="demo: a small district for trying the portal; district: the whole district (PostgreSQL only)",
        )
        parser.add_argument(
            "--requests",
            type=int,
            default=DISTRICT_REQUESTS,
            help=f"requests over the last two years at district scale (default {DISTRICT_REQUESTS:,})",
        )
        parser.add_argument(
            "--event-days",
            type=int,
            default=DISTRICT_EVENT_DAYS,
            help="at district scale, write every handling step's event for the requests of the last N days "
            f"(default {DISTRICT_EVENT_DAYS}; 730 for all)",
        )
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the demo logins")

    def handle(self, *args, scale, requests, event_days, quiet_logins, **options):
        if scale == "district" and connection.vendor != "postgresql":
            raise CommandError(
                "--scale district needs PostgreSQL (set DATABASE_URL=postgres://…); "
                f"this database is {connection.vendor}. Use the demo scale on SQLite."
            )
        if requests < 0 or event_days < 0:
            raise CommandError("--requests and --event-days must not be negative")
        ctx = SeedContext(scale=scale, requests=requests, event_days=event_days, stdout=self.stdout)
        begun = time.monotonic()
        for module in demo_modules(scale):
            started = time.monotonic()
            with transaction.atomic():
                module.seed(ctx)
            ctx.log(f"  {module.__name__}: {time.monotonic() - started:.1f}s")
        if scale != "demo":
            ctx.log(f"  total: {time.monotonic() - begun:.1f}s")
        if not quiet_logins and ctx.logins:
            self.stdout.write(self.style.SUCCESS("Demo logins (演示账号):"))
            width = max(len(label) for label, *_rest in ctx.logins)
            for label, username, password, *note in ctx.logins:
                self.stdout.write(f"  {label.ljust(width)}  {username} / {password}  {' '.join(note)}".rstrip())
            for line in ctx.login_notes:
                self.stdout.write(line)
