"""gunicorn settings for the portal (deploy/systemd/baohe-web.service: ``gunicorn -c deploy/gunicorn.conf.py``).

- Bound to the socket systemd passes in (``baohe-web.socket``); ``GUNICORN_BIND`` overrides
  (tests/ops/test_nginx_stack.py binds a Unix socket in a temporary directory).
- Workers: ``WEB_CONCURRENCY``, else 2 × CPUs + 1 (sync workers: the portal's pages are short
  database reads and writes; nginx buffers slow clients' uploads and downloads).
- ``max_requests`` recycles a worker now and then (with jitter, so not all at once).
- Metrics: with ``PROMETHEUS_MULTIPROC_DIR`` (the unit sets it to its runtime directory, emptied
  at each start) each worker writes its counters there and ``/metrics`` sums them
  (baohe/metrics.py); :func:`child_exit` tells prometheus_client a worker is gone.
- Logs: errors to stderr (the journal); no access log: with ``LOG_FORMAT=json`` the portal writes
  one line per request itself, with the request id and the view (``LOG_REQUESTS``).
"""

import multiprocessing
import os

wsgi_app = "baohe.wsgi:application"
if os.environ.get("GUNICORN_BIND"):
    bind = [os.environ["GUNICORN_BIND"]]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "baohe-web"


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
