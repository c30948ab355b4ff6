"""District-scale benchmarks: seed, serve with gunicorn, load on loopback, print a table.

    make bench                      # or: .venv/bin/python bench/run.py [options]

1. Two PostgreSQL databases, ``bench_100k`` and ``bench_1m``: migrated, then
   ``seed_baohe --scale district --requests N`` under ``/usr/bin/time -v`` (wall time, peak
   RSS of the Python process; the PostgreSQL backend's CPU time is sampled from /proc). A
   database that already holds exactly N requests is reused unless ``--reseed``.
2. ``collectstatic`` into a temporary STATIC_ROOT; gunicorn (``-w 4``, DEBUG off) on
   127.0.0.1 for each database in turn; the district official logs in (session cookie) and
   community staff (清华社区) gets an API token.
3. The load generator (``bench/loadgen.py``, asyncio, keep-alive) on loopback: the district
   dashboard and its chart data one request at a time at 100k and at 1M; the same with 20
   connections ("20 officials"); the staff queue API and ``/healthz`` (the trivial view: one
   database query, and the broker and worker checks) with 20 connections; request
   submissions through the API with 20 connections. Every run is bounded in count and time.
4. The table is printed, saved as JSON under ``bench/results/`` and written into
   ``bench/README.md`` (between the district-bench markers, the rest of the file kept).

Only loopback traffic; servers are stopped at the end (also on Ctrl-C); ``--drop`` drops the
bench databases afterwards.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import loadgen
import psycopg2
import pyotp

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
GUNICORN = str(Path(PY).parent / "gunicorn")
HOST = "127.0.0.1"
PASSWORD = "baohe-demo-2026"  # noqa: S105 - the demo personas' printed password (accounts/seed/demo.py)
# The demo personas' published authenticator secret (accounts/seed/demo.py DEMO_TOTP_SECRET).
DEMO_TOTP_SECRET = "MJQW62DFFVSGK3LPFV2G65DQFUZDAMRW"  # noqa: S105 - published demo secret
README = ROOT / "bench" / "README.md"
START, END = "<!-- district-bench:start -->", "<!-- district-bench:end -->"
GOALS = {
    "seed_seconds": 300,
    "seed_rss_mib": 2048,
    "p50_1m_ms": 50,
    "ratio": 1.3,
    "p99_20_ms": 150,
    "queue_share": 0.20,
    "submit_per_s": 150,
}


def log(message):
    print(message, flush=True)


# --- databases ---------------------------------------------------------------------------------
class Postgres:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def admin(self):
        conn = psycopg2.connect(f"{self.url}/postgres")
        conn.autocommit = True
        return conn

    def db_url(self, name, **params):
        return f"{self.url}/{name}" + (f"?{urlencode(params)}" if params else "")

    def exists(self, name):
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cur.fetchone() is not None

    def recreate(self, name):
        conn = self.admin()
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()

    def drop(self, name):
        conn = self.admin()
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()

    def query(self, name, sql, params=None):
        conn = psycopg2.connect(self.db_url(name))
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def vacuum(self, name):
        conn = psycopg2.connect(self.db_url(name))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.close()

    def backend_pids(self, application_name):
        try:
            rows = self.query(
                "postgres", "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name]
            )
        except psycopg2.Error:
            return []
        return [pid for (pid,) in rows]

    def backend_cpu(self, application_name):
        """CPU seconds (user + system) of the local backends serving ``application_name``."""
        pids = self.backend_pids(application_name)
        return sum(proc_cpu(pid) for pid in pids) if pids else None


WEB_APP = f"bench_web_{os.getpid()}"  # application_name of this run's web server connections (one per run)


def proc_cpu(pid):
    """CPU seconds (user + system) of a process, or 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_in_use(port):
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def manage(args, env, **kwargs):
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


BENCH_SUBMISSION = "压测诉求"  # how the submissions benchmark's requests begin


def served_with_seed_keys(env, url, *, host, static_root):
    """``env`` for serving database ``url`` as a bench server (DEBUG off, plain http, no Redis)
    with the personal-data keys the seed wrote it with (``seed_baohe`` ran with DEBUG on: the
    development keys): for the scripts that serve a database they did not seed themselves
    (bench_queue_intake.py, profile_paths.py)."""
    keys = subprocess.run(
        [
            PY,
            "manage.py",
            "shell",
            "-v0",
            "-c",
            "from django.conf import settings; print(settings.PERSONAL_DATA_KEYS); print(settings.BLIND_INDEX_KEY)",
        ],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    served = {k: v for k, v in env.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    served.update(
        PERSONAL_DATA_KEYS=keys[0],
        BLIND_INDEX_KEY=keys[1],
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        SECRET_KEY="bench-only-" + "x" * 40,
        ALLOWED_HOSTS=host,
        SECURE_COOKIES="false",
        STATIC_ROOT=str(static_root),
    )
    return served


def seeded_requests(pg, name):
    """How many requests the generator put in ``name`` (not counting earlier benchmark submissions)."""
    try:
        return pg.query(
            name,
            "SELECT count(*) FROM service_requests_servicerequest WHERE description NOT LIKE %s",
            [BENCH_SUBMISSION + "%"],
        )[0][0]
    except psycopg2.Error:
        return None


def seed_record(name):
    return ROOT / "bench" / "results" / f"seed-{name}.json"


def seed(pg, name, requests, env, reseed):
    """Create, migrate and seed ``name`` (unless it holds exactly ``requests`` already: then the
    figures of the run that seeded it, from bench/results/, are reported again)."""
    if not reseed and pg.exists(name) and seeded_requests(pg, name) == requests:
        log(f"  {name}: reusing ({requests:,} requests); migrating, rebuilding the dashboard summary")
        manage(["migrate", "--no-input", "-v0"], {**env, "DATABASE_URL": pg.db_url(name)})
        manage(
            ["shell", "-v0", "-c", "from service_requests.summary import summary_rebuild; summary_rebuild()"],
            {**env, "DATABASE_URL": pg.db_url(name)},
        )
        record = seed_record(name)
        if record.exists():
            info = json.loads(record.read_text())
            if info.get("requests") == requests:
                info["reused"] = True
                return info
        return None
    log(f"  {name}: creating, migrating, seeding {requests:,} requests …")
    pg.recreate(name)
    manage(["migrate", "--no-input", "-v0"], {**env, "DATABASE_URL": pg.db_url(name)})
    app = f"bench_seed_{name}"
    command = [
        "/usr/bin/time",
        "-v",
        PY,
        "manage.py",
        "seed_baohe",
        "--scale",
        "district",
        "--requests",
        str(requests),
        "--quiet-logins",
    ]
    seed_env = {**env, "DATABASE_URL": pg.db_url(name, application_name=app)}
    cpu = {"pg": 0.0}
    done = threading.Event()

    def sample():
        while not done.wait(1.0):
            value = pg.backend_cpu(app)
            if value:
                cpu["pg"] = max(cpu["pg"], value)

    sampler = threading.Thread(target=sample, daemon=True)
    load_before = os.getloadavg()
    sampler.start()
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=seed_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)  # /usr/bin/time and the seed under it
        proc.wait()
        raise
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    load_after = os.getloadavg()
    out = stdout + stderr
    if proc.returncode:
        log(out)
        raise SystemExit(f"seeding {name} failed")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", out).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", out).group(1))
    steps = [line.strip() for line in stdout.splitlines() if line.startswith("  ")]
    for line in steps:
        log(f"    {line}")
    pg.vacuum(name)
    info = {
        "database": name,
        "requests": requests,
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(rss / 1024, 1),
        "python_cpu_s": round(user + system, 1),
        "postgres_cpu_s": round(cpu["pg"], 1),
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in load_after],
        "steps": steps,
        "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    seed_record(name).parent.mkdir(exist_ok=True)
    seed_record(name).write_text(json.dumps(info, ensure_ascii=False, indent=2))
    return info


# --- server ------------------------------------------------------------------------------------
class Server:
    def __init__(self, database_url, port, workers, env, var_dir, log_path, **extra):
        self.port = port
        self.log_path = log_path
        self.env = {
            **env,
            "DATABASE_URL": database_url,
            "VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
            # The portal plus the trivial authenticated JSON view /bench/ping/ (bench/urls.py).
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            **extra,
        }
        self.workers = workers
        self.proc = None

    def __enter__(self):
        if port_in_use(self.port):
            raise SystemExit(f"port {self.port} is already in use: not benchmarking someone else's server")
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "baohe.wsgi",
                "-w",
                str(self.workers),
                "-b",
                f"{HOST}:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("gunicorn exited")
            try:
                status, _h, _b = loadgen.fetch(HOST, self.port, "GET", "/healthz")
                if status in (200, 503) and self.proc.poll() is None:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("gunicorn did not answer within 60 s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log_file.close()

    def cpu(self, pg):
        """CPU seconds so far of the gunicorn workers and of their database backends, by pid."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            children = []
        pids = [int(pid) for pid in children] + pg.backend_pids(WEB_APP)
        return {pid: proc_cpu(pid) for pid in pids}

    def check(self, path, headers):
        """Fail early (with the server's last log lines) when a benchmarked URL does not answer 200."""
        status, _h, body = loadgen.fetch(HOST, self.port, "GET", path, headers)
        if status != 200:
            self.log_file.flush()
            tail = Path(self.log_path).read_text(errors="replace")[-3000:]
            raise SystemExit(f"GET {path} answered {status}: {body[:200]!r}\n--- server log ---\n{tail}")


def cookies_of(headers):
    jar = {}
    for cookie in headers.get("set-cookie", []):
        name, _, rest = cookie.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def login_session(port, username):
    status, headers, _body = loadgen.fetch(HOST, port, "GET", "/accounts/login/")
    jar = cookies_of(headers)
    token = jar["csrftoken"]
    form = urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    status, headers, body = loadgen.fetch(
        HOST,
        port,
        "POST",
        "/accounts/login/",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
            "Referer": f"http://{HOST}:{port}/accounts/login/",
        },
        form.encode(),
    )
    jar.update(cookies_of(headers))
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"login as {username} failed: {status} {body[:300]!r}")
    # The second step (every non-resident account): a code from the demo authenticator.
    token = jar["csrftoken"]  # signing in rotates the CSRF secret
    form = urlencode({"code": pyotp.TOTP(DEMO_TOTP_SECRET).now(), "csrfmiddlewaretoken": token})
    status, headers, body = loadgen.fetch(
        HOST,
        port,
        "POST",
        "/accounts/two-factor/",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
            "Referer": f"http://{HOST}:{port}/accounts/two-factor/",
        },
        form.encode(),
    )
    jar.update(cookies_of(headers))
    if status != 302:
        raise SystemExit(f"second step as {username} failed: {status} {body[:300]!r}")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def api_token(port, username):
    otp = pyotp.TOTP(DEMO_TOTP_SECRET).now()
    body = json.dumps({"username": username, "password": PASSWORD, "otp": otp, "device": "bench"}).encode()
    status, _headers, data = loadgen.fetch(
        HOST, port, "POST", "/api/v1/auth/token/", {"Content-Type": "application/json"}, body
    )
    if status != 200:
        raise SystemExit(f"token for {username} failed: {status} {data[:300]!r}")
    return json.loads(data)["token"]


# --- scenarios ---------------------------------------------------------------------------------
def measurer(server, pg, quick, found):
    """``bench(key, name, make, **kw)``: one load run on ``server``, its summary kept in ``found``."""
    port = server.port
    scale = 4 if quick else 1

    def bench(key, name, make, **kw):
        kw["count"] = max(20, kw.get("count", 200) // scale)
        warmup = kw.pop("warmup", 10)
        if warmup:
            loadgen.run(HOST, port, name, make, **{**kw, "count": warmup, "warmup": 0})
        before = server.cpu(pg)
        result = loadgen.run(HOST, port, name, make, warmup=0, **kw)
        after = server.cpu(pg)
        s = result.summary()
        spent = sum(after[pid] - before.get(pid, 0.0) for pid in after)
        s["cpu_ms_per_request"] = round(1000 * spent / s["requests"], 1) if s["requests"] else None
        log(
            f"    {name:<44} n={s['requests']:<5} err={s['errors']:<3} p50={s['p50_ms']:>7} ms  "
            f"p99={s['p99_ms']:>7} ms  {s['per_second']:>7}/s  cpu {s['cpu_ms_per_request']} ms/req"
        )
        if s["errors"]:
            log(f"      errors: {s['error_samples']}")
        found.append((key, s))
        return s

    return bench


def cold_scenarios(label, server, pg, cookie, quick):
    """The district page and chart data with the page cache off (PAGE_CACHE_SECONDS=0): what each
    request costs when it has to build the page (a cold cache), one connection."""
    found = []
    bench = measurer(server, pg, quick, found)
    official = {"Cookie": cookie}
    for key, name, path in (
        (f"page_{label}", f"district page, cold, 1 conn ({label})", "/dashboard/"),
        (f"chart_{label}", f"district chart data, cold, 1 conn ({label})", "/dashboard/chart-data/"),
    ):
        bench(key, name, loadgen.get(path, official), count=300, seconds=90, warmup=10)
    return found


def scenarios_for(label, server, pg, cookie, token, submit, quick):
    """(key, summary) for one database with the page cache on; the concurrent ones only at 1M.
    Besides latency and throughput, each summary has the server's CPU time per request (gunicorn
    workers plus their PostgreSQL backends, from /proc): what a request costs whatever else runs
    on the machine."""
    found = []
    bench = measurer(server, pg, quick, found)
    official = {"Cookie": cookie}
    staff = {"Authorization": f"Token {token}"}
    for key, name, path in (
        (f"page_warm_{label}", f"district page, warm, 1 conn ({label})", "/dashboard/"),
        (f"chart_warm_{label}", f"district chart data, warm, 1 conn ({label})", "/dashboard/chart-data/"),
    ):
        bench(key, name, loadgen.get(path, official), count=300, seconds=90, warmup=10)
    if label != "1m":
        return found
    bench(
        "page_20",
        "district page, 20 conns (1m)",
        loadgen.get("/dashboard/", official),
        connections=20,
        count=1000,
        seconds=90,
        warmup=40,
    )
    bench(
        "chart_20",
        "district chart data, 20 conns (1m)",
        loadgen.get("/dashboard/chart-data/", official),
        connections=20,
        count=1000,
        seconds=90,
        warmup=40,
    )
    bench(
        "fragment_20",
        "the page's user fragment, 20 conns (1m)",
        loadgen.get("/accounts/chrome/", {**official, "HX-Request": "true"}),
        connections=20,
        count=1000,
        seconds=60,
        warmup=40,
    )
    bench(
        "healthz_20",
        "/healthz, 20 conns",
        loadgen.get("/healthz"),
        connections=20,
        count=4000,
        seconds=30,
        warmup=100,
    )
    bench(
        "trivial_20",
        "/bench/ping/ (trivial, token), 20 conns",
        loadgen.get("/bench/ping/", staff),
        connections=20,
        count=4000,
        seconds=30,
        warmup=100,
    )
    bench(
        "queue_20",
        "staff queue API, 20 conns",
        loadgen.get("/api/v1/requests/", staff),
        connections=20,
        count=2000,
        seconds=60,
        warmup=40,
    )
    categories, compound = submit

    def payload(i):
        return {
            "category": categories[i % len(categories)],
            "compound": compound,
            "description": f"{BENCH_SUBMISSION} {i}：楼道灯不亮，请尽快处理。",
            "channel": "phone",
            "contact_name": "压测",
            "contact_mobile": "13800000000",
        }

    for posters, count in ((1, 300), (10, 2000)):
        bench(
            f"submit_{posters}",
            f"POST /api/v1/requests/, {posters} poster{'s' if posters > 1 else ''}",
            loadgen.post_json("/api/v1/requests/", payload, staff),
            connections=posters,
            count=count,
            seconds=90,
            warmup=10,
        )
    return found


# --- report ------------------------------------------------------------------------------------
def fmt(value, unit=""):
    return "—" if value is None else f"{value:,.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def verdict(ok):
    return "✅" if ok else "❌"


def table(results, seeds):
    r = {key: s for key, s in results}
    rows = []
    for seed_info in seeds:
        if seed_info is None:
            continue
        n = seed_info["requests"]
        ok = seed_info["wall_s"] < GOALS["seed_seconds"] and seed_info["peak_rss_mib"] < GOALS["seed_rss_mib"]
        rows.append(
            (
                f"seed_baohe --scale district --requests {n:,}",
                "—",
                "1",
                f"{seed_info['wall_s']:.0f} s wall · {seed_info['peak_rss_mib']:.0f} MiB peak RSS "
                f"(Python CPU {seed_info['python_cpu_s']:.0f} s, PostgreSQL CPU {seed_info['postgres_cpu_s']:.0f} s)",
                "< 300 s, < 2 GiB" if n >= 1_000_000 else "—",
                verdict(ok) if n >= 1_000_000 else "",
            )
        )

    def line(name, key, goal="", ok=None, what="p50"):
        s = r.get(key)
        if s is None:
            return
        figures = f"p50 {s['p50_ms']} ms · p99 {s['p99_ms']} ms · {s['per_second']}/s" + (
            f" · {s['errors']} errors" if s["errors"] else ""
        )
        if s.get("cpu_ms_per_request") is not None:
            figures += f" · CPU {s['cpu_ms_per_request']} ms/req"
        rows.append((name, f"{s['requests']}", f"{s['connections']}", figures, goal, "" if ok is None else verdict(ok)))

    for what, key in (("page", "page"), ("chart data", "chart")):
        small, large = r.get(f"{key}_100k"), r.get(f"{key}_1m")
        line(f"district {what}, cold cache, at 100k", f"{key}_100k")
        ratio = large["p50_ms"] / small["p50_ms"] if small and large and small["p50_ms"] else None
        line(
            f"district {what}, cold cache, at 1M" + (f" (1M/100k p50 = {ratio:.2f})" if ratio else ""),
            f"{key}_1m",
            "p50 < 50 ms, ratio < 1.3",
            bool(large and large["p50_ms"] < GOALS["p50_1m_ms"] and ratio is not None and ratio < GOALS["ratio"]),
        )
        line(f"district {what}, warm cache, at 100k", f"{key}_warm_100k")
        line(f"district {what}, warm cache, at 1M", f"{key}_warm_1m")
    for what, key in (("page", "page_20"), ("chart data", "chart_20")):
        s = r.get(key)
        line(
            f"district {what}, 20 concurrent officials (1M)",
            key,
            "p99 < 150 ms",
            bool(s and s["p99_ms"] < GOALS["p99_20_ms"] and not s["errors"]),
        )
    line("the page's user fragment `/accounts/chrome/` (menu, unread count), 20 conns", "fragment_20")
    line("`/healthz` (database only), 20 conns", "healthz_20")
    trivial, queue = r.get("trivial_20") or r.get("healthz_20"), r.get("queue_20")
    line("`/bench/ping/` (trivial JSON view, token auth: the baseline), 20 conns", "trivial_20")
    share = queue["per_second"] / trivial["per_second"] if trivial and queue and trivial["per_second"] else None
    line(
        "staff queue API `/api/v1/requests/`, 20 conns" + (f" ({share:.0%} of the trivial view)" if share else ""),
        "queue_20",
        "≥ 20% of the trivial view",
        bool(share is not None and share >= GOALS["queue_share"]),
    )
    one, ten = r.get("submit_1"), r.get("submit_10")
    line(
        "POST `/api/v1/requests/` (staff, phone), 1 poster",
        "submit_1",
        "CPU ≤ 12 ms",
        bool(one and (one.get("cpu_ms_per_request") or 99) <= 12),
    )
    scaling = ten["per_second"] / one["per_second"] if one and ten and one["per_second"] else None
    line(
        "POST `/api/v1/requests/`, 10 posters" + (f" ({scaling:.1f}× one poster)" if scaling else ""),
        "submit_10",
        "≥ 150/s, ≥ 3× one poster",
        bool(ten and ten["per_second"] >= GOALS["submit_per_s"] and scaling and scaling >= 3 and not ten["errors"]),
    )
    s = r.get("submit_20")  # runs before 2026-12 had 20 connections
    line(
        "POST `/api/v1/requests/` (staff, phone), 20 conns", "submit_20", "≥ 200/s", bool(s and s["per_second"] >= 200)
    )
    head = ("| benchmark | requests | conns | measured | goal | met |", "|---|---:|---:|---|---|:---:|")
    return "\n".join([*head, *("| " + " | ".join(cells) + " |" for cells in rows)])


def results_block(command, text, context):
    return f"`{command}` printed:\n\n{text}\n\n{context}\n"


def write_readme(text):
    current = README.read_text() if README.exists() else ""
    block = f"{START}\n{text.rstrip()}\n{END}\n"
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        current = before + block + ("\n" + after if after else "")
    else:
        current = (current.rstrip() + "\n\n" if current.strip() else "") + block
    README.write_text(current)


def _terminate(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")  # so that the servers are stopped on the way out


def main():
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--small", type=int, default=100_000, help="requests in the small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="requests in the large database")
    parser.add_argument("--reseed", action="store_true", help="seed even when a database is already there")
    parser.add_argument("--seed-only", action="store_true", help="seed (and time it), run no load")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--quick", action="store_true", help="a quarter of the requests per run")
    parser.add_argument("--drop", action="store_true", help="drop the bench databases at the end")
    parser.add_argument("--no-readme", action="store_true", help="do not write bench/README.md")
    parser.add_argument(
        "--db-prefix",
        default=os.environ.get("BENCH_DB_PREFIX", "bench"),
        help="databases are <prefix>_100k and <prefix>_1m (default bench; another name lets two runs share a server)",
    )
    parser.add_argument("--report", metavar="JSON", help="write the table of a saved run (bench/results/) and stop")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        text = table(list(saved["results"].items()), saved["seeds"])
        log(text)
        if not args.no_readme:
            write_readme(results_block(saved["command"], text, saved["context"]))
        return

    pg = Postgres(args.postgres)
    port = args.port or free_port()
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    var_dir = tempfile.mkdtemp(prefix="baohe-bench-")
    base_env.update(
        DEBUG="false",
        SECRET_KEY="bench-only-" + "x" * 40,
        # Bench-only keys (fixed, so a reused database still decrypts): DEBUG off refuses derived ones.
        PERSONAL_DATA_KEYS="bench:"
        + base64.urlsafe_b64encode(hashlib.sha256(b"bench-personal-data").digest()).decode(),
        BLIND_INDEX_KEY=base64.urlsafe_b64encode(hashlib.sha256(b"bench-blind-index").digest()).decode(),
        ALLOWED_HOSTS=HOST,
        SECURE_COOKIES="false",
        SECURE_SSL_REDIRECT="false",  # plain http on loopback (DEBUG off would redirect to https)
        STATIC_ROOT=str(Path(var_dir) / "static"),
        VAR_DIR=var_dir,
    )
    base_env.pop("REDIS_URL", None)
    base_env.pop("CELERY_BROKER_URL", None)
    labels = [("100k", args.small), ("1m", args.large)]
    names = {label: f"{args.db_prefix}_{label}" for label, _n in labels}
    started = datetime.now(UTC)
    log(f"bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; PostgreSQL at {args.postgres}")
    try:
        log("seeding")
        seeds = [seed(pg, names[label], n, base_env, args.reseed) for label, n in reversed(labels)]
        if args.seed_only:
            for info in seeds:
                if info:
                    log(json.dumps(info, ensure_ascii=False))
            return
        log("collectstatic")
        manage(["collectstatic", "--no-input", "-v0"], {**base_env, "DATABASE_URL": pg.db_url(names["1m"])})
        results = []
        for label, _n in labels:
            name = names[label]
            log(f"serving {name} (gunicorn -w {args.workers})")
            submit = (
                [
                    row[0]
                    for row in pg.query(
                        name,
                        "SELECT id FROM service_requests_category WHERE parent_id IS NOT "
                        "NULL AND is_active ORDER BY id",
                    )
                ],
                pg.query(
                    name,
                    "SELECT c.id FROM communities_compound c JOIN communities_community m ON m.id = "
                    "c.community_id WHERE m.name = '清华社区' ORDER BY c.id LIMIT 1",
                )[0][0],
            )
            server_log = ROOT / "bench" / "results" / f"gunicorn-{name}.log"
            server_log.parent.mkdir(exist_ok=True)
            db_url = pg.db_url(name, application_name=WEB_APP)
            with Server(db_url, port, args.workers, base_env, var_dir, server_log, PAGE_CACHE_SECONDS="0") as server:
                cookie = login_session(port, "district")
                for path in ("/dashboard/", "/dashboard/chart-data/"):
                    server.check(path, {"Cookie": cookie})
                results.extend(cold_scenarios(label, server, pg, cookie, args.quick))
            # The same session (cached_db: in the database too) on the second server: a TOTP code
            # may be used once only.
            with Server(db_url, port, args.workers, base_env, var_dir, server_log) as server:
                token = api_token(port, "staff_qinghua")
                for path, headers in (
                    ("/dashboard/", {"Cookie": cookie}),
                    ("/dashboard/chart-data/", {"Cookie": cookie}),
                    ("/accounts/chrome/", {"Cookie": cookie}),
                    ("/bench/ping/", {"Authorization": f"Token {token}"}),
                    ("/api/v1/requests/", {"Authorization": f"Token {token}"}),
                ):
                    server.check(path, headers)
                results.extend(scenarios_for(label, server, pg, cookie, token, submit, args.quick))
        text = table(results, seeds)
        context = (
            f"Measured {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs (load average "
            f"{os.getloadavg()[0]:.1f} at the end), PostgreSQL "
            f"{pg.query('postgres', 'SHOW server_version')[0][0]}, gunicorn -w {args.workers} (sync), "
            f"DEBUG off; load generator `bench/loadgen.py` on the same machine."
        )
        log("\n" + text + "\n\n" + context)
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        argv = [a for a in sys.argv[1:] if a != "--no-readme"]
        command = "make bench" + (f" BENCH_ARGS='{' '.join(argv)}'" if argv else "")
        (out / f"district-{started:%Y%m%dT%H%M%S}.json").write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "command": command,
                    "seeds": seeds,
                    "results": dict(results),
                    "context": context,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        if not args.no_readme:
            write_readme(results_block(command, text, context))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        if args.drop:
            for name in names.values():
                pg.drop(name)


if __name__ == "__main__":
    main()
