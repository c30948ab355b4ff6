"""CPU per request of the staff queue page and of one API submission, in-process (issue 14).

    .venv/bin/python bench/profile_paths.py --database bench_100k              # figures
    .venv/bin/python bench/profile_paths.py --database bench_100k --profile queue   # + cProfile

Runs the portal in this process (DEBUG off, local-memory cache, like ``bench_queue_intake.py``'s
server) against a seeded district-scale database and times, as 清华社区's staff
(``staff_qinghua``), ``GET /requests/queue/`` (a session with the second factor verified) and
``POST /api/v1/requests/`` (token, channel phone). For each it prints the Python CPU
(``time.process_time``) and the database backend's CPU (``/proc/<backend pid>/stat``) per
request, of the best of ``--rounds`` rounds (the least disturbed by other processes), so the sum is the server CPU the goals speak of (< 10 ms for the page, <= 12 ms for a
submission) without a load generator sharing the cores. ``--profile queue|submit`` prints the
top of a cProfile of that path (cumulative). The submissions stay in the database, like the
load benchmark's.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

import run  # bench/run.py (this script's folder is first on sys.path)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def proc_cpu(pid):
    """CPU seconds (user + system) of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="bench_100k")
    parser.add_argument("-n", type=int, default=100, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per path (the best is reported)")
    parser.add_argument("--profile", choices=("queue", "submit", "keepalive", "chrome"))
    parser.add_argument("--paths", default="queue,submit")
    parser.add_argument("--callees", metavar="REGEX", help="with --profile: what the matching functions call")
    args = parser.parse_args()

    url = f"{args.postgres}/{args.database}"
    static_root = ROOT / "bench" / "results" / "static"
    served = run.served_with_seed_keys(dict(os.environ), url, host="testserver", static_root=static_root)
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.update(served, DATABASE_URL=url, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="bench.settings")
    if not (ROOT / "bench" / "results" / "static" / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from accounts.tokens import token_issue

    user = User.objects.get(username="staff_qinghua")
    page = Client()
    page.force_login(user)
    session = page.session
    session["otp_device_id"] = TOTPDevice.objects.filter(user=user, confirmed=True).first().persistent_id
    session.save()
    _token, raw = token_issue(user=user, name="profile")
    api = Client(HTTP_AUTHORIZATION=f"Token {raw}")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    categories = list(
        user._meta.apps.get_model("service_requests", "Category")
        .objects.filter(parent__isnull=False, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    compound = (
        user._meta.apps.get_model("communities", "Compound")
        .objects.filter(community__name="清华社区")
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    counter = iter(range(10**9))

    def queue():
        response = page.get("/requests/queue/")
        assert response.status_code == 200, response.status_code  # noqa: S101

    def submit():
        i = next(counter)
        body = {
            "category": categories[i % len(categories)],
            "compound": compound,
            "description": f"性能剖析 {i}：楼道灯不亮，请尽快处理。",
            "channel": "phone",
            "contact_name": "压测",
            "contact_mobile": "13800000000",
        }
        response = api.post("/api/v1/requests/", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content[:300]  # noqa: S101

    def keepalive():  # the floor: a signed-in staff GET through the whole middleware stack
        response = page.get("/accounts/session/keepalive/")
        assert response.status_code == 200, response.status_code  # noqa: S101

    def chrome():  # the user's fragment (menu, unread count, sidebar) of a cached page
        response = page.get(
            "/accounts/chrome/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/requests/queue/"
        )
        assert response.status_code == 200, response.status_code  # noqa: S101

    paths = {"queue": queue, "submit": submit, "keepalive": keepalive, "chrome": chrome}
    for name in args.paths.split(","):
        call = paths[name]
        for _ in range(10):
            call()
        rounds = []
        for _ in range(args.rounds):
            py0, db0, wall0 = time.process_time(), proc_cpu(backend), time.perf_counter()
            for _ in range(args.n):
                call()
            py, db = time.process_time() - py0, proc_cpu(backend) - db0
            rounds.append((py + db, py, db, time.perf_counter() - wall0))
        total, py, db, wall = min(rounds)  # the round least disturbed by other processes
        print(
            f"{name:<9} {args.rounds}×{args.n}  python {1000 * py / args.n:6.2f} ms  database {1000 * db / args.n:6.2f} ms  "
            f"total {1000 * total / args.n:6.2f} ms CPU/request (best round; all: "
            f"{', '.join(f'{1000 * r[0] / args.n:.1f}' for r in rounds)}; load average {os.getloadavg()[0]:.1f})"
        )
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU time: waits for the database left out
        profiler.enable()
        for _ in range(50):
            paths[args.profile]()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
        print(out.getvalue())
        if args.callees:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(args.callees)
            print(out.getvalue())


if __name__ == "__main__":
    main()
