"""The restore drill (issue 19): seed the demo, back up, drop everything, restore, compare.

The demo has no photos of its own, so residents first file three requests with two real JPEG
photos each and the district official builds a monthly report (a file under MEDIA_ROOT/reports/).
Then ``manage.py backup`` writes the backup; "dropping everything" is a fresh, empty scratch
database (named after this worker's test database, so xdist workers never share one) and an
empty media folder; ``manage.py restore`` runs in its own process against them, as an operator
would run it. The test counts every table and hashes every photo itself, on both sides.

PostgreSQL only (backup and restore refuse SQLite): skipped on SQLite.
"""

import hashlib
import io
import os
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from accounts.models import User
from baohe import backup
from communities.models import Resident
from dashboard.models import ReportJob
from dashboard.reports import report_generate, report_request
from service_requests.models import Attachment, Category
from service_requests.services import request_submit
from tests.demo_db import postgres_admin

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore are PostgreSQL only: set DATABASE_URL")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def scratch_db():
    """An empty database beside this worker's test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_drill"
    postgres_admin(connection, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])
    yield name
    postgres_admin(connection, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


def url_of(name):
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def run_restore(source, database, media_root):
    """``manage.py restore`` in its own process, on ``database`` and ``media_root``."""
    env = {
        **os.environ,
        "DATABASE_URL": url_of(database),
        "MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "baohe.settings",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(source)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def counts_in(name):
    """Every table's row count in database ``name``, counted here (not by the code under test)."""
    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname=name, user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            tables = [row[0] for row in cursor.fetchall()]
            counts = {}
            for table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from pg_tables
                counts[table] = cursor.fetchone()[0]
            cursor.execute("SELECT file FROM service_requests_attachment ORDER BY id") if tables else None
            photos = [row[0] for row in cursor.fetchall()] if tables else []
    finally:
        conn.close()
    return counts, photos


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def photo(seed):
    """A real JPEG of noise (each one different, ~40 KB)."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (160, 120), bytes(rng.getrandbits(8) for _ in range(160 * 120 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(f"photo-{seed}.jpg", buffer.getvalue(), content_type="image/jpeg")


def add_photos_and_a_report():
    resident = Resident.objects.filter(user__isnull=False).select_related("household__building__compound").first()
    building = resident.household.building
    category = Category.objects.filter(is_active=True, children__isnull=True).order_by("pk").first()
    for n in range(3):
        request_submit(
            by=resident.user,
            category=category,
            description=f"演练诉求 {n}：楼道灯不亮",
            compound=building.compound,
            building=building,
            household=resident.household,
            photos=[photo(2 * n), photo(2 * n + 1)],
        )
    job = report_request(by=User.objects.get(username="district"), month=date(2026, 11, 1))
    report_generate(job_id=job.pk)


def test_backup_drop_restore_gives_back_every_row_and_every_photo(demo, media, scratch_db, tmp_path):
    add_photos_and_a_report()
    photos = {a.file.name: sha256(media / a.file.name) for a in Attachment.objects.all()}
    report = ReportJob.objects.get().file.name
    assert len(photos) == 6
    assert report.startswith("reports/")
    before, _ = counts_in(connection.settings_dict["NAME"])
    assert before["service_requests_attachment"] == 6
    assert before["communities_resident"] > 100  # the demo is there

    started = time.monotonic()
    call_command("backup", "--to", str(tmp_path / "backup"))
    backed_up = time.monotonic() - started
    manifest = backup.read_manifest(tmp_path / "backup")
    assert manifest["database"]["tables"] == before
    assert set(manifest["media"]["files"]) == {*photos, report}

    # Everything gone: an empty database and an empty media folder.
    restored_media = tmp_path / "restored-media"
    assert counts_in(scratch_db) == ({}, [])
    started = time.monotonic()
    result = run_restore(tmp_path / "backup", scratch_db, restored_media)
    restored = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "match the manifest" in result.stdout

    after, restored_photos = counts_in(scratch_db)
    assert after == before  # every table, every row count
    assert sorted(restored_photos) == sorted(photos)
    assert {name: sha256(restored_media / name) for name in restored_photos} == photos  # every photo
    assert sha256(restored_media / report) == sha256(media / report)
    print(
        f"\ndemo: backup {backed_up:.1f}s, restore {restored:.1f}s, {sum(before.values())} rows, {len(before)} tables"
    )

    # A second restore into the same (now full) database is refused and changes nothing.
    again = run_restore(tmp_path / "backup", scratch_db, tmp_path / "other-media")
    assert again.returncode == 1
    assert f"the database '{scratch_db}' is not empty" in again.stderr
    assert counts_in(scratch_db)[0] == before
    assert not (tmp_path / "other-media").exists()


def test_restore_refuses_a_full_media_folder_and_a_damaged_backup(district, media, scratch_db, tmp_path):
    (media / "requests").mkdir(parents=True)
    (media / "requests" / "a.jpg").write_bytes(photo(1).read())
    call_command("backup", "--to", str(tmp_path / "backup"))

    # The live portal's database is never a target.
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(tmp_path / "backup"))

    full = tmp_path / "full-media"
    (full / "old").mkdir(parents=True)
    (full / "old" / "x.txt").write_text("x")
    result = run_restore(tmp_path / "backup", scratch_db, full)
    assert result.returncode == 1
    assert "the media folder" in result.stderr
    assert "is not empty (e.g. old/x.txt)" in result.stderr

    # One flipped byte in a photo: refused before anything is written.
    damaged = tmp_path / "backup" / "media" / "requests" / "a.jpg"
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    result = run_restore(tmp_path / "backup", scratch_db, tmp_path / "empty-media")
    assert result.returncode == 1
    assert "the backup is damaged, nothing was restored" in result.stderr
    assert "media/requests/a.jpg: checksum differs from the manifest" in result.stderr
    assert counts_in(scratch_db) == ({}, [])
    assert not (tmp_path / "empty-media").exists()


def test_backup_refuses_a_directory_that_holds_something(district, media, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old.dump").write_text("x")
    with pytest.raises(CommandError, match="is not empty: a backup goes into a new or empty directory"):
        call_command("backup", "--to", str(tmp_path / "backup"))
    with pytest.raises(CommandError, match="is inside MEDIA_ROOT"):
        call_command("backup", "--to", str(media / "backups"))
