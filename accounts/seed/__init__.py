"""Seed code for ``manage.py seed_baohe``: ``demo`` (the demo logins) and ``district_scale``."""
