"""Benchmark of search (communities/search.py, service_requests/search.py) at district scale on
PostgreSQL. Not a test.

    createdb -h 127.0.0.1 -U postgres bench_search
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_search
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_baohe --scale district --requests 100000   # ~15 min on 2 cores
    .venv/bin/python bench/bench_search.py [--runs 20] [--label 100k]

The database is a district-scale one (``seed_baohe --scale district``: 1,410,333 residents,
450,000 households, and as many requests as it was seeded with); the script only reads it.
For three people — community staff (``staff_qinghua``, one community), the street official
(``street_binhu``, one street) and the district official (``district``, everything) — it times:

* the top bar's search, ``communities.search.search_everything`` (every kind: requests,
  residents, households; the hits as the results page shows them), for ``5栋 漏水``, the last
  4 digits of a resident's mobile (尾号, of a resident in 清华社区), a request number (of the
  staff member's community), a surname and given name, and ``5栋 2单元 301``;
* the staff queue with ``q`` (``selectors.queue_queryset`` + ``queue_counts`` + one page), for
  ``5栋 漏水`` and the request number.

Each case runs twice to warm the caches, then ``--runs`` times; the table gives the median
and p90 wall time in ms, the number of SQL statements, and the database's own time for them
(EXPLAIN ANALYZE: planning + execution, summed). Results go to
``bench/results/bench_search-<label>.json``.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baohe.settings")

GOAL_MS = 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from communities.models import Resident
    from communities.search import search_everything
    from service_requests import selectors
    from service_requests.models import ServiceRequest

    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: set DATABASE_URL to a district-scale database.")
    requests_total = ServiceRequest.objects.count()
    residents_total = Resident.objects.count()
    if residents_total < 100_000:
        sys.exit("Seed the database first: manage.py seed_baohe --scale district --requests 100000")

    people = {name: User.objects.get(username=name) for name in ("staff_qinghua", "street_binhu", "district")}
    staff = people["staff_qinghua"]
    community_id = next(iter(staff.get_scope("view").community_ids))
    someone = (
        Resident.objects.filter(community_id=community_id, status="living")
        .exclude(mobile="")
        .order_by("id")[100:101]
        .get()
    )
    tail = someone.mobile[-4:]
    number = (
        ServiceRequest.objects.filter(community_id=community_id).order_by("-id").values_list("number", flat=True)[0]
    )
    name = someone.name
    queries = {
        "5栋 漏水": "5栋 漏水",
        "尾号": tail,
        "request number": number,
        "name": name,
        "5栋 2单元 301": "5栋 2单元 301",
    }

    def timed(run):
        for _ in range(2):
            run()
        samples, statements = [], 0
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                found = run()
                samples.append((time.perf_counter() - started) * 1000)
            statements = len(captured.captured_queries)
        samples.sort()
        # The database's own time for the same statements (EXPLAIN ANALYZE: planning + execution),
        # less sensitive than the wall time to a machine whose CPU is shared.
        database_ms = 0.0
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                database_ms += plan["Planning Time"] + plan["Execution Time"]
        return {
            "database_ms": round(database_ms, 1),
            "median_ms": round(statistics.median(samples), 1),
            "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 1),
            "max_ms": round(samples[-1], 1),
            "statements": statements,
            "found": found,
        }

    rows = []
    for who, user in people.items():
        for label, text in queries.items():

            def top_bar(user=user, text=text):
                groups = search_everything(user, text)
                return {group.key: len(group.hits) for group in groups}

            rows.append({"who": who, "what": "top bar", "query": label, **timed(top_bar)})
    for label in ("5栋 漏水", "request number"):
        text = queries[label]

        def queue(text=text):
            now = timezone.now()
            filters = selectors.QueueFilter(q=text)
            selectors.queue_counts(staff, filters, now)
            page, _next = selectors.cursor_page(selectors.queue_queryset(staff, filters, now), "", None)
            return {"rows": len(page)}

        rows.append({"who": "staff_qinghua", "what": "queue ?q=", "query": label, **timed(queue)})

    print(
        f"\n{requests_total:,} requests, {residents_total:,} residents; {args.runs} runs each, after 2 warm-up runs\n"
    )
    header = f"{'who':15} {'what':10} {'query':16} {'median':>8} {'p90':>8} {'max':>8} {'SQL':>4} {'db':>8}  found"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['who']:15} {row['what']:10} {row['query']:16} {row['median_ms']:>6.1f}ms {row['p90_ms']:>6.1f}ms "
            f"{row['max_ms']:>6.1f}ms {row['statements']:>4} {row['database_ms']:>6.1f}ms  {row['found']}"
        )
    worst = max(row["p90_ms"] for row in rows)
    print(f"\nworst p90: {worst:.1f} ms (goal < {GOAL_MS} ms: {'met' if worst < GOAL_MS else 'NOT met'})")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    label = args.label or f"{requests_total // 1000}k"
    (out / f"bench_search-{label}.json").write_text(
        json.dumps(
            {"requests": requests_total, "residents": residents_total, "runs": args.runs, "rows": rows}, indent=2
        )
    )


if __name__ == "__main__":
    main()
