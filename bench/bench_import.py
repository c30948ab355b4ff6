"""Benchmark of the registry import (issue 17) on PostgreSQL. Not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import .venv/bin/python bench/bench_import.py

Seeds one community (5 compounds × 20 buildings of 3 units × 33 floors × 4 rooms) and a staff
member, writes a 50,000-resident .xlsx (``--rows``; 3 people a household, every column of the
template filled, in ``bench/results/``), then, each step in a fresh process with ``DEBUG`` off
(as a worker runs; its peak RSS is its own):

1. **upload**: ``import_upload`` (the web request's share: size, archive and formula checks, one
   streaming pass counting the rows, the job row with the file, the audit line);
2. **validate**: ``import_validate`` (what the worker's task runs): every row checked, looked up
   by ID-number blind index in batches, the report and the dry run;
3. **apply**: ``import_apply`` from the start, in batches of ``IMPORT_BATCH_ROWS``;
4. **again**: the same file uploaded and validated again (everything "unchanged") and applied
   (nothing written).

The database must be called ``bench_import`` (it is emptied); it is created if missing. Results
are printed and written to ``bench/results/bench_import.json``.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baohe.settings")
RESULTS = ROOT / "bench" / "results"
SHEET = RESULTS / "bench_import.xlsx"
# Fixed keys for every process of the run (DEBUG off refuses derived ones).
KEYS = {
    "PERSONAL_DATA_KEYS": "b1:" + base64.b64encode(b"bench-import-personal-data-key!!").decode(),
    "BLIND_INDEX_KEY": base64.b64encode(b"bench-import-blind-index-key-32!").decode(),
    "SECRET_KEY": "bench-import-" + "x" * 50,
}


def vm_hwm_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def setup_django():
    import django

    django.setup()


def run_child(*args):
    env = {**os.environ, **KEYS, "DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"child {args} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- seeding ---------------------------------------------------------------------------------------
def ensure_database():
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql" or db["NAME"] != "bench_import":
        raise SystemExit("bench_import needs PostgreSQL and a database named bench_import (it is emptied)")
    admin = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_import'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE DATABASE bench_import")
    admin.close()


def child_seed(rows):
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from openpyxl import Workbook

    from accounts.models import Role
    from baohe.validators import id_check_char
    from communities.imports import COLUMNS
    from communities.models import Building, Community, Compound, District, Street
    from tests.factories import RoleFactory, UserFactory

    district = District.objects.create(name="包河区", code="340111")
    street = Street.objects.create(district=district, name="基准街道", code="340111900")
    community = Community.objects.create(street=street, name="基准社区", code="340111900001")
    slots = []
    for c in range(5):
        compound = Compound(community=community, name=f"基准小区{c + 1}")
        compound.save()
        for b in range(20):
            building = Building(compound=compound, number=str(b + 1), units=3, floors=33)
            building.save()
            for unit in (1, 2, 3):
                for floor in range(1, 34):
                    for room in range(1, 5):
                        slots.append((compound.name, building.number, unit, f"{floor}{room:02d}"))
    staff = UserFactory(username="bench_staff", name="基准网格员")
    RoleFactory(user=staff, kind=Role.Kind.STAFF, community=community)

    header = [f"{c.header}*" if c.required else c.header for c in COLUMNS]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("居民导入")
    sheet.append(header)
    people = (("户主", "男", 1965, 1), ("配偶", "女", 1967, 0), ("子女", "女", 1995, 0))
    rows = int(rows)
    for index in range(rows):
        household, member = divmod(index, 3)
        compound, number, unit, room = slots[household]
        relation, gender, year, male = people[member]
        first17 = (
            f"3401{index // 1000:02d}{year}{index % 12 + 1:02d}{index % 28 + 1:02d}{index % 1000 // 2 * 2 + male:03d}"
        )
        values = {
            "序号": str(index + 1),
            "小区*": compound,
            "楼栋号*": number,
            "单元*": str(unit),
            "房号*": room,
            "姓名*": f"居民{index}",
            "与户主关系*": relation,
            "性别": gender,
            "身份证号*": first17 + id_check_char(first17),
            "出生日期": "",
            "手机号": f"13{index:09d}",
            "独居老人": "否",
            "高龄": "否",
            "残疾": "否",
            "低保": "是" if household % 50 == 0 else "否",
            "出租户": "否",
        }
        sheet.append([values[h] for h in header])
    RESULTS.mkdir(parents=True, exist_ok=True)
    book.save(SHEET)
    print(json.dumps({"households": (rows + 2) // 3, "bytes": SHEET.stat().st_size}))


def child_upload():
    setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from communities.models import Community
    from communities.services.imports import import_upload

    content = SHEET.read_bytes()
    staff = User.objects.get(username="bench_staff")
    community = Community.objects.get(name="基准社区")
    started = time.perf_counter()
    job = import_upload(by=staff, community=community, upload=SimpleUploadedFile("bench.xlsx", content))
    seconds = time.perf_counter() - started
    print(json.dumps({"job": job.pk, "rows": job.total_rows, "seconds": seconds, "peak_rss_mb": vm_hwm_mb()}))


def child_validate(job_id):
    setup_django()
    from communities.services.imports import import_validate

    started = time.perf_counter()
    job = import_validate(job_id=int(job_id))
    seconds = time.perf_counter() - started
    out = {"seconds": seconds, "rows": job.total_rows, "errors": job.error_rows, "plan": job.plan}
    print(json.dumps({**out, "rows_per_s": job.total_rows / seconds, "peak_rss_mb": vm_hwm_mb()}))


def child_apply(job_id):
    setup_django()
    from baohe.models import ImportJob
    from communities.services.imports import import_apply

    ImportJob.objects.filter(pk=int(job_id)).update(status=ImportJob.Status.APPLYING)
    started = time.perf_counter()
    job = import_apply(job_id=int(job_id))
    seconds = time.perf_counter() - started
    out = {"seconds": seconds, "status": job.status, "rows": job.applied_rows, "result": job.result}
    print(json.dumps({**out, "rows_per_s": job.applied_rows / seconds, "peak_rss_mb": vm_hwm_mb()}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        name, *rest = args.child
        {"seed": child_seed, "upload": child_upload, "validate": child_validate, "apply": child_apply}[name](*rest)
        return
    os.environ.update(KEYS)
    setup_django()
    ensure_database()
    results = {"seed": run_child("--child", "seed", str(args.rows))}
    for run in ("first", "again"):
        upload = run_child("--child", "upload")
        validate = run_child("--child", "validate", str(upload["job"]))
        apply = run_child("--child", "apply", str(upload["job"]))
        results[run] = {"upload": upload, "validate": validate, "apply": apply}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_import.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(
        f"sheet: {args.rows:,} residents, {results['seed']['households']:,} households, "
        f"{results['seed']['bytes'] / 1e6:.1f} MB"
    )
    print(f"{'step':<22}{'run':>8}{'seconds':>10}{'rows/s':>10}{'peak RSS':>11}")
    for run in ("first", "again"):
        for step in ("upload", "validate", "apply"):
            row = results[run][step]
            rate = row.get("rows_per_s") or row["rows"] / row["seconds"]
            print(f"{step:<22}{run:>8}{row['seconds']:>10.1f}{rate:>10,.0f}{row['peak_rss_mb']:>9.0f} MB")
        print(f"  plan {results[run]['validate']['plan']}  result {results[run]['apply']['result']}")


if __name__ == "__main__":
    main()
