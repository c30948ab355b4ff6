"""The worker for real: Redis, a ``celery -A baohe worker`` process, and an SMTP server on loopback.

Skipped without ``REDIS_URL`` (unless ``REQUIRE_SERVICES=1``, as in CI, which makes a missing
service a failure). The worker is a subprocess with the test database (committed rows:
``transaction=True``), ``EMAIL_URL`` pointing at an aiosmtpd server started here, and the
broker given per test. The test plays beat: it sends ``scan_deadlines`` / ``dispatch_pending``
through the broker.

* a request whose accept deadline passed gives exactly one warning per staff member, one
  overdue notice to the secretary and one escalation to the street, by email and in the inbox;
  scans sent again, and two at once, send nothing more;
* SIGKILL in the middle of 1,000 email deliveries, then a new worker: every delivery is sent,
  each Message-ID arrives at least once, and at most one message per kill arrives twice (the
  one in flight: SMTP cannot be exactly-once, the stable Message-ID lets the receiver dedupe);
* with the broker's Redis stopped, residents submit and staff accept; when it is back, the
  worker delivers every reminder that fell due meanwhile.
"""

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu.exceptions import OperationalError as BrokerError

from baohe.celery import app
from notifications.models import Delivery, Notification, Preference
from notifications.services import Message, message_id, notify_many
from notifications.tasks import dispatch_pending
from service_requests.models import ServiceRequest
from service_requests.services import request_accept, request_submit
from service_requests.tasks import scan_deadlines
from tests.clocks import make_due
from tests.factories import CategoryFactory

from .conftest import Mailbox, free_port

# One worker process at a time on the shared broker (its purge and its tasks are not the other xdist worker's).
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group(__name__)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
ACCEPT_COLUMNS = ("accept_warn_at", "accept_due_at", "accept_escalate_at")


@pytest.fixture(autouse=True)
def _shared_database():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the worker process needs a database it can share: set DATABASE_URL (PostgreSQL)")


def database_url():
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return ""  # a file-backed SQLite test database: the worker finds it through VAR_DIR


# --- services started by the tests --------------------------------------------------------------
class SlowMailbox(Mailbox):
    """A mailbox that takes a few milliseconds per message, like a real server (so a kill lands mid-batch)."""

    delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    mailbox = SlowMailbox(port=free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


class Worker:
    """``celery -A baohe worker`` in its own process group, so SIGKILL takes its pool too."""

    def __init__(self, env, log_path, concurrency):
        self.env, self.log_path, self.concurrency = env, log_path, concurrency
        self.process = None
        self.starts = 0

    def start(self, timeout=30):
        self.starts += 1
        log = open(self.log_path, "a")  # noqa: SIM115 - kept open for the process's life
        log.write(f"\n===== start {self.starts} =====\n")
        log.flush()
        self.process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "baohe",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=live{self.starts}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if f"live{self.starts}@" in self.log() and " ready." in self.log().split(f"===== start {self.starts}")[-1]:
                return
            time.sleep(0.1)
        raise AssertionError(f"worker not ready after {timeout}s:\n{self.log()}")

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self):
        return Path(self.log_path).read_text(errors="replace")


@pytest.fixture
def use_broker(monkeypatch):
    """``use_broker(url)``: this process's Celery app sends to ``url`` (restored afterwards).

    Celery reads CELERY_BROKER_URL from the environment before its own setting (CI sets it),
    so the variable is switched too."""
    original = app.conf.broker_url

    def switch(url):
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    yield switch
    switch(original)


@pytest.fixture
def start_worker(tmp_path, transactional_db, use_broker):
    """``start_worker(smtp, broker=…, concurrency=…, **env)``: a running worker on the test database."""
    workers = []

    def start(mailbox, broker=None, concurrency=1, **extra):
        broker = broker or settings.CELERY_BROKER_URL
        use_broker(broker)
        app.control.purge()  # nothing left over from other tests on this Redis database
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "baohe.settings",
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker,
            "EMAIL_URL": f"smtp://127.0.0.1:{mailbox.port}?timeout=5",
            "VAR_DIR": str(tmp_path / "var"),
            "NOTIFICATIONS_SEND_LEASE_SECONDS": "3",
            "LOG_LEVEL": "INFO",
            **extra,
        }
        worker = Worker(env, tmp_path / f"worker{len(workers)}.log", concurrency)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(condition, timeout, message, poll=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"{message} (after {timeout}s)")


def subjects(mailbox):
    with mailbox.lock:
        return Counter((str(m["To"]).strip(), str(m["Subject"]).strip()) for m in mailbox.messages)


@pytest.fixture
def people(district, resident, staff_a, secretary_a, street_official_a):
    return {"resident": resident, "staff": staff_a, "secretary": secretary_a, "street": street_official_a}


def email_on(people):
    """From now on staff, secretary and street official are told by email too (after the
    submissions, so that only the reminders are mailed)."""
    for key in ("staff", "secretary", "street"):
        Preference.objects.create(user=people[key], email=True)


def submit(district, resident, text="3栋楼道灯坏了一周"):
    return request_submit(
        by=resident,
        category=CategoryFactory(accept_within_hours=2, resolve_within_days=1),
        description=text,
        compound=district.a1.compound,
    )


def expected_reminders(request, people):
    # Warned and overdue in one scan: the staff read "已超过" (late), never "即将超过" (issue 15).
    number = request.number
    return [
        ("staff_a@baohe.example", f"【和美社区】诉求 {number} 已超过签收时限"),
        ("secretary_a@baohe.example", f"【和美社区】诉求 {number} 已超过签收时限"),
        ("secretary_a@baohe.example", f"【和美社区】诉求 {number} 已超过签收时限"),
        ("street_official_a@baohe.example", f"【和美社区】诉求 {number} 超过签收时限一倍仍未签收，请街道督办。"),
    ]


def summary(mailbox):
    """{(to, subject up to the deadline in brackets): count}"""
    return Counter((to, subject.split("（")[0]) for (to, subject), n in subjects(mailbox).items() for _ in range(n))


# --- the tests ------------------------------------------------------------------------------------
def test_a_passed_accept_deadline_is_told_once_by_email_and_inbox(district, people, smtp, start_worker, client):
    request = submit(district, people["resident"])
    email_on(people)
    make_due(request, *ACCEPT_COLUMNS)
    start_worker(smtp, concurrency=2)

    scan_deadlines.delay()  # what beat sends every minute
    wait_for(lambda: len(smtp.messages) >= 4, 30, f"4 reminder emails expected, got {subjects(smtp)}")

    expected = expected_reminders(request, people)
    assert summary(smtp) == Counter(expected)
    assert len(set(smtp.message_ids())) == 4
    inbox = Counter(Notification.objects.filter(kind__startswith="request.accept").values_list("recipient", "kind"))
    assert inbox == Counter(
        {
            (people["staff"].pk, "request.accept.warn"): 1,
            (people["secretary"].pk, "request.accept.warn"): 1,
            (people["secretary"].pk, "request.accept.overdue"): 1,
            (people["street"].pk, "request.accept.escalate"): 1,
        }
    )
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}

    # Beat again, twice at once: nothing more is sent.
    scan_deadlines.delay()
    scan_deadlines.delay()
    dispatch_pending.delay()
    time.sleep(3)
    assert summary(smtp) == Counter(expected)
    assert Notification.objects.filter(kind__startswith="request.accept").count() == 4

    # The worker's heartbeat (written when it started) and the broker show in /readyz.
    body = client.get("/readyz").json()
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["worker_heartbeat"]["status"] == "ok"


def test_sigkill_mid_batch_then_restart_delivers_every_one(resident, staff_a, smtp, start_worker):
    Preference.objects.create(user=staff_a, email=True)
    notify_many(
        Message(recipient_id=staff_a.pk, kind="test", title=f"第 {n} 条", dedupe_key=f"live:{n}") for n in range(1000)
    )
    ids = set(Delivery.objects.values_list("pk", flat=True))
    assert len(ids) == 1000
    smtp.delay = 0.004  # ~4 ms a message: the batch takes seconds, the kill lands in the middle

    worker = start_worker(smtp)
    dispatch_pending.delay()
    wait_for(lambda: len(smtp.messages) >= 250, 60, "the first 250 emails never arrived", poll=0.01)
    worker.kill()
    at_kill = len(smtp.messages)
    assert at_kill < 1000, "the batch finished before the kill"

    worker.start()
    # Beat every 2 seconds; the delivery that was in flight waits out its 3-second lease.
    deadline = time.monotonic() + 90
    while Delivery.objects.exclude(status="sent").exists():
        assert time.monotonic() < deadline, f"{Delivery.objects.exclude(status='sent').count()} never sent"
        dispatch_pending.delay()
        time.sleep(2)

    received = smtp.message_ids()
    assert set(received) == {message_id(pk) for pk in ids}  # every one arrived …
    duplicates = len(received) - len(set(received))
    assert duplicates <= 1, f"{duplicates} duplicates after one kill"  # … and at most the in-flight one twice
    assert Delivery.objects.filter(status="sent").count() == 1000
    print(f"\nSIGKILL after {at_kill} of 1000 emails; received {len(received)}, duplicates {duplicates}")


def test_with_redis_down_requests_go_on_and_reminders_follow_when_it_is_back(
    district, people, smtp, start_worker, tmp_path, caplog
):
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is needed to stop and start a broker (apt-get install redis-server)"
    port = free_port()
    command = [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(tmp_path)]

    def start_redis():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: _answers(port), 10, "redis-server did not start")
        return process

    redis = start_redis()
    try:
        broker = f"redis://127.0.0.1:{port}/0"
        start_worker(smtp, broker=broker)
        redis.terminate()
        redis.wait(timeout=10)

        # The broker is gone: residents still submit, staff still accept.
        assert not _answers(port)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="baohe.jobs"):
            waiting = submit(district, people["resident"], "小区东门路灯不亮")
            handled = request_accept(request=submit(district, people["resident"], "垃圾未清运"), by=people["staff"])
        assert time.monotonic() - started < 10
        # The accept's "tell the resident" could not be enqueued: logged, swallowed, the row waits.
        assert "could not enqueue notifications.tasks.dispatch_pending" in caplog.text
        assert handled.status == ServiceRequest.Status.ACCEPTED
        sms = Delivery.objects.filter(notification__recipient=people["resident"], channel="sms")
        assert sms.count() == 1  # "accepted" told to the resident: waiting in the outbox
        make_due(waiting, *ACCEPT_COLUMNS)  # and reminders fall due meanwhile
        email_on(people)

        redis = start_redis()
        # Beat resumes: the scan and the dispatch go through the broker again.
        deadline = time.monotonic() + 60
        while len(smtp.messages) < 4 or Delivery.objects.exclude(status="sent").exists():
            assert time.monotonic() < deadline, f"not delivered: {subjects(smtp)}"
            with contextlib.suppress(BrokerError):  # this process reconnects at its own pace
                scan_deadlines.apply_async(retry=False)
                dispatch_pending.apply_async(retry=False)
            time.sleep(2)
        assert summary(smtp) == Counter(expected_reminders(waiting, people))
        assert sms.get().status == "sent"
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def _answers(port):
    import redis as redis_client

    try:
        return redis_client.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2).ping()
    except redis_client.exceptions.ConnectionError:
        return False
