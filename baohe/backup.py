"""Backups and restores: ``manage.py backup`` and ``manage.py restore`` (deploy/BACKUPS.md).

A backup is a directory::

    manifest.json    what is in it: every table's row count, every file's SHA-256 and size
    database.dump    pg_dump's custom format (restored with pg_restore)
    media/           a copy of MEDIA_ROOT: request photos, visit and inspection photos, and the
                     monthly report files (dashboard.reports keeps them under MEDIA_ROOT/reports/)

**One snapshot.** The backup opens a ``REPEATABLE READ`` read-only transaction, exports its
snapshot (``pg_export_snapshot()``), counts every table in it and runs ``pg_dump
--snapshot=…``, so the dump and the counts in the manifest are the same moment, whatever the
portal writes meanwhile. The media files are copied after that moment: a photo uploaded during
the backup is in the copy without its row (harmless, an orphan file); uploads are never
changed in place. The only deletions are the report clean-up at 03:45 (keep backups away from it).

**Restore** goes into an *empty* database and an *empty* media folder and refuses anything
else: it never merges into or overwrites a live portal. It checks the backup against its
manifest before writing anything, restores the dump in one transaction, copies the files,
then counts every table and hashes every file again and compares them with the manifest.

PostgreSQL only: on SQLite (development) both commands refuse with a message; stop the portal
and copy ``VAR_DIR`` instead. ``pg_dump``/``pg_restore`` are the server's major version
(``/usr/lib/postgresql/<major>/bin`` on Debian, or ``PG_BIN_DIR``): an older pg_dump refuses a
newer server, and a newer one writes archives an older pg_restore cannot read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess  # noqa: S404 - runs pg_dump and pg_restore with argument lists, no shell
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media"
FORMAT = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Outcome:
    """What a backup or restore did, and how long each part took (seconds)."""

    path: Path
    tables: int = 0
    rows: int = 0
    files: int = 0
    bytes: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --- helpers ---------------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` reading it once; its SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest(), size


def _files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path


def _postgres(alias: str = "default"):
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise BackupError(
            "backup and restore support PostgreSQL only (this portal uses "
            f"{connection.vendor}). For a development SQLite database stop the portal and copy "
            "VAR_DIR (the database file and media/) instead."
        )
    return connection


def pg_bin(program: str, server_version_num: int) -> str:
    """The path of ``program`` for the server's major version (see the module docstring)."""
    major = server_version_num // 10000
    configured = getattr(settings, "PG_BIN_DIR", "")
    directory = Path(configured) if configured else Path(f"/usr/lib/postgresql/{major}/bin")
    candidate = directory / program
    if candidate.exists():
        return str(candidate)
    found = shutil.which(program)
    if found:
        return found
    raise BackupError(
        f"{program} not found in {directory} nor on PATH: install the PostgreSQL {major} client "
        f"(apt-get install postgresql-client-{major}) or set PG_BIN_DIR."
    )


def _libpq_env(connection) -> dict[str, str]:
    """The connection's parameters as libpq environment variables (the password never on argv)."""
    params = connection.settings_dict
    env = {**os.environ}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if params.get(key):
            env[name] = str(params[key])
    env["PGDATABASE"] = params["NAME"]
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def _tables(cursor) -> list[str]:
    """Every ordinary and partitioned table in the current schema, sorted."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    return [row[0] for row in cursor.fetchall()]


def table_counts(cursor) -> dict[str, int]:
    """``{table: rows}`` for every table, in one statement (one snapshot)."""
    tables = _tables(cursor)
    if not tables:
        return {}
    quote = connections["default"].ops.quote_name
    sql = " UNION ALL ".join(f"SELECT %s, count(*) FROM {quote(table)}" for table in tables)  # noqa: S608
    cursor.execute(sql, tables)
    return dict(sorted((name, int(count)) for name, count in cursor.fetchall()))


# --- backup ----------------------------------------------------------------------------------------
def default_target() -> Path:
    return Path(settings.BACKUP_DIR) / timezone.localtime().strftime("%Y%m%d-%H%M%S")


def backup(*, target: Path, alias: str = "default", log: Callable[[str], None] = lambda _: None) -> Outcome:
    """Write a backup of the database ``alias`` and MEDIA_ROOT into ``target`` (new or empty)."""
    connection = _postgres(alias)
    media_root = Path(settings.MEDIA_ROOT).resolve()
    if target.resolve() == media_root or media_root in target.resolve().parents:
        raise BackupError(f"{target} is inside MEDIA_ROOT ({media_root}): a backup cannot go into what it copies.")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: a backup goes into a new or empty directory.")
    target.mkdir(parents=True, exist_ok=True)
    outcome = Outcome(path=target)
    started = time.monotonic()

    # 1. The database: counts and dump from one exported snapshot.
    if connection.in_atomic_block:
        raise BackupError("backup must run outside a transaction (it opens its own snapshot).")
    connection.ensure_connection()
    raw = connection.connection
    version = raw.server_version
    pg_dump = pg_bin("pg_dump", version)
    # Explicit BEGIN/ROLLBACK on the driver's connection (in autocommit mode, so the driver adds
    # no BEGIN of its own): the snapshot lives exactly as long as this transaction.
    with raw.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot(), now()")
            snapshot, taken_at = cursor.fetchone()
            counts = table_counts(cursor)
            outcome.timings["count"] = time.monotonic() - started
            log(f"snapshot {snapshot}: {len(counts)} tables, {sum(counts.values())} rows")
            dump_started = time.monotonic()
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--file", str(target / DUMP)],
                _libpq_env(connection),
            )
            outcome.timings["dump"] = time.monotonic() - dump_started
        finally:
            cursor.execute("ROLLBACK")

    # 2. The files (after the snapshot: see the module docstring).
    files_started = time.monotonic()
    files: dict[str, dict[str, Any]] = {}
    for path in _files(media_root):
        relative = path.relative_to(media_root).as_posix()
        digest, size = _copy_hashing(path, target / MEDIA / relative)
        files[relative] = {"sha256": digest, "size": size}
    outcome.timings["media"] = time.monotonic() - files_started

    dump_path = target / DUMP
    manifest = {
        "format": FORMAT,
        "created_at": timezone.localtime().isoformat(),
        "snapshot_at": timezone.localtime(taken_at).isoformat(),
        "database": {
            "vendor": "postgresql",
            "server_version": version,
            "name": connection.settings_dict["NAME"],
            "dump": DUMP,
            "dump_sha256": sha256_file(dump_path),
            "dump_size": dump_path.stat().st_size,
            "tables": counts,
        },
        "media": {"folder": MEDIA, "files": files},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")
    outcome.tables, outcome.rows = len(counts), sum(counts.values())
    outcome.files, outcome.bytes = len(files), sum(f["size"] for f in files.values())
    outcome.timings["total"] = time.monotonic() - started
    return outcome


# --- restore ---------------------------------------------------------------------------------------
def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as error:
        raise BackupError(f"{path} not found: {source} is not a backup written by manage.py backup.") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown manifest format (expected format {FORMAT}).")
    return manifest


def check_backup(source: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems with the backup's own files (missing, wrong size or checksum); empty when whole."""
    problems = []
    dump = source / manifest["database"]["dump"]
    if not dump.is_file():
        problems.append(f"{dump.name}: missing")
    elif sha256_file(dump) != manifest["database"]["dump_sha256"]:
        problems.append(f"{dump.name}: checksum differs from the manifest")
    folder = source / manifest["media"]["folder"]
    listed = manifest["media"]["files"]
    for relative, expected in listed.items():
        path = folder / relative
        if not path.is_file():
            problems.append(f"media/{relative}: missing")
        elif path.stat().st_size != expected["size"] or sha256_file(path) != expected["sha256"]:
            problems.append(f"media/{relative}: checksum differs from the manifest")
    for path in _files(folder):
        if path.relative_to(folder).as_posix() not in listed:
            problems.append(f"media/{path.relative_to(folder).as_posix()}: not in the manifest")
    return problems


def verify(manifest: dict[str, Any], counts: dict[str, int], media_root: Path) -> list[str]:
    """Compare a restored database's counts and media folder with the manifest."""
    problems = []
    expected = manifest["database"]["tables"]
    for table in sorted(set(expected) | set(counts)):
        if expected.get(table) != counts.get(table):
            problems.append(f"table {table}: {counts.get(table, 'missing')} rows, manifest {expected.get(table, '-')}")
    for relative, meta in manifest["media"]["files"].items():
        path = media_root / relative
        if not path.is_file():
            problems.append(f"file {relative}: missing")
        elif sha256_file(path) != meta["sha256"]:
            problems.append(f"file {relative}: checksum differs")
    return problems


def restore(*, source: Path, alias: str = "default", log: Callable[[str], None] = lambda _: None) -> Outcome:
    """Restore the backup in ``source`` into the (empty) database ``alias`` and (empty) MEDIA_ROOT."""
    connection = _postgres(alias)
    started = time.monotonic()
    manifest = read_manifest(source)
    media_root = Path(settings.MEDIA_ROOT)

    # 1. Refuse a database or media folder that holds anything: restore never merges or overwrites.
    with connection.cursor() as cursor:
        present = _tables(cursor)
    if present:
        raise BackupError(
            f"the database {connection.settings_dict['NAME']!r} is not empty ({len(present)} tables, e.g. "
            f"{present[0]}): restore writes only into an empty database. Create a new one "
            "(createdb -O <owner> <name>), point DATABASE_URL at it, and run restore again."
        )
    existing = next(_files(media_root), None)
    if existing is not None:
        raise BackupError(
            f"the media folder {media_root} is not empty (e.g. {existing.relative_to(media_root)}): restore "
            "writes only into an empty one. Move it aside or point MEDIA_ROOT at a new folder."
        )

    # 2. The backup must be whole before anything is written.
    log(f"checking {source} against its manifest")
    problems = check_backup(source, manifest)
    if problems:
        raise BackupError("the backup is damaged, nothing was restored:\n  " + "\n  ".join(problems))
    outcome = Outcome(path=source)
    outcome.timings["check"] = time.monotonic() - started

    # 3. The database, in one transaction (a failure leaves it empty), owned by whoever restores.
    restore_started = time.monotonic()
    connection.ensure_connection()
    pg_restore = pg_bin("pg_restore", connection.connection.server_version)
    dump = source / manifest["database"]["dump"]
    _run(
        [pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
         "--dbname", connection.settings_dict["NAME"], str(dump)],
        _libpq_env(connection),
    )  # fmt: skip
    connection.close()  # the schema changed under this connection
    outcome.timings["database"] = time.monotonic() - restore_started

    # 4. The files.
    files_started = time.monotonic()
    folder = source / manifest["media"]["folder"]
    for relative in manifest["media"]["files"]:
        _copy_hashing(folder / relative, media_root / relative)
    outcome.timings["media"] = time.monotonic() - files_started

    # 5. Count and hash again.
    verify_started = time.monotonic()
    with connection.cursor() as cursor:
        counts = table_counts(cursor)
    outcome.problems = verify(manifest, counts, media_root)
    outcome.timings["verify"] = time.monotonic() - verify_started
    outcome.tables, outcome.rows = len(counts), sum(counts.values())
    outcome.files = len(manifest["media"]["files"])
    outcome.bytes = sum(f["size"] for f in manifest["media"]["files"].values())
    outcome.timings["total"] = time.monotonic() - started
    return outcome
