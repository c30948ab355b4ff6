"""The project package: settings, URLs, Celery, and the base machinery every app stands on."""

from .celery import app as celery_app

__all__ = ("celery_app",)
