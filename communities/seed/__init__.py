"""Seed code for ``manage.py seed_baohe``: ``demo`` (the demo district) and, where the app has one, ``district_scale``."""
