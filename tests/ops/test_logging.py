"""Log lines: JSON with the request id and numbers masked in production, readable in development."""

import json
import logging

from django.conf import settings
from django.test import Client

from baohe.log_context import REQUEST_ID, JsonFormatter, RequestIdFilter
from baohe.log_filters import MaskPersonalData


def test_development_keeps_readable_lines():
    assert settings.LOG_FORMAT == "plain"
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "plain"
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["mask_personal_data", "request_id"]


def test_a_json_line_is_masked_and_carries_the_request_id():
    record = logging.LogRecord("baohe.test", logging.WARNING, __file__, 1, "居民 %s 反映", ("13812345678",), None)
    token = REQUEST_ID.set("abcdef0123456789")
    try:
        for step in (MaskPersonalData(), RequestIdFilter()):  # the handler's filters, in order
            assert step.filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"], line["request_id"]) == (
        "WARNING",
        "baohe.test",
        "居民 138****5678 反映",
        "abcdef0123456789",
    )
    assert "13812345678" not in JsonFormatter().format(record)


def test_the_request_id_is_taken_from_nginx_or_made(db):
    given = Client().get("/healthz", HTTP_X_REQUEST_ID="0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert given["X-Request-ID"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    made = Client().get("/healthz")
    assert len(made["X-Request-ID"]) == 32 and made["X-Request-ID"] != given["X-Request-ID"]


def test_a_request_id_that_is_not_one_is_replaced(db):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="bad id; with spaces")
    assert len(response["X-Request-ID"]) == 32 and response["X-Request-ID"] != "bad id; with spaces"
