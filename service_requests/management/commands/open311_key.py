"""Manage Open311 client keys.

    manage.py open311_key create NAME [--user USERNAME]   # prints the new key once
    manage.py open311_key list
    manage.py open311_key revoke NAME

Only the key's SHA-256 and its first 8 characters are stored; a lost key is revoked and a
new one created. Requests filed with a key are entered by its user (``--user``), or by
nobody when it has none.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from service_requests.models import Open311Key
from service_requests.open311 import key_create, key_revoke


class Command(BaseCommand):
    help = "Create, list or revoke Open311 GeoReport v2 API keys."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, title="actions")
        create = actions.add_parser("create", help="create a key and print it (once)")
        create.add_argument("name", help="client name, unique")
        create.add_argument("--user", dest="username", help="the account requests are filed as")
        actions.add_parser("list", help="list keys (name, prefix, active, user)")
        revoke = actions.add_parser("revoke", help="switch a key off")
        revoke.add_argument("name")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_create(self, name, username=None, **options):
        user = None
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}")
        try:
            key, raw = key_create(name=name, user=user)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(raw)
        self.stderr.write(f"created key {key.name!r} ({key.prefix}…); it is shown only this once")

    def handle_list(self, **options):
        for key in Open311Key.objects.select_related("user").order_by("name"):
            state = "active" if key.is_active else "revoked"
            user = key.user.username if key.user_id else "-"
            self.stdout.write(f"{key.name}\t{key.prefix}…\t{state}\t{user}\t{key.created_at:%Y-%m-%d}")

    def handle_revoke(self, name, **options):
        if not Open311Key.objects.filter(name=name).exists():
            raise CommandError(f"no key named {name!r}")
        if key_revoke(name=name):
            self.stdout.write(f"revoked {name}")
        else:
            self.stdout.write(f"{name} was already revoked")
