"""Build the Baohe demo district: ``python manage.py seed_baohe``.

Each app contributes a ``demo.py`` module with ``ORDER`` (an int; lower runs first) and
``seed(ctx)``; this command discovers them like ``admin.py`` (so this floor imports no app
above it), runs them in order, each in its own transaction, and prints the demo logins the
modules put in ``ctx.logins``. Every ``seed`` must be idempotent: running the command twice
gives the same rows.
"""

import importlib
import random
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


@dataclass
class SeedContext:
    scale: str = "demo"
    rng: random.Random = field(default_factory=lambda: random.Random(20191126))  # noqa: S311 - demo data
    logins: list = field(default_factory=list)  # (role label, username, password)
    stdout: object = None

    def log(self, message):
        if self.stdout is not None:
            self.stdout.write(message)


def demo_modules():
    modules = []
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        modules.append(module)
    return sorted(modules, key=lambda m: m.ORDER)


class Command(BaseCommand):
    help = "Create the Baohe demo district (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=("demo",), default="demo", help="how much data to create")
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the demo logins")

    def handle(self, *args, scale, quiet_logins, **options):
        ctx = SeedContext(scale=scale, stdout=self.stdout)
        for module in demo_modules():
            started = time.monotonic()
            with transaction.atomic():
                module.seed(ctx)
            ctx.log(f"  {module.__name__}: {time.monotonic() - started:.1f}s")
        if not quiet_logins and ctx.logins:
            self.stdout.write(self.style.SUCCESS("Demo logins (演示账号):"))
            width = max(len(label) for label, _u, _p in ctx.logins)
            for label, username, password in ctx.logins:
                self.stdout.write(f"  {label.ljust(width)}  {username} / {password}")
