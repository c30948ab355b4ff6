"""The migration linter (``manage.py lint_migrations``, run by .ci/run over every app): a
backward-incompatible migration fails unless reviewed, and the reviewed list stays true."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from baohe import reviewed_migrations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the linter reads the SQL PostgreSQL runs: set DATABASE_URL")


def test_a_reviewed_migration_passes_with_its_reason(capsys):
    call_command("lint_migrations", "accounts")
    out = capsys.readouterr().out
    assert "Erroneous migrations: 0/" in out
    assert "reviewed: accounts.0005_drop_drf_authtoken_table" in out


def test_an_unreviewed_drop_and_a_stale_entry_fail(monkeypatch, capsys):
    reviewed = {k: v for k, v in reviewed_migrations.REVIEWED.items() if k != "accounts.0005_drop_drf_authtoken_table"}
    monkeypatch.setattr(reviewed_migrations, "REVIEWED", {**reviewed, "accounts.0099_gone": "a reason"})
    with pytest.raises(CommandError) as error:
        call_command("lint_migrations", "accounts")
    assert "1 migration(s) are backward incompatible" in str(error.value)
    assert "names migrations that do not exist: accounts.0099_gone" in str(error.value)
    assert "(accounts, 0005_drop_drf_authtoken_table)... ERR" in capsys.readouterr().out


def test_every_reviewed_migration_has_a_reason():
    assert all(len(reason.split()) >= 8 for reason in reviewed_migrations.REVIEWED.values())
