"""Two beats started by mistake, for three minutes, send each reminder once (issue 19).

Real processes on PostgreSQL and Redis (a redis-server of the test's own as the broker): two
``celery beat`` (each with its own schedule file, as on two machines) at ``BEAT_SCAN_SECONDS=5``,
so every scan is sent twice every 5 seconds, and two ``celery worker`` processes (two pool
processes each) that run those scans at the same time. Email goes to an SMTP server on loopback, SMS to the log backend's outbox file.

During the window, six requests' accept clocks fall due one after another (warn → overdue →
escalate, 15 s apart; requests 20 s apart), and two home-visit plans are due (one tomorrow: the
visitor's reminder; one yesterday: overdue to the party group leader). Afterwards: every
reminder is there, each email (Message-ID) arrived once, each SMS was written once, and every
delivery was sent on its first attempt.

``slow_drill``: it waits about 3½ minutes but uses little CPU; ``BEAT_DRILL_SECONDS`` shortens
the window while working on it (the steps still fit from 60 s). The worker killed mid-batch is
``tests/notifications/test_worker_live.py::test_sigkill_mid_batch_then_restart_delivers_every_one``.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from notifications.models import Delivery, Notification, Preference
from notifications.services import message_id
from service_requests.models import RequestClock, ServiceRequest
from service_requests.services import request_submit
from tests.factories import CategoryFactory
from tests.notifications.conftest import Mailbox, free_port
from tests.notifications.test_worker_live import database_url, wait_for
from tests.visits import conftest as visits_conftest
from visits import reminders as visit_reminders
from visits.models import VisitPlan

visiting = visits_conftest.visiting  # the fixture (home-visit plans in A1), used by name below

pytestmark = [pytest.mark.services, pytest.mark.slow_drill, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
WINDOW = int(os.environ.get("BEAT_DRILL_SECONDS", "180"))
# Six requests in three minutes (a shorter window for development gets fewer; each needs 20 s + 40 s).
REQUESTS = min(6, max(1, (WINDOW - 40) // 20))


@pytest.fixture(autouse=True)
def _postgres_only(settings, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("beats and workers share the database: set DATABASE_URL (PostgreSQL)")
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


class Processes:
    """Celery processes in their own process groups, stopped (TERM, then KILL) at the end."""

    def __init__(self, tmp_path, env):
        self.tmp_path, self.env, self.running = tmp_path, env, []

    def start(self, name, *arguments, ready):
        log_path = self.tmp_path / f"{name}.log"
        log = log_path.open("a")
        process = subprocess.Popen(
            [CELERY, "-A", "baohe", *arguments, "--loglevel=INFO"],
            cwd=ROOT,
            env={**self.env, "SMS_OUTBOX_FILE": str(self.tmp_path / f"{name}-sms.txt")},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append((process, log_path))
        wait_for(
            lambda: process.poll() is None and ready in log_path.read_text(errors="replace"),
            60,
            f"{name} did not start: {log_path.read_text(errors='replace')[-3000:]}",
            poll=0.2,
        )
        return process, log_path

    def stop(self, process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop_all(self):
        for process, _ in self.running:
            self.stop(process)


@pytest.fixture
def broker(tmp_path):
    """A Redis of its own for this test's beats and workers: under xdist another worker's
    tests use the shared broker with their own database, and must neither take our scans
    nor have theirs taken."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (apt-get install redis-server)"
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: _answers(port), 10, "redis-server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


def _answers(port):
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2).ping()
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def processes(tmp_path, smtp, broker, transactional_db):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "baohe.settings",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}?timeout=5",
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "BEAT_SCAN_SECONDS": "5",
        "SMS_BACKEND": "baohe.sms.LogBackend",
        "CELERY_BROKER_URL": broker,
    }
    running = Processes(tmp_path, env)
    yield running
    running.stop_all()


def accept_clock_at(request, warn_at):
    """Schedule the request's accept clock: warn at ``warn_at``, overdue 15 s later, escalate 30 s later."""
    times = {
        "warn_at": warn_at,
        "due_at": warn_at + timedelta(seconds=15),
        "escalate_at": warn_at + timedelta(seconds=30),
    }
    ServiceRequest.objects.filter(pk=request.pk).update(
        accept_warn_at=times["warn_at"], accept_due_at=times["due_at"], accept_escalate_at=times["escalate_at"]
    )
    for row in RequestClock.objects.filter(request=request, clock="accept", running=True):
        RequestClock.objects.filter(pk=row.pk).update(**times)
        row.refresh_from_db()
        RequestClock.objects.filter(pk=row.pk).update(next_due_at=row.pending())


def sms_lines(tmp_path):
    return [
        line.split(" ", 2)[2] for path in sorted(tmp_path.glob("*-sms.txt")) for line in path.read_text().splitlines()
    ]


def test_two_beats_for_three_minutes_send_each_reminder_once(
    district, resident, staff_a, secretary_a, street_official_a, visiting, smtp, processes, tmp_path
):
    category = CategoryFactory(accept_within_hours=2, resolve_within_days=1)
    requests = [
        request_submit(by=resident, category=category, description=f"第{n}号楼道灯不亮", compound=district.a1.compound)
        for n in range(REQUESTS)
    ]
    # Reminders by email to staff, secretary and street; by SMS too to staff_a and to the visits' people.
    for user in (staff_a, secretary_a, street_official_a):
        Preference.objects.update_or_create(user=user, defaults={"email": True, "sms": user == staff_a})
    for user in (visiting.central, visiting.leader):
        Preference.objects.update_or_create(user=user, defaults={"sms": True})
    for n, user in enumerate((staff_a, visiting.central, visiting.leader)):
        user.mobile = f"1370000{n:04d}"  # 139… are the factories'
        user.save(update_fields=["mobile"])
    # Visits: keep two plans in play, one due tomorrow (remind), one due yesterday (overdue).
    today = timezone.localdate()
    VisitPlan.objects.exclude(pk__in=(visiting.weekly.pk, visiting.monthly.pk)).update(
        next_due_on=today + timedelta(days=60)
    )
    VisitPlan.objects.filter(pk=visiting.weekly.pk).update(next_due_on=today + timedelta(days=1))
    VisitPlan.objects.filter(pk=visiting.monthly.pk).update(next_due_on=today - timedelta(days=1))
    hour = timezone.localtime().hour
    daytime = visit_reminders.DAY_STARTS_HOUR <= hour < visit_reminders.DAY_ENDS_HOUR - 1  # the window must fit

    for n in (1, 2):
        processes.start(
            f"worker{n}", "worker", "--concurrency=2", "--without-gossip", "--without-mingle",
            f"--hostname=drill{n}@%h", ready=" ready.",
        )  # fmt: skip
    beats = [
        processes.start(
            f"beat{n}",
            "beat",
            f"--schedule={tmp_path / f'beat{n}-schedule'}",
            f"--pidfile={tmp_path / f'beat{n}.pid'}",
            ready="beat: Starting",
        )  # fmt: skip
        for n in (1, 2)
    ]
    start = timezone.now()
    for n, request in enumerate(requests):
        accept_clock_at(request, start + timedelta(seconds=10 + 20 * n))
    time.sleep(WINDOW)  # both beats running, for the whole window
    elapsed = (timezone.now() - start).total_seconds()
    for process, _ in beats:
        processes.stop(process)
    # What the beats sent is worked off; then nothing is left to send.
    wait_for(lambda: not Delivery.objects.filter(status="pending").exists(), 60, "deliveries still pending", poll=1)

    # Both beats really sent the scans, many times each, and both workers ran them.
    sent = [log.read_text().count("Sending due task scan-deadlines") for _, log in beats]
    # (a beat starts its 5-second rhythm when it is up, not at ``start``; on a busy machine a few
    # beats of the window go to start-up, so three in four is the floor)
    assert min(sent) >= 0.75 * (elapsed // 5), (sent, elapsed)
    ran = [
        len(re.findall(r"Task service_requests\.tasks\.scan_deadlines\[[^]]+\] succeeded", log.read_text()))
        for _, log in processes.running[:2]
    ]
    assert sum(ran) >= 0.8 * sum(sent), (sent, ran)
    assert min(ran) > 0, ran

    # Every request's reminders, each once: the inbox …
    numbers = [r.number for r in requests]
    notices = Counter(
        Notification.objects.filter(kind__startswith="request.accept").values_list("recipient__username", "kind")
    )
    assert notices == {
        ("staff_a", "request.accept.warn"): REQUESTS,
        ("secretary_a", "request.accept.warn"): REQUESTS,
        ("secretary_a", "request.accept.overdue"): REQUESTS,
        ("street_official_a", "request.accept.escalate"): REQUESTS,
    }
    assert all(
        None not in (clock.warned_at, clock.overdue_at, clock.escalated_at)
        for clock in RequestClock.objects.filter(clock="accept")
    )
    # … the email: one message per email delivery, none twice, each naming one request.
    email = Delivery.objects.filter(channel="email")
    assert email.count() == 4 * REQUESTS
    ids = Counter(smtp.message_ids())
    assert ids == Counter({message_id(pk): 1 for pk in email.values_list("pk", flat=True)})
    per_request = Counter(next(n for n in numbers if n in str(m["Subject"])) for m in smtp.messages)
    assert per_request == Counter(dict.fromkeys(numbers, 4))
    # … and SMS: one line per SMS delivery (staff_a's warnings, the visit notices), none twice.
    sms = Delivery.objects.filter(channel="sms")
    lines = sms_lines(tmp_path)
    assert sms.filter(notification__recipient=staff_a).count() == REQUESTS  # the warnings
    assert len(lines) == sms.count()
    assert max(Counter(lines).values()) == 1
    # Every delivery sent, on its first attempt.
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}

    if daytime:
        assert VisitPlan.objects.get(pk=visiting.weekly.pk).reminded_for == today + timedelta(days=1)
        assert VisitPlan.objects.get(pk=visiting.monthly.pk).overdue_for == today - timedelta(days=1)
        visit_notices = Counter(
            Notification.objects.filter(kind__startswith="visit.").values_list("recipient__username", "kind")
        )
        assert visit_notices and max(visit_notices.values()) == 1, visit_notices
    print(
        f"\nbeats sent {sent} deadline scans, workers ran {ran}; {email.count()} emails, {sms.count()} SMS, each once"
    )
