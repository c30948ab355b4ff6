"""Migrations the linter flags that a person has reviewed: each with the reason it is safe.

``python manage.py lint_migrations`` (CI, ``.ci/run``) runs django-migration-linter over the
portal's own apps on PostgreSQL and fails on a backward-incompatible operation — one that
breaks the code still running while a deployment migrates (dropping or renaming a column or
table, adding a NOT NULL column without a database default, …) — unless the migration is
listed here. The rule to follow instead, and how to review, are in deploy/MIGRATIONS.md:
add the column nullable (or with ``db_default``), backfill in batches, then constrain; drop
a column one release after the code stopped reading it.

To mark a reviewed migration, add ``"<app_label>.<migration name>": "<why it is safe>"``. The
reason says why old code cannot trip over the change, or which deployment step makes it safe
(e.g. "stop the workers before migrate"). An entry naming a migration that does not exist, or
with an empty reason, fails the lint too, so this list stays true.
"""

REVIEWED: dict[str, str] = {
    "accounts.0005_drop_drf_authtoken_table": (
        "Drops DRF's authtoken_token table. No code has read it since 0004 moved API tokens to "
        "accounts.ApiToken (rest_framework.authtoken is no longer installed), so no running "
        "release can touch it."
    ),
    "baohe.0003_audit_trail": (
        "Adds reason, username and detail NOT NULL with a Python default, and makes user nullable. "
        "Code from before 0003 writing an AuditEntry during the migrate window would fail the NOT "
        "NULL; deploy this release by stopping web and workers before migrate (deploy/MIGRATIONS.md, "
        "'Releases with a reviewed migration'). The audit trail must not lose an entry, so no rolling "
        "deploy here."
    ),
    "service_requests.0004_request_clocks": (
        "Moves the reminder claim columns (*_warned_at, *_overdue_at, *_escalated_at, "
        "rate_reminded_at) from ServiceRequest to RequestClock, copying them first (RunPython "
        "clocks_from_columns). Old workers would claim on the dropped columns: stop workers and "
        "beat before migrate (deploy/MIGRATIONS.md); web pages of the old release never read them."
    ),
    "accounts.0006_encrypted_mobile": (
        "Encrypts User.mobile (wider column, blind index beside it) and replaces PhoneCode.mobile by "
        "its blind index. A release from before this one would write plain mobile numbers into the "
        "encrypted column and read PhoneCode.mobile, which is gone; a code is valid for minutes only, "
        "so nothing of value is lost. Stop web and workers before migrate (deploy/MIGRATIONS.md); "
        "0007 then encrypts the existing rows in batches."
    ),
    "communities.0004_encrypted_numbers": (
        "Encrypts Resident.mobile and id_number and moves the district-wide unique ID rule to the "
        "blind index. The old release would write plain numbers that the new one cannot decrypt and "
        "would miss duplicates: stop web and workers before migrate (deploy/MIGRATIONS.md); 0005 "
        "encrypts the existing rows in batches."
    ),
    "service_requests.0008_lean_queue_and_lockless_numbers": (
        "Renames the field NumberSequence.last to counted and back to the column 'last' "
        "(db_column): the two RENAME COLUMN statements cancel out in one transaction, so the old "
        "release still reads and writes 'last'. The new seq_start column is nullable, "
        "the sequence and the partial queue index are additions."
    ),
}
