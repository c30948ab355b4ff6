"""The shipped deployment, for real: Debian's nginx runs ``deploy/nginx/baohe.conf`` (only its
paths, ports and certificate substituted) with a self-signed certificate on loopback, in front of
gunicorn started with ``deploy/gunicorn.conf.py`` and the environment ``deploy/make-env`` writes
(DEBUG off, the production profile), on the test database. Checked through nginx over HTTPS:

- http:// redirects to https://, and HSTS is sent;
- the client's address (the one nginx saw: the client connects from 127.0.0.2) is what the audit
  log and the lockout record, and an X-Forwarded-For the client forged is not believed;
- a staff sign-in with the second factor, and a resident's request with a 10 MB photo, end to
  end; an 11 MB photo is refused with the portal's own message (nginx lets it through);
- /metrics through nginx sums gunicorn's two workers (prometheus_client multiprocess mode) and
  is refused to another address;
- the login page at phone size in Chromium (screenshot in tests/e2e/screenshots/).

Marked ``stack`` and ``e2e``: skipped without nginx, openssl, Redis or Chromium unless
``REQUIRE_SERVICES=1``/``CI``. About 32 s of CPU in all (pytest, gunicorn, nginx, Chromium;
collectstatic is a third of it): well under a minute on an idle 2-core machine.
nginx's master runs as this user; as root its workers drop to ``nobody`` as in production.
"""

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families
from requests.adapters import HTTPAdapter

from baohe.models import AuditEntry
from service_requests.models import ServiceRequest
from tests.factories import PASSWORD, CategoryFactory
from tests.notifications.test_worker_live import database_url
from tests.signin import totp_code, totp_device

from .conftest import private_broker

# e2e too: the last step drives Chromium (skipped without it, like tests/e2e, unless CI).
pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
NGINX = "/usr/sbin/nginx"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
MB = 1024 * 1024
CLIENT, OTHER_CLIENT = "127.0.0.2", "127.0.0.3"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def substitute(text, replacements):
    """``text`` with each (old, new) replaced; every ``old`` must be there (the file's shape is pinned)."""
    for old, new in replacements:
        assert old in text, f"deploy/nginx/baohe.conf no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def deploy_env():
    """The environment file deploy/make-env prints, as a dict."""
    out = subprocess.run([str(DEPLOY / "make-env")], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if re.match(r"^[A-Z_]+=", line))


class Stack:
    def __init__(self, base):
        self.base = base
        self.http_port, self.https_port = free_port(), free_port()
        self.processes = []

    @property
    def origin(self):
        return f"https://127.0.0.1:{self.https_port}"

    def certificate(self):
        self.cert, self.key = self.base / "cert.pem", self.base / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            + ["-keyout", str(self.key), "-out", str(self.cert), "-days", "2", "-subj", "/CN=127.0.0.1"]
            + ["-addext", "subjectAltName=IP:127.0.0.1"],
            check=True,
            capture_output=True,
        )

    def start_gunicorn(self, static_root):
        self.socket = self.base / "run" / "gunicorn.sock"
        self.socket.parent.mkdir()
        self.socket.parent.chmod(0o755)
        self.metrics_dir = self.base / "metrics"
        self.metrics_dir.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
            **deploy_env(),
            # what differs on this machine from a district's server
            "DATABASE_URL": database_url(),
            # the keys the test process wrote the residents' numbers with (a district keeps its own)
            "PERSONAL_DATA_KEYS": settings.PERSONAL_DATA_KEYS,
            "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
            "CONN_MAX_AGE": "0",
            "REDIS_URL": os.environ["REDIS_URL"],
            "CELERY_BROKER_URL": private_broker(),  # nobody consumes it: no other test's worker takes these tasks
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": self.origin,
            "VAR_DIR": str(self.base / "var"),
            "MEDIA_ROOT": str(self.base / "media"),
            "STATIC_ROOT": str(static_root),
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            "GUNICORN_BIND": f"unix:{self.socket}",
            "WEB_CONCURRENCY": "2",
            "AXES_FAILURE_LIMIT": "3",
            "DJANGO_SETTINGS_MODULE": "baohe.settings",
        }
        self.env = env
        self.web_log = self.base / "web.log"
        log = open(self.web_log, "w")  # noqa: SIM115 - kept open for the process's life
        self.gunicorn = subprocess.Popen(
            [GUNICORN, "-c", str(DEPLOY / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(self.gunicorn)

    def start_nginx(self):
        site = substitute(
            (DEPLOY / "nginx" / "baohe.conf").read_text(),
            [
                ("unix:/run/baohe/gunicorn.sock", f"unix:{self.socket}"),
                ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
                ("listen [::]:80;", ""),
                ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
                ("listen [::]:443 ssl http2;", ""),
                ("/etc/ssl/baohe/fullchain.pem", str(self.cert)),
                ("/etc/ssl/baohe/privkey.pem", str(self.key)),
                ("/var/log/nginx/", f"{self.base}/logs/"),
                ("/var/www/letsencrypt", f"{self.base}/acme"),
            ],
        )
        (self.base / "logs").mkdir()
        temp = self.base / "nginx-temp"
        temp.mkdir()
        (self.base / "baohe.conf").write_text(site)
        user = ""
        if os.geteuid() == 0:  # as in production, the workers that talk to clients are unprivileged
            user = "user nobody nogroup;"
            shutil.chown(temp, "nobody", "nogroup")
        (self.base / "nginx.conf").write_text(
            f"""
{user}
worker_processes 1;
pid {self.base}/nginx.pid;
error_log {self.base}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.base}/baohe.conf;
}}
"""
        )
        check = subprocess.run(
            [
                NGINX,
                "-t",
                "-p",
                str(self.base),
                "-c",
                str(self.base / "nginx.conf"),
                "-e",
                str(self.base / "logs/error.log"),
            ],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.nginx = subprocess.Popen(
            [NGINX, "-p", str(self.base), "-c", str(self.base / "nginx.conf"), "-e", str(self.base / "logs/error.log")]
            + ["-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(self.nginx)

    def wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise AssertionError("gunicorn exited:\n" + self.web_log.read_text())
            if self.nginx.poll() is not None:
                raise AssertionError("nginx exited:\n" + (self.base / "logs/error.log").read_text())
            try:
                if self.client("127.0.0.1").get(f"{self.origin}/healthz", timeout=10).status_code in (200, 503):
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        raise AssertionError("the stack did not answer:\n" + self.web_log.read_text())

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    def client(self, source=CLIENT):
        """A browser-like session to https://127.0.0.1:<port> from ``source`` (another loopback
        address, so nginx sees the client at an address that is not its own)."""
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the certificate given here
        adapter = SourceAddressAdapter(source)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.verify = str(self.cert)
        session.headers["Referer"] = self.origin + "/"
        return session


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """collectstatic as an operator runs it (DEBUG off: whitenoise's compressed manifest storage)."""
    root = tmp_path_factory.mktemp("static")
    var = tmp_path_factory.mktemp("static-var")
    env = {**os.environ, **deploy_env(), "STATIC_ROOT": str(root), "DATABASE_URL": "", "VAR_DIR": str(var)}
    env["MEDIA_ROOT"] = str(var / "media")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return root


@pytest.fixture
def stack(static_root, transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("gunicorn needs the test database on PostgreSQL (set DATABASE_URL)")
    base = Path(tempfile.mkdtemp(prefix="baohe-stack-"))
    base.chmod(0o755)  # nginx's workers (nobody, when root) reach the socket and temp files
    running = Stack(base)
    running.certificate()
    running.start_gunicorn(static_root)
    running.start_nginx()
    try:
        yield running  # the test waits for it once its rows are written (gunicorn boots meanwhile)
    finally:
        running.stop()
        shutil.rmtree(base, ignore_errors=True)


def form_token(response):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    assert match, response.text[:500]
    return match.group(1)


def sign_in(session, stack, username, *, forged=None):
    headers = {"X-Forwarded-For": forged} if forged else {}
    page = session.get(f"{stack.origin}/accounts/login/", headers=headers)
    return session.post(
        f"{stack.origin}/accounts/login/",
        data={"csrfmiddlewaretoken": form_token(page), "username": username, "password": PASSWORD},
        headers=headers,
        allow_redirects=False,
    )


def production_password(user):
    """The demo password hashed as production does (the test settings use MD5, which gunicorn's
    settings do not accept)."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])


def noise_png(target_bytes):
    """A PNG of random pixels (incompressible) of about ``target_bytes``."""
    side = int((target_bytes / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def test_the_shipped_stack_end_to_end(stack, district, resident, staff_a, monkeypatch, browser):
    for user in (resident, staff_a):
        production_password(user)
    device = totp_device(staff_a)
    category = CategoryFactory(name="楼道灯")
    big, fits = noise_png(11 * MB), noise_png(int(9.8 * MB))
    stack.wait()

    # --- http → https, HSTS ------------------------------------------------------------------
    plain = stack.client().get(f"http://127.0.0.1:{stack.http_port}/accounts/login/?next=/", allow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://127.0.0.1/accounts/login/?next=/"
    login_page = stack.client().get(f"{stack.origin}/accounts/login/")
    assert login_page.status_code == 200
    assert login_page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert re.fullmatch(r"[0-9a-f]{32}", login_page.headers["X-Request-ID"])  # nginx's $request_id
    assert "Server" not in login_page.headers or login_page.headers["Server"] == "nginx"

    # --- staff sign-in with the second factor, from 127.0.0.2 with a forged X-Forwarded-For ------
    staff = stack.client()
    first = sign_in(staff, stack, "staff_a", forged="203.0.113.66")
    assert first.status_code == 302 and first.headers["Location"].startswith("/accounts/two-factor/")
    step = staff.get(stack.origin + first.headers["Location"])
    second = staff.post(
        step.url,
        data={"csrfmiddlewaretoken": form_token(step), "code": totp_code(device)},
        headers={"X-Forwarded-For": "203.0.113.66"},
        allow_redirects=False,
    )
    assert second.status_code == 302, second.text[:300]
    home = staff.get(stack.origin + second.headers["Location"])
    assert home.status_code == 200 and "曙光社区网格员" in home.text
    record = district.a1.residents[1]
    shown = staff.get(f"{stack.origin}/registry/resident/{record.pk}/")
    assert shown.status_code == 200
    revealed = staff.post(
        f"{stack.origin}/registry/resident/{record.pk}/reveal/",
        data={"csrfmiddlewaretoken": form_token(shown), "reason": "visit"},
        headers={"X-Forwarded-For": "10.9.9.9"},
        allow_redirects=False,
    )
    assert revealed.status_code == 200 and record.mobile in revealed.text
    entries = list(AuditEntry.objects.values_list("action", "ip_address"))
    assert (AuditEntry.Action.LOGIN, CLIENT) in entries
    assert (AuditEntry.Action.VIEW_PERSONAL, CLIENT) in entries
    assert {ip for _action, ip in entries} == {CLIENT}  # never nginx's 127.0.0.1, never the forged ones

    # --- lockout: counted for the address nginx saw, whatever the client wrote ---------------------
    intruder = stack.client()
    for n in range(3):
        page = intruder.get(f"{stack.origin}/accounts/login/")
        intruder.post(
            f"{stack.origin}/accounts/login/",
            data={"csrfmiddlewaretoken": form_token(page), "username": "staff_a", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
    assert set(AccessAttempt.objects.values_list("username", "ip_address")) == {("staff_a", CLIENT)}
    locked = sign_in(stack.client(), stack, "staff_a", forged="198.51.100.77")
    assert locked.status_code == 429
    elsewhere = sign_in(stack.client(OTHER_CLIENT), stack, "staff_a")
    assert elsewhere.status_code == 302  # another network is not locked

    # --- a resident's request with photos: 11 MB refused by the portal, 10 MB passes --------------
    person = stack.client()
    assert sign_in(person, stack, "resident_a1").status_code == 302
    assert 10 * MB < len(big) < 12 * MB and 9 * MB < len(fits) <= 10 * MB

    def submit(photo, name):
        page = person.get(f"{stack.origin}/requests/submit/")
        return person.post(
            f"{stack.origin}/requests/submit/",
            data={
                "csrfmiddlewaretoken": form_token(page),
                "category": category.pk,
                "building": district.a1.buildings[0].pk,
                "description": "楼道灯坏了，附照片",
            },
            files={"photos": (name, photo, "image/png")},
            allow_redirects=False,
        )

    refused = submit(big, "big.png")
    assert refused.status_code == 200
    assert "照片 big.png 超过 10 MB，请压缩后再上传。" in refused.text
    assert not ServiceRequest.objects.exists()
    accepted = submit(fits, "fits.png")
    assert accepted.status_code == 302, accepted.text[:300]
    created = ServiceRequest.objects.get(submitted_by=resident)
    assert accepted.headers["Location"] == created.get_absolute_url()
    assert created.attachments.count() == 1
    detail = person.get(stack.origin + accepted.headers["Location"])
    assert created.number in detail.text

    # --- /metrics through nginx: both gunicorn workers summed; refused to others -------------------
    probe = stack.client()
    for _ in range(6):
        probe.get(f"{stack.origin}/healthz")
    assert stack.client(OTHER_CLIENT).get(f"{stack.origin}/metrics").status_code == 404
    scraped = stack.client("127.0.0.1").get(f"{stack.origin}/metrics")
    assert scraped.status_code == 200
    counts = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }
    healthz = counts[("baohe_http_responses_total", (("method", "GET"), ("status", "2xx"), ("view", "healthz")))]
    assert healthz >= 6 + 1  # the six above and the readiness probe, whichever worker answered
    assert len(list(stack.metrics_dir.glob("*.db"))) >= 2  # one file per worker (and kind)

    # --- the login page at phone size through https (screenshot looked at by the reviewer) --------
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        ignore_https_errors=True,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        locale="zh-CN",
    )
    try:
        page = context.new_page()
        page.goto(f"{stack.origin}/accounts/login/")
        assert page.url.startswith("https://")
        assert page.locator("input[name=username]").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "stack-login-phone.png"), full_page=True)
    finally:
        context.close()
