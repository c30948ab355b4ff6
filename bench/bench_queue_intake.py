"""The staff queue and the intake path at district scale (issue 14): CPU per request.

    .venv/bin/python bench/bench_queue_intake.py --database bench_100k      # a seeded database

Serves ``--database`` (seeded by ``make bench`` or ``seed_baohe --scale district``; migrated
first) with gunicorn like ``bench/run.py`` (``-w 4`` sync, DEBUG off, no Redis) and measures,
with ``bench/loadgen.py`` on loopback and the server's CPU time (gunicorn workers plus their
PostgreSQL backends, from /proc):

1. ``POST /api/v1/requests/`` by 清华社区's staff (channel phone) with 1 poster, then 10;
2. ``GET /api/v1/me/`` (an authenticated trivial JSON view: the same token authentication)
   and ``/healthz`` with 20 connections, then the staff queue API ``/api/v1/requests/`` (the
   default view: open requests) with 20 connections, and its ``?include_closed=true`` view;
3. the staff queue page ``/requests/queue/`` (session with the second factor), 1 connection.

The submissions stay in the database (open, in 清华社区), so the queue is measured with a
full first page. Prints a table; ``--json`` saves it.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="bench_100k")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--posts", type=int, default=600, help="submissions with 10 posters (a third with 1)")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()

    pg = run.Postgres(args.postgres)
    name = args.database
    var_dir = tempfile.mkdtemp(prefix="baohe-bench-")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # The seed (DEBUG on) wrote personal numbers with the development keys; serve with the same.
    static_root = run.ROOT / "bench" / "results" / "static"
    env = run.served_with_seed_keys(env, pg.db_url(name), host=run.HOST, static_root=static_root)
    env["VAR_DIR"] = var_dir
    run.manage(["migrate", "--no-input", "-v0"], {**env, "DATABASE_URL": pg.db_url(name)})
    if not (run.ROOT / "bench" / "results" / "static" / "staticfiles.json").exists():
        run.manage(["collectstatic", "--no-input", "-v0"], {**env, "DATABASE_URL": pg.db_url(name)})
    categories = [
        row[0]
        for row in pg.query(
            name, "SELECT id FROM service_requests_category WHERE parent_id IS NOT NULL AND is_active ORDER BY id"
        )
    ]
    compound = pg.query(
        name,
        "SELECT c.id FROM communities_compound c JOIN communities_community m ON m.id = c.community_id "
        "WHERE m.name = '清华社区' ORDER BY c.id LIMIT 1",
    )[0][0]
    port = run.free_port()
    started = datetime.now(UTC)
    results = {}
    log_path = Path(var_dir) / "gunicorn.log"
    with run.Server(
        pg.db_url(name, application_name=run.WEB_APP), port, args.workers, env, var_dir, log_path
    ) as server:
        token = run.api_token(port, "staff_qinghua")
        time.sleep(31 - time.time() % 30)  # a TOTP code is accepted once: wait for the next one
        cookie = run.login_session(port, "staff_qinghua")
        staff = {"Authorization": f"Token {token}"}
        for path, headers in (("/api/v1/requests/", staff), ("/requests/queue/", {"Cookie": cookie})):
            server.check(path, headers)

        def bench(key, label, make, *, connections=1, count=200, seconds=60, warmup=10):
            loadgen.run(run.HOST, port, label, make, connections=connections, count=warmup, warmup=0)
            before = server.cpu(pg)
            result = loadgen.run(run.HOST, port, label, make, connections=connections, count=count, seconds=seconds)
            after = server.cpu(pg)
            s = result.summary()
            spent = sum(after[pid] - before.get(pid, 0.0) for pid in after)
            s["cpu_ms_per_request"] = round(1000 * spent / s["requests"], 1) if s["requests"] else None
            results[key] = s
            run.log(
                f"  {label:<48} n={s['requests']:<5} err={s['errors']:<3} p50={s['p50_ms']:>7} ms "
                f"p99={s['p99_ms']:>7} ms {s['per_second']:>7}/s  cpu {s['cpu_ms_per_request']} ms/req"
            )
            if s["errors"]:
                run.log(f"    errors: {s['error_samples']}")

        def payload(i):
            return {
                "category": categories[i % len(categories)],
                "compound": compound,
                "description": f"{run.BENCH_SUBMISSION} {i}：楼道灯不亮，请尽快处理。",
                "channel": "phone",
                "contact_name": "压测",
                "contact_mobile": "13800000000",
            }

        post = loadgen.post_json("/api/v1/requests/", payload, staff)
        bench("submit_1", "POST /api/v1/requests/, 1 poster", post, count=args.posts // 3, seconds=90)
        bench("submit_10", "POST /api/v1/requests/, 10 posters", post, connections=10, count=args.posts, seconds=90)
        bench(
            "me_20",
            "GET /api/v1/me/ (authenticated trivial), 20 conns",
            loadgen.get("/api/v1/me/", staff),
            connections=20,
            count=3000,
            seconds=30,
            warmup=100,
        )
        bench(
            "healthz_20",
            "/healthz, 20 conns",
            loadgen.get("/healthz"),
            connections=20,
            count=3000,
            seconds=30,
            warmup=100,
        )
        bench(
            "queue_20",
            "staff queue API (open, default), 20 conns",
            loadgen.get("/api/v1/requests/", staff),
            connections=20,
            count=2000,
            seconds=60,
            warmup=40,
        )
        bench(
            "queue_all_20",
            "staff queue API ?include_closed=true, 20 conns",
            loadgen.get("/api/v1/requests/?include_closed=true", staff),
            connections=20,
            count=2000,
            seconds=60,
            warmup=40,
        )
        bench(
            "queue_page_1",
            "staff queue page /requests/queue/, 1 conn",
            loadgen.get("/requests/queue/", {"Cookie": cookie}),
            count=300,
            seconds=60,
        )
    me, queue = results["me_20"]["per_second"], results["queue_20"]["per_second"]
    one, ten = results["submit_1"]["per_second"], results["submit_10"]["per_second"]
    run.log(
        f"\nqueue API / authenticated trivial view: {queue / me:.0%}; 10 posters / 1 poster: {ten / one:.1f}×; "
        f"measured {started:%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f} at the end"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"started": started.isoformat(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
