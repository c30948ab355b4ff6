"""The HTTP SMS gateway backend against a stub gateway (http.server in a thread on 127.0.0.1)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from baohe.sms import HttpGatewayBackend, SMSGatewayError, SMSMessage, get_connection, send_sms
from notifications.models import Delivery
from notifications.services import deliveries_dispatch, notify

from .conftest import free_port


class StubGateway(ThreadingHTTPServer):
    """Answers ``status`` to every POST and keeps what it received."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.status = 200
        self.received = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/sms/send"


class StubHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(
            {
                "path": self.path,
                "authorization": self.headers["Authorization"],
                "content_type": self.headers["Content-Type"],
                "json": json.loads(body),
            }
        )
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = StubGateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "baohe.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = server.url
    settings.SMS_GATEWAY_KEY = "test-key-123"
    yield server
    server.shutdown()
    server.server_close()


def test_posts_json_with_the_bearer_key(gateway):
    assert send_sms("13900000001", "【和美社区】您的诉求已办结") == 1
    assert gateway.received == [
        {
            "path": "/sms/send",
            "authorization": "Bearer test-key-123",
            "content_type": "application/json; charset=utf-8",
            "json": {"to": "13900000001", "body": "【和美社区】您的诉求已办结"},
        }
    ]


@pytest.mark.parametrize("status", [400, 401, 500, 503])
def test_a_non_2xx_answer_raises(gateway, status):
    gateway.status = status
    with pytest.raises(SMSGatewayError, match=f"gateway answered {status}"):
        send_sms("13900000001", "测试")


def test_an_unreachable_gateway_raises(settings):
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{free_port()}/sms"
    with pytest.raises(SMSGatewayError, match="gateway unreachable"):
        HttpGatewayBackend().send_messages([SMSMessage(to="13900000001", body="测试")])


def test_fail_silently_counts_only_what_was_sent(gateway):
    gateway.status = 500
    backend = get_connection(fail_silently=True)
    assert backend.send_messages([SMSMessage(to="13900000001", body="a"), SMSMessage(to="13900000002", body="b")]) == 0


def test_only_http_urls_are_accepted(settings):
    settings.SMS_GATEWAY_URL = "file:///etc/passwd"
    with pytest.raises(ImproperlyConfigured):
        HttpGatewayBackend()


@pytest.mark.django_db
def test_a_refused_sms_delivery_is_retried_and_then_sent(gateway, resident):
    delivery = Delivery.objects.get(
        notification=notify(recipient=resident, kind="test", title="诉求已办结", dedupe_key="test:1")
    )
    gateway.status = 503
    assert deliveries_dispatch().retrying == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "pending",
        1,
        "SMSGatewayError: gateway answered 503",
    )
    gateway.status = 200
    assert deliveries_dispatch(now=delivery.next_attempt_at).sent == 1
    assert [r["json"] for r in gateway.received] == [{"to": resident.mobile, "body": "【和美社区】诉求已办结"}] * 2
