"""Settings of the benchmark's web server (``bench/run.py``): the portal's, plus ``bench.urls``."""

from baohe.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
