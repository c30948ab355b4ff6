"""Structured logs with a request id that follows a request into the tasks it enqueues.

- :class:`RequestIdMiddleware` (the first middleware) takes the request id nginx sends
  (``X-Request-ID``, nginx's ``$request_id``; ``deploy/nginx/baohe.conf`` overwrites whatever a
  client sent) when it looks like one, else makes one (32 hex digits), keeps it in a context
  variable for the request and answers it in the ``X-Request-ID`` header.
- ``baohe.jobs.enqueue_on_commit`` sends the current id in the task message's headers; in the
  worker :func:`task_started` (Celery's ``task_prerun`` signal, ``baohe/celery.py``) restores it
  for the task's log lines, and a task that enqueues another passes it on.
- :class:`RequestIdFilter`, on every handler after ``MaskPersonalData`` (``settings.LOGGING`` and
  the worker's handlers), puts ``request_id`` (and in a task ``task_id``/``task_name``) on each record.
- :class:`JsonFormatter` writes one JSON object per line (``LOG_FORMAT=json``, production):
  time, level, logger, message, request_id, task_id, task_name, the ``extra`` fields a caller
  gave, and the traceback. Twenty lines of our own rather than python-json-logger: the fields
  are few and fixed, and the masking filter has already rewritten the message and traceback,
  so the formatter only has to serialise. Development keeps the readable one-line format.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

REQUEST_ID = contextvars.ContextVar("request_id", default=None)
TASK = contextvars.ContextVar("task", default=None)
HEADER = "X-Request-ID"
TASK_HEADER = "request_id"  # the key in a Celery message's headers
_VALID = re.compile(r"[A-Za-z0-9._-]{8,128}")


def current_request_id():
    return REQUEST_ID.get()


def clean_request_id(value):
    """``value`` if it looks like a request id (8–128 of ``A-Z a-z 0-9 . _ -``), else ``None``."""
    return value if isinstance(value, str) and _VALID.fullmatch(value) else None


def new_request_id():
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(HEADER)) or new_request_id()
        request.request_id = request_id
        token = REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response[HEADER] = request_id
        return response


# --- in the worker: Celery signals (connected in baohe/celery.py) -----------------------------------
def task_started(task_id=None, task=None, **kwargs):
    """``task_prerun``: the task's log lines carry the request id its message brought."""
    request_id = clean_request_id(getattr(task.request, TASK_HEADER, None)) if task is not None else None
    REQUEST_ID.set(request_id)
    TASK.set((task_id, getattr(task, "name", None)))
    logging.getLogger("baohe.task").info("task %s started", getattr(task, "name", "?"))


def task_finished(**kwargs):
    """``task_postrun``: the worker process's next task starts with a clean context."""
    REQUEST_ID.set(None)
    TASK.set(None)


# --- on every handler --------------------------------------------------------------------------------
class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = REQUEST_ID.get()
        task = TASK.get()
        record.task_id, record.task_name = task if task else (None, None)
        return True


# The attributes every LogRecord has; whatever else a record carries came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_OWN = {"request_id", "task_id", "task_name"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the message and traceback as the filters left them (masked)."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if getattr(record, "task_id", None):
            entry.update(task_id=record.task_id, task_name=record.task_name)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _OWN and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def install(logger, *, json_format):
    """Add the request-id filter to each handler of ``logger`` (after the masking filter) and,
    with ``json_format``, give it the JSON formatter: for the handlers Celery sets up itself."""
    for handler in logger.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if json_format:
            handler.setFormatter(JsonFormatter())
