"""Re-encrypt every stored mobile and ID number under the newest key of PERSONAL_DATA_KEYS and
recompute every blind index under BLIND_INDEX_KEY, in batches (``baohe.reencrypt``).

Rotation: put the new key first in PERSONAL_DATA_KEYS (keep the old ones after it), restart the
portal (new writes use the new key, old rows still decrypt), run this command, then drop the old
key. Running it again rewrites only rows not yet under the newest key.
"""

from django.core.management.base import BaseCommand, CommandError

from baohe import crypto
from baohe.reencrypt import TABLES, rewrite_table


class Command(BaseCommand):
    help = "Re-encrypt personal numbers under the newest key and recompute their blind indexes."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000, help="rows per batch and transaction (default 2000)")

    def handle(self, *args, batch, verbosity=1, **options):
        if not 1 <= batch <= 100_000:
            raise CommandError("--batch must be between 1 and 100000")
        key_id = crypto.keys().current_id
        for table in TABLES:

            def progress(seen, rewritten, table=table):
                if verbosity >= 2:
                    self.stdout.write(f"{table}: {seen} rows read, {rewritten} rewritten")

            try:
                rewritten = rewrite_table(table, batch=batch, progress=progress)
            except crypto.DecryptionError as error:
                raise CommandError(f"{table}: {error}") from error
            self.stdout.write(f"{table}: {rewritten} rows rewritten under key {key_id}")
