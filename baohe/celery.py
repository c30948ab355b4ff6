"""Celery application. Broker from settings (Redis in production, kombu's filesystem
transport under var/ by default). Tasks live in each app's ``tasks.py``; beat runs the
scans listed in ``settings.CELERY_BEAT_SCHEDULE``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baohe.settings")

app = Celery("baohe")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
