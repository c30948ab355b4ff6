"""``manage.py run_scans``: every periodic scan once, in the foreground."""

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from notifications.models import Delivery, Notification, Preference
from service_requests.services import request_submit
from tests.clocks import make_due
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("run_scans", *args, stdout=out)
    return out.getvalue()


def test_run_scans_warns_and_delivers(district, resident, staff_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Preference.objects.create(user=staff_a, email=True)
    request = request_submit(
        by=resident, category=CategoryFactory(), description="路灯不亮", compound=district.a1.compound
    )
    make_due(request, "accept_warn_at")

    output = run()

    lines = output.splitlines()
    assert lines[0].startswith("service_requests.tasks.scan_deadlines: {'accept.warn': 1, 'accept.overdue': 0,")
    # staff_a's emails: "new request" and the warning
    assert lines[-1].startswith("notifications.tasks.dispatch_pending: 2 (")
    assert sorted(m.subject for m in mail.outbox)[0].startswith(f"【和美社区】新诉求 {request.number}")
    assert Notification.objects.get(kind="request.accept.warn").recipient == staff_a
    assert not Delivery.objects.filter(status="pending").exists()
    assert run("--only", "service_requests.tasks.scan_deadlines").count("'accept.warn': 0") == 1


def test_run_scans_refuses_an_unknown_task():
    with pytest.raises(CommandError, match="unknown task"):
        run("--only", "nope.tasks.nothing")


def test_the_scans_are_those_of_the_beat_schedule_then_the_dispatch(settings):
    from baohe.management.commands.run_scans import scans

    settings.CELERY_BEAT_SCHEDULE = {
        "b": {"task": "visits.tasks.scan_due_visits", "schedule": 900.0},
        "heartbeat": {"task": "baohe.heartbeat", "schedule": 30.0},
        "a": {"task": "service_requests.tasks.scan_deadlines", "schedule": 60.0},
        "dispatch": {"task": "notifications.tasks.dispatch_pending", "schedule": 30.0},
    }
    assert scans() == [
        "visits.tasks.scan_due_visits",
        "service_requests.tasks.scan_deadlines",
        "notifications.tasks.dispatch_pending",
    ]
