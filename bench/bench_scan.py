"""Benchmark of the deadline scan (service_requests/reminders.py) on PostgreSQL. Not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scan .venv/bin/python bench/bench_scan.py

Seeds ``--requests`` requests (1,000,000) with COPY, of which ``--past`` (300,000) are open and
past a deadline — half waiting to be accepted, half in progress; all past their 75% warning
and their deadline, half of them also past twice the time — 200,000 open with deadlines
ahead, the rest closed. COPY bypasses the services (which write the clock rows with
``clocks_sync``), so the seed also COPYs the
:class:`~service_requests.models.RequestClock` row the scan reads for every open request, from
the clock's own rules (``clocks_wanted``, ``first_pending``; ``models/clock.py``): the accept
clock while submitted, the resolve clock while accepted or in progress, cycle 1, running,
nothing claimed, ``next_due_at`` = its warning time. Then, each in a fresh process
(so its memory is its own):

* one full scan (``tasks.scan_deadlines``, as the worker runs it) that claims every due
  reminder on the clock rows and writes the notifications and their deliveries (no request
  events: the timeline shows the clocks' claims): time, requests/s, claims/s, the database
  time by statement kind (the claim is one ``WITH … UPDATE service_requests_requestclock``
  per batch) and the process's peak RSS (VmHWM);
* idle scans (nothing due): the first right after the full scan, the median and p90 of 20,
  and the median again after ``VACUUM`` (what autovacuum does after such a sweep).

The database must be called ``bench_scan`` (it is emptied); it is created if missing.
``--reuse`` keeps the seeded requests and clock rows and only resets the clocks' claims and
deletes the notifications (much faster reruns). Results are printed as a table and written
to ``bench/results/bench_scan.json``.
"""

import argparse
import csv
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baohe.settings")


def vm_hwm_mb():
    """Peak resident set size of this process (Linux VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django():
    import django

    django.setup()


# --- child processes ------------------------------------------------------------------------------
def child_full_scan():
    setup_django()
    from django.db import connection
    from django.db.backends.signals import connection_created
    from django.urls import get_resolver

    from service_requests.tasks import scan_deadlines

    spent = {}

    def timed(execute, sql, params, many, context):
        """Database time by statement kind (the rest of the scan's time is Python)."""
        kind = statement_kind(sql if isinstance(sql, str) else str(sql))
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[kind] = spent.get(kind, 0) + time.perf_counter() - started

    def wrap(sender, connection, **kwargs):
        # The scan may claim a backlog on extra connections (REMINDER_SCAN_WORKERS threads):
        # time their statements too. Their times add up, so with threads the sum of the
        # statement times can exceed the wall time.
        if timed not in connection.execute_wrappers:
            connection.execute_wrappers.append(timed)

    connection_created.connect(wrap)
    # A running worker has its URLconf loaded (the messages reverse() their links): load it
    # before the clock starts, as the worker did long before this scan.
    get_resolver().url_patterns  # noqa: B018
    connection.ensure_connection()
    wrap(None, connection)
    started = time.perf_counter()
    counts = scan_deadlines.run()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "counts": counts, "peak_rss_mb": vm_hwm_mb(), "sql_seconds": spent}))


CLAIM = "claim (WITH … UPDATE requestclock)"
_CLAIM_UPDATE = re.compile(r"\bUPDATE\s+service_requests_requestclock\b", re.IGNORECASE)


def statement_kind(sql):
    """``claim (WITH … UPDATE requestclock)`` for the scan's claim (``WITH due AS (SELECT … FOR
    UPDATE SKIP LOCKED) UPDATE service_requests_requestclock … RETURNING …``), else the first
    words: ``INSERT INTO <table>``, ``SELECT … FOR UPDATE SKIP LOCKED``, ``UPDATE <table>``, …"""
    plain = sql.replace('"', "")
    words = plain.split(None, 3)
    if not words:
        return "(empty)"
    verb = words[0].upper()
    if verb == "WITH" and _CLAIM_UPDATE.search(plain):
        return CLAIM
    if verb == "SELECT" and "FOR UPDATE" in plain.upper():
        return "SELECT … FOR UPDATE SKIP LOCKED"
    return " ".join(words[:3] if verb == "INSERT" else words[:2])


def child_idle_scans(runs):
    setup_django()
    from django.db import connection

    from service_requests.reminders import scan_deadlines

    connection.ensure_connection()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        counts = scan_deadlines()
        timings.append((time.perf_counter() - started) * 1000)
        assert not any(counts.values()), counts
    print(json.dumps({"ms": timings, "peak_rss_mb": vm_hwm_mb()}))


def run_child(*args):
    # The worker as in production: DEBUG off (so Django keeps no log of the statements).
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 50}
    result = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"child {args} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- seeding ----------------------------------------------------------------------------------------
def ensure_database():
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("bench_scan needs PostgreSQL: DATABASE_URL=postgres://…/bench_scan")
    if db["NAME"] != "bench_scan":
        raise SystemExit(f"refusing to empty database {db['NAME']!r}: name it bench_scan")
    admin = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_scan'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE DATABASE bench_scan")
    admin.close()


def seed_places():
    """Two streets × five communities × one compound; per community a staff member and a
    secretary, per street an official and a street staff member; one resident; one category."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from accounts.models import Role
    from tests.factories import (
        CategoryFactory,
        CommunityFactory,
        CompoundFactory,
        DistrictFactory,
        RoleFactory,
        StreetFactory,
        UserFactory,
    )

    district = DistrictFactory()
    places = []
    for s in range(2):
        street = StreetFactory(district=district, name=f"压测街道{s}", code=f"BENCH-S{s}")
        RoleFactory(user=UserFactory(username=f"bench_official{s}"), street_official=True, street=street)
        RoleFactory(
            user=UserFactory(username=f"bench_street_staff{s}"), kind=Role.Kind.STAFF, street=street, community=None
        )
        for c in range(5):
            community = CommunityFactory(street=street, name=f"压测社区{s}-{c}", code=f"BENCH-C{s}{c}")
            compound = CompoundFactory(community=community, name=f"压测小区{s}-{c}")
            staff = UserFactory(username=f"bench_staff{s}{c}")
            RoleFactory(user=staff, kind=Role.Kind.STAFF, community=community)
            RoleFactory(user=UserFactory(username=f"bench_secretary{s}{c}"), secretary=True, community=community)
            places.append((street.pk, community.pk, compound.pk, staff.pk))
    resident = UserFactory(username="bench_resident", mobile="13900000000")
    category = CategoryFactory(code="bench", accept_within_hours=24, resolve_within_days=5)
    return places, resident.pk, category.pk


CLOCK_COLUMNS = (
    "request_id",
    "clock",
    "cycle",
    "running",
    "number",
    "street_id",
    "community_id",
    "recipient_id",
    "warn_at",
    "due_at",
    "escalate_at",
    "warned_at",
    "overdue_at",
    "escalated_at",
    "next_due_at",
)


REQUEST_CLOCK_FIELDS = (
    "status",
    "accept_warn_at",
    "accept_due_at",
    "accept_escalate_at",
    "resolve_warn_at",
    "resolve_due_at",
    "resolve_escalate_at",
)


def expected_clocks(total, past):
    """How many clock rows the seed writes: one per open request."""
    return min(total, past + 200_000)


def seed_requests(total, past, chunk=50_000):
    from types import SimpleNamespace

    from django.db import connection
    from django.utils import timezone

    from service_requests.models import ServiceRequest
    from service_requests.models.clock import clocks_wanted, first_pending, schedule

    places, resident_id, category_id = seed_places()
    now = timezone.now()
    fields = list(ServiceRequest._meta.concrete_fields)  # with the id: the clock rows point to it
    columns = [f.column for f in fields]
    hour = timedelta(hours=1)

    def clock_row(values):
        """The running clock of an open request, as ``clocks_sync`` would start it."""
        request = SimpleNamespace(
            assigned_to_id=values.get("assigned_to"),
            submitted_by_id=values["submitted_by"],
            resolved_at=values.get("resolved_at"),
            **{name: values.get(name) for name in REQUEST_CLOCK_FIELDS},
        )
        ((clock, wanted),) = clocks_wanted(request).items()  # an open request runs one clock
        clock_values = {
            "request_id": values["id"],
            "clock": clock,
            "cycle": 1,
            "running": True,
            "number": values["number"],
            "street_id": values["street"],
            "community_id": values["community"],
            "recipient_id": wanted.recipient_id,
            "warn_at": wanted.warn_at,
            "due_at": wanted.due_at,
            "escalate_at": wanted.escalate_at,
            # nothing claimed: the warning is the earliest step
            "next_due_at": first_pending(wanted[:3], (None, None, None)),
        }
        return [_csv(clock_values.get(column)) for column in CLOCK_COLUMNS]

    def row(i):
        street_id, community_id, compound_id, staff_id = places[i % len(places)]
        kind = "closed"
        if i < past // 2:
            kind = "accept_past"
        elif i < past:
            kind = "resolve_past"
        elif i < past + 200_000:
            kind = "open_future"
        created = now - hour * (30 * 24 if kind != "open_future" else 2)
        accept_due, resolve_due = created + 24 * hour, created + 7 * 24 * hour
        (accept_warn, accept_escalate), (resolve_warn, resolve_escalate) = (
            schedule(created, accept_due),
            schedule(created, resolve_due),
        )
        values = {
            "id": i + 1,
            "created_at": created,
            "updated_at": created,
            "street": street_id,
            "community": community_id,
            "number": f"BENCH-{i:08d}",
            "category": category_id,
            "description": "压测诉求",
            "compound": compound_id,
            "submitted_by": resident_id,
            "channel": "online",
            "status": "submitted",
            "accept_due_at": accept_due,
            "resolve_due_at": resolve_due,
            "accept_warn_at": accept_warn,
            "accept_escalate_at": accept_escalate,
            "resolve_warn_at": resolve_warn,
            "resolve_escalate_at": resolve_escalate,
            "reopen_count": 0,
            "return_count": 0,
            "extension_count": 0,
        }
        if kind in ("resolve_past", "closed") or (kind == "open_future" and i % 2):
            values.update(status="in_progress", accepted_at=created + hour, assigned_to=staff_id, assignee_kind="staff")
        if kind in ("accept_past", "resolve_past") and i % 2:
            # past the deadline but not yet twice the time: no escalation
            if kind == "accept_past":
                values["accept_escalate_at"] = now + 5 * hour
            else:
                values["resolve_escalate_at"] = now + 5 * hour
        if kind == "closed":
            values.update(status="closed", resolved_at=created + 48 * hour, closed_at=created + 60 * hour)
        request = [_csv(values.get(f.name, values.get(f.attname, _default(f)))) for f in fields]
        return request, (clock_row(values) if kind != "closed" else None)

    copy = "COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE service_requests_servicerequest CASCADE")  # and its clocks, events, …
        raw = cursor.cursor
        clocks = 0
        for start in range(0, total, chunk):
            requests_buffer, clocks_buffer = io.StringIO(), io.StringIO()
            requests_writer, clocks_writer = csv.writer(requests_buffer), csv.writer(clocks_buffer)
            for i in range(start, min(total, start + chunk)):
                request, clock = row(i)
                requests_writer.writerow(request)
                if clock is not None:
                    clocks_writer.writerow(clock)
                    clocks += 1
            requests_buffer.seek(0)
            clocks_buffer.seek(0)
            # The requests first: each clock row's foreign key points to its request.
            raw.copy_expert(
                copy.format(table="service_requests_servicerequest", columns=", ".join(columns)), requests_buffer
            )
            raw.copy_expert(
                copy.format(table="service_requests_requestclock", columns=", ".join(CLOCK_COLUMNS)), clocks_buffer
            )
            print(
                f"  seeded {min(total, start + chunk):>9,} requests, {clocks:>9,} clock rows", file=sys.stderr, end="\r"
            )
        # The ids were given explicitly: the next request created normally continues after them.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('service_requests_servicerequest', 'id'), "
            "(SELECT max(id) FROM service_requests_servicerequest))"
        )
    print(file=sys.stderr)


def _default(field):
    if field.null:
        return None
    if field.has_default():
        return field.get_default()
    return ""


def _csv(value):
    if value is None:
        return "\\N"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def reset_claims():
    """Undo a previous scan: the running clocks' claims back to NULL (their next reminder is the
    warning again), notifications and their deliveries gone."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_delivery, notifications_notification")
        cursor.execute(
            "UPDATE service_requests_requestclock SET warned_at = NULL, overdue_at = NULL, escalated_at = NULL, "
            "next_due_at = warn_at WHERE running"
        )


def vacuum():
    from django.db import connection

    connection.ensure_connection()
    old = connection.connection.autocommit
    connection.connection.autocommit = True
    with connection.connection.cursor() as cursor:
        for table in (
            "service_requests_servicerequest",
            "service_requests_requestclock",
            "notifications_notification",
            "notifications_delivery",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    connection.connection.autocommit = old


def table_counts():
    from django.db import connection

    with connection.cursor() as cursor:
        result = {}
        for name, sql in {
            "requests": "SELECT count(*) FROM service_requests_servicerequest",
            "past_deadline": "SELECT count(*) FROM service_requests_servicerequest WHERE "
            "(status = 'submitted' AND accept_due_at <= now()) OR "
            "(status IN ('accepted', 'in_progress') AND resolve_due_at <= now())",
            "clocks": "SELECT count(*) FROM service_requests_requestclock",
            "clocks_due": "SELECT count(*) FROM service_requests_requestclock WHERE next_due_at <= now()",
            "clocks_claimed": "SELECT count(*) FROM service_requests_requestclock WHERE "
            "warned_at IS NOT NULL OR overdue_at IS NOT NULL OR escalated_at IS NOT NULL",
            "notifications": "SELECT count(*) FROM notifications_notification",
            "deliveries": "SELECT count(*) FROM notifications_delivery",
        }.items():
            cursor.execute(sql)
            result[name] = cursor.fetchone()[0]
    return result


# --- main -------------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--past", type=int, default=300_000)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the seeded requests and clock rows, only reset the claims"
    )
    parser.add_argument("--idle-runs", type=int, default=20)
    parser.add_argument("--child", choices=("full", "idle"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "full":
        return child_full_scan()
    if args.child == "idle":
        return child_idle_scans(args.idle_runs)

    setup_django()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seeded = table_counts() if args.reuse else None
    if seeded and seeded["requests"] == args.requests and seeded["clocks"] == expected_clocks(args.requests, args.past):
        reset_claims()
        print("reused the seeded requests and clock rows; claims reset", file=sys.stderr)
    else:
        call_command("flush", verbosity=0, interactive=False)
        seed_requests(args.requests, args.past)
    vacuum()
    seed_seconds = time.perf_counter() - started
    before = table_counts()
    print(f"seeded in {seed_seconds:.0f}s: {before}", file=sys.stderr)

    full = run_child("--child", "full")
    after = table_counts()
    claims = sum(v for k, v in full["counts"].items() if k != "closed")
    idle_first = run_child("--child", "idle", "--idle-runs", str(args.idle_runs))
    vacuum()
    idle_vacuumed = run_child("--child", "idle", "--idle-runs", str(args.idle_runs))

    results = {
        "requests": before["requests"],
        "past_deadline": before["past_deadline"],
        "full_scan_seconds": full["seconds"],
        "requests_claimed_per_second": before["past_deadline"] / full["seconds"],
        "reminders_claimed": claims,
        "reminders_claimed_per_second": claims / full["seconds"],
        "counts": full["counts"],
        "notifications_written": after["notifications"] - before["notifications"],
        "deliveries_written": after["deliveries"] - before["deliveries"],
        "clocks_due": before["clocks_due"],
        "clock_rows_claimed": after["clocks_claimed"] - before["clocks_claimed"],
        "peak_rss_mb": full["peak_rss_mb"],
        "idle_first_ms": idle_first["ms"][0],
        "idle_median_ms": statistics.median(idle_first["ms"]),
        "idle_p90_ms": statistics.quantiles(idle_first["ms"], n=10)[-1],
        "idle_median_after_vacuum_ms": statistics.median(idle_vacuumed["ms"]),
        "batch_size": int(os.environ.get("REMINDER_BATCH_SIZE", 5000)),
        "scan_workers": int(os.environ.get("REMINDER_SCAN_WORKERS", 2)),
        "sql_seconds": full["sql_seconds"],
    }
    sql = full["sql_seconds"]
    claim_seconds = sql.get(CLAIM, 0.0)
    results["claim_seconds"] = claim_seconds
    results["requests_claimed_per_claim_second"] = before["past_deadline"] / claim_seconds if claim_seconds else None
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_scan.json").write_text(json.dumps(results, indent=2))

    rows = [
        ("requests in the table", f"{results['requests']:,}", ""),
        ("open and past a deadline", f"{results['past_deadline']:,}", ""),
        ("full scan", f"{results['full_scan_seconds']:.1f} s", ""),
        ("  requests claimed / s", f"{results['requests_claimed_per_second']:,.0f}", "goal ≥ 50,000"),
        ("  reminders claimed / s", f"{results['reminders_claimed_per_second']:,.0f}", f"{claims:,} reminders"),
        ("  of which claiming (WITH … UPDATE requestclock)", f"{claim_seconds:.1f} s", ""),
        (
            "  requests / s while claiming",
            f"{results['requests_claimed_per_claim_second']:,.0f}" if claim_seconds else "—",
            "the claim statements alone" if claim_seconds else "no claim statement recognised",
        ),
        ("  clock rows claimed", f"{results['clock_rows_claimed']:,}", f"{results['clocks_due']:,} were due"),
        ("  notifications written", f"{results['notifications_written']:,}", ""),
        ("  deliveries written", f"{results['deliveries_written']:,}", ""),
        ("  worker peak RSS", f"{results['peak_rss_mb']:.0f} MB", "goal < 300 MB"),
        ("idle scan, first after the sweep", f"{results['idle_first_ms']:.1f} ms", ""),
        ("idle scan, median of 20", f"{results['idle_median_ms']:.2f} ms", "goal < 5 ms"),
        ("idle scan, p90 of 20", f"{results['idle_p90_ms']:.2f} ms", ""),
        ("idle scan, median after VACUUM", f"{results['idle_median_after_vacuum_ms']:.2f} ms", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n| {'measure':<{width}} | {'result':>12} | note |")
    print(f"|{'-' * (width + 2)}|{'-' * 14}|------|")
    for name, value, note in rows:
        print(f"| {name:<{width}} | {value:>12} | {note} |")
    print(f"\nper reminder: {full['counts']}")
    print(
        "database time by statement: "
        + ", ".join(f"{k}: {v:.1f}s" for k, v in sorted(sql.items(), key=lambda kv: -kv[1]))
    )
    return None


if __name__ == "__main__":
    main()
